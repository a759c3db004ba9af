"""chiso.generate: synthetic submissions that follow the contract, and faults the gate must catch."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from chiso.generate import FAULT_KINDS, generate, inject_faults, select_units
from chiso.generate.report import number, percent
from chiso.generate.units import load_units, profile_for
from chiso.generate.writers import VIETNAMESE_ENUMS
from chiso.periods import period_range, period_window
from chiso.readers import FileError, read_table
from chiso.sources import SOURCES, VIETNAMESE_VALUES, fold, header_lookup
from chiso.workdays import working_days_csv

PERIODS = "2025-08:2025-09"


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def source_files(root: Path, label: str = "*") -> list[Path]:
    return sorted(p for p in root.glob(f"*/*/{label}/*") if p.stem in SOURCES)


def raw_rows(path: Path, header_only: bool = False) -> tuple[list[str], list[list[object]]]:
    """Headers and cell values as delivered, without landing's normalisation."""
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        return rows[0], rows[1:]
    if path.suffix == ".json":
        records = json.loads(path.read_text(encoding="utf-8"))
        headers = list(records[0]) if records else []
        return headers, [[r.get(h) for h in headers] for r in records]
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True, max_row=1 if header_only else None)]
    # the rows below a totals row are a signature block, and a row '(1)', '(2)', … under the
    # header numbers the columns: no records
    totals = next((i for i, r in enumerate(rows) if str(r[0] or "").startswith("Tổng cộng")), len(rows))
    first = 2 if len(rows) > 1 and rows[1] and rows[1][0] == "(1)" else 1
    return [str(h) for h in rows[0]], rows[first:totals]


def when(text: str) -> datetime:
    """A date as the generator writes it: ISO (CSV, JSON, spreadsheet dates) or day-first
    text (the XLSX variant with dates as text); landing keeps both as delivered."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.strptime(text, "%d/%m/%Y %H:%M" if " " in text else "%d/%m/%Y")


@functools.cache
def calendar() -> tuple[dict[date, int], list[date]]:
    """chiso.workdays: each day's running number of working days, and the working days."""
    numbers, working = {}, []
    for line in working_days_csv().getvalue().splitlines():
        day, is_working, number = line.split(",", 3)[:3]
        numbers[date.fromisoformat(day)] = int(number)
        if is_working == "true":
            working.append(date.fromisoformat(day))
    return numbers, working


def working_day_after(day: date, n: int) -> date:
    numbers, working = calendar()
    return working[numbers[day] + n - 1]


def deadline(ho_so: dict[str, list[str]], i: int, limits: dict[str, str]) -> datetime | None:
    """2.1's deadline: the appointment moved on by the supplement's working days (one
    without a time: the end of its day), else the start of the first working day past
    reception + time limit + supplement days."""
    due, waited = ho_so["due_at"][i], int(ho_so["supplement_days"][i] or 0)
    if due:
        due_at = when(due)
        moved = working_day_after(due_at.date(), waited) if waited else due_at.date()
        return datetime.combine(moved, due_at.time() if due_at.time() != time(0) else time(23, 59, 59))
    limit = limits.get(ho_so["procedure_code"][i], "")
    if not limit:
        return None
    return datetime.combine(working_day_after(when(ho_so["received_at"][i]).date(), int(limit) + waited + 1),
                            datetime.min.time())


def contract_table(path: Path) -> dict[str, list[str]]:
    result = read_table(path, SOURCES[path.stem])
    assert not result.missing_required, (path, result.missing_required)
    assert not result.ignored_columns, (path, result.ignored_columns)
    return {name: result.table.column(name).to_pylist() for name in result.table.column_names}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("submissions")
    generate(out, province="31", periods=period_range(PERIODS), seed=7, units=8, scale=0.1)
    return out


@pytest.fixture(scope="module")
def haiphong(tmp_path_factory) -> Path:
    """All 114 units, one period, small volumes: the format and report mix."""
    out = tmp_path_factory.mktemp("haiphong")
    summary = generate(out, province="31", periods=period_range("2025-09"), seed=7, scale=0.05)
    assert summary.units == 114
    return out


def test_same_seed_gives_byte_identical_files(tree, tmp_path):
    generate(tmp_path, province="31", periods=period_range(PERIODS), seed=7, units=8, scale=0.1)
    assert digest(tmp_path) == digest(tree)


def test_another_seed_gives_other_data(tree, tmp_path):
    generate(tmp_path, province="31", periods=period_range(PERIODS), seed=8, units=8, scale=0.1)
    first, second = digest(tree), digest(tmp_path)
    changed = [name for name in first
               if name.endswith(("ho_so.csv", "ho_so.xlsx")) and first[name] != second.get(name)]
    assert changed


