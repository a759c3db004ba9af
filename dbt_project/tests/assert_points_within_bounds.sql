-- Points lie in 0..max for every criterion and group, and group maxima add up to 100.
with

criteria as (
    select * from {{ ref('criterion_scores') }}
),

groups as (
    select * from {{ ref('group_scores') }}
),

out_of_bounds as (
    select
        unit_code,
        period,
        criterion_code as item,
        points,
        max_points
    from criteria
    where points < 0 or points > max_points
    union all
    select
        unit_code,
        period,
        group_code as item,
        points,
        max_points
    from groups
    where points < 0 or points > max_points
    union all
    select
        unit_code,
        period,
        'all groups' as item,
        sum(points) as points,
        sum(max_points) as max_points
    from groups
    group by unit_code, period
    having sum(max_points) <> 100
)

select * from out_of_bounds
