-- DESIGN §5: unit x period x group; points = round(sum of criterion points, 2).
with

points as (
    select * from {{ ref('int_criterion_points') }}
),

groups as (
    select
        unit_code,
        province_code,
        period,
        group_code,
        group_points,
        group_max_points,
        count(*) as criteria
    from points
    group by
        unit_code,
        province_code,
        period,
        group_code,
        group_points,
        group_max_points
),

final as (
    select
        unit_code,
        province_code,
        period,
        group_code,
        group_points as points,
        group_max_points as max_points,
        criteria
    from groups
)

select * from final
