# ruff: noqa: E501  (fixture rows stay one SQL row per line, readable as a table)
"""dbt project end to end: given a hand-made two-unit submission, these scores.

Builds a throwaway database on the test session's embedded PostgreSQL, applies
the warehouse DDL in sql/, loads the reference CSVs and a fixture into raw.*, runs
`dbt build` with dbtRunner and checks the marts against values worked out by hand
(shared/domain/index-766.md §2; the working is in the comments of FIXTURE_SQL).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

psycopg2 = pytest.importorskip("psycopg2")
pytest.importorskip("dbt.cli.main")

from chiso.warehouse import create_database  # noqa: E402  (after the skips)

REPO = Path(__file__).parents[2]
DBT_PROJECT = REPO / "dbt_project"
DATA = REPO / "src" / "chiso" / "data"
# The server of the session (tests/conftest.py: server_dsn), set by the warehouse fixture.
SERVER: dict[str, str] = {}
# dbt's target/ and logs/ for throwaway databases stay out of the checkout
ARTIFACTS = Path(tempfile.gettempdir()) / "chiso-dbt-tests"

pytestmark = [pytest.mark.slow]

# Province 31 (Hải Phòng), period 2025-09 (calendar month; "now" = 2025-10-01 00:00).
#   11560 Thủy Nguyên  batch A9, passed  — mixed dossiers, payments, feedback
#   11557 Thiên Hương  batch B9, passed  — two perfect dossiers, no fee, no feedback;
#                      batch B8 (2025-08), passed, empty — gives B a previous period
#   11533 Hòa Bình     batch C9a passed but superseded by C9b, quarantined
FIXTURE_SQL = """
insert into raw.batches (batch_id, province_code, unit_code, period, period_start, period_end,
                         submission_dir, files, landed_at, status, superseded_by) values
('A9',  '31', '11560', '2025-09', '2025-09-01', '2025-09-30', '31/11560/2025-09', 4, '2025-10-02 08:00+07', 'passed', null),
('B9',  '31', '11557', '2025-09', '2025-09-01', '2025-09-30', '31/11557/2025-09', 2, '2025-10-02 08:00+07', 'passed', null),
('B8',  '31', '11557', '2025-08', '2025-08-01', '2025-08-31', '31/11557/2025-08', 1, '2025-09-02 08:00+07', 'passed', null),
('C9a', '31', '11533', '2025-09', '2025-09-01', '2025-09-30', '31/11533/2025-09', 1, '2025-10-02 08:00+07', 'superseded', 'C9b'),
('C9b', '31', '11533', '2025-09', '2025-09-01', '2025-09-30', '31/11533/2025-09', 1, '2025-10-03 08:00+07', 'quarantined', null);

insert into raw.files (batch_id, source, source_file, file_sha256, size_bytes, rows_delivered, rows_landed) values
('A9', 'ho_so', '31/11560/2025-09/ho_so.csv', 'sha-a9-ho-so', 100, 7, 7),
('A9', 'thanh_toan', '31/11560/2025-09/thanh_toan.csv', 'sha-a9-tt', 100, 3, 3),
('A9', 'pakn', '31/11560/2025-09/pakn.csv', 'sha-a9-pakn', 100, 4, 4),
('A9', 'danh_muc_tthc', '31/11560/2025-09/danh_muc_tthc.csv', 'sha-a9-dm', 100, 3, 3),
('B9', 'ho_so', '31/11557/2025-09/ho_so.csv', 'sha-b9-ho-so', 100, 2, 2),
('B9', 'danh_muc_tthc', '31/11557/2025-09/danh_muc_tthc.csv', 'sha-b9-dm', 100, 1, 1),
('B8', 'danh_muc_tthc', '31/11557/2025-08/danh_muc_tthc.csv', 'sha-b8-dm', 10, 0, 0),
('C9a', 'ho_so', '31/11533/2025-09/ho_so.csv', 'sha-c9a', 100, 1, 1),
('C9b', 'ho_so', '31/11533/2025-09/ho_so.xlsx', 'sha-c9b', 100, 1, 1);

-- Catalogue A: P1 full/fee/paper, P2 none/e-certified copy, P3 partial/fee.
insert into raw.danh_muc_tthc (period, batch_id, source_file, source_row, procedure_code, name, service_level,
    has_fee, returns_paper_result, published_on_time, publicised_on_time, publication_complete, e_certified_copy) values