def test_folder_layout(tree):
    codes = [u.code for u in select_units("31")][:8]
    assert sorted(p.name for p in (tree / "31").iterdir()) == codes
    for code in codes:
        assert sorted(p.name for p in (tree / "31" / code).iterdir()) == ["2025-08", "2025-09"]
        for folder in (tree / "31" / code).iterdir():
            names = sorted(p.name for p in folder.iterdir())
            stems = [Path(n).stem for n in names if n != "bao_cao.txt"]
            assert sorted(stems) == sorted(SOURCES), names
            assert all(Path(n).suffix in (".csv", ".xlsx", ".json", ".txt") for n in names)
    manifest = json.loads((tree / "generation_manifest.json").read_text(encoding="utf-8"))
    assert manifest["units"] == codes and manifest["seed"] == 7


def test_all_114_haiphong_units(haiphong):
    expected = sorted(u.code for u in load_units() if u.province_code == "31")
    assert len(expected) == 114
    assert sorted(p.name for p in (haiphong / "31").iterdir()) == expected
    assert all((haiphong / "31" / code / "2025-09").is_dir() for code in expected)


def test_haiphong_mixes_formats_like_real_communes(haiphong):
    formats = {}
    for folder in (haiphong / "31").glob("*/2025-09"):
        formats[folder.parent.name] = {p.stem: p.suffix for p in folder.iterdir()}
    xlsx_units = sum(1 for f in formats.values() if f["ho_so"] == ".xlsx" or f["pakn"] == ".xlsx")
    assert 0.3 < xlsx_units / len(formats) < 0.7
    assert any(".json" in f.values() for f in formats.values())
    reports = sum(1 for f in formats.values() if "bao_cao" in f)
    assert 0.1 < reports / len(formats) < 0.35


def test_columns_match_the_contract(haiphong):
    styles = set()
    for path in source_files(haiphong):
        source = SOURCES[path.stem]
        headers, _ = raw_rows(path, header_only=True)
        if path.suffix == ".xlsx":
            lookup = header_lookup(source)
            contract = [c.vietnamese for c in source.columns]
            # the contract's headers, or the other spellings office software exports
            alias = [c.aliases[0] if c.aliases else c.vietnamese for c in source.columns]
            assert headers in (contract, alias), path
            styles.add("contract" if headers == contract else "alias")
            assert [lookup[fold(h)] for h in headers] == source.column_names
        elif path.suffix == ".csv":
            assert headers == source.column_names, path
        elif headers:
            assert headers == source.column_names, path
    assert styles == {"contract", "alias"}


def test_every_file_reads_through_landing(haiphong):
    rows = footers = numbered = 0
    for path in source_files(haiphong):
        rows += len(next(iter(contract_table(path).values()), []))
        result = read_table(path, SOURCES[path.stem])
        if result.footer:  # a totals row and a signature block, left out
            footers += 1
            assert result.footer[0][1].startswith("Tổng cộng") and len(result.footer) == 4
        if result.numbering_row is not None:  # '(1)', '(2)', … under the header, left out
            numbered += 1
            assert result.numbering_row == 2 and result.row_numbers[:1].to_pylist() in ([3], [])
        if result.footer or result.numbering_row is not None:
            assert result.rows_delivered == len(raw_rows(path)[1]) == result.table.num_rows
    assert rows > 5_000
    assert footers > 10 and numbered > 5


