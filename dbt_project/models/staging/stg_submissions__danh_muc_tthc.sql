with

procedures as (
    select * from {{ source('raw', 'danh_muc_tthc') }}
),

batches as (
    select * from {{ source('raw', 'batches') }}
),

files as (
    select * from {{ source('raw', 'files') }}
),

typed as (
    select
        procedures.batch_id,
        batches.unit_code,
        batches.province_code,
        -- the partition key, so a period filter downstream reads one month's partition
        procedures.period,
        {{ blank_to_null('procedures.procedure_code') }} as procedure_code,
        {{ blank_to_null('procedures.name') }} as procedure_name,
        {{ to_enum('procedures.service_level') }} as service_level,
        {{ to_bool('procedures.has_fee') }} as has_fee,
        {{ to_bool('procedures.returns_paper_result') }} as returns_paper_result,
        {{ to_bool('procedures.published_on_time') }} as published_on_time,
        {{ to_bool('procedures.publicised_on_time') }} as publicised_on_time,
        {{ to_bool('procedures.publication_complete') }} as publication_complete,
        {{ to_bool('procedures.e_certified_copy') }} as e_certified_copy,
        {{ to_integer('procedures.time_limit_days') }} as time_limit_days,
        procedures.source_file,
        files.file_sha256,
        procedures.source_row
    from procedures
    inner join batches
        on procedures.batch_id = batches.batch_id
        -- isolation: only batches the gate passed or warned are typed (DESIGN §4)
        and batches.status in {{ scored_statuses() }}
    left join files
        on
            procedures.batch_id = files.batch_id
            and procedures.source_file = files.source_file
)

select * from typed
