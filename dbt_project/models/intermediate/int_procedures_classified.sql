-- indexed on (unit_code, period): int_procedures_rolled finds each unit's latest month by it
{{ config(**period_partitioned_config(indexes=[['unit_code', 'period']])) }}

-- One row per procedure in a scored batch's catalogue (danh_muc_tthc), with the
-- procedure-based criteria's numerator and denominator membership (macro
-- procedure_classification, which the quarter and year rollups apply too).
with

-- not materialized, like unique_procedures: read twice (the catalogue and its units), each
-- time in the parallel scan that needs it, instead of written aside once
batches as not materialized (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

procedures as (
    select * from {{ ref('stg_submissions__danh_muc_tthc') }}
    where {{ period_filter() }}
),

dossiers as (
    select * from {{ ref('int_dossiers_classified') }}
    where {{ period_filter() }}
),

-- a procedure listed twice counts once (int_repeated_deliveries)
repeated as (
    select * from {{ ref('int_repeated_deliveries') }}
    where source = 'danh_muc_tthc' and {{ period_filter() }}
),

unique_procedures as not materialized (
    {{ first_deliveries('procedures', 'procedure_code') }}
),

-- materialized: computed once by a parallel aggregate; inlined, each process of the
-- catalogue's parallel join aggregated the month's dossiers whole (4.0 → 2.6 s at 1,000 units)
usage as materialized (
    {{ dossier_usage_by_procedure('dossiers') }}
),

-- a unit's representative procedure (4.7) and e-certified offer depend on its catalogue
-- alone: worked out from it, so that `joined` is read once; read twice (by the units'
-- aggregate too), it was written aside, 290 MB on disk for a national month (select 7.1–9.3
-- → 5.8–6.5 s)
catalogue as not materialized (
    select
        batches.unit_code,
        batches.period,
        unique_procedures.procedure_code,
        coalesce(unique_procedures.e_certified_copy, false) as e_certified_copy
    from unique_procedures
    inner join batches
        on unique_procedures.batch_id = batches.batch_id
),

joined as (
    select
        unique_procedures.batch_id,
        batches.unit_code,
        batches.province_code,
        batches.period,
        unique_procedures.procedure_code,
        unique_procedures.procedure_name,
        unique_procedures.service_level,
        coalesce(unique_procedures.service_level in ('partial', 'full'), false) as is_online_service,
        coalesce(unique_procedures.has_fee, false) as has_fee,
        coalesce(unique_procedures.returns_paper_result, false) as returns_paper_result,
        unique_procedures.time_limit_days,
        unique_procedures.published_on_time,
        unique_procedures.publicised_on_time,
        coalesce(unique_procedures.publication_complete, false) as publication_complete,
        coalesce(unique_procedures.e_certified_copy, false) as e_certified_copy,
        coalesce(usage.received_dossiers, 0) as received_dossiers,
        coalesce(usage.received_online_dossiers, 0) as received_online_dossiers,
        coalesce(usage.received_synced_fee_dossiers, 0) as received_synced_fee_dossiers,
        coalesce(usage.received_citizen_db_dossiers, 0) as received_citizen_db_dossiers,
        coalesce(usage.successful_online_payments, 0) as successful_online_payments,
        unique_procedures.source_file,
        unique_procedures.file_sha256,
        unique_procedures.source_row
    from unique_procedures
    inner join batches
        on unique_procedures.batch_id = batches.batch_id
    left join usage
        on
            batches.unit_code = usage.unit_code
            and batches.period = usage.period
            and unique_procedures.procedure_code = usage.procedure_code
),

classified as (
    {{ procedure_classification('joined', units_from='catalogue') }}
)

select * from classified
