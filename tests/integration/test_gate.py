"""The gate as a specification: given these hand-made submissions, these verdicts.

Runs in a throwaway database on the test session's embedded PostgreSQL (or the server
of WAREHOUSE_URL); never skipped.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import pytest

from chiso.gate import build_data_docs, load_suites, run_gate
from chiso.sources import SOURCES

REPO = Path(__file__).resolve().parents[2]
PERIOD = "2025-09"
PERIOD_START, PERIOD_END = "2025-09-01", "2025-09-30"
log = logging.getLogger(__name__)


def _database(dsn: str, name: str) -> str:
    """The same server's DSN for another database."""
    return urlsplit(dsn)._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="module")
def db_url(server_dsn: str) -> Iterator[str]:
    name = f"chiso_gate_test_{uuid.uuid4().hex[:8]}"
    admin = _database(server_dsn, "postgres")
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        conn.cursor().execute(f"create database {name}")
    url = _database(server_dsn, name)
    with contextlib.closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        for script in sorted((REPO / "sql").glob("*.sql")):
            cur.execute(script.read_text(encoding="utf-8"))
        with (REPO / "src/chiso/data/communes_2025.csv").open(encoding="utf-8") as fh:
            cur.copy_expert("copy ref.communes from stdin with (format csv, header)", fh)
        conn.commit()
    yield url
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        conn.cursor().execute(f"drop database if exists {name} with (force)")


