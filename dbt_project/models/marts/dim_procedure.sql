-- Procedures (TTHC) as declared in the catalogues of scored batches: the latest
-- declaration of each code, and how many unit-periods list it.
with

procedures as (
    select * from {{ ref('int_procedures_classified') }}
),

latest as (
    select distinct on (procedure_code)
        procedure_code,
        procedure_name,
        service_level,
        has_fee,
        returns_paper_result,
        e_certified_copy,
        period as last_declared_period
    from procedures
    order by procedure_code, period desc, unit_code
),

usage as (
    select
        procedure_code,
        count(distinct unit_code) as units_declaring,
        min(period) as first_declared_period
    from procedures
    group by procedure_code
),

final as (
    select
        latest.procedure_code,
        latest.procedure_name,
        latest.service_level,
        latest.has_fee,
        latest.returns_paper_result,
        latest.e_certified_copy,
        usage.units_declaring,
        usage.first_declared_period,
        latest.last_declared_period
    from latest
    inner join usage
        on latest.procedure_code = usage.procedure_code
)

select * from final
