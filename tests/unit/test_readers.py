"""Given a submission file in any accepted form, landing reads the same contract columns."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from chiso.readers import FileError, read_table
from chiso.sources import HO_SO, THANH_TOAN

CSV = (
    "payment_id,dossier_id,amount,method,paid_at,status\n"
    "P1,D1,50000,online,2025-09-03 10:00:00,success\n"
    "P2,D2,,cash,2025-09-04,success\n"
)


def test_csv_keeps_every_value_as_text_and_empty_as_missing(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text(CSV, encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert result.rows_delivered == 2
    assert result.table.column("amount").to_pylist() == ["50000", ""]
    assert result.missing_required == []


def test_xlsx_with_vietnamese_headers_and_values_maps_onto_the_contract(tmp_path: Path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận", "Hình thức nộp", "Ngày hẹn trả",
                  "Trạng thái", "Đồng bộ Cổng DVCQG", "Ghi chú"])
    sheet.append(["D1", "1.001234", "03/09/2025 08:15", "Trực tuyến", "10/09/2025",
                  "Đã trả kết quả", "Có", "x"])
    path = tmp_path / "ho_so.xlsx"
    workbook.save(path)
    result = read_table(path, HO_SO)
    row = result.table.to_pylist()[0]
    assert row["channel"] == "online"
    assert row["status"] == "returned"
    assert row["synced_to_national_portal"] == "true"
    assert row["received_at"] == "2025-09-03 08:15"
    assert result.ignored_columns == ["Ghi chú"]


def test_json_array_of_objects(tmp_path: Path):
    path = tmp_path / "thanh_toan.json"
    path.write_text(json.dumps([{"payment_id": "P1", "dossier_id": "D1", "amount": 1000,
                                 "method": "online", "paid_at": "2025-09-03", "status": "success"}]))
    assert read_table(path, THANH_TOAN).table.column("amount").to_pylist() == ["1000"]


def test_missing_required_column_is_reported_not_fatal(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text("payment_id,dossier_id,amount\nP1,D1,5\n", encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert result.missing_required == ["method", "paid_at", "status"]
    assert result.rows_delivered == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (CSV.encode("utf-16"), "UTF-16"),
        ("payment_id,dossier_id\nP1,Hồ sơ\n".encode("cp1258", errors="replace"), "row 2: not valid UTF-8"),
        (b"payment_id,dossier_id\nP1,D1\nP2,D2,extra\n", "row 3: expected 2 fields"),
    ],
)
def test_unreadable_csv_names_file_and_row(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "thanh_toan.csv"
    path.write_bytes(content)
    with pytest.raises(FileError, match=message) as err:
        read_table(path, THANH_TOAN, display_name="31/11224/2025-09/thanh_toan.csv")
    assert "31/11224/2025-09/thanh_toan.csv" in str(err.value)


def test_truncated_xlsx_is_a_clear_error(tmp_path: Path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Mã giao dịch"])
    full = tmp_path / "full.xlsx"
    workbook.save(full)
    path = tmp_path / "thanh_toan.xlsx"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(FileError, match="not a readable XLSX"):
        read_table(path, THANH_TOAN)
