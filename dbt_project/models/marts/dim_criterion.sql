-- The criteria of the Decision 766 index for BI and auditors: one row per rule
-- version and criterion, with the group it belongs to (names and order), Vietnamese
-- and English names, maximum points, how a rate becomes points, the zero-denominator
-- policy, what is counted, and how chiso reads it.
with

rules as (
    select * from {{ ref('scoring_rules') }}
),

groups as (
    select * from {{ ref('scoring_groups') }}
),

final as (
    select
        rules.rule_version,
        rules.effective_from,
        rules.effective_to,
        rules.criterion_code,
        rules.criterion_name_vi,
        rules.criterion_name_en,
        rules.group_code,
        groups.group_name_vi,
        groups.group_name_en,
        cast(groups.display_order as integer) as group_display_order,
        rules.max_points,
        rules.method,
        rules.target,
        rules.zero_denominator,
        rules.numerator_meaning,
        rules.denominator_meaning,
        rules.recovery_action,
        rules.notes
    from rules
    left join groups
        on
            rules.rule_version = groups.rule_version
            and rules.group_code = groups.group_code
)

select * from final