@pytest.mark.parametrize("cycle", ["calendar", "15th"])
def test_dates_inside_the_period_and_in_order(tmp_path, cycle):
    periods = period_range(PERIODS, cycle)
    generate(tmp_path, province="31", periods=periods, seed=11, units=6, scale=0.1)
    for period in periods:
        window = period_window(period.label, cycle)
        for folder in sorted(tmp_path.glob(f"31/*/{period.label}")):
            ho_so = contract_table(next(folder.glob("ho_so.*")))
            received = [when(v) for v in ho_so["received_at"]]
            # received in the period, or carried over: received the month before, still open
            # at its end (so finished, if at all, in this period)
            before = period_window(period.previous_label, cycle)
            assert all(before.start <= r.date() <= window.end for r in received), (folder, min(received))
            for i, r in enumerate(received):
                if r.date() < window.start:
                    assert all(not v or when(v).date() >= window.start
                               for v in (ho_so["completed_at"][i], ho_so["result_returned_at"][i]))
            for i, status in enumerate(ho_so["status"]):
                due = ho_so["due_at"][i]  # blank for a procedure without an appointment date
                completed, returned = ho_so["completed_at"][i], ho_so["result_returned_at"][i]
                assert not due or when(due) > received[i]
                # Open dossiers have neither time; some systems record only the return of the
                # result, or a refusal without a date (both cases of criterion 2.1).
                assert status != "in_progress" or (completed == "" and returned == "")
                assert completed or status in ("in_progress", "returned", "refused")
                assert (status == "returned") == (returned != "")
                if completed:
                    assert received[i] <= when(completed)
                    assert when(completed).date() <= window.end
                if returned:
                    assert received[i] <= when(returned) and when(returned).date() <= window.end
                    assert not completed or when(completed) <= when(returned)
                count, waited = int(ho_so["supplement_count"][i]), int(ho_so["supplement_days"][i])
                assert (count == 0) == (waited == 0) and waited >= 0
            pakn = contract_table(next(folder.glob("pakn.*")))
            assert all(window.contains(when(v).date()) for v in pakn.get("received_at", []))
            for i, status in enumerate(pakn.get("status", [])):
                received_at, handled = when(pakn["received_at"][i]), pakn["handled_at"][i]
                asked, published = pakn["supplement_requested_at"][i], pakn["published_at"][i]
                assert (status == "in_progress") == (handled == "")
                assert not asked or received_at <= when(asked)
                assert not (asked and handled) or when(asked) <= when(handled)
                assert not published or (status == "handled" and when(handled) <= when(published))
                assert all(not v or when(v).date() <= window.end for v in (handled, asked, published))


def test_enum_and_boolean_values_valid_after_mapping(haiphong):
    for path in source_files(haiphong):
        source = SOURCES[path.stem]
        headers, rows = raw_rows(path)
        lookup = header_lookup(source)
        for index, header in enumerate(headers):
            column = source.column(lookup[fold(header)])
            if column.kind not in ("enum", "boolean"):
                continue
            allowed = set(column.enum) if column.kind == "enum" else {"true", "false"}
            for value in {row[index] for row in rows}:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                mapped = VIETNAMESE_VALUES.get(fold(text), text)
                assert mapped in allowed, (path, header, value)


def test_vietnamese_wording_folds_back_to_contract_values():
    for column, mapping in VIETNAMESE_ENUMS.items():
        for value, vietnamese in mapping.items():
            assert VIETNAMESE_VALUES[fold(vietnamese)] == value, (column, vietnamese)


def test_xlsx_dates_are_excel_datetimes_or_ddmmyyyy_text(haiphong):
    kinds = set()
    for path in sorted((haiphong / "31").glob("*/2025-09/ho_so.xlsx")):
        _, rows = raw_rows(path)
        value = rows[0][2]
        if isinstance(value, datetime):
            kinds.add("excel")
        else:
            assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", value), value
            kinds.add("text")
    assert kinds == {"excel", "text"}


def test_referential_integrity_and_fees(tree):
    for folder in sorted(tree.glob("31/*/2025-09")):
        ho_so = contract_table(next(folder.glob("ho_so.*")))
        payments = contract_table(next(folder.glob("thanh_toan.*")))
        pakn = contract_table(next(folder.glob("pakn.*")))
        catalogue = contract_table(next(folder.glob("danh_muc_tthc.*")))
        assert len(set(ho_so["dossier_id"])) == len(ho_so["dossier_id"])
        id_pattern = rf"H31\.{folder.parent.name}-\d{{6}}-\d{{4}}"
        assert all(re.fullmatch(id_pattern, d) for d in ho_so["dossier_id"])
        assert all(re.fullmatch(r"\d{12}", a) for a in ho_so["applicant_ref"])
        assert 150 <= len(catalogue["procedure_code"]) <= 400
        assert all(re.fullmatch(r"[12]\.\d{6}", c) for c in catalogue["procedure_code"])
        fee_procedures = {c for c, f in zip(catalogue["procedure_code"], catalogue["has_fee"], strict=True)
                          if f == "true"}
        assert all(v == "" or 1 <= int(v) <= 15 for v in catalogue["time_limit_days"])
        assert sum(v == "" for v in catalogue["time_limit_days"]) <= 0.1 * len(catalogue["time_limit_days"])
        assert set(ho_so["procedure_code"]) <= set(catalogue["procedure_code"])
        # A blank fee, and now and then a charge on a procedure without a fee (criterion 3.6's
        # edge cases), but mostly a fee where the catalogue says so.
        fees = list(zip(ho_so["procedure_code"], ho_so["fee_amount"], strict=True))
        assert all(fee == "" or int(fee) >= 0 for _, fee in fees)
        charged_free = [code for code, fee in fees if fee not in ("", "0") and code not in fee_procedures]
        assert len(charged_free) <= 0.03 * len(fees)
        assert set(payments.get("dossier_id", [])) <= set(ho_so["dossier_id"])
        assert set(d for d in pakn.get("dossier_id", []) if d) <= set(ho_so["dossier_id"])


