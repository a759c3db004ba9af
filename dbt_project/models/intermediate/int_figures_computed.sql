{{ config(**period_incremental_config()) }}

-- Unit x period x figure: the counts a commune report or an official letter states,
-- computed from the facts, for reconciliation. Figure names are the vocabulary of
-- raw.report_figures (chiso.extract), lower case.
with

batches as (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

dossiers as (
    select * from {{ ref('int_dossiers_classified') }}
    where {{ period_filter() }}
),

procedures as (
    select * from {{ ref('int_procedures_classified') }}
    where {{ period_filter() }}
),

feedback as (
    select * from {{ ref('int_feedback_classified') }}
    where {{ period_filter() }}
),

dossier_figures as (
    -- A commune report counts as the one-stop system does: every dossier received in the
    -- period whatever its later status (withdrawn included, unlike criterion 2.1), the ones
    -- carried over from before it (total = carried over + received), and every dossier
    -- finished in the period, on time when finished by its deadline (2.1's, supplement
    -- time deducted).
    select
        batch_id,
        count(*) filter (where is_delivered_in_period) as dossiers_received,
        count(*) filter (where is_delivered_in_period and channel = 'online') as dossiers_received_online,
        count(*) filter (where is_delivered_in_period and channel = 'direct') as dossiers_received_direct,
        count(*) filter (where is_delivered_in_period and channel = 'postal') as dossiers_received_postal,
        count(*) filter (where is_carried_over) as dossiers_carried_over,
        count(*) filter (where is_delivered_in_period or is_carried_over) as dossiers_total,
        count(*) filter (where is_resolved_in_period) as dossiers_resolved,
        count(*) filter (where is_resolved_in_period and completed_at <= deadline_at) as dossiers_resolved_on_time,
        count(*) filter (
            where is_resolved_in_period and (completed_at > deadline_at or deadline_at is null)
        ) as dossiers_resolved_late,
        count(*) filter (where completed_at is null) as dossiers_in_progress,
        count(*) filter (where crit_3_6_num) as dossiers_paid_online
    from (
        select
            dossiers.*,
            coalesce(cast(received_at as date) between period_start and period_end, false)
                as is_delivered_in_period,
            coalesce(cast(completed_at as date) between period_start and period_end, false)
                as is_resolved_in_period,
            -- received before the period and not finished before it began
            coalesce(
                cast(received_at as date) < period_start
                and (finished_at is null or cast(finished_at as date) >= period_start),
                false
            ) as is_carried_over
        from dossiers
    ) as dossiers_with_resolution
    group by batch_id
),

procedure_figures as (
    select
        batch_id,
        count(*) as procedures_total,
        count(*) filter (where service_level = 'full') as procedures_online_full,
        count(*) filter (where service_level = 'partial') as procedures_online_partial
    from procedures
    group by batch_id
),

feedback_figures as (
    select
        batch_id,
        count(*) filter (where is_received_in_period) as feedback_received
    from feedback
    group by batch_id
),

final as (
    select
        batches.batch_id,
        batches.unit_code,
        batches.period,
        figures.figure,
        figures.computed_value
    from batches
    left join dossier_figures
        on batches.batch_id = dossier_figures.batch_id
    left join procedure_figures
        on batches.batch_id = procedure_figures.batch_id
    left join feedback_figures
        on batches.batch_id = feedback_figures.batch_id
    cross join lateral (
        values
            ('dossiers_total', coalesce(dossier_figures.dossiers_total, 0)),
            ('dossiers_carried_over', coalesce(dossier_figures.dossiers_carried_over, 0)),
            ('dossiers_received', coalesce(dossier_figures.dossiers_received, 0)),
            ('dossiers_received_online', coalesce(dossier_figures.dossiers_received_online, 0)),
            ('dossiers_received_direct', coalesce(dossier_figures.dossiers_received_direct, 0)),
            ('dossiers_received_postal', coalesce(dossier_figures.dossiers_received_postal, 0)),
            ('dossiers_resolved', coalesce(dossier_figures.dossiers_resolved, 0)),
            ('dossiers_resolved_on_time', coalesce(dossier_figures.dossiers_resolved_on_time, 0)),
            ('dossiers_resolved_late', coalesce(dossier_figures.dossiers_resolved_late, 0)),
            ('dossiers_in_progress', coalesce(dossier_figures.dossiers_in_progress, 0)),
            ('dossiers_paid_online', coalesce(dossier_figures.dossiers_paid_online, 0)),
            ('procedures_total', coalesce(procedure_figures.procedures_total, 0)),
            ('procedures_online_full', coalesce(procedure_figures.procedures_online_full, 0)),
            ('procedures_online_partial', coalesce(procedure_figures.procedures_online_partial, 0)),
            ('feedback_received', coalesce(feedback_figures.feedback_received, 0))
    ) as figures (figure, computed_value)
)

select
    batch_id,
    unit_code,
    period,
    figure,
    cast(computed_value as numeric) as computed_value
from final
