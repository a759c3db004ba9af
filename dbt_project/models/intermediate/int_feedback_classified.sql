{{ config(**period_partitioned_config()) }}

-- One row per feedback item (PAKN) of a scored batch, with the feedback criteria's
-- numerator and denominator membership (macro feedback_classification, index-766.md
-- §2.6), which the quarter and year rollups apply too.
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

-- a feedback item delivered twice counts once (int_repeated_deliveries)
repeated as (
    select * from {{ ref('int_repeated_deliveries') }}
    where source = 'pakn' and {{ period_filter() }}
),

unique_feedback as (
    {{ first_deliveries('feedback', 'feedback_id') }}
),

joined as (
    select
        unique_feedback.batch_id,
        batches.unit_code,
        batches.province_code,
        batches.period,
        batches.period_start,
        batches.period_end,
        batches.evaluated_as_of,
        unique_feedback.feedback_id,
        unique_feedback.dossier_id,
        unique_feedback.received_at,
        unique_feedback.due_at,
        unique_feedback.handled_at,
        unique_feedback.supplement_requested_at,
        unique_feedback.published_at,
        unique_feedback.feedback_status,
        unique_feedback.rating,
        coalesce(unique_feedback.repeated, false) as repeated,
        -- 5.2 limits in working days (index-766.md §2.6); the delivered due_at is not
        -- the limit
        case unique_feedback.feedback_status when 'refused' then 2 else 15 end
            as limit_working_days,
        unique_feedback.source_file,
        unique_feedback.file_sha256,
        unique_feedback.source_row
    from unique_feedback
    inner join batches
        on unique_feedback.batch_id = batches.batch_id
),

-- The first working day past each limit (a step taken on or after it is late), and
-- whether the optional steps kept theirs: a supplement request within 5 working days
-- of reception, publication within 2 after handling.
deadlines as (
    select
        joined.*,
        handle_past.day as handle_due_before,
        coalesce(
            (
                joined.supplement_requested_at is null
                or cast(joined.supplement_requested_at as date) < supplement_past.day
            )
            and (
                joined.published_at is null
                or cast(joined.published_at as date) < publish_past.day
            ),
            false
        ) as steps_on_time
    from joined
    left join working_days as received
        on received.day = cast(joined.received_at as date)
    left join working_days as handle_past
        on
            handle_past.working_day_no = received.working_day_no + joined.limit_working_days + 1
            and handle_past.is_working_day
    left join working_days as supplement_past
        on
            supplement_past.working_day_no = received.working_day_no + 5 + 1
            and supplement_past.is_working_day
            and joined.supplement_requested_at is not null
    left join working_days as handled
        on
            handled.day = cast(joined.handled_at as date)
            and joined.published_at is not null
    left join working_days as publish_past
        on
            publish_past.working_day_no = handled.working_day_no + 2 + 1
            and publish_past.is_working_day
),

classified as (
    {{ feedback_classification('deadlines') }}
)

select * from classified
