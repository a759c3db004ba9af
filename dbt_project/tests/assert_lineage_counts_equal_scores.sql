-- An auditor's lineage rows reproduce every numerator and denominator exactly. For a
-- quarter or year the lineage is recomputed from every month's dossiers, item by item, so
-- this also checks the month-by-month rollup state (int_dossiers_rollup_parts and _open);
-- that recomputation costs what the months before cost, so builds check the months and,
-- with var audit_rollups (CHISO_AUDIT_ROLLUPS=1, on in the test suite), the rollups too.
-- The months' rows are criterion_lineage's own (macro criterion_lineage_rows), read without
-- the rollups' member, which would keep PostgreSQL from sharing the check among workers.
-- depends_on: {{ ref('criterion_lineage') }}
{%- if var('audit_rollups', false) %}
{%- set audited = scope_filter() %}
{%- set lineage_rows = ref('criterion_lineage') %}
{%- else %}
{#- The month alone is named by its label (a rebuild of every period: every month) -#}
{%- set audited = "period = '" ~ selected_period() ~ "'" if selected_period() is not none else "period_type = 'month'" %}
{%- set lineage_rows = "(" ~ criterion_lineage_rows(with_rollups=false) ~ ")" %}
{%- endif %}
with

scores as (
    select * from {{ ref('criterion_scores') }}
    where {{ audited }}
),

lineage as (
    select * from {{ lineage_rows }} as lineage_rows
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
