{{ config(materialized='view', meta={'period_scoped': true}) }}
-- A view over fct_dossiers: the late ones, written nowhere twice.

-- Dossiers that missed their due date (or count as late under 2.1: more than one
-- supplement request, refused without a completion date), for follow-up by the unit.
with

dossiers as (
    select * from {{ ref('fct_dossiers') }}
),

final as (
    select
        unit_code,
        province_code,
        period,
        dossier_id,
        procedure_code,
        received_at,
        due_at,
        completed_at,
        days_overdue,
        late_reason,
        dossier_status,
        is_received_in_period,
        batch_id,
        source_file,
        file_sha256,
        source_row
    from dossiers
    where is_late
)

select * from final
