{{ config(**period_partitioned_config()) }}

-- One row per feedback item (PAKN) of a scored batch.
with

feedback as (
    select * from {{ ref('int_feedback_classified') }}
    where {{ period_filter() }}
),

final as (
    select
        batch_id,
        unit_code,
        province_code,
        period,
        feedback_id,
        dossier_id,
        received_at,
        due_at,
        handled_at,
        feedback_status,
        rating,
        repeated,
        is_received_in_period,
        is_handled_on_time,
        is_overdue,
        source_file,
        file_sha256,
        source_row
    from feedback
)

select * from final
