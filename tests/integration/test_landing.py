"""Landing: every delivered row lands once, with provenance; nothing is lost or doubled."""

from __future__ import annotations

from pathlib import Path

from chiso import landing
from chiso.generate.faults import tcvn3, windows_1258
from chiso.periods import period_window
from tests.conftest import rows

HO_SO = (
    "dossier_id,procedure_code,received_at,channel,due_at,completed_at,status,applicant_ref\n"
    "D1,1.001234,2025-09-02 08:00:00,online,2025-09-05 17:00:00,2025-09-04 10:00:00,completed,012345678901\n"
    "D2,1.001234,2025-09-03 08:00:00,direct,2025-09-06 17:00:00,,in_progress,012345678902\n"
)
CATALOGUE = "procedure_code,name,service_level\n1.001234,Đăng ký khai sinh,full\n"


def make_submission(root: Path, unit: str = "11224", ho_so: str = HO_SO) -> Path:
    folder = root / "31" / unit / "2025-09"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ho_so.csv").write_text(ho_so, encoding="utf-8")
    (folder / "danh_muc_tthc.csv").write_text(CATALOGUE, encoding="utf-8")
    (folder / "notes.pdfx").write_text("not a submission file")
    return folder


def land(root: Path, dsn: str, run_id: str = "r1"):
    period = period_window("2025-09", "calendar")
    return landing.land(landing.discover(root, period, "31"), root, run_id, dsn)


def test_rows_land_with_provenance_and_pseudonymised_applicants(tmp_path, fresh_dsn):
    make_submission(tmp_path)
    [batch] = land(tmp_path, fresh_dsn)
    assert batch.new and batch.rows == {"ho_so": 2, "danh_muc_tthc": 1}
    landed = rows(fresh_dsn, "select source_file, source_row, dossier_id, applicant_ref, completed_at "
                             "from raw.ho_so order by source_row")
    assert [r[:3] for r in landed] == [("31/11224/2025-09/ho_so.csv", 2, "D1"),
                                       ("31/11224/2025-09/ho_so.csv", 3, "D2")]
    assert all(len(r[3]) == 24 and "0123456789" not in r[3] for r in landed)
    assert landed[1][4] is None  # an empty cell is missing, not ''
    files = rows(fresh_dsn, "select source, rows_delivered, rows_landed, length(file_sha256) "
                            "from raw.files order by source")
    assert files == [("danh_muc_tthc", 1, 1, 64), ("ho_so", 2, 2, 64)]


def test_same_files_twice_never_double_count(tmp_path, fresh_dsn):
    make_submission(tmp_path)
    land(tmp_path, fresh_dsn, "r1")
    [again] = land(tmp_path, fresh_dsn, "r2")
    assert not again.new
    assert rows(fresh_dsn, "select count(*) from raw.ho_so") == [(2,)]
    assert rows(fresh_dsn, "select count(*) from raw.batches") == [(1,)]


