-- DESIGN §5: one row per expectation evaluated on a batch (chiso.gate).
with

results as (
    select * from {{ ref('stg_audit__expectation_results') }}
),

final as (
    select
        run_id,
        batch_id,
        unit_code,
        period,
        source,
        source_file,
        expectation,
        severity,
        success,
        observed_value,
        unexpected_count,
        quarantined,
        evaluated_at
    from results
)

select * from final
