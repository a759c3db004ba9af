"""Extraction as its own step: the document as delivered in raw, figures re-extracted when the
extractor changes.

Landing keeps each report's bytes in `raw.report_documents` (with its sha256) and its
extraction in `raw.report_figures` (figures and candidates, `status`) and
`raw.report_warnings`, each row stamped with `EXTRACTOR_VERSION`. `reextract()` (the DAG's
`reextract_reports` task, `chiso extract --reprocess`) extracts again every stored document
whose rows carry another version (or all, with `force`), replacing its rows in one
transaction per document; a document that no longer reads keeps its old rows.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path, PurePosixPath

from psycopg2.extras import execute_values

from . import EXTRACTOR_VERSION, ExtractionError, extract_report
from .model import Report

log = logging.getLogger(__name__)

FIGURE_COLUMNS = (
    "batch_id source_file file_sha256 document_kind unit_code unit_name period figure value value_unit "
    "max_value line_no source_text status confidence support extractor_version"
).split()
WARNING_COLUMNS = (
    "batch_id source_file file_sha256 unit_code period rule message line_no extractor_version"
).split()


def figure_rows(
    report: Report, batch_id: str, source_file: str, sha256: str, unit_code: str | None
) -> list[tuple]:
    """raw.report_figures rows: figures, then candidates (status 'candidate')."""
    unit = report.unit_code or unit_code
    return [
        (batch_id, source_file, sha256, report.document_kind, unit, report.unit_name, report.period,
         f.name.lower(), f.value, f.unit, f.max_value, f.line_no, f.source_text, f.status, f.confidence,
         ";".join(f.support), report.extractor_version or EXTRACTOR_VERSION)
        for f in [*report.figures, *report.candidates]
    ]


def warning_rows(
    report: Report, batch_id: str, source_file: str, sha256: str, unit_code: str | None
) -> list[tuple]:
    unit = report.unit_code or unit_code
    return [
        (batch_id, source_file, sha256, unit, report.period, w.rule, w.message, w.line_no,
         report.extractor_version or EXTRACTOR_VERSION)
        for w in report.warnings
    ]


def insert(cur, report: Report, batch_id: str, source_file: str, sha256: str, unit_code: str | None) -> None:
    # One statement per table (executemany would make a round trip per figure).
    execute_values(cur, f"insert into raw.report_figures ({', '.join(FIGURE_COLUMNS)}) values %s",
                   figure_rows(report, batch_id, source_file, sha256, unit_code))
    execute_values(cur, f"insert into raw.report_warnings ({', '.join(WARNING_COLUMNS)}) values %s",
                   warning_rows(report, batch_id, source_file, sha256, unit_code))


def keep_document(cur, batch_id: str, source_file: str, sha256: str, content: bytes) -> None:
    """The report as delivered, for re-extraction (idempotent per batch and file)."""
    cur.execute(
        """insert into raw.report_documents (batch_id, source_file, file_sha256, content)
           values (%s, %s, %s, %s) on conflict (batch_id, source_file) do nothing""",
        (batch_id, source_file, sha256, content),
    )


def reextract(cur, force: bool = False) -> dict[str, int]:
    """Extract again the stored reports whose rows carry another extractor version."""
    cur.execute(
        """select d.batch_id, d.source_file, d.file_sha256, d.content, b.province_code, b.unit_code
           from raw.report_documents d
           join raw.batches b on b.batch_id = d.batch_id
           where %s or not exists (
               select 1 from raw.report_figures f
               where f.batch_id = d.batch_id and f.source_file = d.source_file
                 and f.extractor_version = %s
           ) and not exists (
               select 1 from raw.report_warnings w
               where w.batch_id = d.batch_id and w.source_file = d.source_file
                 and w.extractor_version = %s
           )
           order by d.batch_id, d.source_file""",
        (force, EXTRACTOR_VERSION, EXTRACTOR_VERSION),
    )
    documents = cur.fetchall()
    done = {"documents": len(documents), "reextracted": 0, "unreadable": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for batch_id, source_file, sha256, content, province, unit in documents:
            path = Path(tmp) / PurePosixPath(source_file).name
            path.write_bytes(bytes(content))
            try:
                report = extract_report(path, province_hint=province)
            except ExtractionError as err:
                log.warning("%s: %s; its earlier extraction is kept", source_file, err)
                done["unreadable"] += 1
                continue
            cur.execute("savepoint reextract")
            for table in ("raw.report_figures", "raw.report_warnings"):
                cur.execute(f"delete from {table} where batch_id = %s and source_file = %s",
                            (batch_id, source_file))
            insert(cur, report, batch_id, source_file, sha256, unit)
            cur.execute("release savepoint reextract")
            done["reextracted"] += 1
    log.info("re-extracted %(reextracted)d of %(documents)d stored reports", done)
    return done


def reextract_warehouse(dsn: str | None = None, force: bool = False) -> dict[str, int]:
    """`reextract` on the warehouse as the loader (the DAG task, `chiso extract --reprocess`)."""
    from chiso import warehouse

    with warehouse.cursor(dsn or warehouse.role_url("loader")) as cur:
        return reextract(cur, force=force)
