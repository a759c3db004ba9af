{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=["{{ delete_rollup_state() }}"],
    post_hook=["{{ rollup_state_indexes('procedure_code') }}", "analyze {{ this }}"],
    meta={'period_scoped': true},
) }}

-- depends_on: {{ ref('int_batches_current') }}
-- depends_on: {{ ref('int_dossiers_rollup_open') }}

-- Rollup state, part 2 of 2. Per quarter or year to date, month that counts it and
-- procedure: the counts (flags of macro dossier_classification with the rollup's dates)
-- of the dossiers that were no longer open at the end of the month delivering them,
-- whose flags therefore no longer depend on where the rollup ends. A dossier counts in
-- its latest delivery only: when a later month delivers it again, that month's row takes
-- its earlier delivery back (weight -1). Quarter or year = the sum of its months' parts
-- plus its open dossiers judged at its end (int_dossiers_rolled); criterion_lineage lists
-- the same items one by one, recomputed from every month (int_dossier_rollup_items).
--
-- Built a month at a time, the dossiers a month delivers again are found among the open
-- ones awaiting a later delivery (int_dossiers_rollup_open); only a dossier carried over
-- (received before the month) that was not open when last delivered is looked up in the
-- earlier months, which costs a scan of them only when such a dossier exists. This reads
-- a dossier's reception date as the same in every month that delivers it.
--
-- Most of a month's dossiers were received in it and settled by its end: their flags for
-- the quarter and the year are those they have for the month (macro dossier_classification
-- reads only the period's start and end for a settled dossier, and both contain the
-- reception), so they are counted once, from the month's own flags, and the counts go to
-- each rollup; only the others are classified again with a rollup's dates.
{%- set full_path = rollup_full_path() %}
{%- set month = selected_period() %}

{%- set criterion_sums %}
    {%- for code in criterion_items()['dossier'] %}
    coalesce(sum(weight) filter (where {{ criterion_column(code, 'num') }}), 0) as {{ criterion_column(code, 'num') }},
    coalesce(sum(weight) filter (where {{ criterion_column(code, 'den') }}), 0) as {{ criterion_column(code, 'den') }},
    {%- endfor %}
{%- endset %}
{%- set count_columns = [] %}
{%- for code in criterion_items()['dossier'] %}
    {%- do count_columns.extend([criterion_column(code, 'num'), criterion_column(code, 'den')]) %}
{%- endfor %}
{%- do count_columns.extend(['received_dossiers', 'received_online_dossiers', 'received_synced_fee_dossiers',
                             'received_citizen_db_dossiers', 'successful_online_payments']) %}

with

{% if full_path -%}
members as (
    {{ dossier_rollup_members(rollup_member_filter('month_items.period')) }}
),

sequenced as (
    select
        members.*,
        lead(members.month) over (
            partition by members.unit_code, members.period, members.dossier_id
            order by members.month
        ) as next_month
    from members
),

weighted as (
    select sequenced.*, sequenced.month as counted_in, 1 as weight
    from sequenced
    where not sequenced.is_open
    union all
    select sequenced.*, sequenced.next_month as counted_in, -1 as weight
    from sequenced
    where not sequenced.is_open and sequenced.next_month is not null
),
{%- else -%}
-- the month's dossiers received in it and settled (or withdrawn, or without a reception
-- date: no rollup counts them received or handled, as the month does not), counted once
settled_in_month as (
    select month_items.*, 1 as weight
    from {{ ref('int_dossiers_classified') }} as month_items
    where
        {{ period_filter('month_items.period') }}
        and not {{ dossier_is_open('month_items') }}
        and {{ flags_as_in_month('month_items', 'month_items.period_start', 'month_items.period_end') }}
),

settled_counts as (
    {{ dossier_usage_by_procedure('settled_in_month', weight='weight', extra=criterion_sums,
                                  group=['unit_code', 'province_code', 'procedure_code']) }}
),

settled_parts as (
    select
        settled_counts.unit_code,
        settled_counts.province_code,
        periods.period,
        '{{ month }}' as counted_in,
        settled_counts.procedure_code,
        {%- for column in count_columns %}
        settled_counts.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from settled_counts
    cross join (values ({{ quarter_of("'" ~ month ~ "'") }}), (left('{{ month }}', 4))) as rollup (period)
    inner join {{ ref('int_scoring_periods') }} as periods
        on
            settled_counts.unit_code = periods.unit_code
            and rollup.period = periods.period
            and periods.period_type <> 'month'
            and {{ rollup_filter('periods.period') }}
),

