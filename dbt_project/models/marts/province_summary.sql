-- Province x period, over the ranked (not quarantined) units, with the
-- province's units that sent nothing for the period counted beside them.
with

ranking as (
    select * from {{ ref('unit_ranking') }}
),

province_units as (
    select
        province_code,
        count(*) as units
    from {{ ref('dim_unit') }}
    group by province_code
),

summary as (
    select
        province_code,
        period,
        period_type,
        count(total_points) as units,
        count(*) filter (where data_status = 'quarantined') as units_quarantined,
        count(*) as units_submitted,
        cast(round(avg(total_points), 2) as numeric(7, 2)) as mean_total,
        cast(
            round(cast(percentile_cont(0.5) within group (order by total_points) as numeric), 2)
            as numeric(7, 2)
        ) as median_total,
        min(total_points) as min_total,
        max(total_points) as max_total
    from ranking
    group by province_code, period, period_type
),

final as (
    select
        summary.province_code,
        summary.period,
        summary.period_type,
        cast(summary.units as integer) as units,
        cast(summary.units_quarantined as integer) as units_quarantined,
        cast(province_units.units - summary.units_submitted as integer) as units_without_submission,
        summary.mean_total,
        summary.median_total,
        summary.min_total,
        summary.max_total
    from summary
    inner join province_units
        on summary.province_code = province_units.province_code
)

select * from final