def test_resubmission_becomes_current_only_once_the_gate_accepts_it(tmp_path, fresh_dsn):
    from chiso.gate import run_gate

    def status():
        return dict(rows(fresh_dsn, "select batch_id, status from raw.batches"))

    make_submission(tmp_path)
    [first] = land(tmp_path, fresh_dsn, "r1")
    assert run_gate(fresh_dsn, "r1", [first.batch_id])[first.batch_id].status in ("passed", "warned")
    accepted = status()[first.batch_id]
    # A broken resubmission (a day September does not have) lands, but does not unseat it.
    make_submission(tmp_path, ho_so=HO_SO.replace("2025-09-04 10:00:00", "31/09/2025"))
    [broken] = land(tmp_path, fresh_dsn, "r2")
    assert broken.new and status() == {first.batch_id: accepted, broken.batch_id: "landed"}
    assert run_gate(fresh_dsn, "r2", [broken.batch_id])[broken.batch_id].status == "quarantined"
    assert status() == {first.batch_id: accepted, broken.batch_id: "quarantined"}
    # A corrected one is accepted and supersedes both; raw keeps every delivered row.
    make_submission(tmp_path, ho_so=HO_SO.replace("in_progress", "completed"))
    [fixed] = land(tmp_path, fresh_dsn, "r3")
    run_gate(fresh_dsn, "r3", [fixed.batch_id])
    assert rows(fresh_dsn, "select batch_id, status, superseded_by from raw.batches "
                           "where status = 'superseded' order by batch_id") == sorted(
        [(first.batch_id, "superseded", fixed.batch_id), (broken.batch_id, "superseded", fixed.batch_id)])
    assert rows(fresh_dsn, "select count(*) from raw.ho_so") == [(6,)]
    # The first files delivered again: that batch speaks for the unit again, nothing lands twice.
    make_submission(tmp_path)
    [again] = land(tmp_path, fresh_dsn, "r4")
    assert not again.new and again.batch_id == first.batch_id
    assert {e.status for e in again.entries} == {"duplicate"}
    assert status()[first.batch_id] == accepted and status()[fixed.batch_id] == "superseded"
    assert rows(fresh_dsn, "select count(*) from raw.ho_so") == [(6,)]


def test_a_file_that_fails_to_load_is_refused_alone(tmp_path, fresh_dsn):
    folder = make_submission(tmp_path)
    # A NUL byte cannot be stored in PostgreSQL text: the COPY fails for this file only.
    (folder / "thanh_toan.csv").write_bytes(
        b"payment_id,dossier_id,amount,method,paid_at,status\nP1,D1,5\x00,online,2025-09-03,success\n")
    make_submission(tmp_path, unit="11227")
    batches = land(tmp_path, fresh_dsn)
    assert [b.new for b in batches] == [True, True]
    [(source_file, error, landed)] = rows(
        fresh_dsn, "select source_file, error, rows_landed from raw.files where error is not null")
    assert source_file == "31/11224/2025-09/thanh_toan.csv" and landed is None
    assert error.startswith("31/11224/2025-09/thanh_toan.csv: ")
    assert rows(fresh_dsn, "select count(*) from raw.thanh_toan") == [(0,)]
    assert rows(fresh_dsn, "select count(*) from raw.ho_so") == [(4,)]


def test_unreadable_file_is_recorded_and_the_rest_still_lands(tmp_path, fresh_dsn):
    folder = make_submission(tmp_path)
    (folder / "thanh_toan.csv").write_bytes(tcvn3("payment_id\nP1,quá\n"))
    make_submission(tmp_path, unit="11227")
    batches = land(tmp_path, fresh_dsn)
    assert len(batches) == 2
    [(error,)] = rows(fresh_dsn, "select error from raw.files where error is not null")
    assert error.startswith("31/11224/2025-09/thanh_toan.csv: row 2")
    assert rows(fresh_dsn, "select count(*) from raw.ho_so") == [(4,)]


def test_rows_land_in_their_months_partition_and_old_warehouses_are_migrated(tmp_path, fresh_dsn):
    from chiso import warehouse

    make_submission(tmp_path)
    [batch] = land(tmp_path, fresh_dsn)
    assert rows(fresh_dsn, "select period, count(*) from raw.ho_so_2025_09 group by 1") == [("2025-09", 2)]
    # A warehouse from before period partitioning: plain tables without the period column.
    columns = ", ".join(c for (c,) in rows(
        fresh_dsn, "select column_name from information_schema.columns where table_schema = 'raw'"
                   " and table_name = 'ho_so' and column_name <> 'period' order by ordinal_position"))
    with warehouse.cursor(fresh_dsn) as cur:
        cur.execute(f"""create table raw.ho_so_plain (like raw.ho_so);
                       alter table raw.ho_so_plain drop column period;
                       insert into raw.ho_so_plain select {columns} from raw.ho_so_2025_09;
                       drop table raw.ho_so cascade;
                       alter table raw.ho_so_plain rename to ho_so;
                       create index ho_so_batch on raw.ho_so (batch_id);""")
    warehouse.bootstrap(fresh_dsn, force=True)
    assert rows(fresh_dsn, "select relkind from pg_class where oid = 'raw.ho_so'::regclass") == [("p",)]
    assert rows(fresh_dsn, "select period, batch_id, count(*) from raw.ho_so_2025_09 group by 1, 2") == [
        ("2025-09", batch.batch_id, 2)]
    assert rows(fresh_dsn, "select count(*) from raw.ho_so_default") == [(0,)]
    # the batch index of the old plain table is gone too (sql/010_raw.sql: no index on the data)
    assert rows(fresh_dsn, "select count(*) from pg_indexes where indexname = 'ho_so_batch'") == [(0,)]


