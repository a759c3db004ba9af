-- Roles (DESIGN §6). Each job logs in as its own role; the bootstrap account (WAREHOUSE_URL)
-- owns the schemas and raw/audit/ref tables and is used for nothing else.
--   chiso_loader       landing and the gate: writes raw and audit, reads ref
--   chiso_transformer  dbt: reads raw, audit and ref, owns what it builds in staging,
--                      intermediate and marts
--   chiso_auditor      reports and `chiso sql`: reads marts, audit, raw and ref, writes nothing
--   bi_reader          BI tools: reads marts only
-- They can log in; passwords come from the environment (chiso.warehouse sets them when the
-- bootstrap account may alter roles; the compose stack's server init sets them itself).
-- Grant a role to a person's own login for named access: `grant bi_reader to metabase;`.
do $$
declare
    name text;
    may_alter boolean := (select rolsuper or rolcreaterole from pg_roles where rolname = current_user);
begin
    foreach name in array array['chiso_loader', 'chiso_transformer', 'chiso_auditor', 'bi_reader'] loop
        if not exists (select from pg_roles where rolname = name) then
            if not may_alter then
                raise exception 'role % is missing and % may not create roles: create the roles '
                                'first (docker/init-warehouse.sh shows how) or bootstrap as a '
                                'superuser', name, current_user;
            end if;
            execute format('create role %I login', name);
        elsif may_alter and not (select rolcanlogin from pg_roles where rolname = name) then
            execute format('alter role %I login', name);  -- warehouses from before logins
        end if;
    end loop;
end
$$;

-- No one else reaches the warehouse's schemas.
revoke all on schema raw, audit, ref, staging, intermediate, marts, util from public;
create table if not exists audit.bootstrap (digest text not null);

grant usage on schema raw, audit, ref, util to chiso_loader;
grant create on schema audit to chiso_loader;  -- the gate's scratch tables (audit.gate_*)
grant select, insert, update on all tables in schema raw to chiso_loader;
-- re-extraction replaces a report's figures and warnings (chiso.extract.store)
grant delete on raw.report_figures, raw.report_warnings to chiso_loader;
grant select, insert, update, delete on all tables in schema audit to chiso_loader;
revoke insert, update, delete on audit.bootstrap from chiso_loader;
grant select on all tables in schema ref to chiso_loader;

grant usage, create on schema staging, intermediate, marts to chiso_transformer;
grant usage on schema raw, audit, ref, util to chiso_transformer;
grant select on all tables in schema raw, audit, ref to chiso_transformer;

grant usage on schema marts, util to bi_reader, chiso_auditor;
grant usage on schema audit, raw, ref, util to chiso_auditor;
grant select on all tables in schema audit, raw, ref to chiso_auditor;

-- Landing creates a month's partitions and refreshes statistics, and the gate refreshes
-- the batches' statistics: both need the tables' owner, so these functions run as their
-- owner (the bootstrap account), for the loader only.
alter function raw.ensure_period_partitions(text) security definer set search_path = pg_catalog, pg_temp;
alter function raw.analyze_periods(text[]) security definer set search_path = pg_catalog, pg_temp;
alter function raw.analyze_batches() security definer set search_path = pg_catalog, pg_temp;
revoke execute on function raw.ensure_period_partitions(text), raw.analyze_periods(text[]),
    raw.analyze_batches() from public;
grant execute on function raw.ensure_period_partitions(text), raw.analyze_periods(text[]),
    raw.analyze_batches() to chiso_loader;

-- Objects created before these roles existed (or by a superuser bootstrap) change hands:
-- dbt must own what it replaces, the gate its scratch tables.
do $$
declare
    rel record;
begin
    for rel in
        select n.nspname, c.relname, c.relkind,
               case when n.nspname = 'audit' then 'chiso_loader' else 'chiso_transformer' end as owner
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'v', 'm', 'p')
          and (n.nspname in ('staging', 'intermediate', 'marts')
               or (n.nspname = 'audit' and c.relname like 'gate\_%'))
          and pg_get_userbyid(c.relowner) not in ('chiso_loader', 'chiso_transformer')
    loop
        execute format('alter %s %I.%I owner to %I',
                       case rel.relkind when 'v' then 'view' when 'm' then 'materialized view'
                                        else 'table' end,
                       rel.nspname, rel.relname, rel.owner);
    end loop;
exception when insufficient_privilege then
    raise notice 'dbt objects not handed to chiso_transformer: % is not a member of it', current_user;
end
$$;

-- dbt recreates its tables on every build, as chiso_transformer: its default privileges
-- keep marts readable by BI and the auditor, and nothing else.
do $$
begin
    alter default privileges for role chiso_transformer in schema marts
        grant select on tables to bi_reader, chiso_auditor;
exception when insufficient_privilege then
    raise exception '% must be a member of chiso_transformer to set its default privileges '
                    '(grant chiso_transformer to %)', current_user, current_user;
end
$$;
grant select on all tables in schema marts to bi_reader, chiso_auditor;
