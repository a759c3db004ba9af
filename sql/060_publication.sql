-- Publication (published is published): publishing a period freezes its unit, group and
-- criterion scores, ranks and ratings with what produced them; a later change to a
-- published figure is a restatement with its cause. Written by `chiso publish` (as the
-- transformer, right after the build it freezes); read through marts.published_* views.

-- Where a run read its submissions from: an evidence pack copies the published inputs
-- from there (and checks each file's sha256 against what landing recorded).
alter table audit.runs add column if not exists submissions_root text;

create table if not exists audit.publications (
    publication_id    text primary key,          -- <period>-<province|all>-<UTC yyyymmddThhmmss>
    period            text not null,             -- month YYYY-MM, quarter YYYY-Qn or year YYYY
    province_code     text,                      -- null: every province
    published_at      timestamptz not null default now(),
    published_by      text not null default current_user,
    rule_versions     text[] not null,           -- seeds/scoring_rules.csv versions used
    code_version      text not null,             -- chiso version and git describe of the checkout
    tool_versions     jsonb not null,            -- dbt, great_expectations, extractor
    cycle             text not null,             -- calendar | 15th
    note              text
);
create index if not exists publications_period on audit.publications (period, province_code, published_at);

-- The batches and files that fed a publication (for a quarter or year: every month's).
create table if not exists audit.publication_inputs (
    publication_id    text not null references audit.publications,
    batch_id          text not null,
    unit_code         text not null,
    period            text not null,
    verdict           text,
    source            text not null,
    source_file       text not null,             -- relative to the submissions root
    file_sha256       text not null,
    primary key (publication_id, batch_id, source_file)
);

create table if not exists audit.published_unit_scores (
    publication_id    text not null references audit.publications,
    unit_code         text not null,
    unit_name         text,
    province_code     text not null,
    period            text not null,
    period_type       text not null,
    total_points      numeric(7, 2),
    rating            text,
    rank_in_province  integer,
    units_in_province integer,
    data_status       text,
    batch_id          text,
    primary key (publication_id, unit_code)
);

create table if not exists audit.published_group_scores (
    publication_id    text not null references audit.publications,
    unit_code         text not null,
    group_code        text not null,
    points            numeric(7, 2) not null,
    max_points        numeric not null,
    primary key (publication_id, unit_code, group_code)
);

create table if not exists audit.published_criterion_scores (
    publication_id    text not null references audit.publications,
    unit_code         text not null,
    criterion_code    text not null,
    group_code        text not null,
    numerator         bigint not null,
    denominator       numeric(14, 2) not null,
    rate              numeric(10, 6),
    points            numeric(12, 6) not null,
    max_points        numeric not null,
    rule_version      text not null,
    primary key (publication_id, unit_code, criterion_code)
);

-- One row per published figure that changed after publication, with its cause.
create table if not exists audit.restatements (
    restatement_id    bigserial primary key,
    publication_id    text not null references audit.publications,
    detected_at       timestamptz not null default now(),
    unit_code         text not null,
    period            text not null,
    measure           text not null,             -- total_points | rating | rank_in_province |
                                                 -- data_status | group <code> | criterion <code>
    old_value         text,
    new_value         text,
    old_rank          integer,
    new_rank          integer,
    cause             text not null
);
-- a change is recorded once however many runs see it
create unique index if not exists restatements_once
    on audit.restatements (publication_id, unit_code, measure, coalesce(new_value, ''));

grant select, insert on audit.publications, audit.publication_inputs, audit.published_unit_scores,
    audit.published_group_scores, audit.published_criterion_scores, audit.restatements
    to chiso_transformer;
grant usage on sequence audit.restatements_restatement_id_seq to chiso_transformer;
grant select on audit.publications, audit.publication_inputs, audit.published_unit_scores,
    audit.published_group_scores, audit.published_criterion_scores, audit.restatements
    to chiso_auditor;
grant update (submissions_root) on audit.runs to chiso_loader;
grant select on audit.runs to chiso_transformer;
-- The loader writes audit (040 grants it every audit table) but never a publication.
revoke insert, update, delete, truncate on audit.publications, audit.publication_inputs,
    audit.published_unit_scores, audit.published_group_scores, audit.published_criterion_scores,
    audit.restatements from chiso_loader;
