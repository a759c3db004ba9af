-- Reporting periods scored: months seen in submissions, and the quarters and years to
-- date that contain them, with their dates, the months they span so
-- far and the previous period of the same type.
with

periods as (
    select * from {{ ref('int_scoring_periods') }}
),

spans as (
    select
        period,
        period_type,
        min(period_start) as period_start,
        max(period_end) as period_end,
        max(months_in_span) as months_loaded
    from periods
    group by period, period_type
),

final as (
    select
        period,
        period_type,
        period_start,
        period_end,
        cast(months_loaded as integer) as months_loaded,
        case period_type
            when 'month' then to_char(to_date(period || '-01', 'YYYY-MM-DD') - interval '1 month', 'YYYY-MM')
            when 'quarter' then
                case
                    when right(period, 1) = '1' then cast(cast(left(period, 4) as integer) - 1 as text) || '-Q4'
                    else left(period, 6) || cast(cast(right(period, 1) as integer) - 1 as text)
                end
            else cast(cast(period as integer) - 1 as text)
        end as previous_period
    from spans
)

select * from final
