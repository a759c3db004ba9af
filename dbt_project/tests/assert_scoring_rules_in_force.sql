-- Every counted criterion of every scored period has a scoring rule in force on the
-- period's first day (seeds/scoring_rules.csv, effective_from / effective_to). A period
-- before the index applied (or a gap between rule versions) fails here, by name,
-- instead of producing units with no score.
with

counts as (
    select * from {{ ref('int_criterion_counts') }}
    where {{ scope_filter() }}
),

rules as (
    select * from {{ ref('scoring_rules') }}
)

select distinct
    counts.period,
    counts.criterion_code,
    'no scoring rule in force on ' || counts.rules_as_of as problem
from counts
where not exists (
    select 1
    from rules
    where
        rules.criterion_code = counts.criterion_code
        and {{ rule_in_force('rules', 'counts.rules_as_of') }}
)