def test_landing_a_month_analyses_only_that_months_partitions(tmp_path, fresh_dsn):
    # A plain ANALYZE of a partitioned table re-reads every month: a month's cost would grow
    # with history. Only the landed month's partitions (and, on PostgreSQL 18+, the parents'
    # own sample) are analysed.
    make_submission(tmp_path)
    land(tmp_path, fresh_dsn)
    september = "select analyze_count from pg_stat_user_tables where relid = 'raw.ho_so_2025_09'::regclass"
    assert rows(fresh_dsn, september) == [(1,)]
    october = tmp_path / "31" / "11224" / "2025-10"
    october.mkdir()
    (october / "ho_so.csv").write_text(HO_SO.replace("2025-09", "2025-10"), encoding="utf-8")
    period = period_window("2025-10", "calendar")
    [batch] = landing.land(landing.discover(tmp_path, period, "31"), tmp_path, "r2", fresh_dsn)
    assert batch.new
    assert rows(fresh_dsn, "select analyze_count from pg_stat_user_tables "
                           "where relid = 'raw.ho_so_2025_10'::regclass") == [(1,)]
    [(version,)] = rows(fresh_dsn, "select current_setting('server_version_num')::int")
    # Servers before 18 cannot analyse a parent without its partitions.
    assert rows(fresh_dsn, september) == [(1 if version >= 180000 else 2,)]


def test_warehouse_sessions_plan_for_ssd_storage(fresh_dsn):
    # Bootstrap sets random_page_cost for the database, so month-filtered reads of
    # multi-month tables use the period indexes (sql/050_planner.sql).
    assert rows(fresh_dsn, "select current_setting('random_page_cost')") == [("1.1",)]


def test_two_runs_of_one_period_at_once_land_each_batch_once(tmp_path, fresh_dsn, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from chiso import pipeline

    for unit in ("11224", "11560", "11557"):
        make_submission(tmp_path, unit=unit)
    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    monkeypatch.setenv("CHISO_LANDING_WORKERS", "1")
    job = pipeline.Job.from_params({"submissions": str(tmp_path), "period": "2025-09",
                                    "province": "31", "cycle": "calendar"})
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda run: pipeline.land_submissions(job, run), ["a", "b"]))
    assert rows(fresh_dsn, "select count(*) from raw.batches") == [(3,)]
    assert rows(fresh_dsn, "select count(*) from raw.ho_so") == [(6,)]
    # The run that came second found the same files already landed, and says so.
    statuses = dict(rows(fresh_dsn, "select run_id, string_agg(distinct status, ',') from audit.inventory "
                                    "where path like '%%/ho_so.csv' group by 1"))
    assert sorted(statuses.values()) == ["duplicate", "landed"]
    assert all(len(r) == 3 for r in results)


