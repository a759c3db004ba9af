{{ config(**period_incremental_config(delete='delete_scored_periods')) }}

-- Applies the rule seed to the counts: unit x period x criterion with rate and
-- points, plus the group and total points of the unit-period so the whole scoring
-- chain is unit-tested in one model. Criterion points stay unrounded; group points
-- = round(sum, 2); total = round(sum of rounded group points, 2)
-- (index-766.md §2, §3 and §5.5). Built a month at a time, it rewrites that month's
-- periods only (macro scored_scope_filter), so its cost does not grow with history.
with

-- a first build (and a unit test) scores every period; later builds their scope
counts as (
    select * from {{ ref('int_criterion_counts') }}
    where {{ scored_scope_filter() if is_incremental() else 'true' }}
),

rules as (
    select * from {{ ref('scoring_rules') }}
),

-- the unit's year-to-date counts of the year before, for the 'prior_year' policy
prior_years as (
    select
        unit_code,
        period,
        criterion_code,
        denominator
    from {{ ref('int_criterion_counts') }}
    where period_type = 'year'
),

-- the rules in force on the first day of the period
ruled as (
    select
        counts.batch_id,
        counts.unit_code,
        counts.province_code,
        counts.period,
        counts.period_type,
        counts.period_start,
        counts.criterion_code,
        counts.item_type,
        counts.numerator,
        counts.denominator as counted_denominator,
        -- 'prior_year' policy (1.4): when both counts are 0 the denominator is the
        -- prior year's total / 12 for a month, / 4 for a quarter, x 1 for a year;
        -- with no prior data it stays 0 and the rate is 0
        case
            when rules.zero_denominator = 'prior_year' and counts.numerator = 0 and counts.denominator = 0
                then coalesce(prior_years.denominator, 0)
                / case counts.period_type when 'month' then 12.0 when 'quarter' then 4.0 else 1.0 end
            else counts.denominator
        end as denominator,
        rules.rule_version,
        rules.group_code,
        rules.criterion_name_vi,
        rules.criterion_name_en,
        rules.max_points,
        rules.method,
        rules.target,
        rules.zero_denominator,
        rules.recovery_action,
        case
            when counts.denominator > 0
                then cast(counts.numerator as numeric) / counts.denominator
            when rules.zero_denominator = 'prior_year' and counts.numerator = 0
                then cast(0 as numeric)
        end as rate
    from counts
    inner join rules
        on
            counts.criterion_code = rules.criterion_code
            -- months: their first day; a quarter or year: its first month loaded
            and {{ rule_in_force('rules', 'coalesce(counts.rules_as_of, counts.period_start)') }}
    left join prior_years
        on
            counts.unit_code = prior_years.unit_code
            and counts.criterion_code = prior_years.criterion_code
            and prior_years.period = cast(cast(left(counts.period, 4) as integer) - 1 as text)
),

scored as (
    select
        ruled.*,
        case
            when denominator = 0 and zero_denominator = 'full' then max_points
            when denominator = 0 then cast(0 as numeric)
            when method = 'target' then max_points * least(1, rate / target)
            else max_points * rate
        end as points
    from ruled
),

groups as (
    select
        unit_code,
        period,
        group_code,
        cast(round(sum(points), 2) as numeric(7, 2)) as group_points,
        sum(max_points) as group_max_points
    from scored
    group by unit_code, period, group_code
),

totals as (
    select
        unit_code,
        period,
        cast(round(sum(group_points), 2) as numeric(7, 2)) as total_points,
        sum(group_max_points) as total_max_points
    from groups
    group by unit_code, period
),

final as (
    select
        scored.batch_id,
        scored.unit_code,
        scored.province_code,
        scored.period,
        scored.period_type,
        scored.period_start,
        scored.rule_version,
        scored.group_code,
        scored.criterion_code,
        scored.criterion_name_vi,
        scored.criterion_name_en,
        scored.item_type,
        scored.method,
        scored.target,
        scored.zero_denominator,
        scored.recovery_action,
        scored.numerator,
        scored.counted_denominator,
        cast(scored.denominator as numeric(14, 2)) as denominator,
        scored.rate,
        scored.points,
        cast(round(scored.points, 2) as numeric(7, 2)) as points_rounded,
        scored.max_points,
        groups.group_points,
        groups.group_max_points,
        totals.total_points,
        totals.total_max_points
    from scored
    inner join groups
        on
            scored.unit_code = groups.unit_code
            and scored.period = groups.period
            and scored.group_code = groups.group_code
    inner join totals
        on
            scored.unit_code = totals.unit_code
            and scored.period = totals.period
)

select * from final
