with

communes as (
    select * from {{ source('ref', 'communes') }}
),

renamed as (
    select
        code as unit_code,
        name as unit_name,
        type as unit_type,
        province_code
    from communes
)

select * from renamed