@pytest.fixture(scope="module")
def context_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the committed GX context, so tests never write into the checkout."""
    target = tmp_path_factory.mktemp("gx") / "expectations"
    target.mkdir()
    shutil.copy(REPO / "expectations/great_expectations.yml", target)
    shutil.copytree(REPO / "expectations/suites", target / "suites")
    return target


@pytest.fixture(scope="module")
def units() -> list[str]:
    with (REPO / "src/chiso/data/communes_2025.csv").open(encoding="utf-8") as fh:
        return [row["code"] for row in csv.DictReader(fh) if row["province_code"] == "31"]


# --- hand-made submissions --------------------------------------------------------------------


def dossier(n: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, str | None] = {
        "dossier_id": f"HS-{n:04d}",
        "procedure_code": "1.001234",
        "received_at": "2025-09-02 08:00",
        "channel": "online",
        "due_at": "2025-09-10 17:00",
        "completed_at": "2025-09-08 10:00",
        "result_returned_at": "2025-09-09",
        "status": "returned",
        "supplement_count": "0",
        "synced_to_national_portal": "true",
        "has_e_result": "Có",
        "digitised": "1",
        "reused_data": "no",
        "citizen_db_data": "FALSE",
        "personal_storage_linked": "yes",
        "fee_amount": "50000",
        "applicant_ref": f"A{n}",
    }
    row.update(overrides)
    return row


def payment(n: int, dossier_id: str, **overrides: str) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "payment_id": f"TT-{n:04d}",
        "dossier_id": dossier_id,
        "amount": "50000",
        "method": "online",
        "paid_at": "2025-09-03 09:15:00",
        "status": "success",
    }
    row.update(overrides)
    return row


def feedback(n: int, dossier_id: str | None, **overrides: str) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "feedback_id": f"PA-{n:04d}",
        "dossier_id": dossier_id,
        "received_at": "2025-09-04",
        "due_at": "2025-09-14",
        "handled_at": "2025-09-05",
        "status": "handled",
        "rating": "satisfied",
        "repeated": "false",
    }
    row.update(overrides)
    return row


def procedure(code: str) -> dict[str, str | None]:
    return {
        "procedure_code": code,
        "name": "Chứng thực bản sao từ bản chính",
        "service_level": "full",
        "has_fee": "true",
        "returns_paper_result": "false",
        "published_on_time": "true",
        "publicised_on_time": "true",
        "publication_complete": "true",
        "e_certified_copy": "true",
    }


def land(
    cur: Any,
    batch_id: str,
    unit: str,
    *,
    period: str = PERIOD,
    start: str = PERIOD_START,
    end: str = PERIOD_END,
    status: str = "landed",
    sources: dict[str, list[dict[str, str | None]]] | None = None,
    first_row: int = 2,
    file_errors: dict[str, str] | None = None,
    rows_landed: dict[str, int] | None = None,
) -> None:
    """What landing leaves behind: raw.batches, raw.files and the as-delivered rows."""
    sources = sources or {}
    folder = f"31/{unit}/{period}"
    cur.execute(
        """insert into raw.batches (batch_id, province_code, unit_code, period, period_start,
               period_end, submission_dir, files, status)
           values (%s, '31', %s, %s, %s, %s, %s, %s, %s)""",
        (batch_id, unit, period, start, end, folder, len(sources), status),
    )
    for source, rows in sources.items():
        path = f"{folder}/{source}.csv"
        landed = (rows_landed or {}).get(source, len(rows))
        cur.execute(
            """insert into raw.files (batch_id, source, source_file, file_sha256, size_bytes,
                   rows_delivered, rows_landed)
               values (%s, %s, %s, %s, 100, %s, %s)""",
            (batch_id, source, path, uuid.uuid4().hex, len(rows), landed),
        )
        columns = SOURCES[source].column_names
        for i, row in enumerate(rows):
            row_no = row.get("_row") or first_row + i
            cur.execute(
                f"""insert into raw.{source} (period, batch_id, source_file, source_row,
                        {", ".join(columns)})
                    values (%s, %s, %s, %s, {", ".join(["%s"] * len(columns))})""",
                (period, batch_id, path, row_no, *[row.get(c) for c in columns]),
            )
    for source, error in (file_errors or {}).items():
        cur.execute(
            """insert into raw.files (batch_id, source, source_file, file_sha256, size_bytes, error)
               values (%s, %s, %s, 'x', 10, %s)""",
            (batch_id, source, f"{folder}/{source}.xlsx", error),
        )


def clean_submission(prefix: str = "HS") -> dict[str, list[dict[str, str | None]]]:
    dossiers = [dossier(i, dossier_id=f"{prefix}-{i:04d}") for i in range(1, 4)]
    return {
        "ho_so": dossiers,
        "thanh_toan": [payment(1, f"{prefix}-0001")],
        "pakn": [feedback(1, f"{prefix}-0002"), feedback(2, None)],
        "danh_muc_tthc": [procedure("1.001234"), procedure("2.000987")],
    }


def with_ho_so(prefix: str, *rows: dict[str, str | None]) -> dict[str, list[dict[str, Any]]]:
    submission = clean_submission(prefix)
    submission["ho_so"] = list(rows)
    submission["thanh_toan"] = []
    submission["pakn"] = []
    return submission


def figure_rows(cur: Any, batch_id: str, unit: str, figures: dict[str, float]) -> None:
    path = f"31/{unit}/{PERIOD}/bao_cao.txt"
    cur.execute(
        """insert into raw.files (batch_id, source, source_file, file_sha256, size_bytes)
           values (%s, 'bao_cao', %s, 'y', 5000)""",
        (batch_id, path),
    )
    for line, (figure, value) in enumerate(figures.items(), start=40):
        cur.execute(
            """insert into raw.report_figures (batch_id, source_file, file_sha256, document_kind,
                   unit_code, period, figure, value, value_unit, line_no, source_text)
               values (%s, %s, 'y', 'monthly_report', %s, %s, %s, %s, 'count', %s, 'text')""",
            (batch_id, path, unit, PERIOD, figure, value, line),
        )


RAW_TABLES = ("ho_so", "thanh_toan", "pakn", "danh_muc_tthc", "report_figures", "files")


def raw_fingerprint(cur: Any) -> dict[str, tuple[int, str]]:
    out = {}
    for table in RAW_TABLES:
        cur.execute(
            f"select count(*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '')"
            f" from raw.{table} t"
        )
        out[table] = cur.fetchone()
    return out


# --- the specification ------------------------------------------------------------------------


# The hand-made batches gated in one run, each a case of the specification below.
IN_RUN = (
    "clean",
    "fee",
    "window",
    "unknown_unit",
    "dup",
    "orphan_payment",
    "bad_date",
    "warn_feedback",
    "figures",
    "unreadable",
    "no_ho_so",
    "no_catalogue",
    "no_payments",
    "late_payment",
    "stray_payment",
    "empty_ho_so",
    "second_download",
    "report_without_figures",
    "elsewhere",
    "volume",
)


@pytest.fixture(scope="module")
def gated(db_url: str, context_dir: Path, units: list[str]) -> dict[str, Any]:
    u = iter(units)
    # a unit of its own for each batch of the run but unknown_unit (its code is no commune),
    # and for other_unit, which only delivered history
    unit = {name: next(u) for name in (*(b for b in IN_RUN if b != "unknown_unit"), "other_unit")}
    with contextlib.closing(psycopg2.connect(db_url)) as conn, conn.cursor() as cur:
        land(cur, "clean", unit["clean"], sources=clean_submission("CL"))
        land(
            cur,
            "fee",
            unit["fee"],
            sources=with_ho_so(
                "FE",
                dossier(1, dossier_id="FE-1"),
                dossier(2, dossier_id="FE-2", fee_amount="-5000"),
            ),
        )
        land(
            cur,
            "window",
            unit["window"],
            sources=with_ho_so(
                "WI",
                dossier(1, dossier_id="WI-1", _row=16),
                dossier(2, dossier_id="WI-2", received_at="2025-10-02 10:00", due_at="2025-10-10 17:00",
                        completed_at=None, result_returned_at=None, status="in_progress", _row=17),
                # carried over from August and processed in September: belongs in the file
                dossier(3, dossier_id="WI-3", received_at="2025-08-20 08:00", _row=18),
                # received and finished in August: an earlier period's dossier (warn)
                dossier(4, dossier_id="WI-4", received_at="2025-08-05 08:00", due_at="2025-08-15 17:00",
                        completed_at="2025-08-12 10:00", result_returned_at="2025-08-13", _row=19),
            ),
        )
        land(cur, "unknown_unit", "99999", sources=clean_submission("UU"))
        land(
            cur,
            "dup",
            unit["dup"],
            sources=with_ho_so(
                "DU",
                dossier(1, dossier_id="DU-1"),
                dossier(2, dossier_id="DU-1"),
                dossier(3, dossier_id="DU-3"),
            ),
        )
        orphan = clean_submission("OP")
        orphan["thanh_toan"] = [payment(1, "OP-0001"), payment(2, "OP-9999")]
        land(cur, "orphan_payment", unit["orphan_payment"], sources=orphan)
        land(
            cur,
            "bad_date",
            unit["bad_date"],
            sources=with_ho_so(
                "BD",
                dossier(1, dossier_id="BD-1", due_at="31/09/2025"),
                dossier(2, dossier_id="BD-2", completed_at="2025-09-31"),
            ),
        )
        warn_feedback = clean_submission("WF")
        warn_feedback["pakn"] = [feedback(1, "WF-0404")]
        land(cur, "warn_feedback", unit["warn_feedback"], sources=warn_feedback)
        land(cur, "figures", unit["figures"], sources=clean_submission("FG"))
        figure_rows(
            cur,
            "figures",
            unit["figures"],
            {
                "dossiers_total": 921,
                "dossiers_carried_over": 14,
                "dossiers_received": 879,
                "dossiers_received_online": 851,
                "dossiers_received_direct": 28,
            },
        )
        land(
            cur,
            "unreadable",
            unit["unreadable"],
            sources=clean_submission("UR"),
            file_errors={"pakn": "pakn.xlsx row 7 field received_at: cannot read cell"},
        )
        land(cur, "no_ho_so", unit["no_ho_so"], sources={"pakn": [feedback(1, None)]})
        # without its catalogue a unit would score nothing on eight criteria; without its
        # payments and feedback files, no online payment and no complaint
        no_catalogue = clean_submission("NC")
        del no_catalogue["danh_muc_tthc"]
        land(cur, "no_catalogue", unit["no_catalogue"], sources=no_catalogue)
        no_payments = clean_submission("NP")
        del no_payments["thanh_toan"], no_payments["pakn"]
        land(cur, "no_payments", unit["no_payments"], sources=no_payments)
        # paid in September for a dossier the same unit delivered (finished) in August: a real
        # dossier; a payment for another unit's August dossier is still an orphan
        land(cur, "late_payment_aug", unit["late_payment"], period="2025-08", start="2025-08-01",
             end="2025-08-31", status="passed",
             sources={"ho_so": [dossier(1, dossier_id="LP-OLD", received_at="2025-08-04")]})
        late_payment = clean_submission("LP")
        late_payment["thanh_toan"] = [payment(1, "LP-0001"), payment(2, "LP-OLD")]
        land(cur, "late_payment", unit["late_payment"], sources=late_payment)
        stray_payment = clean_submission("SP")
        stray_payment["thanh_toan"] = [payment(1, "SHARED-1")]
        land(cur, "stray_payment", unit["stray_payment"], sources=stray_payment)
        empty = clean_submission("EH")
        empty["ho_so"], empty["thanh_toan"], empty["pakn"] = [], [], []
        land(cur, "empty_ho_so", unit["empty_ho_so"], sources=empty)
        land(cur, "report_without_figures", unit["report_without_figures"], sources=clean_submission("RF"))
        figure_rows(cur, "report_without_figures", unit["report_without_figures"], {})
        # the folder also held 'ho_so (2).csv', which landing did not read (audit.inventory)
        land(cur, "second_download", unit["second_download"], sources=clean_submission("SD"))
        folder = f"31/{unit['second_download']}/{PERIOD}"
        cur.execute("update raw.batches set run_id = 'land-1' where batch_id = 'second_download'")
        cur.execute(
            """insert into audit.inventory (run_id, period, province_code, unit_code, path, status, reason)
               values ('land-1', %s, '31', %s, %s, 'not_a_submission', %s),
                      ('land-1', %s, '31', %s, %s, 'not_a_submission', %s)""",
            (PERIOD, unit["second_download"], f"{folder}/ho_so (2).csv",
             "not a submission file name; did you mean ho_so.csv? (a second download or a copy?)",
             PERIOD, unit["second_download"], f"{folder}/ghi chu.txt",
             "not a submission file (expected ho_so, …)"),
        )
        # Delivered earlier by another commune; this run's batch repeats one of its dossiers.
        land(
            cur,
            "other_unit_aug",
            unit["other_unit"],
            period="2025-08",
            start="2025-08-01",
            end="2025-08-31",
            status="passed",
            sources={"ho_so": [dossier(1, dossier_id="SHARED-1", received_at="2025-08-03")]},
        )
        land(
            cur,
            "elsewhere",
            unit["elsewhere"],
            sources=with_ho_so(
                "EL",
                dossier(1, dossier_id="SHARED-1"),
                dossier(2, dossier_id="EL-2"),
            ),
        )
        # the clean unit delivered HS-0001 in August too, still open then: a carry-over by
        # the same unit, not a dossier delivered elsewhere (the clean batch stays clean)
        land(
            cur,
            "clean_august",
            unit["clean"],
            period="2025-08",
            start="2025-08-01",
            end="2025-08-31",
            status="passed",
            sources={"ho_so": [dossier(1, dossier_id="HS-0001", received_at="2025-08-29 08:00",
                                       completed_at=None, result_returned_at=None, status="in_progress")]},
        )
        for month in ("06", "07", "08"):
            land(
                cur,
                f"volume_{month}",
                unit["volume"],
                period=f"2025-{month}",
                start=f"2025-{month}-01",
                end=f"2025-{month}-28",
                status="passed",
                sources={"ho_so": []},
                rows_landed={"ho_so": 100},
            )
        land(cur, "volume", unit["volume"], sources=clean_submission("VO"))
        conn.commit()
        before = raw_fingerprint(cur)

    started = time.perf_counter()
    verdicts = run_gate(db_url, "run-1", list(IN_RUN), context_dir=context_dir)
    log.info("gate over %d hand-made batches: %.2f s", len(IN_RUN), time.perf_counter() - started)
    return {"verdicts": verdicts, "before": before, "batches": list(IN_RUN), "units": unit}


def query(db_url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(psycopg2.connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def reasons_of(gated: dict[str, Any], batch_id: str) -> str:
    return "\n".join(gated["verdicts"][batch_id].reasons)


def test_a_file_of_the_folder_not_read_is_named(gated: dict[str, Any]) -> None:
    reasons = [r for r in gated["verdicts"]["second_download"].reasons if "folder_files_read" in r]
    assert len(reasons) == 1 and "ho_so (2).csv" in reasons[0] and "ghi chu" not in reasons[0]


def test_a_payment_for_a_dossier_of_an_earlier_month_of_the_unit_passes(gated: dict[str, Any]) -> None:
    verdict = gated["verdicts"]["late_payment"]
    assert (verdict.status, verdict.reasons) == ("passed", [])


def test_clean_submission_passes(gated: dict[str, Any], db_url: str) -> None:
    verdict = gated["verdicts"]["clean"]
    assert (verdict.status, verdict.reasons) == ("passed", [])
    assert query(db_url, "select status, reason from raw.batches where batch_id = 'clean'") == [
        ("passed", None)
    ]


@pytest.mark.parametrize(
    ("batch_id", "rule", "source_row", "field", "value"),
    [
        ("fee", "ho_so.amounts_not_negative", 3, "fee_amount", "-5000"),
        ("window", "ho_so.received_in_period", 17, "received_at", "2025-10-02 10:00"),
        ("unknown_unit", "batches.unit_code_valid", None, "unit_code", "99999"),
        ("dup", "ho_so.dossier_id_unique", 2, "dossier_id", "DU-1"),
        ("orphan_payment", "thanh_toan.dossier_exists", 3, "dossier_id", "OP-9999"),
        ("stray_payment", "thanh_toan.dossier_exists", 2, "dossier_id", "SHARED-1"),
        ("bad_date", "ho_so.timestamps_parse", 2, "due_at", "31/09/2025"),
        ("bad_date", "ho_so.timestamps_parse", 3, "completed_at", "2025-09-31"),
        ("unreadable", "batches.files_readable", None, "file", "pakn"),
        ("no_ho_so", "batches.ho_so_delivered", None, "file", "ho_so"),
        ("no_catalogue", "batches.danh_muc_tthc_delivered", None, "file", "danh_muc_tthc"),
    ],
)
def test_errors_quarantine_with_reason_and_violations(
    gated: dict[str, Any],
    db_url: str,
    batch_id: str,
    rule: str,
    source_row: int | None,
    field: str,
    value: str,
) -> None:
    verdict = gated["verdicts"][batch_id]
    assert verdict.status == "quarantined"
    assert any(r.startswith(f"[error] {rule}") for r in verdict.reasons), verdict.reasons
    status, reason = query(db_url, "select status, reason from raw.batches where batch_id = %s", batch_id)[0]
    assert status == "quarantined" and rule in reason
    violations = query(
        db_url,
        """select source_row, field, value, severity from audit.rule_violations
           where run_id = 'run-1' and batch_id = %s and expectation = %s""",
        batch_id,
        rule,
    )
    assert (source_row, field, value, "error") in violations
    results = query(
        db_url,
        """select success, severity, quarantined, unexpected_count from audit.expectation_results
           where run_id = 'run-1' and batch_id = %s and expectation = %s""",
        batch_id,
        rule,
    )
    assert results[0][:3] == (False, "error", True) and results[0][3] >= 1


def test_reason_reads_like_an_auditor_wrote_it(gated: dict[str, Any]) -> None:
    assert (
        "ho_so.csv row 17 field received_at value '2025-10-02 10:00' — "
        "received date after the period 2025-09-01..2025-09-30"
    ) in reasons_of(gated, "window")
    assert "unit_code value '99999' (not a 2025 commune code)" in reasons_of(gated, "unknown_unit")
    assert "pakn.xlsx row 7 field received_at: cannot read cell" in reasons_of(gated, "unreadable")
    assert "appears 2 times" in reasons_of(gated, "dup")


@pytest.mark.parametrize(
    ("batch_id", "rule"),
    [
        ("warn_feedback", "pakn.dossier_exists"),
        ("figures", "report_figures.total_is_carried_over_plus_received"),
        ("elsewhere", "ho_so.dossier_not_delivered_elsewhere"),
        ("volume", "ho_so.volume_plausible"),
        ("no_payments", "batches.thanh_toan_delivered"),
        ("no_payments", "batches.pakn_delivered"),
        ("empty_ho_so", "batches.ho_so_not_empty"),
        ("second_download", "batches.folder_files_read"),
        ("report_without_figures", "batches.report_has_figures"),
    ],
)
def test_warnings_load_and_are_reported(gated: dict[str, Any], db_url: str, batch_id: str, rule: str) -> None:
    verdict = gated["verdicts"][batch_id]
    assert verdict.status == "warned", verdict.reasons
    assert [r for r in verdict.reasons if not r.startswith("[warn]")] == []
    assert any(rule in r for r in verdict.reasons), verdict.reasons
    rows = query(
        db_url,
        """select success, severity, quarantined from audit.expectation_results
           where run_id = 'run-1' and batch_id = %s and expectation = %s""",
        batch_id,
        rule,
    )
    assert rows == [(False, "warn", False)]


def test_report_arithmetic_shows_both_figures(gated: dict[str, Any], db_url: str) -> None:
    observed = query(
        db_url,
        """select observed_value from audit.expectation_results
           where batch_id = 'figures'
             and expectation = 'report_figures.total_is_carried_over_plus_received'""",
    )
    assert observed == [("dossiers_total 921 ≠ 14 + 879 = 893",)]
    channels = query(
        db_url,
        """select success from audit.expectation_results
           where batch_id = 'figures' and expectation = 'report_figures.received_is_sum_of_channels'""",
    )
    assert channels == [(True,)]  # 851 + 28 = 879


def test_carried_over_dossiers_belong_in_the_file(db_url: str, gated: dict[str, Any]) -> None:
    """Received before the period and processed in it: no finding; finished before it: a warning."""
    flagged = query(
        db_url,
        """select expectation, source_row, severity from audit.rule_violations
           where run_id = 'run-1' and batch_id = 'window' and source_row in (18, 19)""",
    )
    assert flagged == [("ho_so.carried_over_processed_in_period", 19, "warn")]


def test_cross_batch_and_volume_details(gated: dict[str, Any]) -> None:
    other = gated["units"]["other_unit"]
    assert f"also delivered by unit {other} for 2025-08" in reasons_of(gated, "elsewhere")
    assert "value '3' (median of 3 earlier periods = 100)" in reasons_of(gated, "volume")


def test_one_result_per_expectation_and_batch(gated: dict[str, Any], db_url: str) -> None:
    rules = sum(len(s.rules) for s in load_suites(REPO / "expectations/suites"))
    rows = query(
        db_url,
        """select batch_id, count(*), count(distinct expectation) from audit.expectation_results
           where run_id = 'run-1' group by batch_id""",
    )
    assert sorted(b for b, _, _ in rows) == sorted(gated["batches"])
    assert {(n, d) for _, n, d in rows} == {(rules, rules)}


def test_the_planner_sees_the_verdicts(gated: dict[str, Any], db_url: str) -> None:
    """Models read accepted batches only: after the gate, the planner's estimate of them
    comes from statistics taken after the verdicts, not from landing's (all 'landed')."""
    accepted_batches = "select * from raw.batches where status in ('passed', 'warned')"
    accepted = query(db_url, f"select count(*) from ({accepted_batches}) b")[0][0]
    estimate = query(db_url, f"explain (format json) {accepted_batches}")[0][0][0]["Plan"]["Plan Rows"]
    assert accepted >= 5
    assert accepted / 2 <= estimate <= accepted * 2, (estimate, accepted)


