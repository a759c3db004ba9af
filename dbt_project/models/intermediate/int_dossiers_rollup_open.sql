{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=["{{ delete_rollup_state(marks=true) }}"],
    post_hook=[
        "{{ mark_superseded_open_dossiers() }}",
        "{{ rollup_state_indexes('dossier_id', marks=true) }}",
        "{{ awaiting_index() }}",
        "analyze {{ this }}",
    ],
    meta={'period_scoped': true},
) }}

-- depends_on: {{ ref('int_batches_current') }}

-- Rollup state, part 1 of 2 (part 2: int_dossiers_rollup_parts). One row per quarter or
-- year to date and per delivery of a dossier still open at the end of the month that
-- delivered it, with superseded_in: the next month of the rollup that delivered the same
-- dossier (null while none has). The open dossiers nobody has delivered since are the
-- only ones judged again at each rollup's end (int_dossiers_rolled); a build of the next
-- month adds its own and marks those it delivers again (post_hook), so a month costs the
-- same whatever the months before it. A first build, a rebuild of every period and a
-- rebuild of a month whose year has later months recompute the rollups from every month.

with

members as (
    {%- if rollup_full_path() %}
    {{ dossier_rollup_members(rollup_member_filter('month_items.period')) }}
    {%- else %}
    {{ dossier_rollup_members(period_filter('month_items.period'), month=selected_period()) }}
    {%- endif %}
),

sequenced as (
    select
        members.*,
        {%- if rollup_full_path() %}
        lead(members.month) over (
            partition by members.unit_code, members.period, members.dossier_id
            order by members.month
        ) as superseded_in
        {%- else %}
        cast(null as text) as superseded_in
        {%- endif %}
    from members
)

select * from sequenced
where is_open
