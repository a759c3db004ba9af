-- Raw landing tables: every value as delivered (text), plus provenance.
-- Generated from chiso.sources (the submission contract); keep the two in step.
-- The four data tables are partitioned by period: landing creates a month's partition
-- (raw.ensure_period_partitions), and the gate and dbt read only the months they work
-- on, so a month costs the same whatever the history.
-- Indexes: none on the data tables. Every reader takes a month's partition whole (the gate
-- joins it to the run's batches, dbt to the current ones), and a btree on batch_id cost
-- landing a fifth of its time (1,000 units: 14.0-16.4 s with it, 11.7 s without).

create table if not exists raw.batches (
    batch_id        text primary key,           -- <unit>-<period>-<12 hex of the files' sha256s>
    province_code   text not null,
    unit_code       text not null,
    period          text not null,              -- YYYY-MM
    period_start    date not null,
    period_end      date not null,              -- inclusive
    submission_dir  text not null,
    files           integer not null,
    landed_at       timestamptz not null default now(),
    run_id          text,
    status          text not null default 'landed',
                    -- landed | passed | warned | quarantined | superseded
    reason          text,
    superseded_by   text
);
create index if not exists batches_unit_period on raw.batches (unit_code, period);
-- The gate's verdict survives being superseded, so a batch delivered again can become
-- current again with its verdict (raw.make_current); delivered_at is its latest delivery.
alter table raw.batches add column if not exists verdict text;       -- passed | warned | quarantined
alter table raw.batches add column if not exists delivered_at timestamptz;
update raw.batches set verdict = status
 where verdict is null and status in ('passed', 'warned', 'quarantined');
update raw.batches set delivered_at = landed_at where delivered_at is null;
alter table raw.batches alter column delivered_at set default now();

-- A batch becomes the one that speaks for its unit and period: the others of that unit and
-- period are superseded (kept for history). Called when the gate passes or warns a batch,
-- and when the files of an accepted batch are delivered again.
create or replace function raw.make_current(current_batch text) returns void
language sql as $$
    update raw.batches o set status = 'superseded', superseded_by = current_batch
      from raw.batches c
     where c.batch_id = current_batch
       and o.unit_code = c.unit_code and o.period = c.period
       and o.batch_id <> current_batch and o.status <> 'superseded';
    update raw.batches set status = coalesce(verdict, status), superseded_by = null
     where batch_id = current_batch;
$$;

create table if not exists raw.files (
    batch_id        text not null references raw.batches (batch_id),
    source          text not null,              -- ho_so | thanh_toan | pakn | danh_muc_tthc | bao_cao
    source_file     text not null,              -- path relative to the submissions root
    file_sha256     text not null,
    size_bytes      bigint not null,
    rows_delivered  integer,                    -- data rows in the file (null when unreadable)
    rows_landed     integer,
    error           text,                       -- why the file could not be read, with row and field
    note            text,                       -- e.g. unknown columns that were ignored
    -- ignored headers that look like a contract column the file lacks ('Ngày hẹn trả KQ'
    -- and no 'Ngày hẹn trả'): the gate warns (batches.columns_recognised)
    lookalike_columns text,
    primary key (batch_id, source_file)
);
alter table raw.files add column if not exists lookalike_columns text;

-- Warehouses created before period partitioning: set the plain tables aside (moved back
-- in at the end of this script) so the partitioned ones can take their names.
do $$
declare
    source text;
begin
    foreach source in array array['ho_so', 'thanh_toan', 'pakn', 'danh_muc_tthc'] loop
        if exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = 'raw' and c.relname = source and c.relkind = 'r') then
            execute format('drop index if exists raw.%s_batch', source);
            execute format('alter table raw.%1$s rename to %1$s_unpartitioned', source);
        end if;
    end loop;
end
$$;

create table if not exists raw.ho_so (
    period                     text not null,     -- YYYY-MM of the batch (raw.batches.period)
    batch_id                   text not null,
    source_file                text not null,
    source_row                 integer not null,  -- data row number in the file (header = row 1 in XLSX/CSV)
    dossier_id                 text,
    procedure_code             text,
    received_at                text,
    channel                    text,
    due_at                     text,
    completed_at               text,
    result_returned_at         text,
    status                     text,
    supplement_count           text,
    synced_to_national_portal  text,
    has_e_result               text,
    digitised                  text,
    reused_data                text,
    citizen_db_data            text,
    personal_storage_linked    text,
    fee_amount                 text,
    applicant_ref              text,
    supplement_days            text
) partition by list (period);
drop index if exists raw.ho_so_batch;  -- see Indexes above
create table if not exists raw.ho_so_default partition of raw.ho_so default;

