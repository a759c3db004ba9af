{{ config(**period_partitioned_config(periods='rollups')) }}

-- One row per catalogue procedure of a unit's quarter and year to date: the catalogue
-- of the period's latest month (the one in force at its end), with usage counted over
-- the whole period's dossiers (int_dossiers_rolled and int_dossiers_rollup_parts),
-- classified by macro procedure_classification.

with

periods as (
    select * from {{ ref('int_scoring_periods') }}
    where period_type <> 'month' and is_scored and {{ rollup_filter() }}
),

dossiers as (
    select * from {{ ref('int_dossiers_rolled') }}
    where {{ rollup_filter() }}
),

-- the rollup's latest month with a catalogue, per unit: one index probe per unit and
-- rollup (int_procedures_classified is indexed on unit_code, period), so a December
-- build reads December's catalogues, not the year's
latest_months as (
    select
        periods.unit_code,
        periods.period as rollup_period,
        latest.month
    from periods
    cross join lateral (
        select procedures.period as month
        from {{ ref('int_procedures_classified') }} as procedures
        where
            procedures.unit_code = periods.unit_code
            and procedures.period between left(periods.period, 4) || '-01' and left(periods.period, 4) || '-12'
            and (periods.period_type = 'year' or {{ quarter_of('procedures.period') }} = periods.period)
        order by procedures.period desc
        limit 1
    ) as latest
),

-- the catalogues in force at the rollups' ends. Where that is the month built (every unit
-- that sent this month's catalogue, when months are built in order), one scan of the month's
-- partition, hash-joined: the select of a national December 8.9 → 5.2 s, against an index
-- probe per unit reading ~290 scattered rows each (`offset 0` keeps the planner from
-- probing the partition's index once per unit, 6.4 s). No filter on latest_months here: a
-- filter on its month made the planner expect a row or two and loop over the whole
-- partition for each unit (20 s at 600 units).
-- Elsewhere (a unit without this month's catalogue, a rebuild of an earlier month, every
-- period), one partition probe per unit and rollup: `offset 0` keeps the lateral subquery
-- from being flattened into a join, which the planner ran as one index scan per unit across
-- every month's partition (the year's catalogues read to keep one month's: 10.2 s in the
-- twelfth month of 300 units against 2.4 s this way)
{%- set month = selected_period() %}
latest_catalogue as (
    {%- if month is not none %}
    select
        procedures.*,
        latest_months.rollup_period
    from latest_months
    inner join (
        select *
        from {{ ref('int_procedures_classified') }}
        where period = '{{ month }}'
        offset 0
    ) as procedures
        on
            procedures.unit_code = latest_months.unit_code
            and procedures.period = latest_months.month
    union all
    {%- endif %}
    select
        procedures.*,
        latest_months.rollup_period
    from latest_months
    cross join lateral (
        select *
        from {{ ref('int_procedures_classified') }} as catalogue
        where
            catalogue.unit_code = latest_months.unit_code
            and catalogue.period = latest_months.month
        offset 0
    ) as procedures
    {%- if month is not none %}
    where latest_months.month <> '{{ month }}'
    {%- endif %}
),

-- usage over the rollup's dossiers: its open ones (int_dossiers_rolled) and the others,
-- counted month by month (int_dossiers_rollup_parts)
usage as (
    select
        unit_code,
        period,
        procedure_code,
        {{ sum_of_counts('received_dossiers') }} as received_dossiers,
        {{ sum_of_counts('received_online_dossiers') }} as received_online_dossiers,
        {{ sum_of_counts('received_synced_fee_dossiers') }} as received_synced_fee_dossiers,
        {{ sum_of_counts('received_citizen_db_dossiers') }} as received_citizen_db_dossiers,
        cast({{ sum_of_counts('successful_online_payments') }} as numeric) as successful_online_payments
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
        latest_catalogue.is_unit_representative,
        latest_catalogue.unit_offers_e_certified_copy,
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
),

classified as (
    {{ procedure_classification('joined', representatives_known=true) }}
)

select * from classified
