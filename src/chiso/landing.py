"""Land a period's submissions into schema `raw` with bulk COPY.

A batch is one unit's submission folder for one period. Its id is derived from the
sha256 of its files, so delivering the same files twice lands nothing new. A corrected
resubmission (different files) becomes a new batch; it replaces the unit's current batch
only once the gate has passed or warned it (chiso.gate), so a broken resubmission never
unseats a good one. Delivering an earlier batch's files again makes that batch current
again. Every file is read in isolation: whatever goes wrong while reading or copying one
file refuses that file, with its reason, and landing goes on with the others.

A CSV file's records never pass through Python: Python reads its head and maps its header,
PostgreSQL COPYs the body as delivered into a staging table and writes raw in one
`insert … select` (chiso.staging). A file that path cannot take as planned (XLSX, JSON,
irregular CSV, or one PostgreSQL refuses) is read by chiso.readers into Arrow, pseudonymised
here and COPYed; both paths land the same rows, with the same errors.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pyarrow as pa
import pyarrow.csv as pcsv
from psycopg2.extras import execute_values

from chiso import config, staging, warehouse
from chiso.inventory import DUPLICATE, LANDED, REFUSED, Entry, Submission, source_of, survey
from chiso.periods import Period
from chiso.readers import (
    LEGACY_ENCODING,
    FileError,
    HeaderMap,
    lookalike_columns,
    map_headers,
    plan_csv,
    read_table,
)
from chiso.sources import SOURCES, Source

log = logging.getLogger(__name__)

COPY_CHUNK_ROWS = 200_000

__all__ = ["LandedBatch", "Submission", "discover", "land", "source_of"]


def batch_id_of(submission: Submission, hashes: dict[str, str]) -> str:
    digest = hashlib.sha256(
        "\n".join(f"{name}:{hashes[name]}" for name in sorted(hashes)).encode()
    ).hexdigest()
    return f"{submission.unit_code}-{submission.period.label}-{digest[:12]}"


@dataclass
class LandedBatch:
    batch_id: str
    unit_code: str
    new: bool  # False when the same files had already been landed
    rows: dict[str, int]
    errors: list[str]
    entries: list[Entry] = field(default_factory=list)  # one per file of the folder


def discover(root: Path, period: Period, province: str | None = None) -> list[Submission]:
    """Submission folders <root>/<province>/<unit>/<YYYY-MM>/ for one period."""
    return survey(root, period, province).submissions


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def land(submissions: Iterable[Submission], root: Path, run_id: str,
         dsn: str | None = None, workers: int | None = None, analyze: bool = True) -> list[LandedBatch]:
    """Land submissions, one transaction per batch; `workers` > 1 lands in parallel processes
    (default: CHISO_LANDING_WORKERS). Workers are spawned, so a script calling this needs
    the usual `if __name__ == "__main__":` guard (each worker re-imports the main module)."""
    config.pseudonym_key()  # no key, no landing: fail before touching anything
    dsn = dsn or warehouse.url()
    workers = config.landing_workers() if workers is None else workers
    submissions = list(submissions)
    with warehouse.cursor(dsn) as cur:  # before any worker starts: one creator per partition
        for label in sorted({s.period.label for s in submissions}):
            cur.execute("select raw.ensure_period_partitions(%s)", (label,))
    if workers > 1 and multiprocessing.current_process().daemon:
        # A Celery worker's pool process may not start children: land serially there.
        log.info("landing serially: this process (a worker pool's) cannot start processes")
        workers = 1
    if workers > 1 and len(submissions) > workers:
        # Interleave so each worker gets a similar mix of large and small units.
        chunks = [submissions[i::workers] for i in range(workers)]
        # Spawn, not fork: forking a process that runs threads (Airflow's task runner does)
        # can copy a lock held by another thread and hang the child for ever.
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers, _init_worker, (log.getEffectiveLevel(),)) as pool:
            parts = pool.starmap(_land_serially, [(chunk, root, run_id, dsn) for chunk in chunks])
        landed = [batch for part in parts for batch in part]
    else:
        landed = _land_serially(submissions, root, run_id, dsn)
    if analyze and any(b.new for b in landed):
        # Fresh statistics keep the gate's joins on good plans (sql/010_raw.sql).
        with warehouse.cursor(dsn) as cur:
            cur.execute("select raw.analyze_periods(%s)",
                        (sorted({s.period.label for s in submissions}),))
    return landed


def _init_worker(level: int) -> None:
    # A spawned worker starts with bare logging; its "already landed" lines still belong in the log.
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _land_serially(submissions: list[Submission], root: Path, run_id: str, dsn: str) -> list[LandedBatch]:
    landed = []
    with warehouse.connect(dsn) as conn:
        with conn.cursor() as cur:
            # A batch is one transaction, committed thousands of times a month: not waiting
            # for each commit's WAL flush spares landing that wait. A crash can then lose the
            # last few batches' commits (never part of one: each stays atomic); their folders
            # are not in raw.batches, so the next run lands them again.
            cur.execute("set synchronous_commit = off")
        conn.commit()
        stager = staging.Stager.open(conn, config.pseudonym_key())
        for submission in submissions:
            try:
                with conn.cursor() as cur:
                    landed.append(_land_one(cur, submission, root, run_id, stager))
                conn.commit()
            except (OSError, psycopg2.DataError, psycopg2.IntegrityError) as err:
                # The folder itself could not be read (permissions, a file vanishing): the
                # batch is not landed and says why; the other submissions go on.
                conn.rollback()
                where = submission.directory.relative_to(root).as_posix()
                reason = f"{where}: submission could not be read ({type(err).__name__}: {err})"
                log.warning("refused %s", reason)
                entry = Entry(where, REFUSED, reason, submission.province_code, submission.unit_code)
                landed.append(LandedBatch("", submission.unit_code, False, {}, [reason], [entry]))
    conn.close()
    return landed


def _file_hash(path: Path) -> str:
    # A symbolic link is never followed: it is identified by where it points.
    return hashlib.sha256(os.readlink(path).encode()).hexdigest() if path.is_symlink() else sha256_of(path)


def _land_one(cur, submission: Submission, root: Path, run_id: str,
              stager: staging.Stager | None = None) -> LandedBatch:
    paths = {**submission.files, **{n: submission.directory / n for n in submission.refused}}
    hashes = {name: _file_hash(path) for name, path in paths.items()}
    batch_id = batch_id_of(submission, hashes)
    relative = {name: path.relative_to(root).as_posix() for name, path in paths.items()}
    codes = {"province_code": submission.province_code, "unit_code": submission.unit_code,
             "batch_id": batch_id}
    cur.execute("select status, verdict from raw.batches where batch_id = %s for update", (batch_id,))
    found = cur.fetchone()
    if found:
        _redeliver(cur, batch_id, found, submission, run_id)
        reason = f"same files as batch {batch_id}, already landed"
        log.info("%s: %s", submission.directory, reason)
        entries = [Entry(relative[n], DUPLICATE, reason, **codes) for n in sorted(paths)]
        return LandedBatch(batch_id, submission.unit_code, False, {}, [], entries)

    period = submission.period
    cur.execute(
        """insert into raw.batches (batch_id, province_code, unit_code, period, period_start,
               period_end, submission_dir, files, run_id, pseudonym_key)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (batch_id, submission.province_code, submission.unit_code, period.label, period.start,
         period.end, submission.directory.relative_to(root).as_posix(), len(hashes), run_id,
         pseudonym_key_id()),
    )
    rows: dict[str, int] = {}
    errors: list[str] = []
    entries: list[Entry] = []
    files: list[tuple] = []
    nested = False  # a file before this one opened the savepoint
    for name in sorted(paths):
        path, source = paths[name], source_of(paths[name]) or "unknown"
        delivered = landed_rows = note = lookalikes = None
        error = submission.refused.get(name)
        if error:
            error = f"{relative[name]}: {error}"
        else:
            delivered, landed_rows, note, error, lookalikes = _land_file(
                cur, batch_id, path, relative[name], hashes[name], source, submission, stager, nested)
            nested = True
        if source in SOURCES and landed_rows:
            rows[source] = rows.get(source, 0) + landed_rows
        if note and not error:
            log.warning("%s", note)
        if error:
            errors.append(error)
            log.warning("refused %s", error)
        files.append((batch_id, source, relative[name], hashes[name], path.lstat().st_size,
                      delivered, landed_rows, error, note, lookalikes))
        entries.append(Entry(relative[name], REFUSED if error else LANDED, error or note, **codes))
    # One statement for the folder's files: every round trip counts when a month has 14,000 files.
    execute_values(cur, """insert into raw.files (batch_id, source, source_file, file_sha256,
                               size_bytes, rows_delivered, rows_landed, error, note, lookalike_columns)
                           values %s""", files)
    return LandedBatch(batch_id, submission.unit_code, True, rows, errors, entries)