def test_nothing_lost_and_history_untouched(gated: dict[str, Any], db_url: str) -> None:
    with contextlib.closing(psycopg2.connect(db_url)) as conn, conn.cursor() as cur:
        assert raw_fingerprint(cur) == gated["before"]
    assert query(db_url, "select status from raw.batches where batch_id like 'volume\\_0%%' group by 1") == [
        ("passed",)
    ]


def test_rerun_is_idempotent(gated: dict[str, Any], db_url: str, context_dir: Path) -> None:
    snapshot = """select batch_id, expectation, success, observed_value, unexpected_count
                  from audit.expectation_results where run_id = 'run-1' order by 1, 2"""
    violations = "select count(*) from audit.rule_violations where run_id = 'run-1'"
    first, first_violations = query(db_url, snapshot), query(db_url, violations)
    again = run_gate(db_url, "run-1", gated["batches"], context_dir=context_dir)
    assert {k: (v.status, v.reasons) for k, v in again.items()} == {
        k: (v.status, v.reasons) for k, v in gated["verdicts"].items()
    }
    assert query(db_url, snapshot) == first
    assert query(db_url, violations) == first_violations


def test_unknown_batch_is_refused(gated: dict[str, Any], db_url: str, context_dir: Path) -> None:
    with pytest.raises(ValueError, match="no-such-batch"):
        run_gate(db_url, "run-x", ["no-such-batch"], context_dir=context_dir)


