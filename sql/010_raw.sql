-- Raw landing tables: every value as delivered (text), plus provenance.
-- Generated from chiso.sources (the submission contract); keep the two in step.

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
    primary key (batch_id, source_file)
);

create table if not exists raw.ho_so (
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
    applicant_ref              text
);
create index if not exists ho_so_batch on raw.ho_so (batch_id);

create table if not exists raw.thanh_toan (
    batch_id                   text not null,
    source_file                text not null,
    source_row                 integer not null,  -- data row number in the file (header = row 1 in XLSX/CSV)
    payment_id                 text,
    dossier_id                 text,
    amount                     text,
    method                     text,
    paid_at                    text,
    status                     text
);
create index if not exists thanh_toan_batch on raw.thanh_toan (batch_id);

create table if not exists raw.pakn (
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
    repeated                   text
);
create index if not exists pakn_batch on raw.pakn (batch_id);

create table if not exists raw.danh_muc_tthc (
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
    e_certified_copy           text
);
create index if not exists danh_muc_tthc_batch on raw.danh_muc_tthc (batch_id);

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
