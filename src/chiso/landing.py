"""Land a period's submissions into schema `raw` with bulk COPY.

A batch is one unit's submission folder for one period. Its id is derived from the
sha256 of its files, so delivering the same files twice lands nothing new, and a
corrected resubmission (different files) becomes a new batch that supersedes the
previous one for that unit and period; the old rows stay for history.
"""

from __future__ import annotations

import hashlib
import io
import logging
import multiprocessing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from chiso import config, warehouse
from chiso.periods import Period
from chiso.readers import FileError, read_table
from chiso.sources import REPORT_EXTENSIONS, SOURCES, TABULAR_EXTENSIONS

log = logging.getLogger(__name__)

COPY_CHUNK_ROWS = 200_000


@dataclass
class Submission:
    province_code: str
    unit_code: str
    period: Period
    directory: Path
    files: dict[str, Path]  # relative name → path, tabular and report files
    unknown_files: list[str] = field(default_factory=list)

    def batch_id(self, hashes: dict[str, str]) -> str:
        digest = hashlib.sha256(
            "\n".join(f"{name}:{hashes[name]}" for name in sorted(hashes)).encode()
        ).hexdigest()
        return f"{self.unit_code}-{self.period.label}-{digest[:12]}"


@dataclass
class LandedBatch:
    batch_id: str
    unit_code: str
    new: bool  # False when the same files had already been landed
    rows: dict[str, int]
    errors: list[str]


def source_of(path: Path) -> str | None:
    stem, suffix = path.stem.lower(), path.suffix.lower()
    if suffix in TABULAR_EXTENSIONS and stem in SOURCES:
        return stem
    if suffix in REPORT_EXTENSIONS:
        return "bao_cao"
    return None


def discover(root: Path, period: Period, province: str | None = None) -> list[Submission]:
    """Submission folders <root>/<province>/<unit>/<YYYY-MM>/ for one period."""
    if not root.is_dir():
        raise FileNotFoundError(f"submissions folder {root} does not exist")
    pattern = f"{province or '*'}/*/{period.label}"
    found = []
    for folder in sorted(p for p in root.glob(pattern) if p.is_dir()):
        unit_code, province_code = folder.parent.name, folder.parent.parent.name
        files, unknown = {}, []
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            if source_of(path):
                files[path.name] = path
            else:
                unknown.append(path.name)
        found.append(Submission(province_code, unit_code, period, folder, files, unknown))
    return found


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
        for submission in submissions:
            with conn.cursor() as cur:
                landed.append(_land_one(cur, submission, root, run_id))
            conn.commit()
    conn.close()
    return landed


def _land_one(cur, submission: Submission, root: Path, run_id: str) -> LandedBatch:
    hashes = {name: sha256_of(path) for name, path in submission.files.items()}
    batch_id = submission.batch_id(hashes)
    cur.execute("select 1 from raw.batches where batch_id = %s", (batch_id,))
    if cur.fetchone():
        log.info("%s: already landed as %s, skipped", submission.directory, batch_id)
        return LandedBatch(batch_id, submission.unit_code, False, {}, [])

    period = submission.period
    cur.execute(
        """insert into raw.batches (batch_id, province_code, unit_code, period, period_start,
               period_end, submission_dir, files, run_id)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (batch_id, submission.province_code, submission.unit_code, period.label, period.start,
         period.end, str(submission.directory.relative_to(root)), len(hashes), run_id),
    )
    rows: dict[str, int] = {}
    errors: list[str] = []
    for name, path in submission.files.items():
        relative = str(path.relative_to(root))
        source = source_of(path)
        delivered = landed_rows = None
        error = note = None
        try:
            if source == "bao_cao":
                landed_rows = _land_report(cur, batch_id, path, relative, hashes[name], submission)
                delivered = landed_rows
            else:
                delivered, landed_rows, note, error = _land_tabular(
                    cur, batch_id, period.label, path, relative, source
                )
                rows[source] = rows.get(source, 0) + landed_rows
        except FileError as err:
            error = str(err)
        if note and not error:
            log.warning("%s", note)
        if error:
            errors.append(error)
            log.warning("%s", error)
        cur.execute(
            """insert into raw.files (batch_id, source, source_file, file_sha256, size_bytes,
                   rows_delivered, rows_landed, error, note)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (batch_id, source, relative, hashes[name], path.stat().st_size, delivered,
             landed_rows, error, note),
        )
    for name in submission.unknown_files:
        log.warning("%s/%s: not a submission file (ignored)", submission.directory, name)
    cur.execute(
        """update raw.batches set status = 'superseded', superseded_by = %s
           where unit_code = %s and period = %s and batch_id <> %s and status <> 'superseded'""",
        (batch_id, submission.unit_code, period.label, batch_id),
    )
    return LandedBatch(batch_id, submission.unit_code, True, rows, errors)


def _land_tabular(cur, batch_id: str, period: str, path: Path, relative: str,
                  source_name: str) -> tuple[int, int, str | None, str | None]:
    """Returns rows delivered, rows landed, a note (ignored columns) and an error.

    A file with a missing required column still lands its rows (nothing is lost); the
    error makes the gate quarantine the batch with that reason.
    """
    source = SOURCES[source_name]
    result = read_table(path, source, display_name=relative)
    table = result.table
    error = note = None
    if result.missing_required:
        missing = ", ".join(f"{c} ({source.column(c).vietnamese})" for c in result.missing_required)
        error = f"{relative}: missing required column(s): {missing}"
    if result.ignored_columns:
        note = f"{relative}: ignored unknown column(s): {', '.join(result.ignored_columns)}"
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
        # Row numbers as a spreadsheet shows them: the header is row 1.
        "source_row": pa.array(range(2, n + 2), pa.int32()),
    }
    for offset, (column, values) in enumerate(provenance.items()):
        table = table.add_column(offset, column, values)
    copy_table(cur, f"raw.{source_name}", table)
    return result.rows_delivered, n, note, error


def pseudonymise(values: list[str | None]) -> list[str | None]:
    salt = config.pseudonym_salt().encode()
    return [
        hashlib.sha256(salt + v.encode()).hexdigest()[:24] if v else None for v in values
    ]


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
    from chiso.extract import ExtractionError, extract_report

    try:
        report = extract_report(path, province_hint=submission.province_code)
    except ExtractionError as err:
        # The message names the file by its absolute path: name it as the batch knows it.
        message = str(err).replace(str(path), relative)
        raise FileError(message if message.startswith(relative) else f"{relative}: {message}") from None
    rows = [
        (batch_id, relative, sha256, report.document_kind, report.unit_code or submission.unit_code,
         report.unit_name, report.period, f.name.lower(), f.value, f.unit, f.max_value, f.line_no,
         f.source_text)
        for f in report.figures
    ]
    rows += [
        (batch_id, relative, sha256, report.document_kind, report.unit_code or submission.unit_code,
         report.unit_name, report.period, f"warning:{w.rule}", None, None, None, w.line_no,
         w.message)
        for w in report.warnings
    ]
    if rows:
        cur.executemany(
            """insert into raw.report_figures (batch_id, source_file, file_sha256, document_kind,
                   unit_code, unit_name, period, figure, value, value_unit, max_value, line_no,
                   source_text)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            rows,
        )
    return len(report.figures)

