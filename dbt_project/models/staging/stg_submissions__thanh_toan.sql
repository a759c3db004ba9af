with

payments as (
    select * from {{ source('raw', 'thanh_toan') }}
),

batches as (
    select * from {{ source('raw', 'batches') }}
),

files as (
    select * from {{ source('raw', 'files') }}
),

typed as (
    select
        payments.batch_id,
        batches.unit_code,
        batches.province_code,
        -- the partition key, so a period filter downstream reads one month's partition
        payments.period,
        {{ blank_to_null('payments.payment_id') }} as payment_id,
        {{ blank_to_null('payments.dossier_id') }} as dossier_id,
        {{ to_amount('payments.amount') }} as amount,
        {{ to_enum('payments.method') }} as payment_method,
        {{ to_timestamp('payments.paid_at') }} as paid_at,
        {{ to_enum('payments.status') }} as payment_status,
        payments.source_file,
        files.file_sha256,
        payments.source_row
    from payments
    inner join batches
        on payments.batch_id = batches.batch_id
        -- isolation: only batches the gate passed or warned are typed (DESIGN §4)
        and batches.status in {{ scored_statuses() }}
    left join files
        on
            payments.batch_id = files.batch_id
            and payments.source_file = files.source_file
)

select * from typed
