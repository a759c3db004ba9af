-- The restatement ledger: every published figure that changed after its publication
-- (a unit's total, rating, rank or status, a group's points, a criterion's counts and
-- points), old and new, with the cause: a resubmission (which batch replaced which),
-- a rule version or a code version. Written by chiso.publication.record_restatements
-- after each build; a view, so it is current as soon as a row is written.
{{ config(materialized='view') }}

with

restatements as (
    select * from {{ source('audit', 'restatements') }}
),

publications as (
    select * from {{ source('audit', 'publications') }}
),

final as (
    select
        restatements.restatement_id,
        restatements.detected_at,
        restatements.publication_id,
        publications.published_at,
        restatements.period,
        publications.province_code,
        restatements.unit_code,
        restatements.measure,
        restatements.old_value,
        restatements.new_value,
        restatements.old_rank,
        restatements.new_rank,
        restatements.cause
    from restatements
    inner join publications
        on restatements.publication_id = publications.publication_id
)

select * from final
