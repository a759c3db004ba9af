-- An auditor's lineage rows reproduce every numerator and denominator exactly. For a
-- quarter or year the lineage is recomputed from every month's dossiers, item by item, so
-- this also checks the month-by-month rollup state (int_dossiers_rollup_parts and _open);
-- that recomputation costs what the months before cost, so builds check the month and,
-- with var audit_rollups (CHISO_AUDIT_ROLLUPS=1, on in the test suite), the rollups too.
{#- The month alone is named by its label: a filter on period_type would still have every
    rollup of its year recomputed (int_dossier_rollup_items, a view) before being dropped. -#}
{%- if var('audit_rollups', false) %}
{%- set audited = scope_filter() %}
{%- elif selected_period() is not none %}
{%- set audited = "period = '" ~ selected_period() ~ "'" %}
{%- else %}
{%- set audited = "period_type = 'month'" %}
{%- endif %}
with

scores as (
    select * from {{ ref('criterion_scores') }}
    where {{ audited }}
),

lineage as (
    select * from {{ ref('criterion_lineage') }}
    where {{ audited }}
),

lineage_counts as (
    select
        unit_code,
        period,
        criterion_code,
        count(*) filter (where in_numerator) as numerator,
        count(*) filter (where in_denominator) as denominator
    from lineage
    group by unit_code, period, criterion_code
)

select
    scores.unit_code,
    scores.period,
    scores.criterion_code,
    scores.numerator,
    scores.counted_denominator,
    lineage_counts.numerator as lineage_numerator,
    lineage_counts.denominator as lineage_denominator
from scores
full outer join lineage_counts
    on
        scores.unit_code = lineage_counts.unit_code
        and scores.period = lineage_counts.period
        and scores.criterion_code = lineage_counts.criterion_code
where
    scores.numerator is distinct from coalesce(lineage_counts.numerator, 0)
    or scores.counted_denominator is distinct from coalesce(lineage_counts.denominator, 0)
