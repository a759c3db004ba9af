{#- Each criterion's numerator and denominator membership, defined once and applied to a
    month's items (int_*_classified) and to a quarter's or year's (int_*_rolled). The
    input relation carries the item's period-independent columns (dates, flags, the
    deadline worked out in working days) plus the period's period_start, period_end and
    evaluated_as_of ("now" for items still open: the day after the period ends). Only
    "received in the period" and "open and still within its deadline" depend on the
    period. Rules: shared/domain/index-766.md §2, choices in seeds/scoring_rules.csv notes. -#}

{#- Dossiers. deadline_at: the appointment date moved on by the working days the dossier
    waited for the applicant's supplement (the clock stops), or, without an appointment
    date, the start of the first working day past reception + the procedure's legal
    time limit + supplement days (elapsed - supplement <= limit); null when neither is
    known. -#}
{#- The period's last instant, when a dossier still open is judged: `evaluated_as_of` (the
    day after the period, 00:00) less a microsecond, the precision of end_of_day_if_date_only. -#}
{% macro last_instant(evaluated_as_of) -%}
    ({{ evaluated_as_of }} - interval '1 microsecond')
{%- endmacro %}

{% macro dossier_classification(relation, fenced=false) -%}
select
    timeliness.*,
    dossier_status is distinct from 'withdrawn' and not is_on_time as is_late,
    case
        when dossier_status = 'withdrawn' or is_on_time then null
        when supplement_count > 1 then 'more than one supplement request'
        when deadline_at is null then 'no due date and no time limit'
        when finished_at > deadline_at then 'completed after the due date'
        when finished_at is null and dossier_status = 'refused'
            then 'refused without a completion date'
        when finished_at is null then 'still open after the due date'
    end as late_reason,
    case
        when dossier_status is distinct from 'withdrawn' and not is_on_time and deadline_at is not null
            then greatest(
                0,
                ceil(extract(epoch from coalesce(finished_at, {{ last_instant('evaluated_as_of') }}) - deadline_at)
                     / 86400.0)
            )::integer
    end as days_overdue,

    -- CKMB 1.4 synchronised to the national portal
    is_received_in_period as crit_1_4_den,
    is_received_in_period and synced_to_national_portal as crit_1_4_num,
    -- TDGQ 2.1 on time, over the dossiers received or processed in the period
    is_handled_in_period as crit_2_1_den,
    is_handled_in_period and is_on_time as crit_2_1_num,
    -- DVCTT 3.3 filed online, synchronised, e-result where a paper result is due.
    -- The spec's online ÷ received × sync rate: the portal's channel sums count only
    -- dossiers synced to it, so synced online dossiers ÷ all received is the same.
    is_received_in_period as crit_3_3_den,
    is_received_in_period
    and channel is not distinct from 'online'
    and synced_to_national_portal
    and (has_e_result or not returns_paper_result) as crit_3_3_num,
    -- TTTT 3.6 fee-bearing dossiers paid online
    is_received_in_period and has_fee_charged as crit_3_6_den,
    is_received_in_period and has_fee_charged and is_paid_online as crit_3_6_num,
    -- SHHS 4.1 e-result among dossiers due a paper result
    is_received_in_period and returns_paper_result as crit_4_1_den,
    is_received_in_period and returns_paper_result and has_e_result as crit_4_1_num,
    -- SHHS 4.2 digitised with an e-result
    is_received_in_period as crit_4_2_den,
    is_received_in_period and digitised and has_e_result as crit_4_2_num,
    -- SHHS 4.3 reused digitised data
    is_received_in_period as crit_4_3_den,
    is_received_in_period and reused_data as crit_4_3_num,
    -- SHHS 4.4 linked to the personal data store
    is_received_in_period as crit_4_4_den,
    is_received_in_period and personal_storage_linked as crit_4_4_num,
    -- SHHS 4.5 population-database data
    is_received_in_period as crit_4_5_den,
    is_received_in_period and citizen_db_data as crit_4_5_num,
    -- MDHL 5.4 not late and no feedback (any feedback about the dossier counts), over
    -- the same dossiers as 2.1 (Phú Thọ 8/2026: both over 184,513)
    is_handled_in_period as crit_5_4_den,
    is_handled_in_period and is_on_time and feedback_items = 0 as crit_5_4_num
from (
    select
        items.*,
        -- "received": reception date inside the period, withdrawn dossiers excluded
        coalesce(
            cast(items.received_at as date) between items.period_start and items.period_end
            and items.dossier_status is distinct from 'withdrawn',
            false
        ) as is_received_in_period,
        -- "received or processed" (2.1, 5.4): received by the period's end and not
        -- finished before it began, withdrawn dossiers excluded, so a dossier carried
        -- over from an earlier period counts while it is open or in the period it is
        -- finished. Evidence: Phú Thọ 8/2026 scores 2.1 over 184,513 dossiers while 3.3's
        -- "all received" is 152,595 (index-766.md §6B).
        coalesce(
            items.dossier_status is distinct from 'withdrawn'
            and cast(items.received_at as date) <= items.period_end
            and (
                cast(items.received_at as date) >= items.period_start
                or coalesce(items.completed_at, items.result_returned_at) is null
                or cast(coalesce(items.completed_at, items.result_returned_at) as date) >= items.period_start
            ),
            false
        ) as is_handled_in_period,
        -- 2.1: finished by the deadline, or still open within it at the end of the
        -- period. The end time is when it was processed (completed_at), else when the
        -- result was returned (§2.2: "đã xử lý xong" > "đã trả kết quả" > refused/
        -- stopped); a refused dossier without either is late; more than one supplement
        -- request makes a dossier late whatever the dates say
        coalesce(
            items.supplement_count <= 1
            and (
                (coalesce(items.completed_at, items.result_returned_at) <= items.deadline_at)
                or (
                    items.completed_at is null
                    and items.result_returned_at is null
                    and items.dossier_status is distinct from 'refused'
                    -- not past at the period's last instant: an appointment date without
                    -- a time on the period's last day (that whole day) is within it
                    and items.deadline_at >= {{ last_instant('items.evaluated_as_of') }}
                )
            ),
            false
        ) as is_on_time,
        coalesce(items.completed_at, items.result_returned_at) as finished_at,
        -- 3.6: a dossier of a fee-bearing procedure (catalogue has_fee) with a fee
        -- charged: "minus all-zero-fee ones"; a blank fee is no fee charged
        items.procedure_has_fee and coalesce(items.fee_amount, 0) > 0 as has_fee_charged,
        -- 3.5: the dossier carries fee data
        coalesce(items.fee_amount, 0) > 0 as carries_fee,
        items.successful_online_payments > 0 as is_paid_online
    from {{ relation }} as items
    {%- if fenced %}
    -- a table's build only: the flags below read each of these columns several times, and
    -- PostgreSQL would work each out again per reference (not in a view: the fence would
    -- keep a reader's filter from reaching the rows)
    offset 0
    {%- endif %}
) as timeliness
{%- endmacro %}

{#- The dossier columns that do not depend on the period: what a rollup takes from a
    month's row before classifying it again for the quarter or year. -#}
{% macro dossier_item_columns() -%}
    {{ return(['unit_code', 'province_code', 'dossier_id', 'procedure_code', 'received_at',
               'channel', 'due_at', 'completed_at', 'result_returned_at', 'dossier_status',
               'supplement_count', 'supplement_days', 'time_limit_days', 'deadline_at',
               'synced_to_national_portal', 'has_e_result', 'digitised', 'reused_data',
               'citizen_db_data', 'personal_storage_linked', 'fee_amount',
               'returns_paper_result', 'procedure_has_fee', 'successful_online_payments',
               'feedback_items', 'unsatisfied_feedback_items', 'batch_id', 'source_file',
               'file_sha256', 'source_row']) }}
{%- endmacro %}

{#- Feedback (5.2, 5.3). Limits in working days after the day of reception on Vietnam's
    calendar (§2.6): a refusal within 2, handling within 15, a request for a supplement
    within 5, publication within 2 after handling. *_due_before is the first working
    day past a limit: a step on or after it is late. steps_on_time covers the optional
    steps (request, publication), which do not depend on the period. -#}
{% macro feedback_classification(relation) -%}
select
    deadlines.*,
    not is_handled_on_time as is_overdue,
    -- MDHL 5.2 handled on time
    is_received_in_period as crit_5_2_den,
    is_received_in_period and is_handled_on_time as crit_5_2_num,
    -- MDHL 5.3 neither rated unsatisfied, overdue nor repeated
    is_received_in_period as crit_5_3_den,
    is_received_in_period
    and rating is distinct from 'unsatisfied'
    and is_handled_on_time
    and not repeated as crit_5_3_num
from (
    select
        items.*,
        coalesce(
            cast(items.received_at as date) between items.period_start and items.period_end,
            false
        ) as is_received_in_period,
        -- handled before the limit passed, or still open with the limit not passed at
        -- the end of the period; an item received outside the calendar has no
        -- deadline: late
        coalesce(
            items.steps_on_time
            and (
                (items.handled_at is not null and cast(items.handled_at as date) < items.handle_due_before)
                or (items.handled_at is null and items.handle_due_before > items.period_end)
            ),
            false
        ) as is_handled_on_time
    from {{ relation }} as items
) as deadlines
{%- endmacro %}

{% macro feedback_item_columns() -%}
    {{ return(['unit_code', 'province_code', 'feedback_id', 'dossier_id', 'received_at', 'due_at',
               'handled_at', 'supplement_requested_at', 'published_at', 'feedback_status',
               'rating', 'repeated', 'limit_working_days', 'handle_due_before',
               'steps_on_time', 'batch_id', 'source_file', 'file_sha256', 'source_row']) }}
{%- endmacro %}

{#- Procedures. The input carries the catalogue's declarations and the period's usage
    counts per procedure (received dossiers online, synchronised with a fee, using
    population data; successful online payments). With `representatives_known`, it also
    carries is_unit_representative and unit_offers_e_certified_copy, which depend on the
    catalogue alone: a quarter or year takes them from the catalogue month it uses, instead
    of working them out again over its rows. -#}
{% macro procedure_classification(relation, representatives_known=false, units_from=none) -%}
{%- if representatives_known %}
{%- set representative, offers = 'items.is_unit_representative', 'items.unit_offers_e_certified_copy' %}
{%- else %}
{%- set representative = 'coalesce(items.procedure_code = units.representative_procedure_code, false)' %}
{%- set offers = 'units.unit_offers_e_certified_copy' %}
{%- endif %}
select
    items.*,
    {%- if not representatives_known %}
    {{ representative }} as is_unit_representative,
    {{ offers }},
    {%- endif %}
    -- CKMB 1.1 published on time, among procedures with a known publication date
    items.published_on_time is not null as crit_1_1_den,
    coalesce(items.published_on_time, false) as crit_1_1_num,
    -- CKMB 1.2 publicised on time, among procedures with a known publicity date
    items.publicised_on_time is not null as crit_1_2_den,
    coalesce(items.publicised_on_time, false) as crit_1_2_num,
    -- CKMB 1.3 complete content
    true as crit_1_3_den,
    items.publication_complete as crit_1_3_num,
    -- DVCTT 3.1 offered online (partial or full)
    true as crit_3_1_den,
    items.is_online_service as crit_3_1_num,
    -- DVCTT 3.2 online services with at least one online dossier
    items.is_online_service as crit_3_2_den,
    items.is_online_service and items.received_online_dossiers > 0 as crit_3_2_num,
    -- TTTT 3.5 fee-bearing procedures with a synchronised dossier carrying a fee
    items.has_fee as crit_3_5_den,
    items.has_fee and items.received_synced_fee_dossiers > 0 as crit_3_5_num,
    -- TTTT 3.5b fee-bearing procedures with a successful online payment
    items.has_fee as crit_3_5b_den,
    items.has_fee and items.successful_online_payments > 0 as crit_3_5b_num,
    -- SHHS 4.6 procedures with a dossier using population-database data
    true as crit_4_6_den,
    items.received_citizen_db_dossiers > 0 as crit_4_6_num,
    -- SHHS 4.7 e-certified copies offered by the unit: 1 if any catalogue procedure
    -- offers them, over 1, carried by one representative row (the e-certified
    -- procedure with the lowest code, else the lowest code)
    {{ representative }} as crit_4_7_den,
    {{ representative }} and {{ offers }} as crit_4_7_num
from {{ relation }} as items
{%- if not representatives_known %}
-- per unit and period, by one hashed pass instead of a window's sort of every row: the
-- representative (the e-certified procedure with the lowest code, else the lowest code)
-- and whether any procedure offers e-certified copies. The relation (or `units_from`, the
-- same catalogue without the usage counts) holds one row per unit, period and
-- procedure_code, with e_certified_copy never null.
inner join (
    select
        unit_code,
        period,
        coalesce(
            min(procedure_code) filter (where e_certified_copy),
            min(procedure_code)
        ) as representative_procedure_code,
        bool_or(e_certified_copy) as unit_offers_e_certified_copy
    from {{ units_from or relation }}
    group by unit_code, period
) as units
    on
        items.unit_code = units.unit_code
        and items.period = units.period
{%- endif %}
{%- endmacro %}

{#- Per procedure: what the period's received dossiers did (the usage counts above).
    `weight` is 1 to count dossiers, or a column of +1/-1 (int_dossiers_rollup_parts). -#}
{% macro dossier_usage_by_procedure(dossiers, weight='1', group=['unit_code', 'period', 'procedure_code'],
                                    extra='') -%}
select
    {{ group | join(', ') }},
    {{ extra }}
    sum({{ weight }}) filter (where is_received_in_period) as received_dossiers,
    sum({{ weight }}) filter (where is_received_in_period and channel = 'online') as received_online_dossiers,
    sum({{ weight }}) filter (
        where is_received_in_period and carries_fee and synced_to_national_portal
    ) as received_synced_fee_dossiers,
    sum({{ weight }}) filter (where is_received_in_period and citizen_db_data) as received_citizen_db_dossiers,
    -- numeric: the type of the column in tables built before
    cast(coalesce({{ sum_of_counts(weight ~ ' * successful_online_payments') }}, 0) as numeric) as successful_online_payments
from {{ dossiers }}
group by {{ group | join(', ') }}
{%- endmacro %}

{#- A dossier still open at the end of the month that delivered it: the only kind whose
    flags for a quarter or year depend on where the rollup ends (2.1's "still within its
    deadline"). Any other dossier's flags are settled once its rollup's start is known. -#}
{% macro dossier_is_open(items) -%}
    ({{ items }}.completed_at is null
     and {{ items }}.result_returned_at is null
     and {{ items }}.dossier_status is distinct from 'refused'
     and {{ items }}.dossier_status is distinct from 'withdrawn')
{%- endmacro %}

{#- A settled dossier (not dossier_is_open) whose flags in any quarter or year containing
    its month are those of the month: received in the month (the rollup contains its
    reception, and the start of the period is all else its flags read), withdrawn, or
    without a reception date (neither counts as received or handled anywhere). A dossier
    carried over from an earlier month is not: a rollup that began before its reception
    counts it received. Null-safe: always true or false. -#}
{% macro flags_as_in_month(items, month_start, month_end) -%}
    coalesce(
        {{ items }}.dossier_status = 'withdrawn'
        or {{ items }}.received_at is null
        or cast({{ items }}.received_at as date) between {{ month_start }} and {{ month_end }},
        false
    )
{%- endmacro %}

{#- The rows of int_dossiers_classified that feed the selected quarters and years (any
    month matching `month_predicate`), once per rollup, with the rollup's dates: what
    int_dossiers_rollup_parts and int_dossiers_rollup_open are built from. Scored or not:
    a quarter is scored once all its months are, and its state must be ready then.
    `month`: the one month `month_predicate` picks, when it picks one (a month's build). -#}
{% macro dossier_rollup_members(month_predicate, with_month_end=false, month=none) -%}
select
    month_items.period as month,
    month_items.period_start as month_start,
    {%- if with_month_end %}
    month_items.period_end as month_end,
    {%- endif %}
    periods.period,
    periods.period_start,
    periods.period_end,
    periods.evaluated_as_of,
    {{ dossier_is_open('month_items') }} as is_open,
    {{ dossier_item_columns_with_earlier_links('month_items', 'periods.period') }}
from {{ ref('int_dossiers_classified') }} as month_items
cross join lateral (
    values ({{ quarter_of('month_items.period') }}), (left(month_items.period, 4))
) as rollup (period)
inner join {{ ref('int_scoring_periods') }} as periods
    on
        month_items.unit_code = periods.unit_code
        and rollup.period = periods.period
        and periods.period_type <> 'month'
        and {{ rollup_filter('periods.period') }}
left join (
    {{ earlier_dossier_links(month_predicate, month=month) }}
) as earlier_links
    on
        month_items.unit_code = earlier_links.unit_code
        and month_items.period = earlier_links.month
        and month_items.dossier_id = earlier_links.dossier_id
where {{ month_predicate }}
{%- endmacro %}

{#- The online payments and feedback items a dossier carried over into a month (received
    before it) had had delivered in the earlier months of its quarter and of its year
    (int_dossier_links), per unit, month (of the int_dossiers_classified rows
    `month_predicate` picks, alias month_items) and dossier. A dossier received in its month
    has none: nothing is paid or said about a dossier before it is received.
    With `month` (the one month `month_predicate` picks), a year with no links before that
    month (its first month, a first build of a later one) gives an empty relation, known
    to be empty when the query is planned: the join with it then costs nothing, where the
    planner sorted the carried-over dossiers for a merge join that found nothing (2.8 s in
    each of three processes of a national month's int_dossiers_rollup_parts). -#}
{% macro earlier_dossier_links(month_predicate, scoped=true, month=none) -%}
select
    month_items.unit_code,
    month_items.period as month,
    month_items.dossier_id,
    {%- for column in dossier_link_columns() %}
    sum(links.{{ column }}) filter (
        where links.period >= {{ quarter_first_month('month_items.period') }}
    ) as quarter_{{ column }},
    sum(links.{{ column }}) as year_{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref('int_dossiers_classified') }} as month_items
inner join {{ ref('int_dossier_links') }} as links
    on
        month_items.unit_code = links.unit_code
        and month_items.dossier_id = links.dossier_id
        and links.period < month_items.period
        and links.period >= left(month_items.period, 4) || '-01'
where
    {{ month_predicate }}
    and cast(month_items.received_at as date) < month_items.period_start
    and {{ rollup_member_filter('links.period') if scoped else 'true' }}
    {%- if month is not none and not links_before(month) %}
    and false  -- no link of the year before {{ month }}
    {%- endif %}
group by month_items.unit_code, month_items.period, month_items.dossier_id
{%- endmacro %}

{#- Whether int_dossier_links holds a link of `month`'s year delivered before it (true
    while dbt parses: the query needs the built relation). -#}
{% macro links_before(month) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set found = run_query(
        "select exists (select 1 from " ~ ref('int_dossier_links') ~ " where period >= '"
        ~ month[:4] ~ "-01' and period < '" ~ month ~ "')") -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}

{% macro dossier_link_columns() -%}
    {{ return(['successful_online_payments', 'feedback_items', 'unsatisfied_feedback_items']) }}
{%- endmacro %}

{#- dossier_item_columns() of `relation`, the payment and feedback counts with those of the
    rollup's (`rollup_period`'s) earlier months added (earlier_dossier_links, joined as
    earlier_links). -#}
{% macro dossier_item_columns_with_earlier_links(relation, rollup_period) -%}
    {%- for column in dossier_item_columns() %}
    {%- if column in dossier_link_columns() %}
    {{ relation }}.{{ column }} + coalesce(
        case when {{ rollup_period }} like '%-Q_' then earlier_links.quarter_{{ column }}
             else earlier_links.year_{{ column }} end,
        0
    ) as {{ column }}{{ ',' if not loop.last }}
    {%- else %}
    {{ relation }}.{{ column }}{{ ',' if not loop.last }}
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- A rollup model's body (int_dossiers_rolled, int_feedback_rolled): the items of the
    rollups' months (the latest month's row of an item delivered in more than one, with
    the month batch it came from), given the rollup's dates and classified again by
    `classified_sql` (a classification macro applied to the CTE `latest`). -#}
{% macro rolled_items(month_model, key, columns, classified_sql, scoped=true, earlier_links=false) -%}
with

periods as (
    select * from {{ ref('int_scoring_periods') }}
    where period_type <> 'month' and is_scored and {{ rollup_filter() if scoped else 'true' }}
),

month_items as (
    select * from {{ ref(month_model) }}
    where {{ rollup_member_filter() if scoped else 'true' }}
),

members as (
    select
        month_items.period as month,
        rollup.period,
        {%- for column in columns %}
        month_items.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from month_items
    cross join lateral (
        values ({{ quarter_of('month_items.period') }}), (left(month_items.period, 4))
    ) as rollup (period)
),

{{ 'latest_delivery' if earlier_links else 'latest' }} as (
    select distinct on (members.unit_code, members.period, members.{{ key }})
        members.*,
        periods.period_start,
        periods.period_end,
        periods.evaluated_as_of
    from members
    inner join periods
        on
            members.unit_code = periods.unit_code
            and members.period = periods.period
    order by members.unit_code, members.period, members.{{ key }}, members.month desc
),
{%- if earlier_links %}

-- a dossier's payments and feedback delivered in the rollup's earlier months count too
latest as (
    select
        latest_delivery.month,
        latest_delivery.period,
        {{ dossier_item_columns_with_earlier_links('latest_delivery', 'latest_delivery.period') }},
        latest_delivery.period_start,
        latest_delivery.period_end,
        latest_delivery.evaluated_as_of
    from latest_delivery
    left join (
        {{ earlier_dossier_links(rollup_member_filter('month_items.period') if scoped else 'true', scoped=scoped) }}
    ) as earlier_links
        on
            latest_delivery.unit_code = earlier_links.unit_code
            and latest_delivery.month = earlier_links.month
            and latest_delivery.dossier_id = earlier_links.dossier_id
),
{%- endif %}

classified as (
    {{ classified_sql }}
)

select * from classified
{%- endmacro %}

{#- Per batch and dossier: its successful online payments (3.5b, 3.6), from `payments`
    (stg_submissions__thanh_toan rows). -#}
{% macro online_payments_by_dossier(payments) -%}
select
    batch_id,
    dossier_id,
    count(*) as successful_online_payments
from {{ payments }}
where
    payment_method = 'online'
    and payment_status = 'success'
    and dossier_id is not null
group by batch_id, dossier_id
{%- endmacro %}

{#- Per batch and dossier: the feedback items about it (5.4), from `feedback`
    (stg_submissions__pakn rows). -#}
{% macro feedback_by_dossier(feedback) -%}
select
    batch_id,
    dossier_id,
    count(*) as feedback_items,
    count(*) filter (where rating = 'unsatisfied') as unsatisfied_feedback_items
from {{ feedback }}
where dossier_id is not null
group by batch_id, dossier_id
{%- endmacro %}
