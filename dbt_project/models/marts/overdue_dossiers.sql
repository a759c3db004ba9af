{{ config(**period_incremental_config()) }}

-- Dossiers that missed their due date (or count as late under 2.1: more than one
-- supplement request, refused without a completion date), for follow-up by the unit.
with

dossiers as (
    select * from {{ ref('fct_dossiers') }}
    where {{ period_filter() }}
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
