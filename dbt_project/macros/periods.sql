{#- Period-incremental models (DESIGN §4, "rerunning a period replaces that period's
    output"): with `--vars '{period: "2025-09"}'` a model deletes that period's rows
    and inserts it again; without the var it rebuilds every period. A month also
    rebuilds the quarter and the year to date that contain it (2025-Q3 and 2025):
    periods are scored month, quarter and year (index-766.md §3), each from its own
    items, so the rollups change whenever one of their months does. -#}

{% macro selected_period() -%}
    {%- set period = var('period', none) -%}
    {%- if period is none or period == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])', period | string) -%}
        {{ exceptions.raise_compiler_error("var 'period' must look like YYYY-MM, got '" ~ period ~ "'") }}
    {%- endif -%}
    {{ return(period | string) }}
{%- endmacro %}

{#- The period labels a build of the selected month rewrites: the month, its quarter and
    its year to date; none when every period is rebuilt. -#}
{% macro selected_scope() -%}
    {%- set period = selected_period() -%}
    {%- if period is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return([period, quarter_label(period), period[:4]]) }}
{%- endmacro %}

{% macro quarter_label(month) -%}
    {{ return(month[:4] ~ '-Q' ~ ((month[5:7] | int + 2) // 3)) }}
{%- endmacro %}

{#- SQL: the quarter label ('2025-Q3') of a month label column ('2025-09'). -#}
{% macro quarter_of(column) -%}
    left({{ column }}, 4) || '-Q' || cast((cast(substr({{ column }}, 6, 2) as integer) + 2) / 3 as text)
{%- endmacro %}

{#- SQL: the label of the first month of the quarter of a month label ('2025-08' → '2025-07'). -#}
{% macro quarter_first_month(column) -%}
    left({{ column }}, 5) || lpad(cast((cast(substr({{ column }}, 6, 2) as integer) - 1) / 3 * 3 + 1 as text), 2, '0')
{%- endmacro %}

{#- SQL: month | quarter | year from a period label. -#}
{% macro period_type_of(column) -%}
    case
        when {{ column }} ~ '^[0-9]{4}-[0-9]{2}$' then 'month'
        when {{ column }} ~ '^[0-9]{4}-Q[1-4]$' then 'quarter'
        else 'year'
    end
{%- endmacro %}

{#- Rollup models (quarter and year rows): which rollups to rebuild, and which month rows
    feed them (every loaded month of the selected month's year: the year to date, and
    the quarter within it). -#}
{% macro rollup_filter(column='period') -%}
    {%- set scope = selected_scope() -%}
    {%- if scope is none -%}
        true
    {%- else -%}
        {{ column }} in ('{{ scope[1] }}', '{{ scope[2] }}')
    {%- endif -%}
{%- endmacro %}

{% macro rollup_member_filter(column='period') -%}
    {%- set scope = selected_scope() -%}
    {%- if scope is none -%}
        true
    {%- else -%}
        {{ column }} like '{{ scope[2] }}-%'
    {%- endif -%}
{%- endmacro %}

{#- The selected month with its quarter and year: what a build rewrites. -#}
{% macro scope_filter(column='period') -%}
    {%- set scope = selected_scope() -%}
    {%- if scope is none -%}
        true
    {%- else -%}
        {{ column }} in ('{{ scope | join("', '") }}')
    {%- endif -%}
{%- endmacro %}

{#- The scores a build of the selected month rewrites: its month, quarter and year, and any
    period of the year after, whose 'prior_year' zero-denominator policy reads this year's
    counts (only a backfill finds such periods loaded). -#}
{% macro scored_scope_filter(column='period') -%}
    {%- set period = selected_period() -%}
    {%- if period is none -%}
        true
    {%- else -%}
        ({{ scope_filter(column) }} or left({{ column }}, 4) = '{{ period[:4] | int + 1 }}')
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of int_criterion_points: the scores this build writes again. -#}
{% macro delete_scored_periods() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ scored_scope_filter() }}
    {%- endif -%}
{%- endmacro %}

{#- A where-clause predicate restricting a model's inputs to the selected period. -#}
{% macro period_filter(column='period') -%}
    {%- set period = selected_period() -%}
    {%- if period is none -%}
        true
    {%- else -%}
        {{ column }} = '{{ period }}'
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of every period-incremental model; runs in the model's transaction, so
    a failed insert leaves the previous rows in place. -#}
{% macro delete_period_rows() -%}
    {%- if is_incremental() -%}
        {%- set period = selected_period() -%}
        {%- if period is none -%}
            delete from {{ this }}
        {%- else -%}
            delete from {{ this }} where period in ('{{ selected_scope() | join("', '") }}')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro index_period(columns) -%}
    create index if not exists {{ this.identifier }}__{{ columns | join('_') }}
        on {{ this }} ({{ columns | join(', ') }})
{%- endmacro %}

{#- The configuration shared by every big per-period table. ANALYZE after each load:
    downstream models join these tables at once, and without fresh statistics the
    planner picks nested loops (a Hải Phòng month went from 3 minutes to seconds). -#}
{% macro period_incremental_config(index=['period', 'unit_code'], delete='delete_period_rows') -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'append_new_columns',
        'pre_hook': ["{{ " ~ delete ~ "() }}"],
        'post_hook': ["{{ index_period(" ~ index ~ ") }}", "analyze {{ this }}"],
        'meta': {'period_scoped': true},
    }) }}
{%- endmacro %}

{#- Data tests on a period-scoped model check only the period being built, so a month's
    test cost stays flat as history grows; without the period var they check everything.
    Overrides dbt's get_where_subquery, which every generic test applies to its model. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set period = selected_period() -%}
    {%- if period is not none and is_period_scoped(relation) -%}
        {%- set scope = "period in ('" ~ (selected_scope() | join("', '")) ~ "')" -%}
        {%- set where = "(" ~ where ~ ") and " ~ scope if where else scope -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{% macro is_period_scoped(relation) -%}
    {%- if not execute -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.alias == relation.identifier
              and node.config.meta.get('period_scoped') -%}
            {%- do return(true) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(false) -%}
{%- endmacro %}

{#- A scoring rule (seeds/scoring_rules.csv) applies to a period when it is in force on
    the period's first day. -#}
{% macro rule_in_force(rules, period_start) -%}
    {{ rules }}.effective_from <= {{ period_start }}
    and ({{ rules }}.effective_to is null or {{ period_start }} < {{ rules }}.effective_to)
{%- endmacro %}

{#- Dossier rollups are kept up to date month by month (int_dossiers_rollup_parts,
    int_dossiers_rollup_open), so a month's build costs the same whatever the months before
    it. That is exact when months arrive in order; a build of a month whose year already
    has later months loaded (a resubmission of an earlier month), a first build over months
    already loaded (an upgrade, --full-refresh) and a rebuild of every period recompute the
    quarter and year from every month instead. -#}
{% macro rollup_full_path() -%}
    {%- set period = selected_period() -%}
    {%- if period is none -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {#- a later month of the year is loaded: this is a rebuild of an earlier month; the state
        is new (first build, --full-refresh): fine only if no earlier month needs it -#}
    {%- set other_months = "period > '" ~ period ~ "'" if is_incremental() else "period <> '" ~ period ~ "'" -%}
    {%- set found = run_query(
        "select exists (select 1 from " ~ ref('int_batches_current') ~ " where " ~ other_months
        ~ " and period like '" ~ period[:4] ~ "-%')") -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{#- pre_hook of the rollup state models: what this build writes again. -#}
{% macro delete_rollup_state(marks=false) -%}
    {%- if is_incremental() -%}
        {%- if rollup_full_path() -%}
            delete from {{ this }} where {{ rollup_filter() }}
        {%- else -%}
            delete from {{ this }} where {{ rollup_filter() }} and month = '{{ selected_period() }}';
            {%- if marks %}
            update {{ this }} set superseded_in = null
             where {{ rollup_filter() }} and superseded_in = '{{ selected_period() }}'
            {%- endif %}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- post_hook of int_dossiers_rollup_open, built a month at a time: the open dossiers of
    earlier months that this month delivers again are superseded by it. -#}
{% macro mark_superseded_open_dossiers() -%}
    {%- if is_incremental() and not rollup_full_path() -%}
        {%- set month = selected_period() -%}
        update {{ this }} as earlier
           set superseded_in = '{{ month }}'
          from {{ ref('int_dossiers_classified') }} as delivered
         where {{ rollup_filter('earlier.period') }}
           and earlier.month < '{{ month }}'
           and earlier.superseded_in is null
           and delivered.period = '{{ month }}'
           and delivered.unit_code = earlier.unit_code
           and delivered.dossier_id = earlier.dossier_id
    {%- endif -%}
{%- endmacro %}

{#- post_hook of the rollup state models: a unique index on their grain, by month within
    the rollup first, so that the pre_hook's delete of the month being built (and, with
    `marks`, the undoing of the marks it made, a partial index on them) finds its rows
    without reading the year's state, and no write path (a month, a rebuild of the year, a
    first build) can leave two rows of one key: their unique tests then check the month
    built only (`month_only`), instead of a scan of the state growing all year (2.2 s →
    0.2 s in the twelfth month of 600 units). The indexes of warehouses built before (by
    (period, unit_code), then by (period, month, unit_code)) are dropped. -#}
{% macro rollup_state_indexes(key, marks=false) -%}
    create unique index if not exists {{ this.identifier }}__grain
        on {{ this }} (period, month, unit_code, {{ key }}) nulls not distinct;
    drop index if exists {{ this.schema }}.{{ this.identifier }}__period_unit_code;
    drop index if exists {{ this.schema }}.{{ this.identifier }}__period_month_unit_code
    {%- if marks %};
    create index if not exists {{ this.identifier }}__marks on {{ this }} (superseded_in)
        where superseded_in is not null
    {%- endif %}
{%- endmacro %}

{#- The open dossiers still awaiting a later delivery: what a month's build reads and marks
    (a partial index: the state's superseded rows are never read again). -#}
{% macro awaiting_index() -%}
    create index if not exists {{ this.identifier }}__awaiting
        on {{ this }} (period, unit_code, dossier_id) where superseded_in is null
{%- endmacro %}
