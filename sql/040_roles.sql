-- Roles (DESIGN §6): loader writes raw, transformer runs dbt, bi_reader reads marts only,
-- auditor reads marts, audit and raw provenance. Group roles without login: grant them to
-- real users (`grant bi_reader to metabase;`).
do $$
begin
    if not exists (select from pg_roles where rolname = 'chiso_loader') then create role chiso_loader; end if;
    if not exists (select from pg_roles where rolname = 'chiso_transformer') then create role chiso_transformer; end if;
    if not exists (select from pg_roles where rolname = 'bi_reader') then create role bi_reader; end if;
    if not exists (select from pg_roles where rolname = 'chiso_auditor') then create role chiso_auditor; end if;
end
$$;

grant usage on schema raw, audit, ref, util to chiso_loader;
grant select, insert, update on all tables in schema raw, audit to chiso_loader;
grant select on all tables in schema ref to chiso_loader;

grant usage, create on schema staging, intermediate, marts to chiso_transformer;
grant usage on schema raw, audit, ref, util to chiso_transformer;
grant select on all tables in schema raw, audit, ref to chiso_transformer;

grant usage on schema marts to bi_reader, chiso_auditor;
grant usage on schema audit, raw, util to chiso_auditor;
grant select on all tables in schema audit to chiso_auditor;
grant select on raw.batches, raw.files to chiso_auditor;

-- dbt recreates mart tables on every build; default privileges keep the grants alive.
alter default privileges in schema marts grant select on tables to bi_reader, chiso_auditor;
grant select on all tables in schema marts to bi_reader, chiso_auditor;
