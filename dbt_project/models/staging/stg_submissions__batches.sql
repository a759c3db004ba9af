with

batches as (
    select * from {{ source('raw', 'batches') }}
),

renamed as (
    select
        batch_id,
        province_code,
        unit_code,
        period,
        period_start,
        period_end,
        submission_dir,
        files as file_count,
        landed_at,
        coalesce(delivered_at, landed_at) as delivered_at,
        run_id,
        lower(status) as batch_status,
        reason as status_reason,
        superseded_by
    from batches
)

select * from renamed