def test_data_docs_render(gated: dict[str, Any], context_dir: Path, tmp_path: Path) -> None:
    index = build_data_docs(context_dir)
    assert index.name == "index.html" and index.is_file()
    assert index.is_relative_to(context_dir / "uncommitted/data_docs")
    html = "\n".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html"))
    assert "received_in_period" in html
    elsewhere = build_data_docs(context_dir, reports_dir=tmp_path / "dq")
    assert elsewhere.is_file() and elsewhere.is_relative_to(tmp_path / "dq")


# --- the one-pass row checks find what the rules find ----------------------------------------

# Spellings around the suspects pass's shortcuts (suites.surely_readable and the like): the
# usual clean ones it settles without the readers, and their near misses, which it must not.
MESSY = {
    "timestamp": ["2025-09-03 08:15:00", "2025-09-03 08:15", "2025-09-03", "2025-09-03 24:00:00",
                  "2025-02-29 10:00:00", "2024-02-29 10:00:00", "infinity", "1899-12-31 23:59:59",
                  "2100-01-01 00:00:00", " 2025-09-03 08:15:00", "2025-09-03 08:15:00.5", "03/09/2025",
                  "2025/09/03 08:15", "2025-09-03 07:00:00", "2025-09-03 08:14:59", "2025-09-03 08:15:01",
                  "2025-10-01 00:00:00", "2025-08-31", "2025-09-30 23:59", "2025-09-03T08:15", "abc", "",
                  None],
    "integer": ["0", "9", "20", "21", "020", "-1", "2.0", " 7", "2147483648", "x", "", None],
    "amount": ["50000", "99999999", "100000000", "100000001", "1.000.000.000", "-5", "50.000",
               "0050000000", "12,5", "1,2,3", "", None],
    "boolean": ["true", "TRUE", " true", "co", "Có", "khong", "0", "maybe", "", None],
    "text": ["x", "", "  ", " x", None],
}