def _redeliver(cur, batch_id: str, found: tuple, submission: Submission, run_id: str) -> None:
    """The same files again: that batch speaks for the unit again, if the gate accepted it."""
    status, verdict = found
    cur.execute("update raw.batches set delivered_at = now(), run_id = %s where batch_id = %s",
                (run_id, batch_id))
    if status == "superseded" and verdict in ("passed", "warned"):
        cur.execute("select raw.make_current(%s)", (batch_id,))
        log.info("%s: batch %s re-delivered, current again", submission.directory, batch_id)


def _land_file(cur, batch_id: str, path: Path, relative: str, sha256: str, source: str,
               submission: Submission, stager: staging.Stager | None = None, nested: bool = False,
               ) -> tuple[int | None, int | None, str | None, str | None, str | None]:
    """Rows delivered, rows landed, a note, an error and the ignored headers that look like a
    contract column the file lacks (readers.lookalike_columns), for one file. Anything that goes
    wrong, in reading or in the COPY, refuses this file alone: its partial rows are rolled
    back to a savepoint and the batch records why. The savepoint stays open (the commit
    ends it); `nested`: the previous file's is released in the same round trip."""
    cur.execute(("release savepoint landing_file; " if nested else "") + "savepoint landing_file")
    try:
        if source == "bao_cao":
            landed = _land_report(cur, batch_id, path, relative, sha256, submission)
            result: tuple = (landed, landed, None, None, None)
        else:
            result = _land_tabular(cur, batch_id, submission.period.label, path, relative, source, stager)
    except FileError as err:
        cur.execute("rollback to savepoint landing_file")
        return None, None, None, str(err), None
    except psycopg2.Error as err:
        cur.execute("rollback to savepoint landing_file")
        detail = (err.diag.message_primary or str(err)).strip() if err.diag else str(err).strip()
        return None, None, None, f"{relative}: could not be loaded ({detail})", None
    except Exception as err:  # noqa: BLE001 — any failure on one file refuses that file only
        cur.execute("rollback to savepoint landing_file")
        log.debug("reading %s failed", relative, exc_info=True)
        return None, None, None, f"{relative}: cannot be read ({type(err).__name__}: {err})", None
    return result


