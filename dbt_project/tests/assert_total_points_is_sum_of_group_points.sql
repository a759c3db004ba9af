-- DESIGN §5: total_points is the sum of group_scores.points, rounded to 2 decimals.
with

ranking as (
    select * from {{ ref('unit_ranking') }}
    where total_points is not null
),

groups as (
    select * from {{ ref('group_scores') }}
),

group_sums as (
    select
        unit_code,
        period,
        round(sum(points), 2) as summed_points,
        count(*) as group_count
    from groups
    group by unit_code, period
)

select
    ranking.unit_code,
    ranking.period,
    ranking.total_points,
    group_sums.summed_points,
    group_sums.group_count
from ranking
left join group_sums
    on
        ranking.unit_code = group_sums.unit_code
        and ranking.period = group_sums.period
where
    group_sums.summed_points is distinct from ranking.total_points
    or group_sums.group_count <> 6
