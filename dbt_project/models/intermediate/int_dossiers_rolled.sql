{{ config(**period_partitioned_config(periods='rollups')) }}

-- The open dossiers of a unit's quarter and year to date: those still open when last
-- delivered (int_dossiers_rollup_open rows not superseded), classified again at the
-- rollup's end by macro dossier_classification, so "still within its deadline" is judged
-- at the quarter's or year's end, as the portal counts them. The rollup's other dossiers
-- are counted in int_dossiers_rollup_parts; int_dossier_rollup_items lists them all.

with

periods as (
    select * from {{ ref('int_scoring_periods') }}
    where period_type <> 'month' and is_scored and {{ rollup_filter() }}
),

open_dossiers as (
    select * from {{ ref('int_dossiers_rollup_open') }}
    where {{ rollup_filter() }} and superseded_in is null
),

latest as (
    select
        open_dossiers.month,
        open_dossiers.period,
        {%- for column in dossier_item_columns() %}
        open_dossiers.{{ column }},
        {%- endfor %}
        periods.period_start,
        periods.period_end,
        periods.evaluated_as_of
    from open_dossiers
    inner join periods
        on
            open_dossiers.unit_code = periods.unit_code
            and open_dossiers.period = periods.period
),

classified as (
    {{ dossier_classification('latest') }}
)

select * from classified
