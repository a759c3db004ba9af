{{ config(**period_partitioned_config(indexes=[])) }}

-- Per month and dossier of a scored batch: the successful online payments and the feedback
-- items about it that the month delivered (thanh_toan, pakn), whether or not the month's
-- ho_so delivers the dossier. A month's dossier rows take their own month's counts
-- (int_dossiers_classified); a quarter or year to date adds those its earlier months
-- delivered for a dossier carried over (macro earlier_dossier_links): "each scored from
-- its own counts" (DESIGN §5), so an August payment of a dossier delivered again in
-- September still counts for the quarter.

with

batches as (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

payments as (
    select * from {{ ref('stg_submissions__thanh_toan') }}
    where {{ period_filter() }}
),

feedback as (
    select * from {{ ref('stg_submissions__pakn') }}
    where {{ period_filter() }}
),

online_payments as (
    select
        batch_id,
        dossier_id,
        count(*) as successful_online_payments
    from payments
    where
        payment_method = 'online'
        and payment_status = 'success'
        and dossier_id is not null
    group by batch_id, dossier_id
),

linked_feedback as (
    select
        batch_id,
        dossier_id,
        count(*) as feedback_items,
        count(*) filter (where rating = 'unsatisfied') as unsatisfied_feedback_items
    from feedback
    where dossier_id is not null
    group by batch_id, dossier_id
),

links as (
    select
        coalesce(online_payments.batch_id, linked_feedback.batch_id) as batch_id,
        coalesce(online_payments.dossier_id, linked_feedback.dossier_id) as dossier_id,
        coalesce(online_payments.successful_online_payments, 0) as successful_online_payments,
        coalesce(linked_feedback.feedback_items, 0) as feedback_items,
        coalesce(linked_feedback.unsatisfied_feedback_items, 0) as unsatisfied_feedback_items
    from online_payments
    full join linked_feedback
        on
            online_payments.batch_id = linked_feedback.batch_id
            and online_payments.dossier_id = linked_feedback.dossier_id
)

select
    batches.unit_code,
    batches.period,
    links.batch_id,
    links.dossier_id,
    links.successful_online_payments,
    links.feedback_items,
    links.unsatisfied_feedback_items
from links
inner join batches
    on links.batch_id = batches.batch_id
