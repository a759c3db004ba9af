-- The 2025 communes (3,321) with their province and the pre-2025 communes merged
-- into them (crosswalk; Hải Phòng so far).
with

communes as (
    select * from {{ ref('stg_ref__communes') }}
),

provinces as (
    select * from {{ ref('stg_ref__provinces') }}
),

crosswalk as (
    select * from {{ ref('stg_ref__unit_crosswalk') }}
),

old_units as (
    select
        unit_code,
        count(*) as old_commune_count,
        string_agg(old_commune_code, ', ' order by old_commune_code) as old_commune_codes,
        string_agg(old_commune_name, ', ' order by old_commune_code) as old_commune_names,
        string_agg(distinct old_district_name, ', ') as old_district_names
    from crosswalk
    group by unit_code
),

final as (
    select
        communes.unit_code,
        communes.unit_name,
        communes.unit_type,
        communes.province_code,
        provinces.province_name,
        coalesce(old_units.old_commune_count, 0) as old_commune_count,
        old_units.old_commune_codes,
        old_units.old_commune_names,
        old_units.old_district_names
    from communes
    left join provinces
        on communes.province_code = provinces.province_code
    left join old_units
        on communes.unit_code = old_units.unit_code
)

select * from final
