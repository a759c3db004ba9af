{{ config(materialized='view', meta={'period_scoped': true}) }}
-- A view over int_dossiers_classified (same grain): the month's rows are written once.

-- One row per dossier of a scored batch: the digitisation flags behind group SHHS.
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
        is_received_in_period,
        returns_paper_result,
        has_e_result,
        digitised,
        digitised and has_e_result as is_digitised_with_e_result,
        reused_data,
        citizen_db_data,
        personal_storage_linked,
        source_file,
        file_sha256,
        source_row
    from dossiers
)

select * from final
