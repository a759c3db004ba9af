{#- The rows of criterion_lineage: every item counted in a criterion's denominator, for
    the months (int_*_classified) and, `with_rollups`, the quarters and years to date (the
    rows that fed each rollup). assert_lineage_counts_equal_scores reads the months' rows
    through this macro when it checks months only: the rollups' member (a view that
    recomputes them) cannot run in parallel workers, so with it PostgreSQL ran the whole
    check in one process (13–14 s for a national month, its dbt build's last step). -#}
{% macro criterion_lineage_rows(with_rollups=true) -%}
{%- set items = criterion_items() %}
{%- set models = {'dossier': ('int_dossiers_classified', 'int_dossier_rollup_items', 'dossier_id'),
                  'procedure': ('int_procedures_classified', 'int_procedures_rolled', 'procedure_code'),
                  'feedback': ('int_feedback_classified', 'int_feedback_rolled', 'feedback_id')} %}

with

{% for item_type in items %}
{%- set columns %}
        unit_code,
        period,
        {{ models[item_type][2] }} as item_id,
        {%- for code in items[item_type] %}
        {{ criterion_column(code, 'num') }},
        {{ criterion_column(code, 'den') }},
        {%- endfor %}
        batch_id,
        source_file,
        file_sha256,
        source_row
{%- endset %}
{{ item_type }}_items as (
    -- months, then quarters and years to date (the rows that fed each rollup, with
    -- the month batch each came from)
    select {{ columns }} from {{ ref(models[item_type][0]) }}
    {%- if with_rollups %}
    union all
    select {{ columns }} from {{ ref(models[item_type][1]) }}
    {%- endif %}
),

{{ item_type }}_lineage as (
    select
        {{ item_type }}_items.unit_code,
        {{ item_type }}_items.period,
        {{ period_type_of(item_type ~ '_items.period') }} as period_type,
        criteria.criterion_code,
        '{{ item_type }}' as item_type,
        {{ item_type }}_items.item_id,
        coalesce(criteria.in_numerator, false) as in_numerator,
        coalesce(criteria.in_denominator, false) as in_denominator,
        {{ item_type }}_items.batch_id,
        {{ item_type }}_items.source_file,
        {{ item_type }}_items.file_sha256,
        {{ item_type }}_items.source_row
    from {{ item_type }}_items
    cross join lateral (
        values
        {%- for code in items[item_type] %}
            ('{{ code }}', {{ criterion_column(code, 'num') }}, {{ criterion_column(code, 'den') }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as criteria (criterion_code, in_numerator, in_denominator)
    where criteria.in_denominator
),

{% endfor %}
unioned as (
    {%- for item_type in items %}
    select * from {{ item_type }}_lineage
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select * from unioned
{%- endmacro %}
