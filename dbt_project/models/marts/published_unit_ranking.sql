-- The ranking as published: one row per publication and unit (audit.published_unit_scores),
-- with when and under which rules and code it was published, and whether it is the
-- latest publication of its period and province. A view: a publication shows at once.
-- marts.unit_ranking_as_of(T) answers "the ranking as it stood at T" (published by then).
{{ config(
    materialized='view',
    post_hook=[
        "drop function if exists {{ this.schema }}.unit_ranking_as_of(timestamptz)",
        "create function {{ this.schema }}.unit_ranking_as_of(as_of timestamptz)
         returns setof {{ this }} language sql stable as $$
             select distinct on (r.period, r.province_scope, r.unit_code) r.*
             from {{ this }} r
             where r.published_at <= as_of
             order by r.period, r.province_scope, r.unit_code, r.published_at desc
         $$",
        "comment on function {{ this.schema }}.unit_ranking_as_of(timestamptz) is
         'The published ranking of every period as it stood at the given time: per period and
          province, the latest publication made by then.'",
        "grant execute on function {{ this.schema }}.unit_ranking_as_of(timestamptz) to bi_reader, chiso_auditor",
    ],
) }}

with

publications as (
    select * from {{ source('audit', 'publications') }}
),

scores as (
    select * from {{ source('audit', 'published_unit_scores') }}
),

final as (
    select
        scores.publication_id,
        publications.published_at,
        publications.published_by,
        publications.period,
        scores.period_type,
        coalesce(publications.province_code, 'all') as province_scope,
        scores.province_code,
        scores.unit_code,
        scores.unit_name,
        scores.total_points,
        scores.rating,
        scores.rank_in_province,
        scores.units_in_province,
        scores.data_status,
        scores.batch_id,
        publications.rule_versions,
        publications.code_version,
        publications.published_at = max(publications.published_at) over (
            partition by publications.period, publications.province_code
        ) as is_latest
    from scores
    inner join publications
        on scores.publication_id = publications.publication_id
)

select * from final