@contextlib.contextmanager
def messy_run(db_url: str, gated: dict[str, Any], units: list[str]) -> Iterator[Any]:
    """The gated batches and two messy ones (MESSY spellings, payments and feedback whose
    dossier is missing, dossier ids shared between the two units) in the gate's scope, on a
    connection whose work is rolled back afterwards."""
    import random

    from chiso.gate import runner

    pick = random.Random(15).choice
    enums = {c.name: [*c.enum, c.enum[0].title(), " " + c.enum[0], "other", None]
             for source in ("ho_so", "thanh_toan", "pakn") for c in SOURCES[source].columns
             if c.kind == "enum"}

    def messy(source: str, n: int) -> dict[str, str | None]:
        row: dict[str, str | None] = {}
        for c in SOURCES[source].columns:
            values = enums.get(c.name) or MESSY.get(c.kind, MESSY["text"])
            row[c.name] = pick(values)
        row["procedure_code"] = pick(["1.001234", "2.000987", "1.00123", " 1.001234", "9.999999", "x",
                                      None])
        row["dossier_id"] = pick([f"MS-{n:04d}", f"MS-{n:04d}", f" MS-{n:04d}", f"MS-{n + 1000:04d}",
                                  f"MS-{n % 50:04d}", "", None])
        return row

    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            for batch_id, unit in (("messy", units[-1]), ("messy-2", units[-2])):
                land(cur, batch_id, unit, sources={
                    "ho_so": [messy("ho_so", n) for n in range(600)],
                    "thanh_toan": [messy("thanh_toan", n) for n in range(300)],
                    "pakn": [messy("pakn", n) for n in range(100)],
                    "danh_muc_tthc": [procedure("1.001234"), procedure(" 2.000987")],
                })
        runner._fill_scope(conn, runner._load_batches(conn, [*gated["batches"], "messy", "messy-2"]))
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _findings(conn: Any, rule: Any, table: str) -> list[tuple[Any, ...]]:
    from chiso.gate.suites import resolve_periods

    with conn.cursor() as cur:
        cur.execute(resolve_periods(rule.sql.format(batch=table), {PERIOD}))
        return cur.fetchall()


