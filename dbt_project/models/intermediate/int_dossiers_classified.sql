{{ config(**period_incremental_config()) }}

-- One row per dossier of a scored batch, with every criterion's numerator and
-- denominator membership as a boolean (crit_<code>_num / _den). Rules from
-- shared/domain/index-766.md §2; each flag is defined once, here.
with

batches as (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

dossiers as (
    select * from {{ ref('stg_submissions__ho_so') }}
    where {{ period_filter() }}
),

procedures as (
    select * from {{ ref('stg_submissions__danh_muc_tthc') }}
    where {{ period_filter() }}
),

payments as (
    select * from {{ ref('stg_submissions__thanh_toan') }}
    where {{ period_filter() }}
),

feedback as (
    select * from {{ ref('stg_submissions__pakn') }}
    where {{ period_filter() }}
),

-- A key delivered twice is a gate error; should one slip through, the first row of
-- the file counts once instead of twice.
unique_dossiers as (
    select distinct on (batch_id, dossier_id) *
    from dossiers
    where dossier_id is not null
    order by batch_id, dossier_id, source_file, source_row
),

unique_procedures as (
    select distinct on (batch_id, procedure_code)
        batch_id,
        procedure_code,
        returns_paper_result,
        has_fee
    from procedures
    where procedure_code is not null
    order by batch_id, procedure_code, source_file, source_row
),

online_payments as (
    select
        batch_id,
        dossier_id,
        count(*) as successful_online_payments
    from payments
    where
        payment_method = 'online'
        and payment_status = 'success'
    group by batch_id, dossier_id
),

linked_feedback as (
    select
        batch_id,
        dossier_id,
        count(*) as feedback_items,
        count(*) filter (where rating = 'unsatisfied') as unsatisfied_feedback_items
    from feedback
    where dossier_id is not null
    group by batch_id, dossier_id
),

joined as (
    select
        unique_dossiers.batch_id,
        batches.unit_code,
        batches.province_code,
        batches.period,
        batches.period_start,
        batches.period_end,
        batches.evaluated_as_of,
        unique_dossiers.dossier_id,
        unique_dossiers.procedure_code,
        unique_dossiers.received_at,
        unique_dossiers.channel,
        unique_dossiers.due_at,
        unique_dossiers.completed_at,
        unique_dossiers.result_returned_at,
        unique_dossiers.dossier_status,
        coalesce(unique_dossiers.supplement_count, 0) as supplement_count,
        coalesce(unique_dossiers.synced_to_national_portal, false) as synced_to_national_portal,
        coalesce(unique_dossiers.has_e_result, false) as has_e_result,
        coalesce(unique_dossiers.digitised, false) as digitised,
        coalesce(unique_dossiers.reused_data, false) as reused_data,
        coalesce(unique_dossiers.citizen_db_data, false) as citizen_db_data,
        coalesce(unique_dossiers.personal_storage_linked, false) as personal_storage_linked,
        unique_dossiers.fee_amount,
        -- a procedure missing from the catalogue is a gate finding; here it is
        -- treated as not returning a paper result
        coalesce(unique_procedures.returns_paper_result, false) as returns_paper_result,
        coalesce(unique_procedures.has_fee, false) as procedure_has_fee,
        coalesce(online_payments.successful_online_payments, 0) as successful_online_payments,
        coalesce(linked_feedback.feedback_items, 0) as feedback_items,
        coalesce(linked_feedback.unsatisfied_feedback_items, 0) as unsatisfied_feedback_items,
        unique_dossiers.source_file,
        unique_dossiers.file_sha256,
        unique_dossiers.source_row
    from unique_dossiers
    inner join batches
        on unique_dossiers.batch_id = batches.batch_id
    left join unique_procedures
        on
            unique_dossiers.batch_id = unique_procedures.batch_id
            and unique_dossiers.procedure_code = unique_procedures.procedure_code
    left join online_payments
        on
            unique_dossiers.batch_id = online_payments.batch_id
            and unique_dossiers.dossier_id = online_payments.dossier_id
    left join linked_feedback
        on
            unique_dossiers.batch_id = linked_feedback.batch_id
            and unique_dossiers.dossier_id = linked_feedback.dossier_id
),

timeliness as (
    select
        joined.*,
        -- "received": reception date inside the period, withdrawn dossiers excluded
        coalesce(
            cast(received_at as date) between period_start and period_end
            and dossier_status is distinct from 'withdrawn',
            false
        ) as is_received_in_period,
        -- 2.1: finished by the due date, or still open within it at the end of the
        -- period. The end time is when it was processed (completed_at), else when the
        -- result was returned (index-766.md §2.2: "đã xử lý xong" > "đã trả kết quả" >
        -- refused/stopped); a refused dossier without either is late; more than one
        -- supplement request makes a dossier late whatever the dates say
        coalesce(
            supplement_count <= 1
            and (
                (coalesce(completed_at, result_returned_at) <= due_at)
                or (
                    completed_at is null
                    and result_returned_at is null
                    and dossier_status is distinct from 'refused'
                    and due_at >= evaluated_as_of
                )
            ),
            false
        ) as is_on_time,
        coalesce(completed_at, result_returned_at) as finished_at,
        -- 3.6: a dossier of a fee-bearing procedure (catalogue has_fee) with a fee
        -- charged: "minus all-zero-fee ones"; a blank fee is no fee charged
        procedure_has_fee and coalesce(fee_amount, 0) > 0 as has_fee_charged,
        -- 3.5: the dossier carries fee data
        coalesce(fee_amount, 0) > 0 as carries_fee,
        successful_online_payments > 0 as is_paid_online
    from joined
),

classified as (
    select
        timeliness.*,
        dossier_status is distinct from 'withdrawn' and not is_on_time as is_late,
        case
            when dossier_status = 'withdrawn' or is_on_time then null
            when supplement_count > 1 then 'more than one supplement request'
            when due_at is null then 'no due date'
            when finished_at > due_at then 'completed after the due date'
            when finished_at is null and dossier_status = 'refused'
                then 'refused without a completion date'
            when finished_at is null then 'still open after the due date'
        end as late_reason,
        case
            when dossier_status is distinct from 'withdrawn' and not is_on_time and due_at is not null
                then greatest(
                    0,
                    ceil(extract(epoch from coalesce(finished_at, evaluated_as_of) - due_at) / 86400.0)
                )::integer
        end as days_overdue,

        -- CKMB 1.4 synchronised to the national portal
        is_received_in_period as crit_1_4_den,
        is_received_in_period and synced_to_national_portal as crit_1_4_num,
        -- TDGQ 2.1 on time
        is_received_in_period as crit_2_1_den,
        is_received_in_period and is_on_time as crit_2_1_num,
        -- DVCTT 3.3 filed online, synchronised, e-result where a paper result is due.
        -- The spec's online ÷ received × sync rate: the portal's channel sums count only
        -- dossiers synced to it, so synced online dossiers ÷ all received is the same.
        is_received_in_period as crit_3_3_den,
        is_received_in_period
        and channel is not distinct from 'online'
        and synced_to_national_portal
        and (has_e_result or not returns_paper_result) as crit_3_3_num,
        -- TTTT 3.6 fee-bearing dossiers paid online
        is_received_in_period and has_fee_charged as crit_3_6_den,
        is_received_in_period and has_fee_charged and is_paid_online as crit_3_6_num,
        -- SHHS 4.1 e-result among dossiers due a paper result
        is_received_in_period and returns_paper_result as crit_4_1_den,
        is_received_in_period and returns_paper_result and has_e_result as crit_4_1_num,
        -- SHHS 4.2 digitised with an e-result
        is_received_in_period as crit_4_2_den,
        is_received_in_period and digitised and has_e_result as crit_4_2_num,
        -- SHHS 4.3 reused digitised data
        is_received_in_period as crit_4_3_den,
        is_received_in_period and reused_data as crit_4_3_num,
        -- SHHS 4.4 linked to the personal data store
        is_received_in_period as crit_4_4_den,
        is_received_in_period and personal_storage_linked as crit_4_4_num,
        -- SHHS 4.5 population-database data
        is_received_in_period as crit_4_5_den,
        is_received_in_period and citizen_db_data as crit_4_5_num,
        -- MDHL 5.4 not late and no feedback (any feedback about the dossier counts)
        is_received_in_period as crit_5_4_den,
        is_received_in_period and is_on_time and feedback_items = 0 as crit_5_4_num
    from timeliness
)

select * from classified
