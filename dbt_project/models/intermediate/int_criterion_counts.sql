{{ config(**period_incremental_config()) }}

-- Unit x period x criterion: numerator and denominator, counted from the flags of
-- the classified models (macro criterion_items lists which model carries which
-- criterion): int_*_classified for months, int_*_rolled for quarters and years to
-- date, plus for dossiers the rollup's settled dossiers counted month by month
-- (int_dossiers_rollup_parts; int_dossiers_rolled holds its open ones). Every criterion gets a row for every scored unit-period, zero counts
-- included, so zero-denominator rules can apply.
{%- set items = criterion_items() %}
{%- set models = {'dossier': ('int_dossiers_classified', 'int_dossiers_rolled'),
                  'procedure': ('int_procedures_classified', 'int_procedures_rolled'),
                  'feedback': ('int_feedback_classified', 'int_feedback_rolled')} %}

with

periods as (
    select * from {{ ref('int_scoring_periods') }}
    where is_scored and ({{ period_filter() }} or {{ rollup_filter() }})
),

{% for item_type, (month_model, rollup_model) in models.items() %}
{%- set flags %}
        unit_code,
        period,
        {%- for code in items[item_type] %}
        {{ criterion_column(code, 'num') }},
        {{ criterion_column(code, 'den') }}{{ ',' if not loop.last }}
        {%- endfor %}
{%- endset %}
{{ item_type }}_items as (
    select {{ flags }}
    from {{ ref(month_model) }}
    where {{ period_filter() }}
    union all
    select {{ flags }}
    from {{ ref(rollup_model) }}
    where {{ rollup_filter() }}
),

{{ item_type }}_counts as (
    select
        unit_code,
        period,
        {%- for code in items[item_type] %}
        cast(sum({{ criterion_column(code, 'num') }}) as bigint) as {{ criterion_column(code, 'num') }},
        cast(sum({{ criterion_column(code, 'den') }}) as bigint) as {{ criterion_column(code, 'den') }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select
            unit_code,
            period,
            {%- for code in items[item_type] %}
            count(*) filter (where {{ criterion_column(code, 'num') }}) as {{ criterion_column(code, 'num') }},
            count(*) filter (where {{ criterion_column(code, 'den') }}) as {{ criterion_column(code, 'den') }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ item_type }}_items
        group by unit_code, period
        {%- if item_type == 'dossier' %}
        -- a quarter's or year's settled dossiers, counted month by month
        union all
        select
            unit_code,
            period,
            {%- for code in items[item_type] %}
            {{ sum_of_counts(criterion_column(code, 'num')) }},
            {{ sum_of_counts(criterion_column(code, 'den')) }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ ref('int_dossiers_rollup_parts') }}
        where {{ rollup_filter() }}
        group by unit_code, period
        {%- endif %}
    ) as counted
    group by unit_code, period
),

{% endfor %}
counts as (
    select
        periods.unit_code,
        periods.province_code,
        periods.period,
        periods.period_type,
        periods.period_start,
        periods.rules_as_of,
        periods.batch_id,
        criteria.criterion_code,
        criteria.item_type,
        criteria.numerator,
        criteria.denominator
    from periods
    {%- for item_type in items %}
    left join {{ item_type }}_counts
        on
            periods.unit_code = {{ item_type }}_counts.unit_code
            and periods.period = {{ item_type }}_counts.period
    {%- endfor %}
    cross join lateral (
        values
        {%- for item_type, codes in items.items() %}
        {%- set outer_last = loop.last %}
        {%- for code in codes %}
            (
                '{{ code }}',
                '{{ item_type }}',
                coalesce({{ item_type }}_counts.{{ criterion_column(code, 'num') }}, 0),
                coalesce({{ item_type }}_counts.{{ criterion_column(code, 'den') }}, 0)
            ){{ ',' if not (outer_last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    ) as criteria (criterion_code, item_type, numerator, denominator)
)

select * from counts