('2025-09', 'A9', '31/11560/2025-09/danh_muc_tthc.csv', 2, 'P1', 'Đăng ký khai sinh', 'full', 'true', 'true', 'true', 'true', 'true', 'false'),
('2025-09', 'A9', '31/11560/2025-09/danh_muc_tthc.csv', 3, 'P2', 'Chứng thực bản sao', 'none', 'false', 'false', 'false', '', 'true', 'Có'),
('2025-09', 'A9', '31/11560/2025-09/danh_muc_tthc.csv', 4, 'P3', 'Cấp phép', 'partial', '1', '0', '', 'Có', 'không', 'KHÔNG'),
('2025-09', 'B9', '31/11557/2025-09/danh_muc_tthc.csv', 2, 'Q1', 'Đăng ký kết hôn', 'full', 'false', 'false', 'true', 'true', 'true', 'false');

-- Dossiers A. Received in period (not withdrawn): D1 D2 D3 D4 D7 = 5.
--   D1 on time, D3 open within due date (1 supplement); D2 completed late, D4 open past due,
--   D7 two supplements -> late.  D6 withdrawn: not counted.  D5 received in August and
--   completed 3/9 by its due date: carried over and processed in September, so it counts in
--   2.1 and 5.4 ("received or processed", 6 dossiers), not in the criteria over received.
insert into raw.ho_so (period, batch_id, source_file, source_row, dossier_id, procedure_code, received_at, channel,
    due_at, completed_at, result_returned_at, status, supplement_count, synced_to_national_portal, has_e_result,
    digitised, reused_data, citizen_db_data, personal_storage_linked, fee_amount, applicant_ref) values
('2025-09', 'A9', '31/11560/2025-09/ho_so.csv', 2, 'D1', 'P1', '2025-09-02 08:00:00', 'online', '2025-09-10', '2025-09-09 15:00:00', '2025-09-09', 'completed', '0', 'true', 'true', 'true', 'true', 'true', 'false', '50000', 'ref-1'),
('2025-09', 'A9', '31/11560/2025-09/ho_so.csv', 3, 'D2', 'P1', '2025-09-05 09:00:00', 'direct', '2025-09-12', '2025-09-15 10:00:00', '', 'completed', '0', 'yes', 'false', '1', 'no', 'false', 'false', '50000.0', 'ref-2'),
('2025-09', 'A9', '31/11560/2025-09/ho_so.csv', 4, 'D3', 'P2', '2025-09-20', 'online', '2025-10-05', '', '', 'in_progress', '1', 'Có', 'false', 'false', 'false', 'có', 'true', '0', 'ref-3'),
('2025-09', 'A9', '31/11560/2025-09/ho_so.csv', 5, 'D4', 'P3', '2025-09-25', 'direct', '2025-09-28', '', '', 'in_progress', '', 'false', 'false', 'false', 'false', 'false', 'false', '', 'ref-4'),
('2025-09', 'A9', '31/11560/2025-09/ho_so.csv', 6, 'D5', 'P1', '2025-08-28', 'online', '2025-09-05', '2025-09-03', '', 'completed', '0', 'true', 'true', 'true', 'true', 'true', 'true', '50000', 'ref-5'),
('2025-09', 'A9', '31/11560/2025-09/ho_so.csv', 7, 'D6', 'P3', '2025-09-10', 'online', '2025-09-20', '', '', 'withdrawn', '0', 'true', 'true', 'true', 'true', 'true', 'true', '20000', 'ref-6'),
('2025-09', 'A9', '31/11560/2025-09/ho_so.csv', 8, 'D7', 'P3', '2025-09-11', 'online', '2025-09-20', '2025-09-19', '', 'completed', '2', 'true', 'true', 'false', 'false', 'false', 'false', '20000', 'ref-7'),
('2025-09', 'B9', '31/11557/2025-09/ho_so.csv', 2, 'E1', 'Q1', '2025-09-03', 'online', '2025-09-10', '2025-09-08', '', 'completed', '0', 'true', 'true', 'true', 'true', 'true', 'true', '0', 'ref-8'),
('2025-09', 'B9', '31/11557/2025-09/ho_so.csv', 3, 'E2', 'Q1', '2025-09-04', 'online', '2025-09-11', '2025-09-10 16:00:00', '', 'completed', '0', 'true', 'true', 'true', 'true', 'true', 'true', '0', 'ref-9'),
('2025-09', 'C9a', '31/11533/2025-09/ho_so.csv', 2, 'X1', 'Q1', '2025-09-03', 'online', '2025-09-10', '2025-09-08', '', 'completed', '0', 'true', 'true', 'true', 'true', 'true', 'true', '0', 'ref-10'),
('2025-09', 'C9b', '31/11533/2025-09/ho_so.xlsx', 2, 'X1', 'Q1', 'not a date', 'online', '2025-09-10', '2025-09-08', '', 'completed', '0', 'true', 'true', 'true', 'true', 'true', 'true', '0', 'ref-10');

