{{ config(materialized='view', meta={'period_scoped': true}) }}
-- A view: the dossier facts are columns of int_dossiers_classified (same grain), so a
-- month's dossiers are written once (issue: write each month's rows once).

-- One row per dossier of a scored batch (received in the period or carried over),
-- with the processing outcome. No applicant reference: marts hold no personal data.
with

dossiers as (
    select * from {{ ref('int_dossiers_classified') }}
),

final as (
    select
        batch_id,
        unit_code,
        province_code,
        period,
        dossier_id,
        procedure_code,
        received_at,
        channel,
        due_at,
        completed_at,
        result_returned_at,
        dossier_status,
        supplement_count,
        fee_amount,
        synced_to_national_portal,
        is_received_in_period,
        is_on_time,
        is_late,
        late_reason,
        days_overdue,
        has_fee_charged,
        is_paid_online,
        successful_online_payments,
        feedback_items,
        source_file,
        file_sha256,
        source_row
    from dossiers
)

select * from final
