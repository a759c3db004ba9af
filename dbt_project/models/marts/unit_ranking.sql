-- Unit x period, for months, quarters and years to date (period_type).
-- Every unit with a current batch appears; a quarantined (or not yet gated) batch
-- gives data_status 'quarantined' and no total or rank, so nobody is ranked on
-- partial data (a quarter or year with a quarantined month included). Ranks are
-- dense by total within province and period; ties share a rank and are ordered for
-- display by unit code. Ratings come from seeds/rating_bands.csv.
with

batches as (
    -- A folder filed under a code that is not a 2025 unit is quarantined by the gate
    -- (batches.unit_code_valid) and shown in dq_results; it is not a unit to rank.
    select * from {{ ref('int_scoring_periods') }}
    where unit_code in (select unit_code from {{ ref('dim_unit') }})
),

bands as (
    select * from {{ ref('rating_bands') }}
),

points as (
    select * from {{ ref('int_criterion_points') }}
),

units as (
    select * from {{ ref('dim_unit') }}
),

periods as (
    select * from {{ ref('dim_period') }}
),

totals as (
    select distinct
        unit_code,
        period,
        rule_version,
        total_points,
        total_max_points
    from points
),

scored as (
    select
        batches.unit_code,
        batches.province_code,
        batches.period,
        batches.period_type,
        batches.months_included,
        batches.batch_id,
        batches.data_status,
        totals.rule_version,
        case when batches.is_scored then totals.total_points end as total_points,
        case when batches.is_scored then totals.total_max_points end as max_points
    from batches
    left join totals
        on
            batches.unit_code = totals.unit_code
            and batches.period = totals.period
),

ranked as (
    select
        scored.*,
        case
            when total_points is not null
                then dense_rank() over (
                    partition by province_code, period, total_points is null
                    order by total_points desc
                )
        end as rank_in_province,
        count(total_points) over (partition by province_code, period) as units_in_province,
        row_number() over (
            partition by province_code, period
            order by total_points desc nulls last, unit_code
        ) as display_order
    from scored
),

final as (
    select
        ranked.unit_code,
        units.unit_name,
        ranked.province_code,
        ranked.period,
        ranked.period_type,
        cast(ranked.total_points as numeric(7, 2)) as total_points,
        ranked.max_points,
        (
            select bands.rating
            from bands
            where
                bands.rule_version = ranked.rule_version
                and ranked.total_points >= bands.min_points
            order by bands.min_points desc
            limit 1
        ) as rating,
        cast(ranked.rank_in_province as integer) as rank_in_province,
        cast(ranked.units_in_province as integer) as units_in_province,
        cast(ranked.display_order as integer) as display_order,
        cast(previous.total_points as numeric(7, 2)) as prev_total_points,
        cast(previous.rank_in_province as integer) as prev_rank,
        cast(ranked.total_points - previous.total_points as numeric(7, 2)) as change_in_points,
        ranked.data_status,
        cast(ranked.months_included as integer) as months_included,
        ranked.batch_id
    from ranked
    left join units
        on ranked.unit_code = units.unit_code
    left join periods
        on ranked.period = periods.period
    left join ranked as previous
        on
            ranked.unit_code = previous.unit_code
            and periods.previous_period = previous.period
)

select * from final
