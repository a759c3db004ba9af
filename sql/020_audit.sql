-- Gate results and the quarantine trail. Written by chiso.gate, read by marts.dq_results.
create table if not exists audit.expectation_results (
    run_id           text not null,
    batch_id         text not null,
    unit_code        text not null,
    period           text not null,
    source           text not null,
    source_file      text,
    expectation      text not null,             -- suite.expectation name
    severity         text not null,             -- error | warn
    success          boolean not null,
    observed_value   text,
    unexpected_count integer not null default 0,
    quarantined      boolean not null default false,
    evaluated_at     timestamptz not null default now()
);
create index if not exists expectation_results_batch on audit.expectation_results (batch_id);

create table if not exists audit.rule_violations (
    run_id       text not null,
    batch_id     text not null,
    source       text not null,
    source_file  text,
    source_row   integer,
    field        text,
    value        text,
    expectation  text not null,
    severity     text not null
);
create index if not exists rule_violations_batch on audit.rule_violations (batch_id);

create table if not exists audit.runs (
    run_id       text primary key,
    period       text not null,
    province_code text,
    started_at   timestamptz not null default now(),
    finished_at  timestamptz,
    status       text not null default 'running',
    detail       jsonb
);

-- The gate's fast path for the usual timestamp text 'YYYY-MM-DD HH:MM:SS' (no padding):
-- a LIKE on its shape plus PostgreSQL's own parser, five times cheaper than the regex
-- that decides every other value. It only ever vouches for a value the regex accepts
-- (hence the year, hour and second bounds the parser alone would let through). Before
-- PostgreSQL 16 there is no pg_input_is_valid, and everything takes the regex path.
do $$
begin
    if current_setting('server_version_num')::int >= 160000 then
        create or replace function audit.plainly_valid_timestamp(value text) returns boolean
            language sql stable parallel safe
            return value like '____-__-__ __:__:__'
                and left(value, 1) in ('1', '2')
                and substr(value, 12, 2) collate "C" < '24'
                and substr(value, 18, 2) collate "C" < '60'
                and pg_input_is_valid(value, 'timestamp');
    else
        create or replace function audit.plainly_valid_timestamp(value text) returns boolean
            language sql immutable parallel safe
            return false;
    end if;
end
$$;
