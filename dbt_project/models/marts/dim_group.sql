-- The six groups of the Decision 766 index for BI and auditors: one row per rule
-- version and group, with Vietnamese and English names, maximum points, the field the
-- national portal shows the group under, how many criteria it has and when the
-- version applies.
with

groups as (
    select * from {{ ref('scoring_groups') }}
),

rules as (
    select * from {{ ref('scoring_rules') }}
),

criteria as (
    select
        rule_version,
        group_code,
        count(*) as criteria,
        string_agg(criterion_code, ', ' order by criterion_code) as criterion_codes,
        min(effective_from) as effective_from,
        max(effective_to) as effective_to
    from rules
    group by rule_version, group_code
),

final as (
    select
        groups.rule_version,
        groups.group_code,
        cast(groups.display_order as integer) as display_order,
        groups.group_name_vi,
        groups.group_name_en,
        groups.max_points,
        cast(coalesce(criteria.criteria, 0) as integer) as criteria,
        criteria.criterion_codes,
        groups.portal_field,
        criteria.effective_from,
        criteria.effective_to,
        groups.notes
    from groups
    left join criteria
        on
            groups.rule_version = criteria.rule_version
            and groups.group_code = criteria.group_code
)

select * from final
