{{ config(alias='scoring_rules') }}

-- The rule table (seed) exposed to BI and auditors as marts.scoring_rules.
with

rules as (
    select * from {{ ref('scoring_rules') }}
),

final as (
    select
        rule_version,
        effective_from,
        effective_to,
        criterion_code,
        group_code,
        criterion_name_vi,
        criterion_name_en,
        max_points,
        method,
        target,
        zero_denominator,
        numerator_meaning,
        denominator_meaning,
        recovery_action,
        notes
    from rules
)

select * from final
