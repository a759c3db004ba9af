{{ config(**period_incremental_config()) }}

-- Unit x period x criterion: numerator and denominator, counted from the flags of
-- the classified models (macro criterion_items lists which model carries which
-- criterion). Every criterion gets a row for every scored batch, zero counts
-- included, so zero-denominator rules can apply.
{%- set items = criterion_items() %}

with

batches as (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

{% for item_type, model in [('dossier', 'int_dossiers_classified'), ('procedure', 'int_procedures_classified'), ('feedback', 'int_feedback_classified')] %}
{{ item_type }}_items as (
    select * from {{ ref(model) }}
    where {{ period_filter() }}
),

{{ item_type }}_counts as (
    select
        batch_id,
        {%- for code in items[item_type] %}
        count(*) filter (where {{ criterion_column(code, 'num') }}) as {{ criterion_column(code, 'num') }},
        count(*) filter (where {{ criterion_column(code, 'den') }}) as {{ criterion_column(code, 'den') }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ item_type }}_items
    group by batch_id
),

{% endfor %}
counts as (
    select
        batches.batch_id,
        batches.unit_code,
        batches.province_code,
        batches.period,
        batches.period_start,
        criteria.criterion_code,
        criteria.item_type,
        criteria.numerator,
        criteria.denominator
    from batches
    {%- for item_type in items %}
    left join {{ item_type }}_counts
        on batches.batch_id = {{ item_type }}_counts.batch_id
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
