-- Unit x period x figure. What the commune's own report (monthly_report)
-- or an official letter (score_letter) states, against what the warehouse computes.
-- Counts must match exactly; scores within var('score_tolerance') points.
-- A monthly report counts only when it came with the unit's current batch.
with

reported as (
    select * from {{ ref('stg_submissions__report_figures') }}
),

batches as (
    select * from {{ ref('int_batches_current') }}
),

computed_counts as (
    select * from {{ ref('int_figures_computed') }}
),

points as (
    select * from {{ ref('int_criterion_points') }}
),

computed_scores as (
    select distinct
        unit_code,
        period,
        'score_total' as figure,
        total_points as computed_value
    from points
    union all
    select distinct
        unit_code,
        period,
        'score_' || lower(group_code) as figure,
        group_points as computed_value
    from points
),

computed as (
    select unit_code, period, figure, computed_value from computed_counts
    union all
    select unit_code, period, figure, computed_value from computed_scores
),

reported_current as (
    select
        reported.*,
        row_number() over (
            partition by reported.unit_code, reported.period, reported.figure
            order by
                case reported.document_kind when 'score_letter' then 1 when 'monthly_report' then 2 else 3 end,
                reported.source_file desc,
                reported.line_no
        ) as preference
    from reported
    left join batches
        on
            reported.unit_code = batches.unit_code
            and reported.period = batches.period
    where
        reported.unit_code is not null
        and reported.period is not null
        and (reported.document_kind <> 'monthly_report' or reported.batch_id = batches.batch_id)
),

joined as (
    select
        coalesce(computed.unit_code, reported_current.unit_code) as unit_code,
        coalesce(computed.period, reported_current.period) as period,
        coalesce(computed.figure, reported_current.figure) as figure,
        reported_current.reported_value,
        computed.computed_value,
        reported_current.document_kind,
        reported_current.source_file,
        reported_current.file_sha256,
        reported_current.line_no,
        reported_current.source_text
    from computed
    full outer join (select * from reported_current where preference = 1) as reported_current
        on
            computed.unit_code = reported_current.unit_code
            and computed.period = reported_current.period
            and computed.figure = reported_current.figure
),

final as (
    select
        unit_code,
        period,
        figure,
        reported_value,
        computed_value,
        computed_value - reported_value as difference,
        case
            when reported_value is null then 'not_reported'
            when computed_value is null then 'not_computed'
            when abs(computed_value - reported_value)
                <= case when figure like 'score%' then {{ var('score_tolerance') }} else 0 end
                then 'match'
            else 'mismatch'
        end as status,
        document_kind,
        source_file,
        file_sha256,
        line_no,
        source_text
    from joined
)

select * from final
