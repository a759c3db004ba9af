with

dossiers as (
    select * from {{ source('raw', 'ho_so') }}
),

batches as (
    select * from {{ source('raw', 'batches') }}
),

files as (
    select * from {{ source('raw', 'files') }}
),

typed as (
    select
        dossiers.batch_id,
        batches.unit_code,
        batches.province_code,
        -- the partition key, so a period filter downstream reads one month's partition
        dossiers.period,
        {{ blank_to_null('dossiers.dossier_id') }} as dossier_id,
        {{ blank_to_null('dossiers.procedure_code') }} as procedure_code,
        {{ to_timestamp('dossiers.received_at') }} as received_at,
        {{ to_enum('dossiers.channel') }} as channel,
        {{ to_timestamp('dossiers.due_at') }} as due_at,
        {{ to_timestamp('dossiers.completed_at') }} as completed_at,
        {{ to_timestamp('dossiers.result_returned_at') }} as result_returned_at,
        {{ to_enum('dossiers.status') }} as dossier_status,
        {{ to_integer('dossiers.supplement_count') }} as supplement_count,
        {{ to_integer('dossiers.supplement_days') }} as supplement_days,
        {{ to_bool('dossiers.synced_to_national_portal') }} as synced_to_national_portal,
        {{ to_bool('dossiers.has_e_result') }} as has_e_result,
        {{ to_bool('dossiers.digitised') }} as digitised,
        {{ to_bool('dossiers.reused_data') }} as reused_data,
        {{ to_bool('dossiers.citizen_db_data') }} as citizen_db_data,
        {{ to_bool('dossiers.personal_storage_linked') }} as personal_storage_linked,
        {{ to_amount('dossiers.fee_amount') }} as fee_amount,
        -- pseudonymised by landing; never selected past the intermediate layer
        {{ blank_to_null('dossiers.applicant_ref') }} as applicant_ref,
        dossiers.source_file,
        files.file_sha256,
        dossiers.source_row
    from dossiers
    inner join batches
        on dossiers.batch_id = batches.batch_id
        -- isolation: only batches the gate passed or warned are typed (DESIGN §4)
        and batches.status in {{ scored_statuses() }}
    left join files
        on
            dossiers.batch_id = files.batch_id
            and dossiers.source_file = files.source_file
)

select * from typed