def _land_tabular(cur, batch_id: str, period: str, path: Path, relative: str, source_name: str,
                  stager: staging.Stager | None = None,
                  ) -> tuple[int, int, str | None, str | None, str | None]:
    """Returns rows delivered, rows landed, a note (ignored columns), an error and the
    ignored headers that look like a missing contract column.

    A file with a missing required column still lands its rows (nothing is lost); the
    error makes the gate quarantine the batch with that reason.
    """
    source = SOURCES[source_name]
    body = plan_csv(path, source, relative) if stager and path.suffix.lower() == ".csv" else None
    if body is not None:
        mapping = map_headers(body.headers, source, relative)
        if mapping.columns:  # no contract column: read_table counts (or refuses) the rows
            provenance = {"period": period, "batch_id": batch_id, "source_file": relative}
            try:
                delivered, n = stager.land(cur, body, source, mapping.columns, provenance,
                                           savepoint="landing_file")
            except staging.Fallback as err:
                log.debug("%s: read in Python (%s)", relative, err)
            else:
                return (delivered, n, *_remarks(relative, source, mapping, mapping.columns.values()))
    result = read_table(path, source, display_name=relative)
    table = result.table
    note, error, lookalikes = _remarks(
        relative, source, HeaderMap({}, result.missing_required, result.ignored_columns),
        result.table.column_names, result.encoding, result.footer, result.numbering_row, result.merged)
    n = table.num_rows
    if "applicant_ref" in table.column_names:
        table = table.set_column(
            table.column_names.index("applicant_ref"), "applicant_ref",
            pa.array(pseudonymise(table.column("applicant_ref").to_pylist()), pa.string()),
        )
    provenance = {
        "period": pa.array([period] * n, pa.string()),
        "batch_id": pa.array([batch_id] * n, pa.string()),
        "source_file": pa.array([relative] * n, pa.string()),
        # Row numbers as a spreadsheet or text editor shows them (title rows and blank
        # lines included).
        "source_row": result.row_numbers.cast(pa.int32()),
    }
    for offset, (column, values) in enumerate(provenance.items()):
        table = table.add_column(offset, column, values)
    copy_table(cur, f"raw.{source_name}", table)
    return result.rows_delivered, n, note, error, lookalikes


