-- DESIGN §5: unit x period x criterion.
with

points as (
    select * from {{ ref('int_criterion_points') }}
),

final as (
    select
        unit_code,
        province_code,
        period,
        group_code,
        criterion_code,
        criterion_name_vi,
        criterion_name_en,
        numerator,
        denominator,
        rate,
        points,
        points_rounded,
        max_points,
        method,
        target,
        rule_version,
        batch_id
    from points
)

select * from final
