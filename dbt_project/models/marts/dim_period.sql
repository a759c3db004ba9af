-- Reporting periods seen in submissions, with their dates and the previous label.
with

batches as (
    select * from {{ ref('stg_submissions__batches') }}
),

periods as (
    select
        period,
        min(period_start) as period_start,
        max(period_end) as period_end
    from batches
    group by period
),

final as (
    select
        period,
        period_start,
        period_end,
        to_char(to_date(period || '-01', 'YYYY-MM-DD') - interval '1 month', 'YYYY-MM') as previous_period
    from periods
)

select * from final
