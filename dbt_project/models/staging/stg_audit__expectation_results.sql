with

results as (
    select * from {{ source('audit', 'expectation_results') }}
),

renamed as (
    select
        run_id,
        batch_id,
        unit_code,
        period,
        source,
        source_file,
        expectation,
        lower(severity) as severity,
        success,
        observed_value,
        unexpected_count,
        quarantined,
        evaluated_at
    from results
)

select * from renamed
