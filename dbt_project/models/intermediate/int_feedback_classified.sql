{{ config(**period_incremental_config()) }}

-- One row per feedback item (PAKN) of a scored batch, with the feedback criteria's
-- numerator and denominator membership (index-766.md §2.6).
with

batches as (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

feedback as (
    select * from {{ ref('stg_submissions__pakn') }}
    where {{ period_filter() }}
),

unique_feedback as (
    select distinct on (batch_id, feedback_id) *
    from feedback
    where feedback_id is not null
    order by batch_id, feedback_id, source_file, source_row
),

joined as (
    select
        unique_feedback.batch_id,
        batches.unit_code,
        batches.province_code,
        batches.period,
        batches.evaluated_as_of,
        unique_feedback.feedback_id,
        unique_feedback.dossier_id,
        unique_feedback.received_at,
        unique_feedback.due_at,
        unique_feedback.handled_at,
        unique_feedback.feedback_status,
        unique_feedback.rating,
        coalesce(unique_feedback.repeated, false) as repeated,
        coalesce(
            cast(unique_feedback.received_at as date) between batches.period_start and batches.period_end,
            false
        ) as is_received_in_period,
        -- handled by the due date, or still open within it at the end of the period
        coalesce(
            (unique_feedback.handled_at is not null and unique_feedback.handled_at <= unique_feedback.due_at)
            or (unique_feedback.handled_at is null and unique_feedback.due_at >= batches.evaluated_as_of),
            false
        ) as is_handled_on_time,
        unique_feedback.source_file,
        unique_feedback.file_sha256,
        unique_feedback.source_row
    from unique_feedback
    inner join batches
        on unique_feedback.batch_id = batches.batch_id
),

classified as (
    select
        joined.*,
        not is_handled_on_time as is_overdue,
        -- MDHL 5.2 handled on time
        is_received_in_period as crit_5_2_den,
        is_received_in_period and is_handled_on_time as crit_5_2_num,
        -- MDHL 5.3 neither rated unsatisfied, overdue nor repeated
        is_received_in_period as crit_5_3_den,
        is_received_in_period
        and rating is distinct from 'unsatisfied'
        and is_handled_on_time
        and not repeated as crit_5_3_num
    from joined
)

select * from classified
