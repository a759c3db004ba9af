{{ config(**period_incremental_config()) }}

-- One row per feedback item of a unit's quarter and year to date (the latest month's
-- row of an item delivered more than once), classified again for the whole period by
-- macro feedback_classification.
{%- set columns = feedback_item_columns() %}

with

periods as (
    select * from {{ ref('int_scoring_periods') }}
    where period_type <> 'month' and is_scored and {{ rollup_filter() }}
),

month_feedback as (
    select * from {{ ref('int_feedback_classified') }}
    where {{ rollup_member_filter() }}
),

members as (
    select
        month_feedback.period as month,
        rollup.period,
        {%- for column in columns %}
        month_feedback.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from month_feedback
    cross join lateral (
        values ({{ quarter_of('month_feedback.period') }}), (left(month_feedback.period, 4))
    ) as rollup (period)
),

latest as (
    select distinct on (members.unit_code, members.period, members.feedback_id)
        members.*,
        periods.period_start,
        periods.period_end,
        periods.evaluated_as_of
    from members
    inner join periods
        on
            members.unit_code = periods.unit_code
            and members.period = periods.period
    order by members.unit_code, members.period, members.feedback_id, members.month desc
),

classified as (
    {{ feedback_classification('latest') }}
)

select * from classified
