{{ config(**period_incremental_config()) }}

-- One row per procedure in a scored batch's catalogue (danh_muc_tthc), with the
-- procedure-based criteria's numerator and denominator membership.
with

batches as (
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

payments as (
    select * from {{ ref('stg_submissions__thanh_toan') }}
    where {{ period_filter() }}
),

unique_procedures as (
    select distinct on (batch_id, procedure_code) *
    from procedures
    where procedure_code is not null
    order by batch_id, procedure_code, source_file, source_row
),

dossiers_by_procedure as (
    select
        batch_id,
        procedure_code,
        count(*) filter (where is_received_in_period) as received_dossiers,
        count(*) filter (
            where is_received_in_period and channel = 'online'
        ) as received_online_dossiers,
        count(*) filter (
            where is_received_in_period and carries_fee and synced_to_national_portal
        ) as received_synced_fee_dossiers,
        count(*) filter (
            where is_received_in_period and citizen_db_data
        ) as received_citizen_db_dossiers
    from dossiers
    group by batch_id, procedure_code
),

online_payments_by_procedure as (
    select
        dossiers.batch_id,
        dossiers.procedure_code,
        count(*) as successful_online_payments
    from payments
    inner join dossiers
        on
            payments.batch_id = dossiers.batch_id
            and payments.dossier_id = dossiers.dossier_id
    where
        payments.payment_method = 'online'
        and payments.payment_status = 'success'
    group by dossiers.batch_id, dossiers.procedure_code
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
        unique_procedures.published_on_time,
        unique_procedures.publicised_on_time,
        coalesce(unique_procedures.publication_complete, false) as publication_complete,
        coalesce(unique_procedures.e_certified_copy, false) as e_certified_copy,
        coalesce(dossiers_by_procedure.received_dossiers, 0) as received_dossiers,
        coalesce(dossiers_by_procedure.received_online_dossiers, 0) as received_online_dossiers,
        coalesce(dossiers_by_procedure.received_synced_fee_dossiers, 0) as received_synced_fee_dossiers,
        coalesce(dossiers_by_procedure.received_citizen_db_dossiers, 0) as received_citizen_db_dossiers,
        coalesce(online_payments_by_procedure.successful_online_payments, 0) as successful_online_payments,
        -- 4.7 is a property of the unit (1 if any catalogue procedure offers
        -- e-certified copies, over 1); it is carried by one representative row, the
        -- e-certified procedure with the lowest code, else the lowest code
        row_number() over (
            partition by unique_procedures.batch_id
            order by coalesce(unique_procedures.e_certified_copy, false) desc, unique_procedures.procedure_code
        ) = 1 as is_unit_representative,
        bool_or(coalesce(unique_procedures.e_certified_copy, false)) over (
            partition by unique_procedures.batch_id
        ) as unit_offers_e_certified_copy,
        unique_procedures.source_file,
        unique_procedures.file_sha256,
        unique_procedures.source_row
    from unique_procedures
    inner join batches
        on unique_procedures.batch_id = batches.batch_id
    left join dossiers_by_procedure
        on
            unique_procedures.batch_id = dossiers_by_procedure.batch_id
            and unique_procedures.procedure_code = dossiers_by_procedure.procedure_code
    left join online_payments_by_procedure
        on
            unique_procedures.batch_id = online_payments_by_procedure.batch_id
            and unique_procedures.procedure_code = online_payments_by_procedure.procedure_code
),

classified as (
    select
        joined.*,
        -- CKMB 1.1 published on time, among procedures with a known publication date
        published_on_time is not null as crit_1_1_den,
        coalesce(published_on_time, false) as crit_1_1_num,
        -- CKMB 1.2 publicised on time, among procedures with a known publicity date
        publicised_on_time is not null as crit_1_2_den,
        coalesce(publicised_on_time, false) as crit_1_2_num,
        -- CKMB 1.3 complete content
        true as crit_1_3_den,
        publication_complete as crit_1_3_num,
        -- DVCTT 3.1 offered online (partial or full)
        true as crit_3_1_den,
        is_online_service as crit_3_1_num,
        -- DVCTT 3.2 online services with at least one online dossier
        is_online_service as crit_3_2_den,
        is_online_service and received_online_dossiers > 0 as crit_3_2_num,
        -- TTTT 3.5 fee-bearing procedures with a synchronised dossier carrying a fee
        has_fee as crit_3_5_den,
        has_fee and received_synced_fee_dossiers > 0 as crit_3_5_num,
        -- TTTT 3.5b fee-bearing procedures with a successful online payment
        has_fee as crit_3_5b_den,
        has_fee and successful_online_payments > 0 as crit_3_5b_num,
        -- SHHS 4.6 procedures with a dossier using population-database data
        true as crit_4_6_den,
        received_citizen_db_dossiers > 0 as crit_4_6_num,
        -- SHHS 4.7 e-certified copies offered by the unit
        is_unit_representative as crit_4_7_den,
        is_unit_representative and unit_offers_e_certified_copy as crit_4_7_num
    from joined
)

select * from classified
