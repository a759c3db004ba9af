{{ config(**period_incremental_config()) }}

-- One row per catalogue procedure of a unit's quarter and year to date: the catalogue
-- of the period's latest month (the one in force at its end), with usage counted over
-- the whole period's dossiers (int_dossiers_rolled and int_dossiers_rollup_parts),
-- classified by macro procedure_classification.

with

periods as (
    select * from {{ ref('int_scoring_periods') }}
    where period_type <> 'month' and is_scored and {{ rollup_filter() }}
),

month_procedures as (
    select * from {{ ref('int_procedures_classified') }}
    where {{ rollup_member_filter() }}
),

dossiers as (
    select * from {{ ref('int_dossiers_rolled') }}
    where {{ rollup_filter() }}
),

members as (
    select
        month_procedures.*,
        rollup.rollup_period
    from month_procedures
    cross join lateral (
        values ({{ quarter_of('month_procedures.period') }}), (left(month_procedures.period, 4))
    ) as rollup (rollup_period)
),

latest_catalogue as (
    select
        members.*,
        rank() over (
            partition by members.unit_code, members.rollup_period
            order by members.period desc
        ) as recency
    from members
    inner join periods
        on
            members.unit_code = periods.unit_code
            and members.rollup_period = periods.period
),

-- usage over the rollup's dossiers: its open ones (int_dossiers_rolled) and the others,
-- counted month by month (int_dossiers_rollup_parts)
usage as (
    select
        unit_code,
        period,
        procedure_code,
        cast(sum(received_dossiers) as bigint) as received_dossiers,
        cast(sum(received_online_dossiers) as bigint) as received_online_dossiers,
        cast(sum(received_synced_fee_dossiers) as bigint) as received_synced_fee_dossiers,
        cast(sum(received_citizen_db_dossiers) as bigint) as received_citizen_db_dossiers,
        sum(successful_online_payments) as successful_online_payments
    from (
        {{ dossier_usage_by_procedure('dossiers') }}
        union all
        select
            unit_code,
            period,
            procedure_code,
            received_dossiers,
            received_online_dossiers,
            received_synced_fee_dossiers,
            received_citizen_db_dossiers,
            successful_online_payments
        from {{ ref('int_dossiers_rollup_parts') }}
        where {{ rollup_filter() }}
    ) as usage_parts
    group by unit_code, period, procedure_code
),

joined as (
    select
        latest_catalogue.batch_id,
        latest_catalogue.unit_code,
        latest_catalogue.province_code,
        latest_catalogue.rollup_period as period,
        latest_catalogue.procedure_code,
        latest_catalogue.procedure_name,
        latest_catalogue.service_level,
        latest_catalogue.is_online_service,
        latest_catalogue.has_fee,
        latest_catalogue.returns_paper_result,
        latest_catalogue.time_limit_days,
        latest_catalogue.published_on_time,
        latest_catalogue.publicised_on_time,
        latest_catalogue.publication_complete,
        latest_catalogue.e_certified_copy,
        coalesce(usage.received_dossiers, 0) as received_dossiers,
        coalesce(usage.received_online_dossiers, 0) as received_online_dossiers,
        coalesce(usage.received_synced_fee_dossiers, 0) as received_synced_fee_dossiers,
        coalesce(usage.received_citizen_db_dossiers, 0) as received_citizen_db_dossiers,
        coalesce(usage.successful_online_payments, 0) as successful_online_payments,
        latest_catalogue.source_file,
        latest_catalogue.file_sha256,
        latest_catalogue.source_row
    from latest_catalogue
    left join usage
        on
            latest_catalogue.unit_code = usage.unit_code
            and latest_catalogue.rollup_period = usage.period
            and latest_catalogue.procedure_code = usage.procedure_code
    where latest_catalogue.recency = 1
),

classified as (
    {{ procedure_classification('joined') }}
)

select * from classified
