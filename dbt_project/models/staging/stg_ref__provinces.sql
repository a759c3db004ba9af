with

provinces as (
    select * from {{ source('ref', 'provinces') }}
),

renamed as (
    select
        code as province_code,
        name as province_name,
        type as province_type
    from provinces
)

select * from renamed