create table if not exists raw.thanh_toan (
    period                     text not null,     -- YYYY-MM of the batch (raw.batches.period)
    batch_id                   text not null,
    source_file                text not null,
    source_row                 integer not null,  -- data row number in the file (header = row 1 in XLSX/CSV)
    payment_id                 text,
    dossier_id                 text,
    amount                     text,
    method                     text,
    paid_at                    text,
    status                     text
) partition by list (period);
drop index if exists raw.thanh_toan_batch;  -- see Indexes above
create table if not exists raw.thanh_toan_default partition of raw.thanh_toan default;

create table if not exists raw.pakn (
    period                     text not null,     -- YYYY-MM of the batch (raw.batches.period)
    batch_id                   text not null,
    source_file                text not null,
    source_row                 integer not null,  -- data row number in the file (header = row 1 in XLSX/CSV)
    feedback_id                text,
    dossier_id                 text,
    received_at                text,
    due_at                     text,
    handled_at                 text,
    status                     text,
    rating                     text,
    repeated                   text,
    supplement_requested_at    text,
    published_at               text
) partition by list (period);
drop index if exists raw.pakn_batch;  -- see Indexes above
create table if not exists raw.pakn_default partition of raw.pakn default;

create table if not exists raw.danh_muc_tthc (
    period                     text not null,     -- YYYY-MM of the batch (raw.batches.period)
    batch_id                   text not null,
    source_file                text not null,
    source_row                 integer not null,  -- data row number in the file (header = row 1 in XLSX/CSV)
    procedure_code             text,
    name                       text,
    service_level              text,
    has_fee                    text,
    returns_paper_result       text,
    published_on_time          text,
    publicised_on_time         text,
    publication_complete       text,
    e_certified_copy           text,
    time_limit_days            text
) partition by list (period);
drop index if exists raw.danh_muc_tthc_batch;  -- see Indexes above
create table if not exists raw.danh_muc_tthc_default partition of raw.danh_muc_tthc default;

create table if not exists raw.report_figures (
    batch_id        text not null,
    source_file     text not null,
    file_sha256     text not null,
    document_kind   text not null,              -- monthly_report | score_letter | ranking_letter
    unit_code       text,
    unit_name       text,
    period          text,
    figure          text not null,              -- vocabulary of chiso.extract
    value           numeric,
    value_unit      text,                       -- count | percent | points | rank
    max_value       numeric,
    line_no         integer,
    source_text     text
);
create index if not exists report_figures_batch on raw.report_figures (batch_id);
-- chiso.extract ≥ 2: how sure each figure is; candidates (status 'candidate') are kept for
-- review and never reconciled; the extractor version says which extraction a row comes from.
alter table raw.report_figures
    add column if not exists status            text not null default 'figure',  -- figure | candidate
    add column if not exists confidence        numeric,
    add column if not exists support           text,     -- how it was read; '+rule' / '-rule'
    add column if not exists extractor_version text;
-- A report's warnings (arithmetic that does not add up, conflicting statements): never figures.
create table if not exists raw.report_warnings (
    batch_id          text not null,
    source_file       text not null,
    file_sha256       text not null,
    unit_code         text,
    period            text,
    rule              text not null,
    message           text,
    line_no           integer,
    extractor_version text
);
create index if not exists report_warnings_batch on raw.report_warnings (batch_id);
-- The report as delivered (bytes; sha256 as in raw.files), so it can be extracted again.
create table if not exists raw.report_documents (
    batch_id          text not null,
    source_file       text not null,
    file_sha256       text not null,
    content           bytea not null,
    primary key (batch_id, source_file)
);

-- A month's partitions of the data tables; landing calls it before loading a period.
-- Rows of that month already sitting in the default partition (loaded by hand, without
-- the partition) are moved into it.
create or replace function raw.ensure_period_partitions(month text) returns void
language plpgsql as $$
declare
    source text;
    part text := replace(month, '-', '_');
