{{ config(**period_incremental_config()) }}

-- One row per dossier of a unit's quarter and year to date: the dossiers of the
-- period's months (the latest month's row when a dossier was delivered in more than
-- one), classified again for the whole period by macro dossier_classification, so
-- "received in the period" and "still within its deadline" are judged at the
-- quarter's or year's end, as the portal counts them.
{%- set columns = dossier_item_columns() %}

with

periods as (
    select * from {{ ref('int_scoring_periods') }}
    where period_type <> 'month' and is_scored and {{ rollup_filter() }}
),

month_dossiers as (
    select * from {{ ref('int_dossiers_classified') }}
    where {{ rollup_member_filter() }}
),

members as (
    select
        month_dossiers.period as month,
        rollup.period,
        {%- for column in columns %}
        month_dossiers.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from month_dossiers
    cross join lateral (
        values ({{ quarter_of('month_dossiers.period') }}), (left(month_dossiers.period, 4))
    ) as rollup (period)
),

latest as (
    select distinct on (members.unit_code, members.period, members.dossier_id)
        members.*,
        periods.period_start,
        periods.period_end,
        periods.evaluated_as_of
    from members
    inner join periods
        on
            members.unit_code = periods.unit_code
            and members.period = periods.period
    order by members.unit_code, members.period, members.dossier_id, members.month desc
),

classified as (
    {{ dossier_classification('latest') }}
)

select * from classified
