-- Fresh statistics: the period-scoped models join this small table.
{{ config(post_hook=["analyze {{ this }}"]) }}

-- Every period a unit is scored for (index-766.md §3: "month, quarter, year; year =
-- year to date"): each month it sent (one batch), and the quarter and year to date
-- that contain those months, each scored from its own items, never by averaging
-- months. A rollup runs from its first day (1 January, 1 July; under the 15th cycle the
-- 15th of the month before) to the end of the province's latest month loaded (a quarter
-- still under way is quarter to date), so every unit of a province is judged over the
-- same dates. Its scoring rules are those in force on the first day of its first month
-- loaded (rules_as_of): a year that began before the index applied to these units is
-- scored by the rules they were first scored by. A month's rules are those in force on
-- the first day of the month it is labelled with, whatever the cycle (under the 15th
-- cycle, 2025-07 runs from 15 June and is July's index); `chiso run` refuses a month no
-- rules are in force for (chiso.scoring.check_rules_in_force). A rollup is scored only when every
-- month the unit sent is scored: a quarantined month keeps its quarter and year off
-- the ranking, as it keeps itself.
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
        -- the first day of the rollup's first month, under the cycle its months follow
        case when extract(day from min(period_start)) = 1
            then make_date(cast(left(rollup_period, 4) as integer), first_month, 1)
            else cast(make_date(cast(left(rollup_period, 4) as integer), first_month, 15)
                      - interval '1 month' as date)
        end as period_start,
        min(cast(period || '-01' as date)) as rules_as_of,
        max(period_end) as period_end,
        count(distinct period) as months_in_span
    from (
        select
            memberships.*,
            case period_type
                when 'quarter' then cast(right(rollup_period, 1) as integer) * 3 - 2
                else 1
            end as first_month
        from memberships
    ) as with_first_month
    group by province_code, rollup_period, first_month
),

rollups as (
    select
        memberships.unit_code,
        memberships.province_code,
        memberships.rollup_period as period,
        memberships.period_type,
        province_spans.period_start,
        province_spans.period_end,
        province_spans.rules_as_of,
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
        province_spans.rules_as_of,
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
        cast(period || '-01' as date) as rules_as_of,
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