def test_a_run_that_never_finished_is_marked_by_the_next(tmp_path, fresh_dsn, monkeypatch):
    from chiso import pipeline

    make_submission(tmp_path)
    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    job = pipeline.Job.from_params({"submissions": str(tmp_path), "period": "2025-09",
                                    "province": "31", "cycle": "calendar"})
    pipeline.land_submissions(job, "killed")  # … and then the process died
    pipeline.land_submissions(job, "next")
    runs = dict(rows(fresh_dsn, "select run_id, status from audit.runs"))
    assert runs == {"killed": "abandoned", "next": "running"}
    pipeline.mark_failed("next", "task gate: boom")
    assert rows(fresh_dsn, "select status, detail->>'reason' from audit.runs where run_id = 'next'") == [
        ("failed", "task gate: boom")]


def test_a_windows_1258_file_lands_as_vietnamese_with_a_note(tmp_path, fresh_dsn):
    folder = make_submission(tmp_path)
    catalogue = "Mã TTHC,Tên TTHC,Mức độ DVCTT\n1.001234,Đăng ký khai sinh,Toàn trình\n"
    (folder / "danh_muc_tthc.csv").write_bytes(windows_1258(catalogue))
    [batch] = land(tmp_path, fresh_dsn)
    assert batch.new and batch.rows == {"ho_so": 2, "danh_muc_tthc": 1} and not batch.errors
    assert rows(fresh_dsn, "select name, service_level from raw.danh_muc_tthc") == [
        ("Đăng ký khai sinh", "full")]
    [(note,)] = rows(fresh_dsn, "select note from raw.files where source = 'danh_muc_tthc'")
    assert note.startswith("31/11224/2025-09/danh_muc_tthc.csv: read as Windows-1258")


def test_a_totals_row_below_the_data_is_noted_not_landed_and_the_batch_passes(tmp_path, fresh_dsn):
    from chiso.gate import run_gate

    make_submission(tmp_path, ho_so=HO_SO + ",,,,,,,\nTổng cộng: 2 hồ sơ,,,,,,,\n")
    [batch] = land(tmp_path, fresh_dsn)
    assert batch.rows == {"ho_so": 2, "danh_muc_tthc": 1} and not batch.errors
    [(delivered, landed, note)] = rows(fresh_dsn, "select rows_delivered, rows_landed, note from raw.files "
                                                  "where source = 'ho_so'")
    assert (delivered, landed) == (2, 2)
    assert note == ("31/11224/2025-09/ho_so.csv: row 5 below the data ('Tổng cộng: 2 hồ sơ') "
                    "is no record: not landed")
    assert run_gate(fresh_dsn, "r1", [batch.batch_id])[batch.batch_id].status in ("passed", "warned")


def test_a_column_numbering_row_is_noted_not_landed_and_the_batch_passes(tmp_path, fresh_dsn):
    from chiso.gate import run_gate

    # a printed form's '(1) (2) (3) …' under the header: read as a record, its '(3)' was an
    # unreadable reception date and quarantined the unit's month
    header, *records = HO_SO.splitlines()
    numbering = ",".join(f"({k})" for k in range(1, header.count(",") + 2))
    make_submission(tmp_path, ho_so="\n".join([header, numbering, *records]) + "\n")
    [batch] = land(tmp_path, fresh_dsn)
    assert batch.rows == {"ho_so": 2, "danh_muc_tthc": 1} and not batch.errors
    [(delivered, landed, note)] = rows(fresh_dsn, "select rows_delivered, rows_landed, note from raw.files "
                                                  "where source = 'ho_so'")
    assert (delivered, landed) == (2, 2)
    assert note == ("31/11224/2025-09/ho_so.csv: row 2 under the header numbers the columns: "
                    "no record, not landed")
    assert rows(fresh_dsn, "select min(source_row) from raw.ho_so") == [(3,)]
    assert run_gate(fresh_dsn, "r1", [batch.batch_id])[batch.batch_id].status in ("passed", "warned")


