{{ config(**period_partitioned_config(indexes=[])) }}

-- The deliveries of a record after its first in the same batch (file order), per source:
-- a dossier, payment, catalogue procedure or feedback item delivered twice counts once
-- (macro first_deliveries leaves these rows out). A repeated key is a gate error
-- (<source>.<key>_unique quarantines the batch), so only batches without that rule's
-- passing result are read: normally none, and the table is empty. Deduplicating every
-- batch where the records are used sorted a month's rows, every column of them, for
-- nothing (a national month's int_dossiers_classified: 41 s → 31 s); a planner that
-- knows this table is small leaves those plans alone.

{%- set keyed_sources = [
    ('ho_so', 'stg_submissions__ho_so', 'dossier_id'),
    ('thanh_toan', 'stg_submissions__thanh_toan', 'payment_id'),
    ('danh_muc_tthc', 'stg_submissions__danh_muc_tthc', 'procedure_code'),
    ('pakn', 'stg_submissions__pakn', 'feedback_id'),
] %}

with

batches as (
    select * from {{ ref('int_batches_current') }}
    where is_scored and {{ period_filter() }}
),

gate_results as (
    select * from {{ ref('stg_audit__expectation_results') }}
),

keyed_sources (source, key_column) as (
    values
    {%- for source, _, key in keyed_sources %}
        ('{{ source }}', '{{ key }}'){{ ',' if not loop.last }}
    {%- endfor %}
),

-- a batch without the rule's passing result (none recorded, or a failing one) is read
unverified as (
    select
        batches.batch_id,
        keyed_sources.source
    from batches
    cross join keyed_sources
    left join gate_results
        on
            batches.batch_id = gate_results.batch_id
            and gate_results.expectation = keyed_sources.source || '.' || keyed_sources.key_column || '_unique'
    group by batches.batch_id, keyed_sources.source
    having not coalesce(bool_and(gate_results.success), false)
),
{% for source, model, key in keyed_sources %}
{{ source }}_keys as not materialized (
    select
        batch_id,
        period,
        {{ key }} as record_key,
        source_file,
        source_row
    from {{ ref(model) }}
    where
        {{ key }} is not null
        and {{ period_filter() }}
        and batch_id in (select unverified.batch_id from unverified where unverified.source = '{{ source }}')
),

{{ source }}_deliveries as (
    select
        '{{ source }}' as source,
        {{ source }}_keys.*,
        row_number() over (
            partition by {{ source }}_keys.batch_id, {{ source }}_keys.record_key
            order by {{ source }}_keys.source_file, {{ source }}_keys.source_row
        ) as delivery_no
    from {{ source }}_keys
    where ({{ source }}_keys.batch_id, {{ source }}_keys.record_key) in (
        select batch_id, record_key
        from {{ source }}_keys
        group by batch_id, record_key
        having count(*) > 1
    )
),
{% endfor %}
deliveries as (
    {%- for source, _, _ in keyed_sources %}
    select * from {{ source }}_deliveries
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
)

select
    source,
    batch_id,
    period,
    record_key,
    source_file,
    source_row,
    delivery_no
from deliveries
where delivery_no > 1
