-- Reference data loaded from src/chiso/data (the 2025 administrative units).
create table if not exists ref.provinces (
    code  text primary key,
    name  text not null,
    type  text not null
);
create table if not exists ref.communes (
    code          text primary key,
    name          text not null,
    type          text not null,
    province_code text not null
);
create table if not exists ref.unit_crosswalk (
    old_province_code text,
    old_province_name text,
    old_district_code text,
    old_district_name text,
    old_commune_code  text,
    old_commune_name  text,
    new_commune_code  text not null,
    new_commune_name  text not null,
    new_commune_type  text not null,
    merge_type        text not null,
    official_note     text
);
