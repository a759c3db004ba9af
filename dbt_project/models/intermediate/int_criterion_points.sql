-- Applies the rule seed to the counts: unit x period x criterion with rate and
-- points, plus the group and total points of the unit-period so the whole scoring
-- chain is unit-tested in one model. Criterion points stay unrounded; group points
-- = round(sum, 2); total = round(sum of rounded group points, 2)
-- (index-766.md §2, §3 and §5.5).
with

counts as (
    select * from {{ ref('int_criterion_counts') }}
),

rules as (
    select * from {{ ref('scoring_rules') }}
),

-- the rules in force on the first day of the period
ruled as (
    select
        counts.batch_id,
        counts.unit_code,
        counts.province_code,
        counts.period,
        counts.period_start,
        counts.criterion_code,
        counts.item_type,
        counts.numerator,
        counts.denominator,
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
        end as rate
    from counts
    inner join rules
        on
            counts.criterion_code = rules.criterion_code
            and {{ rule_in_force('rules', 'counts.period_start') }}
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
        scored.denominator,
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