begin
    if month !~ '^[0-9]{4}-[0-9]{2}$' then
        raise exception 'period must be YYYY-MM, got %', month;
    end if;
    foreach source in array array['ho_so', 'thanh_toan', 'pakn', 'danh_muc_tthc'] loop
        if to_regclass(format('raw.%s_%s', source, part)) is null then
            execute format('create temporary table moved_rows (like raw.%s) on commit drop', source);
            execute format('with moved as (delete from raw.%1$s_default where period = %2$L returning *) '
                           'insert into moved_rows select * from moved', source, month);
            execute format('create table raw.%1$s_%2$s partition of raw.%1$s for values in (%3$L)',
                           source, part, month);
            execute format('insert into raw.%s select * from moved_rows', source);
            drop table moved_rows;
        end if;
    end loop;
end
$$;

-- Statistics after landing: only the landed months' partitions, so the cost does not grow
-- with history (a plain ANALYZE of a partitioned table re-analyses every partition). Since
-- PostgreSQL 18, ANALYZE ONLY refreshes a parent's own sample (used by queries spanning
-- several months) without that recursion; older servers analyse the parents in full.
create or replace function raw.analyze_periods(months text[]) returns void
language plpgsql as $$
declare
    source text;
    month text;
begin
    analyze raw.batches, raw.files, raw.report_figures;
    foreach source in array array['ho_so', 'thanh_toan', 'pakn', 'danh_muc_tthc'] loop
        if current_setting('server_version_num')::int < 180000 then
            execute format('analyze raw.%s', source);
            continue;
        end if;
        execute format('analyze only raw.%s', source);
        foreach month in array months loop
            if to_regclass(format('raw.%s_%s', source, replace(month, '-', '_'))) is not null then
                execute format('analyze raw.%s_%s', source, replace(month, '-', '_'));
            end if;
        end loop;
    end loop;
end
$$;

-- Statistics after the gate: it turns batches from landed to passed, warned or quarantined,
-- and every model reads only accepted batches. With the statistics of landing's time the
-- planner expects no accepted batch at all and joins a month's dossiers by nested loops
-- (measured: a national month's classification 67 s, of which 30 s such joins).
create or replace function raw.analyze_batches() returns void
language sql as $$ analyze raw.batches $$;

-- Rows set aside above go back in, each under its batch's period, then into their
-- month's partition.
do $$
declare
    source text;
    month text;
    orphans bigint;
begin
    foreach source in array array['ho_so', 'thanh_toan', 'pakn', 'danh_muc_tthc'] loop
        if to_regclass(format('raw.%s_unpartitioned', source)) is not null then
            execute format('select count(*) from raw.%s_unpartitioned o where not exists '
                           '(select 1 from raw.batches b where b.batch_id = o.batch_id)', source)
                into orphans;
            if orphans > 0 then  -- no period to file them under: stop rather than lose them
                raise exception 'raw.%_unpartitioned: % rows of no batch in raw.batches', source, orphans;
            end if;
            execute format('insert into raw.%1$s select b.period, o.* from raw.%1$s_unpartitioned o '
                           'join raw.batches b on b.batch_id = o.batch_id', source);
            execute format('drop table raw.%s_unpartitioned', source);
            raise notice 'raw.% partitioned by period', source;
        end if;
    end loop;
    for month in select distinct period from raw.batches where period ~ '^[0-9]{4}-[0-9]{2}$' loop
        perform raw.ensure_period_partitions(month);
    end loop;
end
$$;

-- Columns added to the contract after a warehouse was created (at the end, so the
-- as-delivered column order above stays the insert order).
alter table raw.ho_so add column if not exists supplement_days text;
alter table raw.pakn add column if not exists supplement_requested_at text;
alter table raw.pakn add column if not exists published_at text;
alter table raw.danh_muc_tthc add column if not exists time_limit_days text;
-- Which key pseudonymised the batch's applicant references (chiso.landing.pseudonym_key_id):
-- after a key rotation, pseudonyms under different keys never match.
alter table raw.batches add column if not exists pseudonym_key text;

-- Landing (chiso.staging) maps the enum and boolean spellings it knows onto contract values
-- in SQL; Python owns that mapping (chiso.readers.contract_values), so a spelling not met
-- before stops the statement with this SQLSTATE, and landing asks Python for its value and
-- runs the statement again. A blank cell is missing. The value is not in the message: the
-- server log keeps messages.
create or replace function raw.landing_unmapped(value text, whitespace text) returns text
language plpgsql as $$
begin
    if btrim(value, whitespace) = '' then
        return null;
    end if;
    raise exception using errcode = 'CH001', message = 'enum spelling not mapped yet';
end
$$;
