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

-- Vietnam's calendar of working days (chiso.workdays, from the `holidays` library):
-- working_day_no counts working days up to and including the day, so "N working days
-- after reception" is the working day numbered N more.
create table if not exists ref.working_days (
    day             date primary key,
    is_working_day  boolean not null,
    working_day_no  integer not null,
    holiday         text
);
create index if not exists working_days_no on ref.working_days (working_day_no) where is_working_day;
