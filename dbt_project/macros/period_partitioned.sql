{#- Materialization `period_partitioned` (issue 15): the month tables are partitioned by
    period, one partition a month, so a month's build writes its rows once and costs the same
    whatever the months before it.

    With the period var, the model's rows (that month's only) are created as a table of
    their own (`create table … as`, which PostgreSQL may run with parallel workers),
    indexed by the attach, and swapped in for the month's partition in one transaction:
    readers see the old month or the new one, never a gap. A row of another period makes
    the attach fail, naming the partition. Without the var every period is rebuilt: the
    rows are written once more, split into their partitions (a rare full rebuild).

    A table built by the former `incremental` materialization (not partitioned) is
    converted on its first build here: its months become partitions.
    Columns the model gains are added to the partitioned table (earlier months: null);
    a column it loses needs `--full-refresh`. -#}

{% materialization period_partitioned, adapter='postgres' %}
    {%- set target = this.incorporate(type='table') -%}
    {%- set period = selected_period() -%}
    {%- set build = partition_relation(target, 'build') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set kind = partition_kind(target) if existing is not none else none -%}
    {%- set rebuild = period is none or should_full_refresh() or kind is none -%}

    {{ drop_relation_if_exists(build) }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {#- dbt's own create table … as: a contract (enforced on the marts) is checked and kept -#}
    {% call statement('main') -%}
        {{ get_create_table_as_sql(False, build, sql) }}
    {%- endcall %}

    {%- if rebuild -%}
        {%- if existing is not none -%}
            {% do adapter.drop_relation(existing) %}
        {%- endif -%}
        {% do create_partitioned_parent(target, build) %}
    {%- endif -%}
    {%- if period is none -%}
        {#- every period: the rows written once more, split into their partitions -#}
        {% do split_into_partitions(target, build, build) %}
        {% do adapter.drop_relation(build) %}
    {%- else -%}
        {%- if kind == 'r' and not rebuild -%}
            {#- a table of the former materialization: its months become partitions -#}
            {#- renamed and dropped through dbt, whose cache then forgets the views over it,
                which the build creates again -#}
            {%- set former = api.Relation.create(database=target.database, schema=target.schema,
                                                 identifier=target.identifier ~ '__former', type='table') -%}
            {{ drop_relation_if_exists(former) }}
            {% do adapter.rename_relation(target, former) %}
            {% call statement('drop_former_indexes') -%}
                -- its indexes keep their names, which the partitioned table's take
                do $$
                declare found record;
                begin
                    for found in select indexrelid::regclass as name from pg_index
                                  where indrelid = '{{ former }}'::regclass loop
                        execute 'drop index ' || found.name;
                    end loop;
                end
                $$
            {%- endcall %}
            {% do create_partitioned_parent(target, build) %}
            {% call statement('drop_rebuilt_month') -%}
                delete from {{ former }} where period = '{{ period }}'
            {%- endcall %}
            {% do split_into_partitions(target, former, build) %}
            {% do adapter.drop_relation(former) %}
        {%- endif -%}
        {% do add_new_columns(target, build) %}
        {%- set partition = partition_relation(target, period) -%}
        {{ drop_relation_if_exists(partition) }}
        {% do adapter.rename_relation(build, partition) %}
        {% call statement('attach') -%}
            alter table {{ target }} attach partition {{ partition }} for values in ('{{ period }}');
            analyze {{ partition }}
        {%- endcall %}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}

{#- 'p' (partitioned), 'r' (a plain table) or none. -#}
{% macro partition_kind(relation) -%}
    {%- set found = run_query(
        "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        ~ " where n.nspname = '" ~ relation.schema ~ "' and c.relname = '" ~ relation.identifier ~ "'") -%}
    {{ return(found.columns[0].values()[0] if found.rows | length else none) }}
{%- endmacro %}

{#- A month's partition (and the table being built): in schema intermediate, whatever the
    model's schema, so marts shows BI tools only the contract's relations; the partitioned
    table is read through its parent, with the parent's privileges. -#}
{% macro partition_relation(target, period) -%}
    {{ return(api.Relation.create(database=target.database, schema=generate_schema_name('intermediate', none),
                                  identifier=target.identifier ~ '__p' ~ (period | replace('-', '_')),
                                  type='table')) }}
{%- endmacro %}

{#- The partitioned table, with the columns of `like` and the model's indexes
    (config partition_indexes: lists of columns), which every partition gets. -#}
{% macro create_partitioned_parent(target, like) -%}
    {% call statement('create_parent') -%}
        create table {{ target }} (like {{ like }}) partition by list (period);
        {%- for columns in config.get('partition_indexes', [['period', 'unit_code']]) %}
        create index {{ target.identifier }}__{{ columns | join('_') }} on {{ target }} ({{ columns | join(', ') }});
        {%- endfor %}
    {%- endcall %}
{%- endmacro %}

{#- Every period of `source` into a partition of its own (one insert, routed by PostgreSQL). -#}
{% macro split_into_partitions(target, source, like) -%}
    {%- set periods = run_query("select distinct period from " ~ source ~ " where period is not null") -%}
    {% call statement('create_partitions') -%}
        {%- for period in periods.columns[0].values() %}
        drop table if exists {{ partition_relation(target, period) }};
        create table {{ partition_relation(target, period) }} partition of {{ target }} for values in ('{{ period }}');
        {%- endfor %}
        insert into {{ target }} select {{ column_list(like) }} from {{ source }};
        analyze {{ target }}
    {%- endcall %}
{%- endmacro %}

{% macro column_list(relation) -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {{ return(names | join(', ')) }}
{%- endmacro %}

{#- Columns the model gained since the partitioned table was created. -#}
{% macro add_new_columns(target, build) -%}
    {%- set existing = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set wanted = adapter.get_columns_in_relation(build) -%}
    {%- for column in wanted if column.name not in existing -%}
        {% call statement('add_column_' ~ loop.index) -%}
            alter table {{ target }} add column {{ adapter.quote(column.name) }} {{ column.data_type }}
        {%- endcall %}
    {%- endfor -%}
    {%- set names = wanted | map(attribute='name') | list -%}
    {%- set lost = existing | reject('in', names) | list -%}
    {%- if lost -%}
        {{ exceptions.raise_compiler_error(target ~ " no longer has column(s) " ~ lost | join(', ')
           ~ ": rebuild it with --full-refresh") }}
    {%- endif -%}
{%- endmacro %}

{#- The configuration of a month table (one partition a month): `indexes` are lists of
    columns every partition is indexed on. -#}
{% macro period_partitioned_config(indexes=[['period', 'unit_code']]) -%}
    {{ return({
        'materialized': 'period_partitioned',
        'partition_indexes': indexes,
        'meta': {'period_scoped': true},
    }) }}
{%- endmacro %}
