{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=["{{ delete_rollup_state() }}"],
    post_hook=["{{ index_period(['period', 'unit_code']) }}", "analyze {{ this }}"],
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
{%- set full_path = rollup_full_path() %}
{%- set month = selected_period() %}

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
-- not materialized: read twice (its settled dossiers, its carried-over ones), cheaper than
-- writing the month's rows aside once
members as not materialized (
    {{ dossier_rollup_members(period_filter('month_items.period')) }}
),

-- open dossiers of earlier months still awaiting a later delivery (this month's marks
-- included: the post_hook of int_dossiers_rollup_open ran before this model)
awaiting as materialized (
    select unit_code, period, dossier_id
    from {{ ref('int_dossiers_rollup_open') }}
    where
        {{ rollup_filter() }}
        and month < '{{ month }}'
        and (superseded_in is null or superseded_in = '{{ month }}')
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

earlier as (
    {{ dossier_rollup_members("month_items.period < '" ~ month ~ "' and " ~ rollup_member_filter('month_items.period')) }}
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
    where not members.is_open
    union all
    select previous.*, '{{ month }}' as counted_in, -1 as weight
    from previous
    where not previous.is_open
),
{%- endif %}

classified as (
    {{ dossier_classification('weighted') }}
),

{%- set criterion_sums %}
    {%- for code in criterion_items()['dossier'] %}
    coalesce(sum(weight) filter (where {{ criterion_column(code, 'num') }}), 0) as {{ criterion_column(code, 'num') }},
    coalesce(sum(weight) filter (where {{ criterion_column(code, 'den') }}), 0) as {{ criterion_column(code, 'den') }},
    {%- endfor %}
{%- endset %}

parts as (
    {{ dossier_usage_by_procedure('classified', weight='weight', extra=criterion_sums,
                                  group=['unit_code', 'province_code', 'period', 'counted_in',
                                         'procedure_code']) }}
)

select
    unit_code,
    province_code,
    period,
    counted_in as month,
    procedure_code,
    {%- for code in criterion_items()['dossier'] %}
    {{ criterion_column(code, 'num') }},
    {{ criterion_column(code, 'den') }},
    {%- endfor %}
    coalesce(received_dossiers, 0) as received_dossiers,
    coalesce(received_online_dossiers, 0) as received_online_dossiers,
    coalesce(received_synced_fee_dossiers, 0) as received_synced_fee_dossiers,
    coalesce(received_citizen_db_dossiers, 0) as received_citizen_db_dossiers,
    successful_online_payments
from parts