insert into raw.thanh_toan (period, batch_id, source_file, source_row, payment_id, dossier_id, amount, method, paid_at, status) values
('2025-09', 'A9', '31/11560/2025-09/thanh_toan.csv', 2, 'T1', 'D1', '50000', 'online', '2025-09-02 09:00:00', 'success'),
('2025-09', 'A9', '31/11560/2025-09/thanh_toan.csv', 3, 'T2', 'D2', '50000', 'cash', '2025-09-05 09:30:00', 'success'),
('2025-09', 'A9', '31/11560/2025-09/thanh_toan.csv', 4, 'T3', 'D7', '20000', 'online', '2025-09-11 10:00:00', 'failed');

-- Feedback A received in period, judged by the 5.2 limits in working days (not by due_at):
--   F1 (about D1) received Mon 1/9, a public holiday (1-2/9 National Day), handled Tue 23/9:
--      15 working days from 1/9 end on 23/9 (3,4,5 | 8-12 | 15-19 | 22,23): on time, though
--      past its due_at and late if the holidays were counted as working days;
--   F2 refused Thu 18/9, received Mon 15/9: a refusal is due within 2 working days (17/9),
--      so late; unsatisfied;
--   F3 open, received 29/9, 15 working days not over at the end of the period: on time.
insert into raw.pakn (period, batch_id, source_file, source_row, feedback_id, dossier_id, received_at, due_at,
    handled_at, status, rating, repeated) values
('2025-09', 'A9', '31/11560/2025-09/pakn.csv', 2, 'F1', 'D1', '2025-09-01', '2025-09-20', '2025-09-23 16:00', 'handled', 'satisfied', 'false'),
('2025-09', 'A9', '31/11560/2025-09/pakn.csv', 3, 'F2', '', '2025-09-15', '2025-09-25', '2025-09-18', 'refused', 'unsatisfied', 'false'),
('2025-09', 'A9', '31/11560/2025-09/pakn.csv', 4, 'F3', '', '2025-09-29', '2025-10-10', '', 'in_progress', 'none', 'false'),
('2025-09', 'A9', '31/11560/2025-09/pakn.csv', 5, 'F4', '', '2025-08-20', '2025-08-30', '2025-08-25', 'handled', 'satisfied', 'false');

insert into raw.report_figures (batch_id, source_file, file_sha256, document_kind, unit_code, unit_name, period,
    figure, value, value_unit, line_no, source_text) values
('A9', '31/11560/2025-09/bao_cao.txt', 'sha-a9-bc', 'monthly_report', null, null, null, 'dossiers_received', 5, 'count', 4, 'Tiếp nhận 5 hồ sơ'),
('A9', '31/11560/2025-09/bao_cao.txt', 'sha-a9-bc', 'monthly_report', null, null, null, 'dossiers_received_online', 4, 'count', 5, 'trực tuyến 4 hồ sơ'),
('L1', 'letters/31-2025-09.txt', 'sha-letter', 'score_letter', '11560', 'Thủy Nguyên', '2025-09', 'score_total', 59.50, 'points', 10, 'Thủy Nguyên 59,50'),
('L1', 'letters/31-2025-09.txt', 'sha-letter', 'score_letter', '11560', 'Thủy Nguyên', '2025-09', 'score_tdgq', 8.5, 'points', 11, 'TDGQ 8,5');

