{#- Period-incremental models (DESIGN §4, "rerunning a period replaces that period's
    output"): with `--vars '{period: "2025-09"}'` a model deletes that period's rows
    and inserts it again; without the var it rebuilds every period. -#}

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
            delete from {{ this }} where period = '{{ period }}'
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro index_period_unit() -%}
    create index if not exists {{ this.identifier }}__period_unit
        on {{ this }} (period, unit_code)
{%- endmacro %}

{#- The configuration shared by every big per-period table. ANALYZE after each load:
    downstream models join these tables at once, and without fresh statistics the
    planner picks nested loops (a Hải Phòng month went from 3 minutes to seconds). -#}
{% macro period_incremental_config() -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'append_new_columns',
        'pre_hook': ["{{ delete_period_rows() }}"],
        'post_hook': ["{{ index_period_unit() }}", "analyze {{ this }}"],
    }) }}
{%- endmacro %}
