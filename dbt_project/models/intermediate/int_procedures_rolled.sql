{{ config(**period_incremental_config()) }}

-- One row per catalogue procedure of a unit's quarter and year to date: the catalogue
-- of the period's latest month (the one in force at its end), with usage counted over
-- the whole period's dossiers (int_dossiers_rolled), classified by macro
-- procedure_classification.

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

usage as (
    {{ dossier_usage_by_procedure('dossiers') }}
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
