{{ config(**period_incremental_config(index=['period'])) }}

-- One row per procedure and period: how the period's catalogues declare it. Lets
-- dim_procedure read a few hundred rows per period instead of every catalogue row of
-- the whole history.
with

-- read twice, each time for what it needs (the month's partition is scanned once for the
-- counts; the first listings are looked up by its index)
procedures as not materialized (
    select * from {{ ref('int_procedures_classified') }}
    where {{ period_filter() }}
),

-- a unit declares a procedure once a period (the grain of int_procedures_classified is
-- batch and procedure, with one current batch a unit and period): rows are units, and
-- one hashed pass counts them, without sorting the period's catalogues
declared as (
    select
        period,
        procedure_code,
        min(unit_code) as first_unit_code,
        count(*) as units_declaring
    from procedures
    group by period, procedure_code
),

-- how the procedure is described: the listing of the first unit by code declaring it
final as (
    select
        declared.period,
        declared.procedure_code,
        procedures.procedure_name,
        procedures.service_level,
        procedures.has_fee,
        procedures.returns_paper_result,
        procedures.e_certified_copy,
        declared.units_declaring
    from declared
    inner join procedures
        on
            declared.period = procedures.period
            and declared.first_unit_code = procedures.unit_code
            and declared.procedure_code = procedures.procedure_code
)

select * from final
