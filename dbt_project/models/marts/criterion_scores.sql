-- Unit x period x criterion, for months, quarters and years to date.
with

points as (
    select * from {{ ref('int_criterion_points') }}
),

final as (
    select
        unit_code,
        province_code,
        period,
        period_type,
        group_code,
        criterion_code,
        criterion_name_vi,
        criterion_name_en,
        numerator,
        denominator,
        counted_denominator,
        -- Six decimals are plenty for BI; the scoring chain keeps full precision.
        cast(round(rate, 6) as numeric(10, 6)) as rate,
        cast(round(points, 6) as numeric(12, 6)) as points,
        points_rounded,
        max_points,
        method,
        target,
        rule_version,
        batch_id
    from points
)

select * from final