def _remarks(relative: str, source: Source, mapping: HeaderMap, present: Iterable[str],
             encoding: str = "UTF-8", footer: Sequence[tuple[int, str]] = (),
             numbering_row: int | None = None, merged: Sequence[str] = (),
             ) -> tuple[str | None, str | None, str | None]:
    """The note (a legacy encoding, ignored columns, rows below the data, a column-numbering
    row, merged cells), error (missing required columns) and look-alike ignored headers of
    a file (`present`: the contract columns it has)."""
    error = None
    if mapping.missing_required:
        missing = ", ".join(f"{c} ({source.column(c).vietnamese})" for c in mapping.missing_required)
        error = f"{relative}: missing required column(s): {missing}"
    notes = []
    if encoding == LEGACY_ENCODING:
        notes.append(f"read as {LEGACY_ENCODING} (every character a Vietnamese letter); save it as UTF-8")
    lookalikes = lookalike_columns(mapping.ignored_columns, present, source)
    if mapping.ignored_columns:
        notes.append(f"ignored unknown column(s): {', '.join(mapping.ignored_columns)}")
    if lookalikes:
        notes.append(f"{'; '.join(lookalikes)}, which the file lacks: head it as the contract does")
    if merged:
        more = f" and {len(merged) - 3} more" if len(merged) > 3 else ""
        notes.append(f"cells merged down over several records ({', '.join(merged[:3])}{more}): "
                     "each of their rows read with the merged value")
    if numbering_row is not None:
        notes.append(f"row {numbering_row} under the header numbers the columns: no record, not landed")
    if footer:
        (first, label), last = footer[0], footer[-1][0]
        notes.append(f"row {first} below the data ({label!r}) is no record: not landed" if first == last
                     else f"rows {first}-{last} below the data (from {label!r}) are no records: not landed")
    return (f"{relative}: {'; '.join(notes)}" if notes else None), error, "; ".join(lookalikes) or None


def pseudonymise(values: list[str | None], key: bytes | None = None) -> list[str | None]:
    """HMAC-SHA256 of each reference under the secret key (config.pseudonym_key), 24 hex
    digits: the same person gets the same pseudonym under one key, and without the key
    no pseudonym can be recomputed from a guessed ID."""
    keyed = hmac.new(key or config.pseudonym_key(), digestmod=hashlib.sha256)

    def one(value: str) -> str:
        mac = keyed.copy()
        mac.update(value.encode())
        return mac.hexdigest()[:24]

    return [one(v) if v else None for v in values]


def pseudonym_key_id(key: bytes | None = None) -> str:
    """Names the key a batch was pseudonymised with (raw.batches.pseudonym_key) without
    revealing it: pseudonyms under different keys never match, and this says which is which."""
    return hmac.new(key or config.pseudonym_key(), b"chiso pseudonym key id",
                    hashlib.sha256).hexdigest()[:12]


def copy_table(cur, target: str, table: pa.Table) -> None:
    """COPY an Arrow table of strings into target, in chunks (bounded memory)."""
    columns = ", ".join(table.column_names)
    # An empty text is missing, as a null is: FORCE_NULL makes COPY read the quoted empty
    # field Arrow writes for "" as NULL too.
    texts = ", ".join(f.name for f in table.schema if pa.types.is_string(f.type))
    options = pcsv.WriteOptions(include_header=False, quoting_style="needed")
    sql = f"copy {target} ({columns}) from stdin with (format csv, force_null ({texts}))"
    for start in range(0, max(table.num_rows, 1), COPY_CHUNK_ROWS):
        chunk = table.slice(start, COPY_CHUNK_ROWS)
        if chunk.num_rows == 0:
            break
        buffer = io.BytesIO()
        pcsv.write_csv(chunk, buffer, options)
        buffer.seek(0)
        cur.copy_expert(sql, buffer)


def _land_report(cur, batch_id: str, path: Path, relative: str, sha256: str,
                 submission: Submission) -> int:
    from chiso.extract import ExtractionError, extract_report, store

    try:
        report = extract_report(path, province_hint=submission.province_code)
    except ExtractionError as err:
        # The message names the file by its absolute path: name it as the batch knows it.
        message = str(err).replace(str(path), relative)
        raise FileError(message if message.startswith(relative) else f"{relative}: {message}") from None
    # Extraction is its own step: the document as delivered, then its figures, candidates
    # and warnings in their own tables, stamped with the extractor version (re-extracted by
    # chiso.extract.store.reextract when the extractor changes).
    store.keep_document(cur, batch_id, relative, sha256, path.read_bytes())
    store.insert(cur, report, batch_id, relative, sha256, submission.unit_code)
    return len(report.figures)

