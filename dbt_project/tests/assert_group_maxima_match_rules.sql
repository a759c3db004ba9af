-- Each group's maximum in seeds/scoring_groups.csv is the sum of its criteria's
-- max_points in seeds/scoring_rules.csv, for every rule version; the six add to 100.
with

rules as (
    select rule_version, group_code, sum(max_points) as criteria_points
    from {{ ref('scoring_rules') }}
    group by rule_version, group_code
),

groups as (
    select * from {{ ref('scoring_groups') }}
)

select
    coalesce(rules.rule_version, groups.rule_version) as rule_version,
    coalesce(rules.group_code, groups.group_code) as group_code,
    rules.criteria_points,
    groups.max_points
from rules
full outer join groups
    on
        rules.rule_version = groups.rule_version
        and rules.group_code = groups.group_code
where rules.criteria_points is distinct from groups.max_points
union all
select rule_version, 'all groups', null, sum(max_points)
from groups
group by rule_version
having sum(max_points) <> 100
