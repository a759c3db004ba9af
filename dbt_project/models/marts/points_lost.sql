-- Unit x period x criterion where points were lost, with what would
-- recover them in plain words. Linear criteria need every missing item; target
-- criteria need enough items to reach the target; a zero denominator under the
-- 'zero' policy needs the first item.
with

points as (
    select * from {{ ref('int_criterion_points') }}
),

losses as (
    select
        unit_code,
        province_code,
        period,
        period_type,
        group_code,
        criterion_code,
        criterion_name_en,
        numerator,
        denominator,
        counted_denominator,
        rate,
        points,
        max_points,
        max_points - points as points_lost,
        recovery_action,
        case
            when counted_denominator = 0 then null
            when method = 'target'
                then greatest(cast(ceil(target * counted_denominator) as bigint) - numerator, 0)
            else counted_denominator - numerator
        end as items_needed
    from points
    where max_points - points > 0
),

final as (
    select
        unit_code,
        province_code,
        period,
        period_type,
        group_code,
        criterion_code,
        numerator,
        denominator,
        counted_denominator,
        rate,
        points,
        max_points,
        points_lost,
        cast(round(points_lost, 2) as numeric(7, 2)) as points_lost_rounded,
        items_needed,
        case
            when items_needed is null
                then 'nothing counted in the denominator ('
                    || criterion_name_en
                    || '): the criterion scores 0 until the unit has at least one; then '
                    || replace(recovery_action, '{n}', '1')
            else replace(recovery_action, '{n}', cast(items_needed as text))
                || ' (' || numerator || ' of ' || counted_denominator || ' now)'
        end as cause
    from losses
)

select * from final