def test_row_checks_over_suspects_find_what_they_find_over_raw(gated: dict[str, Any], db_url: str,
                                                               units: list[str]) -> None:
    """The suspects pass (one scan, cheap tests for the usual spellings) keeps every row a
    row check can fail: each row check finds the same over the suspects as over raw."""
    from chiso.gate import gx_adapter

    found: dict[str, int] = {}
    with messy_run(db_url, gated, units) as conn:
        for suite in load_suites(REPO / "expectations/suites"):
            if len(suite.row_rules) < 2:
                continue
            gx_adapter._fill_suspects(conn, suite, {PERIOD})
            for rule in suite.row_rules:
                raw = _findings(conn, rule, f"{suite.schema}.{suite.table}")
                suspects = _findings(conn, rule, f"audit.{gx_adapter.suspects_table(suite)}")
                assert suspects == raw, rule.qualified_name
                found[rule.qualified_name] = sum(n for _, n, _ in raw)
    # Not vacuous: the messy batches fail most of them.
    assert sum(1 for n in found.values() if n) >= 15, found


# What the lookups and the duplicate checks mean, written plainly: failing rows per batch.
# nor delivered by the same unit in an accepted batch of the twelve months before
EARLIER_MONTHS_OF_THE_UNIT = """
          and btrim(t.dossier_id) not in (
              select btrim(h.dossier_id) from raw.ho_so h join raw.batches o using (batch_id)
              where o.unit_code = s.unit_code and o.status in ('passed', 'warned')
                and o.period_start < s.period_start
                and o.period_start >= s.period_start - interval '12 months'
                and h.dossier_id is not null)"""

