{{ config(**period_incremental_config(index=['period', 'batch_id'])) }}

-- One row per expectation evaluated on a batch (chiso.gate). A run gates only
-- its period's batches, so rebuilding that period keeps the table whole.
with

results as (
    select * from {{ ref('stg_audit__expectation_results') }}
    where {{ period_filter() }}
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