insert into audit.expectation_results (run_id, batch_id, unit_code, period, source, source_file, expectation,
    severity, success, observed_value, unexpected_count, quarantined) values
('run-1', 'A9', '11560', '2025-09', 'ho_so', '31/11560/2025-09/ho_so.csv', 'ho_so.received_at_is_timestamp', 'error', true, '0', 0, false),
('run-1', 'C9b', '11533', '2025-09', 'ho_so', '31/11533/2025-09/ho_so.xlsx', 'ho_so.received_at_is_timestamp', 'error', false, '1 of 1 rows', 1, true);
"""

# Hand-worked points (index-766.md §2) for unit A = 11560, period 2025-09.
EXPECTED_A = {
    "1.1": (1, 2, Decimal("3")),  # published on time: P1 of {P1, P2}; 6 x 1/2
    "1.2": (2, 2, Decimal("4")),  # publicised: P1, P3 ('Có'); P2 blank
    "1.3": (2, 3, Decimal("1.333333")),  # complete: P1, P2; 2 x 2/3
    "1.4": (4, 5, Decimal("4.8")),  # synced: D1 D2 D3 D7; 6 x 4/5
    "2.1": (3, 6, Decimal("10")),  # on time: D1, D3, D5 (carried over); 20 x 3/6
    "3.1": (2, 3, Decimal("1.666667")),  # online: P1, P3; 2 x (2/3)/0.8
    "3.2": (2, 2, Decimal("4")),  # online dossier: P1 (D1), P3 (D7)
    "3.3": (3, 5, Decimal("6")),  # D1, D3, D7; 60% >= 50%
    "3.5": (2, 2, Decimal("2")),  # synced fee dossier: P1 (D1), P3 (D7)
    "3.5b": (1, 2, Decimal("1.25")),  # online payment success: P1 only; 2 x 0.5/0.8
    "3.6": (1, 3, Decimal("2")),  # fee dossiers D1 D2 D7, paid online D1; 6 x 1/3
    "4.1": (1, 2, Decimal("3")),  # paper-result dossiers D1 D2, e-result D1
    "4.2": (1, 5, Decimal("0.8")),  # digitised + e-result: D1
    "4.3": (1, 5, Decimal("0.5")),  # reused: D1; 2 x 0.2/0.8
    "4.4": (1, 5, Decimal("0.8")),  # personal store: D3
    "4.5": (2, 5, Decimal("0.8")),  # citizen db: D1, D3
    "4.6": (2, 3, Decimal("1.333333")),  # P1 (D1), P2 (D3)
    "4.7": (1, 1, Decimal("2")),  # P2 offers e-certified copies
    "5.2": (2, 3, Decimal("4")),  # F1, F3 on time (working days, holidays off); F2 refused late
    "5.3": (2, 3, Decimal("4")),  # F2 unsatisfied and late
    "5.4": (2, 6, Decimal("2.222222")),  # on time without feedback: D3, D5; 6 x (2/6)/0.9
}
GROUPS_A = {
    "CKMB": Decimal("13.13"),
    "TDGQ": Decimal("10.00"),
    "DVCTT": Decimal("11.67"),
    "TTTT": Decimal("5.25"),
    "SHHS": Decimal("9.23"),
    "MDHL": Decimal("10.22"),
}
TOTAL_A = Decimal("59.50")  # 13.13 + 10.00 + 11.67 + 5.25 + 9.23 + 10.22
# Unit B: everything perfect except TTTT (no fee-bearing procedure: zero denominators
# give 0), 4.1 (no paper-result dossier: 0) and 4.7 (no e-certified copy: 0); no
# feedback gives 5.2 and 5.3 full points.
GROUPS_B = {
    "CKMB": Decimal("18.00"),
    "TDGQ": Decimal("20.00"),
    "DVCTT": Decimal("12.00"),
    "TTTT": Decimal("0.00"),
    "SHHS": Decimal("14.00"),
    "MDHL": Decimal("18.00"),
}
TOTAL_B = Decimal("82.00")
# B in 2025-08: an empty catalogue, nothing received: only 5.2 + 5.3 (6 + 6).
TOTAL_B_AUGUST = Decimal("12.00")

MART_TABLES = (
    "criterion_scores",
    "group_scores",
    "unit_ranking",
    "province_summary",
    "overdue_dossiers",
    "points_lost",
    "reconciliation",
    "dq_results",
    "criterion_lineage",
    "fct_dossiers",
    "fct_payments",
    "fct_digitisation",
    "fct_feedback",
)


def _dsn(dbname: str) -> str:
    return urlsplit(SERVER["dsn"])._replace(path=f"/{dbname}").geturl()


def _connect(dbname: str):
    conn = psycopg2.connect(_dsn(dbname))
    conn.autocommit = True
    return conn


def load_warehouse(conn) -> None:
    """Warehouse DDL, reference data and the fixture: what landing and the gate leave."""
    with conn.cursor() as cur:
        for ddl in sorted((REPO / "sql").glob("*.sql")):
            cur.execute(ddl.read_text(encoding="utf-8"))
        for table, csv_name in (
            ("ref.communes", "communes_2025.csv"),
            ("ref.provinces", "provinces_2025.csv"),
            ("ref.unit_crosswalk", "haiphong_old_to_new.csv"),
        ):
            with (DATA / csv_name).open(encoding="utf-8") as handle:
                cur.copy_expert(f"copy {table} from stdin with (format csv, header true)", handle)
        from chiso import workdays

        cur.copy_expert("copy ref.working_days from stdin with (format csv)", workdays.working_days_csv())
        cur.execute(FIXTURE_SQL)


@pytest.fixture(scope="module")
def warehouse(server_dsn: str) -> Iterator[str]:
    SERVER["dsn"] = server_dsn
    dbname = f"chiso_dbt_test_{uuid.uuid4().hex[:8]}"
    admin = _connect("postgres")
    with admin.cursor() as cur:
        create_database(cur, dbname)
    try:
        with _connect(dbname) as conn:
            load_warehouse(conn)
        conn.close()
        yield dbname
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{dbname}" with (force)')
        admin.close()
        shutil.rmtree(ARTIFACTS / dbname, ignore_errors=True)


def dbt(dbname: str, *args: str, succeeds: bool = True, project: Path = DBT_PROJECT) -> Any:
    from dbt.cli.main import dbtRunner

    from chiso.warehouse import dbt_env

    env = dbt_env(_dsn(dbname))
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    # Every build here also checks the rollups' counts against their items one by one.
    if args[0] == "build" and "--vars" not in args:
        args = (*args, "--vars", "{audit_rollups: true}")
    args = tuple(a.replace("{period:", "{audit_rollups: true, period:") for a in args)
    try:
        result = dbtRunner().invoke(
            [
                *args,
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
                "--target-path",
                str(ARTIFACTS / dbname / "target"),
                "--log-path",
                str(ARTIFACTS / dbname / "logs"),
            ]
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert result.success is succeeds, f"dbt {' '.join(args)}: success {result.success}, {result.exception}"
    return result


def query(dbname: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = _connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def snapshot(dbname: str) -> dict[str, list[tuple]]:
    return {table: sorted(map(repr, query(dbname, f"select * from marts.{table}"))) for table in MART_TABLES}


@pytest.fixture(scope="module")
def built(warehouse: str) -> str:
    dbt(warehouse, "build")
    return warehouse


def test_criterion_points_match_hand_worked_values(built: str) -> None:
    rows = query(
        built,
        "select criterion_code, numerator, denominator, points from marts.criterion_scores"
        " where unit_code = '11560' and period = '2025-09'",
    )
    got = {code: (num, den, points) for code, num, den, points in rows}
    assert set(got) == set(EXPECTED_A)
    for code, (num, den, points) in EXPECTED_A.items():
        assert got[code][:2] == (num, den), code
        assert abs(got[code][2] - points) < Decimal("0.000001"), code


def test_group_points_and_total(built: str) -> None:
    for unit, groups, total in (("11560", GROUPS_A, TOTAL_A), ("11557", GROUPS_B, TOTAL_B)):
        rows = query(
            built,
            "select group_code, points from marts.group_scores where unit_code = %s and period = '2025-09'",
            (unit,),
        )
        assert dict(rows) == groups, unit
        (ranked_total,) = query(
            built,
            "select total_points from marts.unit_ranking where unit_code = %s and period = '2025-09'",
            (unit,),
        )[0]
        assert ranked_total == total == sum(groups.values())


def test_ranking_dense_with_quarantined_unit_unranked(built: str) -> None:
    rows = query(
        built,
        "select unit_code, total_points, rank_in_province, units_in_province, data_status, rating,"
        " prev_total_points, prev_rank from marts.unit_ranking where period = '2025-09' order by unit_code",
    )
    assert rows == [
        ("11533", None, None, 2, "quarantined", None, None, None),
        ("11557", TOTAL_B, 1, 2, "ok", "Tốt", TOTAL_B_AUGUST, 1),
        ("11560", TOTAL_A, 2, 2, "ok", "Trung bình", None, None),
    ]
    # the superseded batch of the quarantined unit never reaches the facts
    assert query(built, "select count(*) from marts.fct_dossiers where unit_code = '11533'") == [(0,)]
    # Hải Phòng has 114 units: in 2025-09 three sent a batch (one quarantined), 111 nothing;
    # in 2025-08 only 11557 did. Q3 and the year to date hold both months: 11557 and 11560
    # ranked, 11533 off the ranking for its quarantined September.
    assert query(built, "select period, period_type, units, units_quarantined, units_without_submission"
                        " from marts.province_summary where province_code = '31' order by period") == [
        ("2025", "year", 2, 1, 111), ("2025-08", "month", 1, 0, 113), ("2025-09", "month", 2, 1, 111),
        ("2025-Q3", "quarter", 2, 1, 111)]


def test_lineage_counts_equal_scores(built: str) -> None:
    mismatches = query(
        built,
        """
        with lineage as (
            select unit_code, period, criterion_code,
                   count(*) filter (where in_numerator) as numerator,
                   count(*) filter (where in_denominator) as denominator
            from marts.criterion_lineage group by 1, 2, 3
        )
        select s.unit_code, s.criterion_code, s.numerator, s.counted_denominator, l.numerator, l.denominator
        from marts.criterion_scores s
        left join lineage l using (unit_code, period, criterion_code)
        where s.numerator <> coalesce(l.numerator, 0) or s.counted_denominator <> coalesce(l.denominator, 0)
        """,
    )
    assert mismatches == []
    # an auditor reaches the file and row behind a late dossier
    assert query(
        built,
        "select period, source_file, file_sha256, source_row from marts.criterion_lineage"
        " where unit_code = '11560' and criterion_code = '2.1' and item_id = 'D4' order by period",
    ) == [(period, "31/11560/2025-09/ho_so.csv", "sha-a9-ho-so", 5) for period in ("2025", "2025-09", "2025-Q3")]


def test_lineage_check_of_months_finds_a_changed_count(built: str) -> None:
    """A build without audit_rollups checks the months' lineage (criterion_lineage's month
    rows, read without its rollups' member): it passes on the built marts, for one month and
    for a rebuild of every period, and fails once a month's score no longer matches its rows."""
    check = ("test", "--select", "assert_lineage_counts_equal_scores")
    dbt(built, *check, "--vars", '{audit_rollups: false, period: "2025-09"}')
    dbt(built, *check, "--vars", "{audit_rollups: false}")
    changed = ("update marts.criterion_scores set numerator = numerator {} 1"
               " where unit_code = '11560' and period = '2025-09' and criterion_code = '2.1'")
    conn = _connect(built)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(changed.format("+"))
        dbt(built, *check, "--vars", '{audit_rollups: false, period: "2025-09"}', succeeds=False)
        dbt(built, *check, "--vars", "{audit_rollups: false}", succeeds=False)
    finally:
        with conn, conn.cursor() as cur:
            cur.execute(changed.format("-"))
        conn.close()
    dbt(built, *check, "--vars", '{audit_rollups: false, period: "2025-09"}')


