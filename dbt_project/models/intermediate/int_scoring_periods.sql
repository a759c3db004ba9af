-- Fresh statistics: the period-scoped models join this small table.
{{ config(post_hook=["analyze {{ this }}"]) }}

-- Every period a unit is scored for (index-766.md §3: "month, quarter, year; year =
-- year to date"): each month it sent (one batch), and the quarter and year to date
-- that contain those months, each scored from its own items, never by averaging
-- months. A rollup spans the months of its province loaded so far (a quarter still
-- under way is quarter to date), so every unit of a province is judged over the same
-- dates. A rollup is scored only when every month the unit sent is scored: a
-- quarantined month keeps its quarter and year off the ranking, as it keeps itself.
with

months as (
    select * from {{ ref('int_batches_current') }}
),

memberships as (
    select
        months.*,
        rollup.period_type,
        rollup.rollup_period
    from months
    cross join lateral (
        values
            ('quarter', {{ quarter_of('months.period') }}),
            ('year', left(months.period, 4))
    ) as rollup (period_type, rollup_period)
),

province_spans as (
    select
        province_code,
        rollup_period,
        min(period_start) as period_start,
        max(period_end) as period_end,
        count(distinct period) as months_in_span
    from memberships
    group by province_code, rollup_period
),

rollups as (
    select
        memberships.unit_code,
        memberships.province_code,
        memberships.rollup_period as period,
        memberships.period_type,
        province_spans.period_start,
        province_spans.period_end,
        bool_and(memberships.is_scored) as is_scored,
        case
            when bool_or(memberships.data_status = 'quarantined') then 'quarantined'
            when bool_or(memberships.data_status = 'warned') then 'warned'
            else 'ok'
        end as data_status,
        count(*) as months_included,
        province_spans.months_in_span,
        -- a rollup has no batch of its own: criterion_lineage names each month's
        cast(null as text) as batch_id
    from memberships
    inner join province_spans
        on
            memberships.province_code = province_spans.province_code
            and memberships.rollup_period = province_spans.rollup_period
    group by
        memberships.unit_code,
        memberships.province_code,
        memberships.rollup_period,
        memberships.period_type,
        province_spans.period_start,
        province_spans.period_end,
        province_spans.months_in_span
),

month_periods as (
    select
        unit_code,
        province_code,
        period,
        'month' as period_type,
        period_start,
        period_end,
        is_scored,
        data_status,
        cast(1 as bigint) as months_included,
        cast(1 as bigint) as months_in_span,
        batch_id
    from months
),

unioned as (
    select * from month_periods
    union all
    select * from rollups
),

final as (
    select
        unioned.*,
        -- "now" for dossiers and feedback still in progress: the end of the period
        cast(unioned.period_end + 1 as timestamp) as evaluated_as_of
    from unioned
)

select * from final