def test_units_share_procedure_codes(tree):
    catalogues = [set(contract_table(next(f.glob("danh_muc_tthc.*")))["procedure_code"])
                  for f in sorted(tree.glob("31/*/2025-09"))]
    assert len(set.intersection(*catalogues)) >= 40


def test_unit_sizes_are_skewed_and_wards_are_bigger():
    units = load_units()
    sizes = {u.code: profile_for(u, 7, mixed_formats=False).monthly_dossiers for u in units}
    values = np.array(list(sizes.values()))
    assert values.min() < 100 and values.max() > 3_000
    assert 700 < values.mean() < 1_300  # ≈ 3.3M dossiers a month nationally
    wards = np.median([sizes[u.code] for u in units if u.type == "phường"])
    communes = np.median([sizes[u.code] for u in units if u.type == "xã"])
    assert wards > communes


def test_units_limit_and_national_mode_is_csv_only(tmp_path):
    summary = generate(tmp_path, province=None, national=True, periods=period_range("2025-09"),
                       units=3, scale=0.05)
    first = [u.code for u in load_units()][:3]
    assert summary.units == 3
    files = source_files(tmp_path)
    assert sorted({p.parent.parent.name for p in files}) == first
    assert {p.suffix for p in files} == {".csv"}
    assert summary.files == len(files) + len(list(tmp_path.rglob("bao_cao.txt")))
    dossiers = sum(len(contract_table(p)["dossier_id"]) for p in files if p.stem == "ho_so")
    assert summary.rows["ho_so"] == dossiers


def test_report_figures_match_the_data_unless_planted(haiphong):
    manifest = json.loads((haiphong / "generation_manifest.json").read_text(encoding="utf-8"))
    planted = {(e["unit_code"], e["figure"]): e for e in manifest["report_errors"]}
    reports = sorted((haiphong / "31").glob("*/2025-09/bao_cao.txt"))
    assert reports and len(manifest["reports"]) == len(reports)
    for path in reports:
        text = path.read_text(encoding="utf-8")
        unit = path.parent.parent.name
        assert "tháng 09 năm 2025" in text and "từ ngày 01/09/2025 đến hết ngày 30/09/2025" in text
        ho_so = contract_table(next(path.parent.glob("ho_so.*")))
        fresh = [when(v).date() >= date(2025, 9, 1) for v in ho_so["received_at"]]  # not carried over
        online = sum(f and c == "online" for f, c in zip(fresh, ho_so["channel"], strict=True))
        received = sum(fresh)
        match = re.search(r"trực tuyến:? ([\d.]+)/([\d.]+) hồ sơ, đạt tỷ lệ ([\d,]+)%", text)
        assert match, path
        reported_online = int(match[1].replace(".", ""))
        reported_received = int(match[2].replace(".", ""))
        online_key, received_key = (unit, "dossiers_received_online"), (unit, "dossiers_received")
        expected_online = planted[online_key]["reported"] if online_key in planted else online
        expected_received = planted[received_key]["reported"] if received_key in planted else received
        assert (reported_online, reported_received) == (expected_online, expected_received), path
        # On time and late as the warehouse counts a report's figures (int_figures_computed):
        # completed by 2.1's deadline or not; no completion time is neither.
        catalogue = contract_table(next(path.parent.glob("danh_muc_tthc.*")))
        limits = dict(zip(catalogue["procedure_code"], catalogue["time_limit_days"], strict=True))
        completed = [(when(c), deadline(ho_so, i, limits)) for i, c in enumerate(ho_so["completed_at"]) if c]
        on_time_count = sum(d is not None and c <= d for c, d in completed)
        computed = {"dossiers_resolved_on_time": on_time_count,
                    "dossiers_resolved_late": len(completed) - on_time_count}
        on_time = re.search(r"giải quyết đúng hạn ([\d.]+) hồ sơ", text)[1]
        late = re.search(r"giải quyết đúng hạn [\d.]+ hồ sơ[,;] (?:giải quyết )?quá hạn ([\d.]+) hồ sơ", text)
        assert late or "không có hồ sơ quá hạn" in text, path
        reported = {"dossiers_resolved_on_time": int(on_time.replace(".", "")),
                    "dossiers_resolved_late": int(late[1].replace(".", "")) if late else 0}
        for figure, value in computed.items():
            key = (unit, figure)
            assert reported[figure] == (planted[key]["reported"] if key in planted else value), (path, figure)
        for error in (e for (u, _), e in planted.items() if u == unit):
            assert error["reported"] != error["computed"]


