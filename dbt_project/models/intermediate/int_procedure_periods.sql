{{ config(**period_incremental_config(index=['period'])) }}

-- One row per procedure and period: how the period's catalogues declare it. Lets
-- dim_procedure read a few hundred rows per period instead of every catalogue row of
-- the whole history.
with

procedures as (
    select * from {{ ref('int_procedures_classified') }}
    where {{ period_filter() }}
),

first_listing as (
    select distinct on (period, procedure_code)
        period,
        procedure_code,
        procedure_name,
        service_level,
        has_fee,
        returns_paper_result,
        e_certified_copy
    from procedures
    order by period, procedure_code, unit_code
),

usage as (
    select
        period,
        procedure_code,
        count(distinct unit_code) as units_declaring
    from procedures
    group by period, procedure_code
),

final as (
    select
        first_listing.period,
        first_listing.procedure_code,
        first_listing.procedure_name,
        first_listing.service_level,
        first_listing.has_fee,
        first_listing.returns_paper_result,
        first_listing.e_certified_copy,
        usage.units_declaring
    from first_listing
    inner join usage
        on
            first_listing.period = usage.period
            and first_listing.procedure_code = usage.procedure_code
)

select * from final