PLAINLY = {
    "lookup": """
        select t.batch_id, count(*) from raw.{source} t join audit.gate_scope s using (batch_id)
        where not util.is_blank(t.{column}) {matching}
          and exists (select 1 from raw.files f where f.batch_id = t.batch_id
                      and f.source = '{ref}' and f.error is null)
          {ref_present}
          and btrim(t.{column}) not in (select btrim(r.{column}) from raw.{ref} r
                                       where r.batch_id = t.batch_id and r.{column} is not null)
          {history}
        group by 1 order by 1""",
    "unique": """
        select batch_id, count(*) from (
            select t.batch_id, count(*) over (partition by t.batch_id, btrim(t.{column})) as n
            from raw.{source} t join audit.gate_scope s using (batch_id)
            where not util.is_blank(t.{column})) d
        where n > 1 group by 1 order by 1""",
    "elsewhere": """
        select t.batch_id, count(*) from raw.{source} t join audit.gate_scope s using (batch_id)
        where not util.is_blank(t.{column})
          and exists (
            select 1 from raw.{source} o join raw.batches b on b.batch_id = o.batch_id
            where o.{column} = t.{column} and b.province_code = s.province_code
              and b.unit_code <> s.unit_code
              and (b.batch_id in (select batch_id from audit.gate_scope)
                   or (b.status in ('passed', 'warned')
                       and b.period_start between s.period_start - interval '1 month'
                                              and s.period_end + interval '1 month')))
        group by 1 order by 1""",
}