-- not materialized: read twice (its other settled dossiers, its carried-over ones), cheaper
-- than writing the month's rows aside once
members as not materialized (
    {{ dossier_rollup_members(period_filter('month_items.period'), with_month_end=true, month=month) }}
),

-- open dossiers of earlier months still awaiting a later delivery (this month's marks
-- included: the post_hook of int_dossiers_rollup_open ran before this model). Two disjoint
-- parts, each read through its partial index: with the two conditions or'ed, the grain
-- index read the year's superseded deliveries too (585k buffers against 29k in the twelfth
-- month of 600 units, 0.57 → 0.19 s)
awaiting as materialized (
    select unit_code, period, dossier_id
    from {{ ref('int_dossiers_rollup_open') }}
    where {{ rollup_filter() }} and month < '{{ month }}' and superseded_in is null
    union all
    select unit_code, period, dossier_id
    from {{ ref('int_dossiers_rollup_open') }}
    where {{ rollup_filter() }} and month < '{{ month }}' and superseded_in = '{{ month }}'
),

-- carried-over dossiers whose earlier delivery in the rollup, if any, was not open: to be
-- looked up. Materialized, so the look-up below joins this (usually empty) set first and
-- reads no earlier month when it is empty; a rollup's first month has none to read.
unmatched_carry_overs as materialized (
    select members.unit_code, members.period, members.dossier_id
    from members
    where
        cast(members.received_at as date) < members.month_start
        and members.month_start > members.period_start
        and not exists (
            select 1
            from awaiting
            where
                awaiting.unit_code = members.unit_code
                and awaiting.period = members.period
                and awaiting.dossier_id = members.dossier_id
        )
),

-- read only when there is something to look up: without the guard the planner may sort the
-- earlier months for a merge join before finding the carry-overs empty (4 s of the third
-- month of 600 units; the guard is evaluated once, before any scan)
earlier as (
    {{ dossier_rollup_members("month_items.period < '" ~ month ~ "' and " ~ rollup_member_filter('month_items.period')
                              ~ " and exists (select 1 from unmatched_carry_overs)", with_month_end=true) }}
),

previous as (
    select distinct on (earlier.unit_code, earlier.period, earlier.dossier_id)
        earlier.*
    from earlier
    inner join unmatched_carry_overs
        on
            earlier.unit_code = unmatched_carry_overs.unit_code
            and earlier.period = unmatched_carry_overs.period
            and earlier.dossier_id = unmatched_carry_overs.dossier_id
    order by earlier.unit_code, earlier.period, earlier.dossier_id, earlier.month desc
),

weighted as (
    select members.*, members.month as counted_in, 1 as weight
    from members
    where not members.is_open and not {{ flags_as_in_month('members', 'members.month_start', 'members.month_end') }}
    union all
    select previous.*, '{{ month }}' as counted_in, -1 as weight
    from previous
    where not previous.is_open
),
{%- endif %}

classified as (
    {{ dossier_classification('weighted') }}
),

reclassified_parts as (
    {{ dossier_usage_by_procedure('classified', weight='weight', extra=criterion_sums,
                                  group=['unit_code', 'province_code', 'period', 'counted_in',
                                         'procedure_code']) }}
),

{%- if full_path %}

parts as (
    select * from reclassified_parts
)
{%- else %}

parts as (
    select
        unit_code,
        province_code,
        period,
        counted_in,
        procedure_code,
        {%- for column in count_columns %}
        {{ sum_of_counts(column) }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select * from settled_parts
        union all
        select
            unit_code,
            province_code,
            period,
            counted_in,
            procedure_code,
            {%- for column in count_columns %}
            {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from reclassified_parts
    ) as both_kinds
    group by unit_code, province_code, period, counted_in, procedure_code
)
{%- endif %}

select
    unit_code,
    province_code,
    period,
    counted_in as month,
    procedure_code,
    {%- for code in criterion_items()['dossier'] %}
    cast({{ criterion_column(code, 'num') }} as bigint) as {{ criterion_column(code, 'num') }},
    cast({{ criterion_column(code, 'den') }} as bigint) as {{ criterion_column(code, 'den') }},
    {%- endfor %}
    cast(coalesce(received_dossiers, 0) as bigint) as received_dossiers,
    cast(coalesce(received_online_dossiers, 0) as bigint) as received_online_dossiers,
    cast(coalesce(received_synced_fee_dossiers, 0) as bigint) as received_synced_fee_dossiers,
    cast(coalesce(received_citizen_db_dossiers, 0) as bigint) as received_citizen_db_dossiers,
    successful_online_payments
from parts
