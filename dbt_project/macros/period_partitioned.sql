{#- Materialization `period_partitioned` (issue 15): period tables are partitioned by period,
    one partition a period, so a month's build writes its rows once and costs the same
    whatever the months before it.

    With the period var, the model's rows are those of the periods the build rewrites
    (config `partition_periods`: 'month', the month itself, or 'rollups', its quarter and
    year to date). A month's rows are created as a table of their own (`create table … as`,
    which PostgreSQL may run with parallel workers); a quarter's and a year's are inserted
    through a partitioned table of the build's own, which routes each row to its period.
    Each new partition is indexed by the attach and swapped in for the period's old one in
    one transaction: readers see the old period or the new one, never a gap, and no old row
    is deleted, so no vacuum ever reads the other periods again. A row of another period
    makes the build fail, naming it. Without the var every period is rebuilt: the rows are
    written once more, split into their partitions (a rare full rebuild).

    A table built by the former `incremental` materialization (not partitioned) is
    converted on its first build here: its periods become partitions.
    Columns the model gains are added to the partitioned table (earlier periods: null);
    a column it loses needs `--full-refresh`. -#}

{% materialization period_partitioned, adapter='postgres' %}
    {%- set target = this.incorporate(type='table') -%}
    {%- set period = selected_period() -%}
    {%- set periods = built_periods() -%}
    {%- set build = partition_relation(target, 'build') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set kind = partition_kind(target) if existing is not none else none -%}
    {%- set rebuild = period is none or should_full_refresh() or kind is none -%}
    {#- several periods written through a router: `build` is only the rows' shape -#}
    {%- set routed = periods | length > 1 -%}

    {{ drop_relation_if_exists(build) }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {%- if routed %}
        create table {{ build }} as select * from ({{ sql }}) as model with no data
        {%- else %}
        {{ create_month_table_as(build, sql) }}
        {%- endif %}
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
            {% call statement('drop_rebuilt_periods') -%}
                delete from {{ former }} where period in ('{{ periods | join("', '") }}')
            {%- endcall %}
            {% do split_into_partitions(target, former, build) %}
            {% do adapter.drop_relation(former) %}
        {%- endif -%}
        {% do add_new_columns(target, build) %}
        {% do match_partition_indexes(target) %}
        {%- if routed -%}
            {% do replace_partitions(target, build, periods, sql) %}
            {% do adapter.drop_relation(build) %}
        {%- else -%}
            {%- set partition = partition_relation(target, period) -%}
            {{ drop_relation_if_exists(partition) }}
            {% do adapter.rename_relation(build, partition) %}
            {% call statement('attach') -%}
                alter table {{ target }} attach partition {{ partition }} for values in ('{{ period }}');
                {{ analysed_once(partition) }}
            {%- endcall %}
        {%- endif -%}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do persist_docs(target, model) %}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}

{#- The periods a build with the period var rewrites: the month, or (config
    partition_periods 'rollups') its quarter and year to date. -#}
{% macro built_periods() -%}
    {%- set scope = selected_scope() -%}
    {%- if scope is none -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(scope[1:] if config.get('partition_periods', 'month') == 'rollups' else scope[:1]) }}
{%- endmacro %}