def test_vietnamese_number_formats():
    assert number(1069) == "1.069" and number(921) == "921"
    assert percent(94.78) == "94,78%" and percent(100.0) == "100%" and percent(95.7) == "95,7%"


@pytest.fixture()
def faulted(tmp_path) -> tuple[Path, list]:
    generate(tmp_path, province="31", periods=period_range("2025-09"), seed=5, units=10, scale=0.1)
    return tmp_path, inject_faults(tmp_path, "2025-09", seed=5)


def test_inject_faults_one_kind_per_unit(faulted):
    root, faults = faulted
    assert sorted(f.kind for f in faults) == sorted(FAULT_KINDS)
    assert len({f.unit_code for f in faults}) == len(FAULT_KINDS)
    recorded = json.loads((root / "faults_2025-09.json").read_text(encoding="utf-8"))
    assert [r["kind"] for r in recorded] == [f.kind for f in faults]


def test_each_injected_fault_is_detectable(faulted):
    root, faults = faulted
    valid_codes = {u.code for u in load_units()}
    window = period_window("2025-09", "calendar")
    for fault in faults:
        path = root / fault.file
        if fault.kind == "unknown_unit":
            assert path.is_dir() and fault.unit_code not in valid_codes
            continue
        if fault.kind == "truncated_xlsx":
            assert path.suffix == ".xlsx"
            with pytest.raises(zipfile.BadZipFile):
                zipfile.ZipFile(path)
            with pytest.raises(FileError):
                read_table(path, SOURCES[path.stem])
            continue
        if fault.kind == "wrong_encoding":
            with pytest.raises(UnicodeDecodeError):
                path.read_bytes().decode("utf-8")
            with pytest.raises(FileError):
                read_table(path, SOURCES[path.stem])
            continue
        if fault.kind == "empty_file":
            assert path.stat().st_size == 0
            with pytest.raises(FileError):
                read_table(path, SOURCES[path.stem])
            continue
        table = contract_table(path) if fault.kind != "missing_column" else None
        if fault.kind == "missing_column":
            result = read_table(path, SOURCES["ho_so"])
            assert "received_at" in result.missing_required
        elif fault.kind == "negative_fee":
            assert min(int(v) for v in table["fee_amount"] if v) < 0
        elif fault.kind == "date_outside_period":
            assert not all(window.contains(when(v).date()) for v in table["received_at"])
        elif fault.kind == "duplicate_dossier_id":
            assert len(set(table["dossier_id"])) < len(table["dossier_id"])
        elif fault.kind == "payment_missing_dossier":
            ho_so = contract_table(next(path.parent.glob("ho_so.*")))
            assert set(table["dossier_id"]) - set(ho_so["dossier_id"])
        elif fault.kind == "completed_before_received":
            pairs = zip(table["completed_at"], table["received_at"], strict=True)
            assert any(c and when(c) < when(r) for c, r in pairs)
        else:
            pytest.fail(f"no check for {fault.kind}")


def test_units_without_faults_stay_clean(faulted):
    root, faults = faulted
    touched = {f.unit_code for f in faults}
    for folder in sorted(root.glob("31/*/2025-09")):
        if folder.parent.name in touched:
            continue
        ho_so = contract_table(next(folder.glob("ho_so.*")))
        assert min(int(v) for v in ho_so["fee_amount"]) >= 0
        assert len(set(ho_so["dossier_id"])) == len(ho_so["dossier_id"])


def test_some_units_write_appointment_dates_without_a_time(tree):
    # the habit of one unit in five (chiso.generate.tables.writes_due_date_only): its
    # appointment dates read as midnight, which 2.1 takes as the whole day
    from types import SimpleNamespace

    from chiso.generate.tables import writes_due_date_only

    habits: dict[str, set[bool]] = {}
    for path in sorted(tree.glob("31/*/2025-*/ho_so.*")):
        dues = [when(v) for v in contract_table(path)["due_at"] if v]
        habits.setdefault(path.parent.parent.name, set()).add(all(d.time() == time(0) for d in dues))
    assert {True} in habits.values() and {False} in habits.values()
    for code, date_only in habits.items():
        assert date_only == {writes_due_date_only(SimpleNamespace(code=code))}, code