@pytest.mark.parametrize("name, kind, params", [
    ("thanh_toan.dossier_exists", "lookup", {"source": "thanh_toan", "column": "dossier_id", "ref": "ho_so",
                                             "history": EARLIER_MONTHS_OF_THE_UNIT}),
    ("pakn.dossier_exists", "lookup", {"source": "pakn", "column": "dossier_id", "ref": "ho_so",
                                       "history": EARLIER_MONTHS_OF_THE_UNIT}),
    ("ho_so.procedure_code_in_catalogue", "lookup", {
        "source": "ho_so", "column": "procedure_code", "ref": "danh_muc_tthc",
        "matching": r"and btrim(t.procedure_code) ~ '^[0-9]\.[0-9]{6}$'",
        "ref_present": "and exists (select 1 from raw.danh_muc_tthc e where e.batch_id = t.batch_id)"}),
    ("ho_so.dossier_id_unique", "unique", {"source": "ho_so", "column": "dossier_id"}),
    ("ho_so.dossier_not_delivered_elsewhere", "elsewhere", {"source": "ho_so", "column": "dossier_id"}),
])
def test_set_checks_find_what_they_mean(gated: dict[str, Any], db_url: str, units: list[str],
                                        name: str, kind: str, params: dict[str, str]) -> None:
    """The set checks, written for speed (anti joins, one aggregate, the month's partitions),
    find per batch exactly the rows their plain meaning picks out."""
    suite_name, rule_name = name.split(".")
    [suite] = [s for s in load_suites(REPO / "expectations/suites") if s.name == suite_name]
    [rule] = [r for r in suite.rules if r.name == rule_name]
    plain = PLAINLY[kind].format(**{"matching": "", "ref_present": "", "history": "", **params})
    with messy_run(db_url, gated, units) as conn:
        with conn.cursor() as cur:
            cur.execute(plain)
            expected = cur.fetchall()
        found = [(batch, n) for batch, n, _ in _findings(conn, rule, f"raw.{suite.table}")]
    assert found == expected
    assert any(batch.startswith("messy") for batch, _ in found), "not exercised"


# --- performance ----------------------------------------------------------------------------


@pytest.mark.bench
def test_gate_is_cheap_at_scale(db_url: str, context_dir: Path, units: list[str]) -> None:
    """~200k dossiers in 200 batches: one checkpoint per source, not 200 runs."""
    batches, per_batch = 200, 1000
    columns = SOURCES["ho_so"].column_names
    ho_so, batch_rows, file_rows = io.StringIO(), io.StringIO(), io.StringIO()
    ho_so_csv, batch_csv, file_csv = csv.writer(ho_so), csv.writer(batch_rows), csv.writer(file_rows)
    ids = []
    for b in range(batches):
        batch_id = f"bench-{b:03d}"
        unit = units[b % len(units)]
        ids.append(batch_id)
        path = f"31/{unit}/2025-10/ho_so.csv"
        batch_csv.writerow([batch_id, "31", unit, "2025-10", "2025-10-01", "2025-10-31", path, 1])
        file_csv.writerow([batch_id, "ho_so", path, "z", 1, per_batch, per_batch])
        for other in ("thanh_toan", "pakn", "danh_muc_tthc"):  # delivered, header only
            file_csv.writerow([batch_id, other, path.replace("ho_so", other), "z", 1, 0, 0])
        for i in range(per_batch):
            row = dossier(
                i,
                dossier_id=f"B{b:03d}-{i:05d}",
                received_at=f"2025-10-{1 + i % 28:02d} 08:{i % 60:02d}",
                due_at="2025-11-15 17:00",
                completed_at=None if i % 5 == 0 else "2025-11-05 10:00",
                result_returned_at=None if i % 5 == 0 else "2025-11-06",
                status="in_progress" if i % 5 == 0 else "returned",
                # One bad row in every tenth batch: the gate must find it among 200k.
                fee_amount="-1" if (b % 10 == 0 and i == 500) else "50000",
            )
            ho_so_csv.writerow(["2025-10", batch_id, path, i + 2, *[row.get(c) for c in columns]])
    with contextlib.closing(psycopg2.connect(db_url)) as conn, conn.cursor() as cur:
        for target, buf in (
            (
                "raw.batches (batch_id, province_code, unit_code, period, period_start, period_end,"
                " submission_dir, files)",
                batch_rows,
            ),
            (
                "raw.files (batch_id, source, source_file, file_sha256, size_bytes, rows_delivered,"
                " rows_landed)",
                file_rows,
            ),
            (f"raw.ho_so (period, batch_id, source_file, source_row, {', '.join(columns)})", ho_so),
        ):
            buf.seek(0)
            cur.copy_expert(f"copy {target} from stdin with (format csv)", buf)
        conn.commit()
        cur.execute("analyze raw.ho_so")
        conn.commit()

    started = time.perf_counter()
    verdicts = run_gate(db_url, "bench", ids, context_dir=context_dir)
    elapsed = time.perf_counter() - started
    log.warning("gate over %d batches / %d dossiers: %.2f s", batches, batches * per_batch, elapsed)
    quarantined = sorted(k for k, v in verdicts.items() if v.status == "quarantined")
    assert quarantined == [f"bench-{b:03d}" for b in range(0, batches, 10)]
    assert "field fee_amount value '-1'" in verdicts["bench-000"].reasons[0]
    assert elapsed < 30, f"gate took {elapsed:.1f} s"
