-- DESIGN §5: province x period, over the ranked (not quarantined) units.
with

ranking as (
    select * from {{ ref('unit_ranking') }}
),

summary as (
    select
        province_code,
        period,
        count(total_points) as units,
        count(*) filter (where data_status = 'quarantined') as units_quarantined,
        cast(round(avg(total_points), 2) as numeric(7, 2)) as mean_total,
        cast(
            round(cast(percentile_cont(0.5) within group (order by total_points) as numeric), 2)
            as numeric(7, 2)
        ) as median_total,
        min(total_points) as min_total,
        max(total_points) as max_total
    from ranking
    group by province_code, period
),

final as (
    select
        province_code,
        period,
        cast(units as integer) as units,
        cast(units_quarantined as integer) as units_quarantined,
        mean_total,
        median_total,
        min_total,
        max_total
    from summary
)

select * from final