{#- The rows of several periods (`sql`), inserted through a partitioned table of the build's
    own that routes each to its period's new partition; each then takes its period's place
    in `target`. `shape` holds the rows' columns. -#}
{% macro replace_partitions(target, shape, periods, sql) -%}
    {%- set router = partition_relation(target, 'router') -%}
    {%- set columns = column_list(shape) -%}
    {% call statement('route') -%}
        drop table if exists {{ router }};
        create table {{ router }} (like {{ target }}) partition by list (period);
        {%- for period in periods %}
        create table {{ partition_relation(target, period, 'new') }} partition of {{ router }}
            for values in ('{{ period }}');
        {%- endfor %}
        insert into {{ router }} ({{ columns }}) select {{ columns }} from ({{ sql }}) as model
    {%- endcall %}
    {% call statement('swap') -%}
        {%- for period in periods %}
        {%- set partition, fresh = partition_relation(target, period), partition_relation(target, period, 'new') %}
        alter table {{ router }} detach partition {{ fresh }};
        drop table if exists {{ partition }};
        alter table {{ fresh }} rename to {{ partition.identifier }};
        alter table {{ target }} attach partition {{ partition }} for values in ('{{ period }}');
        {{ analysed_once(partition) }};
        {%- endfor %}
        drop table {{ router }}
    {%- endcall %}
{%- endmacro %}

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
{% macro partition_relation(target, period, suffix=none) -%}
    {%- set name = target.identifier ~ '__p' ~ (period | lower | replace('-', '_')) -%}
    {{ return(api.Relation.create(database=target.database, schema=generate_schema_name('intermediate', none),
                                  identifier=name ~ ('__' ~ suffix if suffix else ''), type='table')) }}
{%- endmacro %}

{#- The partitioned table, with the columns of `like` and the model's indexes
    (config partition_indexes: lists of columns), which every partition gets. -#}
{% macro create_partitioned_parent(target, like) -%}
    {% call statement('create_parent') -%}
        create table {{ target }} (like {{ like }}) partition by list (period);
        {%- for columns in partition_indexes() %}
        create index {{ target.identifier }}__{{ columns | join('_') }} on {{ target }} ({{ columns | join(', ') }});
        {%- endfor %}
    {%- endcall %}
{%- endmacro %}

{#- The indexes every partition gets (config partition_indexes). By default one on unit_code:
    each partition holds one period, so a leading period column sorted nothing and cost
    every comparison (a national month's int_dossiers_classified: 2.6 s for
    (period, unit_code), 1.3 s for unit_code, at each attach); a query's period picks its
    partition first. -#}
{% macro partition_indexes() -%}
    {{ return(config.get('partition_indexes', [['unit_code']])) }}
{%- endmacro %}

{#- A partitioned table built before keeps the indexes it was created with: those the
    model no longer asks for (named by create_partitioned_parent) are dropped, the ones
    it asks for are created (once, on every period's partition; later partitions get them
    at their attach). -#}
{% macro match_partition_indexes(target) -%}
    {%- set found = run_query(
        "select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid"
        ~ " where i.indrelid = '" ~ target ~ "'::regclass") -%}
    {%- set existing = found.columns[0].values() | list -%}
    {%- set wanted = {} -%}
    {%- for columns in partition_indexes() -%}
        {%- do wanted.update({target.identifier ~ '__' ~ columns | join('_'): columns}) -%}
    {%- endfor -%}
    {%- for name in existing if name.startswith(target.identifier ~ '__') and name not in wanted -%}
        {% call statement('drop_index_' ~ loop.index) -%}
            drop index {{ target.schema }}.{{ name }}
        {%- endcall %}
    {%- endfor -%}
    {%- for name, columns in wanted.items() if name not in existing -%}
        {% call statement('create_index_' ~ loop.index) -%}
            create index {{ name }} on {{ target }} ({{ columns | join(', ') }})
        {%- endcall %}
    {%- endfor -%}
{%- endmacro %}

{#- Every period of `source` into a partition of its own (one insert, routed by PostgreSQL). -#}
{% macro split_into_partitions(target, source, like) -%}
    {%- set periods = run_query("select distinct period from " ~ source ~ " where period is not null") -%}
    {% call statement('create_partitions') -%}
        {%- for period in periods.columns[0].values() %}
        drop table if exists {{ partition_relation(target, period) }};
        create table {{ partition_relation(target, period) }} partition of {{ target }} for values in ('{{ period }}');
        {{ analysed_once(partition_relation(target, period), analyze=false) }};
        {%- endfor %}
        insert into {{ target }} select {{ column_list(like) }} from {{ source }};
        analyze {{ target }}
    {%- endcall %}
{%- endmacro %}

{#- A partition is written by one transaction and never changed after (a rebuild swaps in
    a new one): the statistics taken here are final. Autovacuum would analyse it again once
    the transaction's inserts reach its counters, beside the next nodes of the build (the
    national month's classified partition: 2–4 s, with every other partition), so it leaves
    these tables alone, except to freeze them before transaction IDs wrap around. -#}
{% macro analysed_once(partition, analyze=true) -%}
    alter table {{ partition }} set (autovacuum_enabled = false, toast.autovacuum_enabled = false)
    {%- if analyze %};
    analyze {{ partition }}
    {%- endif %}
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

{#- The configuration of a period table (one partition a period): `indexes` are lists of
    columns every partition is indexed on (none: partition_indexes()'s default); `periods`:
    what a month's build rewrites, 'month' or 'rollups' (its quarter and year to date);
    `pre_hook`: the model's own pre_hooks. -#}
{% macro period_partitioned_config(indexes=none, periods='month', pre_hook=[]) -%}
    {%- set settings = {
        'materialized': 'period_partitioned',
        'partition_periods': periods,
        'pre_hook': pre_hook,
        'meta': {'period_scoped': true},
    } -%}
    {%- if indexes is not none -%}
        {%- do settings.update({'partition_indexes': indexes}) -%}
    {%- endif -%}
    {{ return(settings) }}
{%- endmacro %}

{#- A month's table, created from the model's select. A model with an enforced contract (the
    marts) is checked against it first, as dbt does, and gets the contract's columns in its
    order; but where dbt-postgres then creates the columns and fills them by `insert … select`,
    which PostgreSQL never runs with parallel workers, this is one `create table … as`, which
    it may (fct_payments of a national month: 6.6 → 3.9 s). Column constraints, which only
    dbt's statement declares, keep dbt's statement (the marts declare none). -#}
{% macro create_month_table_as(relation, sql) -%}
    {%- set contract = config.get('contract') -%}
    {%- set constrained = model.get('constraints') or model.get('columns', {}).values()
                          | selectattr('constraints') | list -%}
    {%- if contract.enforced and not constrained and not config.get('unlogged') -%}
        {{ get_assert_columns_equivalent(sql) }}
        create table {{ relation }} as
        {{ get_select_subquery(sql) }}
    {%- else -%}
        {{ get_create_table_as_sql(False, relation, sql) }}
    {%- endif -%}
{%- endmacro %}