def test_a_printed_form_lands_its_records_with_notes_and_the_batch_passes(tmp_path, fresh_dsn):
    import openpyxl

    from chiso.gate import run_gate

    # a header of two rows under a merged 'Ngày', the columns numbered, a procedure code
    # written once for two dossiers: as hand-kept sheets are
    folder = make_submission(tmp_path)
    (folder / "ho_so.csv").unlink()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Mã hồ sơ", "Mã TTHC", "Ngày", None, None, "Hình thức nộp", "Trạng thái"])
    sheet.append([None, None, "Tiếp nhận", "Hẹn trả", "Hoàn thành", None, None])
    sheet.append([f"({k})" for k in range(1, 8)])
    sheet.append(["D1", "1.001234", "02/09/2025 08:00", "05/09/2025 17:00", "04/09/2025 10:00",
                  "Trực tuyến", "Đã trả kết quả"])
    sheet.append(["D2", None, "03/09/2025 08:00", "06/09/2025 17:00", None, "Trực tiếp", "Đang giải quyết"])
    sheet.merge_cells("C1:E1")
    sheet.merge_cells("B4:B5")
    workbook.save(folder / "ho_so.xlsx")
    [batch] = land(tmp_path, fresh_dsn)
    assert batch.rows == {"ho_so": 2, "danh_muc_tthc": 1} and not batch.errors
    assert rows(fresh_dsn, "select dossier_id, procedure_code, due_at, source_row from raw.ho_so "
                           "order by 1") == [("D1", "1.001234", "05/09/2025 17:00", 4),
                                             ("D2", "1.001234", "06/09/2025 17:00", 5)]
    [(note,)] = rows(fresh_dsn, "select note from raw.files where source = 'ho_so'")
    assert note == ("31/11224/2025-09/ho_so.xlsx: cells merged down over several records (B4:B5): each of "
                    "their rows read with the merged value; row 3 under the header numbers the columns: "
                    "no record, not landed")
    assert run_gate(fresh_dsn, "r1", [batch.batch_id])[batch.batch_id].status in ("passed", "warned")


def test_an_ignored_column_that_looks_like_a_missing_one_warns_the_batch(tmp_path, fresh_dsn):
    from chiso.gate import run_gate

    # the appointment date headed 'Ngày hẹn giải quyết': not a spelling of due_at, so not read
    ho_so = HO_SO.replace(",due_at,", ",Ngày hẹn giải quyết,").replace("applicant_ref", "STT")
    folder = make_submission(tmp_path, ho_so=ho_so)
    (folder / "ho_so.xlsx").unlink(missing_ok=True)
    [batch] = land(tmp_path, fresh_dsn)
    assert batch.rows == {"ho_so": 2, "danh_muc_tthc": 1} and not batch.errors
    [(lookalikes,)] = rows(fresh_dsn, "select lookalike_columns from raw.files where source = 'ho_so'")
    # 'STT' is ignored too, and looks like nothing
    assert lookalikes == "'Ngày hẹn giải quyết' looks like due_at (Ngày hẹn trả)"
    verdict = run_gate(fresh_dsn, "r1", [batch.batch_id])[batch.batch_id]
    assert verdict.status == "warned"
    assert any("batches.columns_recognised" in r and "Ngày hẹn giải quyết" in r for r in verdict.reasons)


def test_lookalike_headers_need_two_telling_words():
    from chiso.readers import lookalike_columns
    from chiso.sources import SOURCES

    ho_so = SOURCES["ho_so"]
    required = [c.name for c in ho_so.columns if c.required]
    assert lookalike_columns(["STT", "Ghi chú", "Số hóa thành phần", "Ngày ký"], required, ho_so) == [
        "'Số hóa thành phần' looks like digitised (Đã số hóa)"]  # 'số' alone says nothing, 'hóa' does
    # a column the file has is no suspect: 'Giờ tiếp nhận' beside 'Ngày tiếp nhận'
    assert lookalike_columns(["Giờ tiếp nhận"], required, ho_so) == []
