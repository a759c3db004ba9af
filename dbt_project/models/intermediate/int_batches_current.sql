-- The batch that speaks for each unit and period: the most recently landed one that
-- has not been superseded. Only passed/warned current batches are scored; a
-- quarantined (or not yet gated) current batch produces no facts, and the unit is
-- shown as quarantined rather than ranked on partial data.
with

batches as (
    select * from {{ ref('stg_submissions__batches') }}
),

ranked as (
    select
        batches.*,
        row_number() over (
            partition by unit_code, period
            order by landed_at desc, batch_id desc
        ) as recency
    from batches
    where batch_status <> 'superseded'
),

current_batches as (
    select
        batch_id,
        province_code,
        unit_code,
        period,
        period_start,
        period_end,
        landed_at,
        batch_status,
        batch_status in {{ scored_statuses() }} as is_scored,
        case batch_status
            when 'passed' then 'ok'
            when 'warned' then 'warned'
            else 'quarantined'
        end as data_status,
        -- "now" for dossiers and feedback still in progress: the end of the period
        cast(period_end + 1 as timestamp) as evaluated_as_of
    from ranked
    where recency = 1
)

select * from current_batches
