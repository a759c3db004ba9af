-- Procedures (TTHC) as declared in the catalogues of scored batches: the latest
-- declaration of each code, how many units list it then, and when it first appeared.
with

procedure_periods as (
    select * from {{ ref('int_procedure_periods') }}
),

latest as (
    select distinct on (procedure_code)
        procedure_code,
        procedure_name,
        service_level,
        has_fee,
        returns_paper_result,
        e_certified_copy,
        units_declaring,
        period as last_declared_period
    from procedure_periods
    order by procedure_code, period desc
),

history as (
    select
        procedure_code,
        min(period) as first_declared_period
    from procedure_periods
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
        latest.units_declaring,
        history.first_declared_period,
        latest.last_declared_period
    from latest
    inner join history
        on latest.procedure_code = history.procedure_code
)

select * from final