def test_a_month_table_keeps_its_contract(built: str, tmp_path: Path) -> None:
    """A month's mart table is one `create table … as` (which may run in parallel), yet its
    enforced contract is still checked first: a contract the model's columns do not meet
    fails the build and names the column."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    marts = project / "models" / "marts" / "_marts.yml"
    text = marts.read_text(encoding="utf-8")
    contract = text.index("  - name: fct_payments")
    amount = text.index("      - name: amount\n        data_type: numeric", contract)
    marts.write_text(text[:amount] + text[amount:].replace("data_type: numeric", "data_type: text", 1),
                     encoding="utf-8")
    result = dbt(built, "run", "--select", "fct_payments", "--vars", '{period: "2025-09"}',
                 succeeds=False, project=project)
    assert "amount" in str(result.result.results[0].message)
    # the project's own contract holds, and the month's table is created from the select
    dbt(built, "run", "--select", "fct_payments", "--vars", '{period: "2025-09"}')
    compiled = (ARTIFACTS / built / "target" / "run" / "chiso" / "models" / "marts" / "fct_payments.sql")
    assert "insert into" not in compiled.read_text(encoding="utf-8")


def test_reconciliation_and_overdue(built: str) -> None:
    rows = dict(
        (figure, (reported, computed, status))
        for figure, reported, computed, status in query(
            built,
            "select figure, reported_value, computed_value, status from marts.reconciliation"
            " where unit_code = '11560' and period = '2025-09'",
        )
    )
    # Reconciliation counts as the one-stop system does: the withdrawn D6 was received
    # (online) in September, so the report's 5 misses one and its online 4 is right.
    assert rows["dossiers_received"] == (5, 6, "mismatch")
    assert rows["dossiers_received_online"] == (4, 4, "match")
    assert rows["score_total"] == (Decimal("59.50"), TOTAL_A, "match")
    assert rows["score_tdgq"][2] == "mismatch"
    assert rows["feedback_received"] == (None, 3, "not_reported")
    overdue = query(
        built,
        "select dossier_id, days_overdue from marts.overdue_dossiers where unit_code = '11560' order by 1",
    )
    # D2 due 12/9 (a date alone: the whole day), completed 15/9 10:00: 2 days 10 h late, 3;
    # D4 due 28/9 (the whole day), still open at the period's last instant, 30/9 24:00 less
    # a microsecond: past due through 29/9 and 30/9, 2 days (3 when judged at 1/10 00:00,
    # an instant later)
    assert overdue == [("D2", 3), ("D4", 2), ("D7", 0)]


def test_rerunning_a_period_leaves_marts_identical(built: str) -> None:
    before = snapshot(built)
    dbt(built, "build", "--vars", '{period: "2025-09"}')
    dbt(built, "build", "--vars", '{period: "2025-09"}')
    assert snapshot(built) == before


MONTH_TABLES = ("intermediate.int_dossiers_classified", "intermediate.int_procedures_classified",
                "intermediate.int_feedback_classified", "marts.fct_payments", "marts.fct_feedback")
ROLLUP_TABLES = ("intermediate.int_dossiers_rolled", "intermediate.int_procedures_rolled",
                 "intermediate.int_feedback_rolled")


def test_month_tables_are_partitioned_and_a_former_table_converts(built: str) -> None:
    """The month tables hold one partition a month, and the rollup tables one a quarter or
    year, kept out of `marts`; a month's build swaps in new partitions of its quarter and year
    and leaves the other periods' alone; a plain table left by the former incremental
    materialization becomes partitioned on the next month's build, its other months kept."""
    def partitions(table: str) -> list[tuple]:
        return query(built, """select n.nspname, pg_get_expr(c.relpartbound, c.oid)
                               from pg_inherits i join pg_class c on c.oid = i.inhrelid
                               join pg_namespace n on n.oid = c.relnamespace
                               where i.inhparent = %s::regclass order by 2""", (table,))

    def partition_oids(table: str) -> dict[str, int]:
        return dict(query(built, """select pg_get_expr(c.relpartbound, c.oid), c.oid::bigint
                                    from pg_inherits i join pg_class c on c.oid = i.inhrelid
                                    where i.inhparent = %s::regclass""", (table,)))

    def left_to_autovacuum(table: str) -> list[tuple]:
        """Partitions autovacuum would analyse again: each is analysed by its build, once."""
        return query(built, """select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
                               where i.inhparent = %s::regclass
                                 and not coalesce(c.reloptions @> '{autovacuum_enabled=false}', false)""",
                     (table,))

    for table in MONTH_TABLES + ROLLUP_TABLES:
        assert query(built, "select relkind from pg_class where oid = %s::regclass", (table,)) == [("p",)]
        assert left_to_autovacuum(table) == [], table
        # a partition for each period with rows (the fixture's August batch is empty)
        periods = query(built, f"select distinct period from {table} order by 1")
        assert [bound for _, bound in partitions(table)] == [f"FOR VALUES IN ('{p}')" for (p,) in periods]
        assert periods and {schema for schema, _ in partitions(table)} == {"intermediate"}, table
    assert query(built, "select distinct period from intermediate.int_procedures_rolled order by 1") \
        == [("2025",), ("2025-Q3",)]
    before = snapshot(built)
    # a year of history beside 2025, which a build of 2025-09 must leave alone
    query(built, """create table intermediate.int_procedures_rolled__p2024 (like intermediate.int_procedures_rolled);
                     insert into intermediate.int_procedures_rolled__p2024
                         select * from intermediate.int_procedures_rolled where period = '2025';
                     update intermediate.int_procedures_rolled__p2024 set period = '2024';
                     alter table intermediate.int_procedures_rolled attach partition
                         intermediate.int_procedures_rolled__p2024 for values in ('2024'); select 1""")
    rolled_before = {t: partition_oids(t) for t in ROLLUP_TABLES}
    procedures_rolled = query(built, "select * from intermediate.int_procedures_rolled order by 2, 4, 5")
    # a month of history beside 2025-09, to be kept by the conversion
    query(built, """create table intermediate.fct_payments__p2025_07 (like marts.fct_payments);
                     insert into intermediate.fct_payments__p2025_07
                         select * from marts.fct_payments where period = '2025-09';
                     update intermediate.fct_payments__p2025_07 set period = '2025-07';
                     alter table marts.fct_payments attach partition intermediate.fct_payments__p2025_07
                         for values in ('2025-07'); select 1""")
    history = {t: partitions(t) for t in ("intermediate.int_dossiers_classified", "marts.fct_payments")}
    payments = query(built, "select * from marts.fct_payments order by 1, 2, 3")
    for table in ("intermediate.int_dossiers_classified", "marts.fct_payments"):
        name = table.split(".")[1]
        query(built, f"""create table {table}_plain as select * from {table};
                         drop table {table} cascade;
                         alter table {table}_plain rename to {name}; select 1""")
    # the views over them, as an earlier version left them (the conversion drops and recreates them)
    dbt(built, "run", "--select", "int_dossiers_classified+,config.materialized:view")
    assert query(built, "select count(*) from marts.fct_dossiers") != [(0,)]
    # a table whose partitions an earlier version indexed on (period, unit_code)
    feedback = "intermediate.int_feedback_classified"
    query(built, f"""drop index intermediate.int_feedback_classified__unit_code;
                     create index int_feedback_classified__period_unit_code on {feedback} (period, unit_code);
                     select 1""")
    dbt(built, "build", "--vars", '{period: "2025-09"}')
    # … is indexed as the model now asks, every partition of it (those the build left alone too)
    assert query(built, "select indexname, indexdef like '%%(unit_code)' from pg_indexes "
                        "where schemaname = 'intermediate' and tablename = 'int_feedback_classified'") \
        == [("int_feedback_classified__unit_code", True)]
    assert query(built, "select count(*) from pg_inherits i where i.inhparent = %s::regclass and not exists ("
                        "select 1 from pg_index x where x.indrelid = i.inhrelid)", (feedback,)) == [(0,)]
    assert {t: partitions(t) for t in history} == history
    # the converted tables' partitions, earlier months' included
    assert [left_to_autovacuum(t) for t in history] == [[], []]
    assert query(built, "select * from marts.fct_payments order by 1, 2, 3") == payments
    # the quarter's and the year's partitions are new tables with the same rows; 2024's is kept
    for table, oids in rolled_before.items():
        after = partition_oids(table)
        assert after.keys() == oids.keys(), table
        assert all(after[b] != oids[b] for b in oids if "2024" not in b), table
    assert partition_oids("intermediate.int_procedures_rolled")["FOR VALUES IN ('2024')"] \
        == rolled_before["intermediate.int_procedures_rolled"]["FOR VALUES IN ('2024')"]
    assert query(built, "select * from intermediate.int_procedures_rolled order by 2, 4, 5") == procedures_rolled
    query(built, "drop table intermediate.fct_payments__p2025_07; drop table intermediate.int_procedures_rolled__p2024;"
                 " select 1")
    assert snapshot(built) == before
