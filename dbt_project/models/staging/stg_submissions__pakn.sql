with

feedback as (
    select * from {{ source('raw', 'pakn') }}
),

batches as (
    select * from {{ source('raw', 'batches') }}
),

files as (
    select * from {{ source('raw', 'files') }}
),

typed as (
    select
        feedback.batch_id,
        batches.unit_code,
        batches.province_code,
        -- the partition key, so a period filter downstream reads one month's partition
        feedback.period,
        {{ blank_to_null('feedback.feedback_id') }} as feedback_id,
        {{ blank_to_null('feedback.dossier_id') }} as dossier_id,
        {{ to_timestamp('feedback.received_at') }} as received_at,
        {{ to_timestamp('feedback.due_at') }} as due_at,
        {{ to_timestamp('feedback.handled_at') }} as handled_at,
        {{ to_timestamp('feedback.supplement_requested_at') }} as supplement_requested_at,
        {{ to_timestamp('feedback.published_at') }} as published_at,
        {{ to_enum('feedback.status') }} as feedback_status,
        {{ to_enum('feedback.rating') }} as rating,
        {{ to_bool('feedback.repeated') }} as repeated,
        feedback.source_file,
        files.file_sha256,
        feedback.source_row
    from feedback
    inner join batches
        on feedback.batch_id = batches.batch_id
        -- isolation: only batches the gate passed or warned are typed (DESIGN §4)
        and batches.status in {{ scored_statuses() }}
    left join files
        on
            feedback.batch_id = files.batch_id
            and feedback.source_file = files.source_file
)

select * from typed
