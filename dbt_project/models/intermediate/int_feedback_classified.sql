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

-- Vietnam's working days (public holidays and Tết from the `holidays` library,
-- chiso.workdays): working_day_no counts working days up to and including each day.
working_days as (
    select * from {{ source('ref', 'working_days') }}
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
        -- 5.2 limits in working days after reception (index-766.md §2.6): a refusal
        -- within 2, handling within 15. Requests for supplements (5) and publication (2)
        -- are not in the submission contract. The delivered due_at is not the limit.
        case unique_feedback.feedback_status when 'refused' then 2 else 15 end
            as limit_working_days,
        unique_feedback.source_file,
        unique_feedback.file_sha256,
        unique_feedback.source_row
    from unique_feedback
    inner join batches
        on unique_feedback.batch_id = batches.batch_id
),

deadlines as (
    select
        joined.*,
        deadline.day as deadline_day,
        -- handled by the end of the deadline day, or still open within it at the end
        -- of the period; an item received outside the calendar has no deadline: late
        coalesce(
            (joined.handled_at is not null and cast(joined.handled_at as date) <= deadline.day)
            or (joined.handled_at is null and deadline.day >= cast(joined.evaluated_as_of as date) - 1),
            false
        ) as is_handled_on_time
    from joined
    left join working_days as received
        on received.day = cast(joined.received_at as date)
    left join working_days as deadline
        on
            deadline.working_day_no = received.working_day_no + joined.limit_working_days
            and deadline.is_working_day
),

classified as (
    select
        deadlines.*,
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
    from deadlines
)

select * from classified
