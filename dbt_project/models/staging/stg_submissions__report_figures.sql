with

figures as (
    select * from {{ source('raw', 'report_figures') }}
),

batches as (
    select * from {{ source('raw', 'batches') }}
),

renamed as (
    select
        figures.batch_id,
        figures.source_file,
        figures.file_sha256,
        figures.line_no,
        lower(figures.document_kind) as document_kind,
        -- a score letter names its units itself; a commune report belongs to its batch
        coalesce(nullif(btrim(figures.unit_code), ''), batches.unit_code) as unit_code,
        figures.unit_name,
        coalesce(nullif(btrim(figures.period), ''), batches.period) as period,
        lower(btrim(figures.figure)) as figure,
        figures.value as reported_value,
        figures.value_unit,
        figures.max_value,
        figures.source_text
    from figures
    left join batches
        on figures.batch_id = batches.batch_id
    -- only figures: a candidate (chiso.extract too unsure) is never reconciled, and a
    -- warning is not a figure (older extractions stored them as 'warning:<rule>' rows)
    where
        coalesce(figures.status, 'figure') = 'figure'
        and figures.figure not like 'warning:%'
)

select * from renamed
