-- Fresh statistics: every period-scoped model joins this small table, and a planner that
-- guesses its size may put the typed dossiers on the inner side of a nested loop.
{{ config(post_hook=["analyze {{ this }}"]) }}

-- The batch that speaks for each unit and period. A resubmission supersedes the batch
-- before it only once the gate passes or warns it (raw.make_current), so among the
-- batches not superseded a scored one wins, then the latest delivered: a broken
-- resubmission never unseats a good batch. A unit whose only batch is quarantined (or
-- not yet gated) produces no facts and is shown as quarantined, never ranked on
-- partial data.
with

batches as (
    select * from {{ ref('stg_submissions__batches') }}
),

ranked as (
    select
        batches.*,
        row_number() over (
            partition by unit_code, period
            order by batch_status in {{ scored_statuses() }} desc, delivered_at desc, batch_id desc
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
