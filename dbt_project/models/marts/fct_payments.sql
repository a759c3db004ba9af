{{ config(**period_partitioned_config(pre_hook=["{{ hash_joins_only() }}"])) }}

-- One row per payment of a scored batch.
with

batches as (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

payments as (
    select * from {{ ref('stg_submissions__thanh_toan') }}
    where {{ period_filter() }}
),

dossiers as (
    select * from {{ ref('int_dossiers_classified') }}
    where {{ period_filter() }}
),

-- a payment delivered twice counts once (int_repeated_deliveries)
repeated as (
    select * from {{ ref('int_repeated_deliveries') }}
    where source = 'thanh_toan' and {{ period_filter() }}
),

unique_payments as (
    {{ first_deliveries('payments', 'payment_id') }}
),

final as (
    select
        unique_payments.batch_id,
        batches.unit_code,
        batches.province_code,
        batches.period,
        unique_payments.payment_id,
        unique_payments.dossier_id,
        dossiers.procedure_code,
        unique_payments.amount,
        unique_payments.payment_method,
        unique_payments.paid_at,
        unique_payments.payment_status,
        coalesce(
            unique_payments.payment_method = 'online' and unique_payments.payment_status = 'success',
            false
        ) as is_online_success,
        unique_payments.source_file,
        unique_payments.file_sha256,
        unique_payments.source_row
    from unique_payments
    inner join batches
        on unique_payments.batch_id = batches.batch_id
    left join dossiers
        on
            unique_payments.batch_id = dossiers.batch_id
            and unique_payments.dossier_id = dossiers.dossier_id
)

select * from final
