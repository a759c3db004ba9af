with

crosswalk as (
    select * from {{ source('ref', 'unit_crosswalk') }}
),

renamed as (
    select
        old_province_code,
        old_province_name,
        old_district_code,
        old_district_name,
        old_commune_code,
        old_commune_name,
        new_commune_code as unit_code,
        new_commune_name as unit_name,
        new_commune_type as unit_type,
        merge_type,
        official_note
    from crosswalk
)

select * from renamed
