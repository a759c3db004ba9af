-- Unit x period x group, for months, quarters and years to date; points =
-- round(sum of criterion points, 2). Group names from seeds/scoring_groups.csv.
with

points as (
    select * from {{ ref('int_criterion_points') }}
),

group_names as (
    select * from {{ ref('scoring_groups') }}
),

groups as (
    select
        unit_code,
        province_code,
        period,
        period_type,
        rule_version,
        group_code,
        group_points,
        group_max_points,
        count(*) as criteria
    from points
    group by
        unit_code,
        province_code,
        period,
        period_type,
        rule_version,
        group_code,
        group_points,
        group_max_points
),

final as (
    select
        groups.unit_code,
        groups.province_code,
        groups.period,
        groups.period_type,
        groups.group_code,
        group_names.group_name_vi,
        group_names.group_name_en,
        groups.group_points as points,
        groups.group_max_points as max_points,
        groups.criteria
    from groups
    left join group_names
        on
            groups.rule_version = group_names.rule_version
            and groups.group_code = group_names.group_code
)

select * from final
