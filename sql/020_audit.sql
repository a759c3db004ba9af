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

-- Superseded by util.is_plain_timestamp (sql/005_values.sql).
drop function if exists audit.plainly_valid_timestamp(text);

-- Every path under the submissions root in a run's scope, accounted for (DESIGN §4):
-- landed | duplicate (same files as a batch already landed) | refused (reason) |
-- not_a_submission (why, with "did you mean …") | no_submission (a unit that sent nothing).
create table if not exists audit.inventory (
    run_id         text not null,
    period         text not null,
    province_code  text,
    unit_code      text,
    path           text not null,              -- relative to the submissions root
    status         text not null,
    reason         text,
    batch_id       text,
    recorded_at    timestamptz not null default now(),
    primary key (run_id, path)
);
create index if not exists inventory_period on audit.inventory (period, status);
