"""Given a submission file in any accepted form, landing reads the same contract columns."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from chiso import readers
from chiso.generate.faults import tcvn3, windows_1258
from chiso.readers import FileError, read_table
from chiso.sources import HO_SO, THANH_TOAN

# "Hồ sơ" in TCVN3 (ABC): read as Windows-1258 it gives 'å' and '¬', no Vietnamese letters
TCVN3_HO_SO = tcvn3("Hồ sơ")

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
    assert row["received_at"] == "03/09/2025 08:15"  # as delivered: dbt parses day-first dates
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
        (b"payment_id,dossier_id\nP1," + TCVN3_HO_SO + b"\n", "row 2: not valid UTF-8"),
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


# --- helpers -------------------------------------------------------------------------------

def _xlsx(path: Path, rows: list[list], epoch=None) -> Path:
    workbook = openpyxl.Workbook()
    if epoch is not None:
        workbook.epoch = epoch
    sheet = workbook.active
    for row_no, row in enumerate(rows, start=1):
        for col_no, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row_no, col_no, value)
    workbook.save(path)
    return path


def _rezip(path: Path, replace: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> None:
    """Rewrite a workbook's zip with some parts replaced or added, as a hostile sender could."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts.update(replace)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as target:
        for part, content in parts.items():
            target.writestr(part, content)
    path.write_bytes(buffer.getvalue())


PAYMENT_HEADERS = ["Mã giao dịch", "Mã hồ sơ", "Số tiền", "Hình thức thanh toán", "Ngày thanh toán",
                   "Trạng thái"]
SHEET = "xl/worksheets/sheet1.xml"
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
              for i in range(1, 10))
    + "]>"
)


# --- 1. fault isolation --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("thanh_toan.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("thanh_toan.json", b'{"rows": 5}', "expected a JSON array of objects"),
        ("thanh_toan.json", b'[{"payment_id": "P1",}]', "row 1: invalid JSON"),
        ("thanh_toan.xlsx", b"PK\x03\x04 not really a zip", "not a readable XLSX"),
        ("thanh_toan.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old .xls file"),
        ("thanh_toan.txt", b"payment_id\n", "unsupported file type"),
    ],
)
def test_unreadable_files_are_file_errors(tmp_path: Path, filename: str, content: bytes, message: str):
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(FileError, match=message) as err:
        read_table(path, THANH_TOAN, display_name=f"31/11224/{filename}")
    assert str(err.value).startswith(f"31/11224/{filename}: ")


def test_malformed_sheet_xml_is_a_file_error(tmp_path: Path):
    path = _xlsx(tmp_path / "thanh_toan.xlsx", [PAYMENT_HEADERS, ["P1", "D1", 5, "online", "x", "success"]])
    _rezip(path, {SHEET: b'<?xml version="1.0"?><worksheet><sheetData><row r="1"><c'})
    with pytest.raises(FileError, match="not a readable XLSX workbook"):
        read_table(path, THANH_TOAN)


@pytest.mark.parametrize(
    ("suffix", "exception", "message"),
    [
        (".csv", MemoryError(), "too large to read in memory"),
        (".json", RecursionError(), "nested too deeply"),
        (".csv", UnicodeError("bad"), "cannot be decoded"),
        (".csv", ValueError("surprise"), r"cannot be read \(ValueError: surprise\)"),
        (".xlsx", KeyError("xl/workbook.xml"), "not a readable XLSX workbook"),
        (".xlsx", ValueError("surprise"), "not a readable XLSX workbook"),
    ],
)
def test_any_exception_while_reading_becomes_a_file_error(tmp_path: Path, monkeypatch, suffix: str,
                                                          exception: Exception, message: str):
    def explode(*_args):
        raise exception

    monkeypatch.setattr(readers, f"_read_{suffix[1:]}", explode)
    path = tmp_path / f"thanh_toan{suffix}"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(FileError, match=message) as err:
        read_table(path, THANH_TOAN, display_name=f"31/x/thanh_toan{suffix}")
    assert str(err.value).startswith(f"31/x/thanh_toan{suffix}: ")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_missing_file_is_a_file_error(tmp_path: Path, suffix: str):
    with pytest.raises(FileError, match="file cannot be opened .No such file"):
        read_table(tmp_path / f"thanh_toan{suffix}", THANH_TOAN)


def _read_or_file_error(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        result = read_table(path, THANH_TOAN)
    except FileError as err:
        assert str(err).startswith(f"{path.name}: ")
        return
    assert len(result.row_numbers) == result.table.num_rows


PROPERTY = settings(max_examples=100, deadline=None, database=None,  # no .hypothesis/ in the repo
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
CSV_LIKE = st.text(alphabet=',;\t"\n\r \x00aĐồ1', max_size=200).map(
    lambda body: ("payment_id,dossier_id,amount\n" + body).encode()
)

@PROPERTY
@given(suffix=st.sampled_from([".csv", ".json", ".xlsx"]), content=st.binary(max_size=2000) | CSV_LIKE)
def test_arbitrary_bytes_give_a_result_or_a_file_error(tmp_path: Path, suffix: str, content: bytes):
    _read_or_file_error(tmp_path / f"thanh_toan{suffix}", content)

@pytest.fixture(scope="module")
def workbook_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("workbook") / "thanh_toan.xlsx"
    return _xlsx(path, [PAYMENT_HEADERS, ["P1", "D1", 5, "online", 45903.5, "success"]]).read_bytes()

@PROPERTY
@given(data=st.data())
def test_damaged_workbooks_give_a_result_or_a_file_error(tmp_path: Path, workbook_bytes: bytes, data):
    content = bytearray(workbook_bytes)
    start = data.draw(st.integers(0, len(content) - 1))
    noise = data.draw(st.binary(min_size=1, max_size=64))
    content[start:start + len(noise)] = noise
    _read_or_file_error(tmp_path / "thanh_toan.xlsx", bytes(content))


# --- 2. size limits ------------------------------------------------------------------------

def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 100)
    path = tmp_path / "thanh_toan.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(FileError, match=r"file is \d+ bytes, over the 100 bytes limit \(CHISO_MAX_FILE_MB\)"):
        read_table(path, THANH_TOAN)


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CHISO_MAX_FILE_MB", "3")
    assert readers._limit_bytes("CHISO_MAX_FILE_MB", 512) == 3 * 1024 * 1024
    monkeypatch.delenv("CHISO_MAX_FILE_MB")
    assert readers._limit_bytes("CHISO_MAX_FILE_MB", 512) == 512 * 1024 * 1024


def test_zip_bomb_part_is_refused_by_name(tmp_path: Path):
    path = _xlsx(tmp_path / "thanh_toan.xlsx", [PAYMENT_HEADERS])
    _rezip(path, {"xl/media/padding.xml": b"\x00" * 1_000_000})
    with pytest.raises(FileError, match="part 'xl/media/padding.xml' expands .* zip bomb"):
        read_table(path, THANH_TOAN)


def test_workbook_unpacking_over_the_limit_is_refused(tmp_path: Path, monkeypatch):
    path = _xlsx(tmp_path / "thanh_toan.xlsx", [PAYMENT_HEADERS, ["P1", "D1", 5, "online", "x", "success"]])
    monkeypatch.setattr(readers, "MAX_UNPACKED_BYTES", 2000)
    with pytest.raises(FileError, match=r"unpacks to .*limit \(CHISO_MAX_UNPACKED_MB\); largest part"):
        read_table(path, THANH_TOAN)


# --- 3. hardened XML -----------------------------------------------------------------------

@pytest.mark.parametrize("padding", [0, 100_000], ids=["doctype-at-top", "doctype-after-long-comment"])
def test_entity_expansion_in_a_workbook_is_refused(tmp_path: Path, padding: int):
    path = _xlsx(tmp_path / "thanh_toan.xlsx", [PAYMENT_HEADERS])
    comment = f"<!--{'x' * padding}-->" if padding else ""
    laughs = LAUGHS.replace("?>", "?>" + comment, 1)
    sheet = (laughs + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
             "</sheetData></worksheet>")
    # stored, not deflated: the long comment must not look like a zip bomb
    _rezip(path, {SHEET: sheet.encode()}, compression=zipfile.ZIP_STORED)
    # refused by the DTD check on the part's head, else by the parser: expat's amplification
    # limit, or defusedxml when it is installed
    refused = r"(declares a DTD|malformed XML: limit on input amplification|unsafe XML refused)"
    with pytest.raises(FileError, match=rf"not a readable XLSX workbook \(.*{refused}"):
        read_table(path, THANH_TOAN)


# --- 4. CSV delimiters ---------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_the_one_whose_header_names_contract_columns(tmp_path: Path, delimiter: str):
    lines = [PAYMENT_HEADERS, ["P1", "D1", "50000", "Tiền mặt", "03/09/2025", "Thành công"]]
    path = tmp_path / "thanh_toan.csv"
    path.write_text("\n".join(delimiter.join(cells) for cells in lines) + "\n", encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert result.table.to_pylist() == [{
        "payment_id": "P1", "dossier_id": "D1", "amount": "50000", "method": "cash",
        "paid_at": "03/09/2025", "status": "success",
    }]


def test_csv_delimiter_tie_goes_to_the_most_fields(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text("a,b;c;d\n1,2;3;4\n", encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert result.ignored_columns == ["a,b", "c", "d"]
    assert result.rows_delivered == 1


def test_csv_error_is_located_with_the_detected_delimiter(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text("payment_id;dossier_id;amount\nP1;D1;5\nP2;D2\n", encoding="utf-8")
    with pytest.raises(FileError, match="row 3: expected 3 fields as in the header, found 2"):
        read_table(path, THANH_TOAN)


# --- 5. header below title rows, row numbers -----------------------------------------------

def test_csv_header_below_title_rows_and_physical_line_numbers(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text(
        "BÁO CÁO THANH TOÁN THÁNG 9/2025,,,,,\n"
        "\n"
        "Đơn vị: xã A,,,,,\n"
        + CSV.splitlines()[0] + "\r\n"
        "P1,D1,5,online,2025-09-03,success\r\n"
        "\r\n"
        'P2,"D2\nsecond line",6,cash,2025-09-04,success\r\n'
        "P3,D3,7,cash,2025-09-05,success",
        encoding="utf-8",
    )
    result = read_table(path, THANH_TOAN)
    assert result.header_row == 4
    assert result.row_numbers.to_pylist() == [5, 7, 9]
    assert result.table.column("dossier_id").to_pylist() == ["D1", "D2\nsecond line", "D3"]
    assert result.missing_required == []


def test_csv_row_numbers_survive_a_stray_quote_in_an_unquoted_field(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text(CSV.splitlines()[0] + '\nP1,D"1,5,online,x,success\n\nP2,D2,6,cash,y,success\n',
                    encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert result.table.column("dossier_id").to_pylist() == ['D"1', "D2"]
    assert result.row_numbers.to_pylist() == [2, 4]


def test_csv_without_a_recognisable_header_keeps_the_first_row(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text("Báo cáo\npayment_id,x,y\nP1,1,2\n", encoding="utf-8")
    with pytest.raises(FileError, match="row 2: expected 1 fields"):
        read_table(path, THANH_TOAN)
    path.write_text("\n\nnote,payment_id\nx,P1\n", encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert (result.header_row, result.row_numbers.to_pylist()) == (3, [4])
    assert result.missing_required == ["dossier_id", "amount", "method", "paid_at", "status"]


def test_csv_header_only_has_no_rows(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text(CSV.splitlines()[0] + "\n\n", encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert (result.rows_delivered, result.table.num_rows, len(result.row_numbers)) == (0, 0, 0)
    assert result.table.column_names == ["payment_id", "dossier_id", "amount", "method", "paid_at", "status"]


def test_xlsx_header_below_title_rows_keeps_sheet_row_numbers(tmp_path: Path):
    path = _xlsx(tmp_path / "thanh_toan.xlsx", [
        ["BÁO CÁO THANH TOÁN"],
        [],
        ["Kỳ: 9/2025", None, None, "Mã giao dịch"],  # one contract header is not a header row
        PAYMENT_HEADERS + ["Ghi chú"],
        ["P1", "D1", 5, "Tiền mặt", "03/09/2025", "Thành công"],
        [],
        [None, "   "],
        ["P2", "D2", 6, "Chuyển khoản", "04/09/2025", "Thành công", "x"],
    ])
    result = read_table(path, THANH_TOAN)
    assert result.header_row == 4
    assert result.row_numbers.to_pylist() == [5, 8]
    assert result.rows_delivered == 2
    assert result.table.column("method").to_pylist() == ["cash", "transfer"]
    assert result.ignored_columns == ["Ghi chú"]


def test_xlsx_without_a_recognisable_header_keeps_the_first_non_empty_row(tmp_path: Path):
    path = _xlsx(tmp_path / "thanh_toan.xlsx", [[], ["Mã giao dịch", "Ghi chú"], ["P1", "x"]])
    result = read_table(path, THANH_TOAN)
    assert (result.header_row, result.row_numbers.to_pylist()) == (2, [3])
    assert result.table.column("payment_id").to_pylist() == ["P1"]
    assert "amount" in result.missing_required


# --- 6. Excel date serials -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("epoch", "value", "expected"),
    [
        (None, 45903, "2025-09-03"),
        (None, 45903.0, "2025-09-03"),
        (None, 45903.34375, "2025-09-03 08:15:00"),
        (None, 45903.3437499, "2025-09-03 08:15:00"),
        (None, datetime(2025, 9, 3, 8, 15), "2025-09-03 08:15:00"),
        (None, 0.5, "0.5"),
        (None, 2958466, "2958466"),
        (None, "03/09/2025", "03/09/2025"),
        (CALENDAR_MAC_1904, 44441, "2025-09-03"),
    ],
)
def test_xlsx_numbers_in_date_columns_are_excel_serials(tmp_path: Path, epoch, value, expected):
    path = _xlsx(tmp_path / "thanh_toan.xlsx",
                 [PAYMENT_HEADERS, [45903, "D1", 45903, "online", value, "success"]], epoch=epoch)
    row = read_table(path, THANH_TOAN).table.to_pylist()[0]
    assert row["paid_at"] == expected
    assert (row["payment_id"], row["amount"]) == ("45903", "45903")  # not date columns


# --- 7. encodings --------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_and_bom_files_are_read(tmp_path: Path, encoding: str):
    bom = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}.get(encoding, "")
    path = tmp_path / "thanh_toan.csv"
    path.write_bytes((bom + CSV.replace("P1", "Phạm")).encode(encoding))
    result = read_table(path, THANH_TOAN)
    assert result.table.column("payment_id").to_pylist() == ["Phạm", "P2"]
    assert result.row_numbers.to_pylist() == [2, 3]
    path = tmp_path / "thanh_toan.json"
    payload = json.dumps({"rows": [{"payment_id": "Phạm"}]}, ensure_ascii=False)
    path.write_bytes((bom + payload).encode(encoding))
    assert read_table(path, THANH_TOAN).table.column("payment_id").to_pylist() == ["Phạm"]


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_windows_1258_is_read_as_vietnamese_and_says_so(tmp_path: Path, suffix: str):
    words = ["Hồ sơ", "Đã trả kết quả – đúng hạn", "Ưu tiên “khẩn”", "Tiền: 50.000₫"]
    if suffix == ".csv":
        text = "Mã giao dịch,Mã hồ sơ\n" + "".join(f'P{i},"{w}"\n' for i, w in enumerate(words))
    else:
        text = json.dumps([{"payment_id": f"P{i}", "dossier_id": w} for i, w in enumerate(words)],
                          ensure_ascii=False)
    path = tmp_path / f"thanh_toan{suffix}"
    path.write_bytes(windows_1258(text))
    assert not path.read_bytes().isascii() and b"\xcc" in path.read_bytes()  # a combining mark
    result = read_table(path, THANH_TOAN)
    assert result.table.column("dossier_id").to_pylist() == words  # composed, as typed
    assert result.encoding == "Windows-1258"
    plain = tmp_path / "plain.csv"
    plain.write_text("payment_id\nP1\n", encoding="utf-8")
    assert read_table(plain, THANH_TOAN).encoding == "UTF-8"


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_other_legacy_vietnamese_encodings_are_refused_with_their_row(tmp_path: Path, suffix: str):
    body = (b"payment_id,dossier_id\nP1,D1\nP2," + TCVN3_HO_SO + b"\n" if suffix == ".csv"
            else b'[{"payment_id": "P1"},\n {"payment_id": "' + TCVN3_HO_SO + b'"}]')
    path = tmp_path / f"thanh_toan{suffix}"
    path.write_bytes(body)
    with pytest.raises(FileError, match=r"row (3|2): not valid UTF-8 .*TCVN3/ABC or VNI.*UTF-8"):
        read_table(path, THANH_TOAN)


def test_utf8_with_one_stray_legacy_byte_is_refused_not_reread(tmp_path: Path):
    # UTF-8 text read as Windows-1258 gives symbols ('á»'): the file mixes encodings
    path = tmp_path / "thanh_toan.csv"
    path.write_bytes("payment_id,dossier_id\nP1,Hồ sơ\nP2,".encode() + b"D\xe0\n")
    with pytest.raises(FileError, match="row 3: not valid UTF-8"):
        read_table(path, THANH_TOAN)


def test_invalid_utf8_far_below_the_header_names_its_row(tmp_path: Path):
    rows = "".join(f"P{i},D{i},5,online,x,success\n" for i in range(40_000))
    path = tmp_path / "thanh_toan.csv"
    path.write_bytes((CSV.splitlines()[0] + "\n" + rows).encode() + b"P,D\xa7,5,online,x,success\n")
    with pytest.raises(FileError, match="row 40002: not valid UTF-8"):
        read_table(path, THANH_TOAN)


# --- 9. ambiguous headers ------------------------------------------------------------------

def test_two_columns_meaning_the_same_contract_column_are_refused(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text("payment_id,Mã hồ sơ,dossier_id\nP1,D1,D1\n", encoding="utf-8")
    with pytest.raises(FileError, match="columns 'Mã hồ sơ' and 'dossier_id' both mean dossier_id"):
        read_table(path, THANH_TOAN)


# --- 10. JSON ------------------------------------------------------------------------------

def test_json_nested_values_are_json_text_and_rows_are_numbered_by_record(tmp_path: Path):
    path = tmp_path / "thanh_toan.json"
    path.write_text(json.dumps({"data": [
        {"payment_id": "P1", "dossier_id": {"id": "D1", "đơn vị": "xã"}, "amount": 1.5},
        {"payment_id": "P2", "dossier_id": ["D2", None, True], "status": None},
    ]}, ensure_ascii=False), encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert result.table.column("dossier_id").to_pylist() == [
        '{"id": "D1", "đơn vị": "xã"}', '["D2", null, true]'
    ]
    assert result.table.column("amount").to_pylist() == ["1.5", ""]
    assert (result.header_row, result.row_numbers.to_pylist()) == (0, [1, 2])


def test_csv_row_numbers_match_rows_for_a_large_file(tmp_path: Path):
    rows = "".join(f'P{i},"D{i}",5,online,x,success\n' + ("\n" if i % 7 == 0 else "") for i in range(20_000))
    path = tmp_path / "thanh_toan.csv"
    path.write_text(CSV.splitlines()[0] + "\n" + rows, encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    numbers = result.row_numbers.to_pylist()
    assert len(numbers) == result.table.num_rows == 20_000
    assert numbers[:3] == [2, 4, 5] and numbers[-1] == 20_001 + len(range(0, 19_999, 7))


def test_headers_decorated_by_templates_still_map(tmp_path: Path):
    # Required-field stars, units in brackets, colons and line breaks inside header cells.
    path = tmp_path / "thanh_toan.csv"
    path.write_text("Mã giao dịch (*),Mã hồ sơ *,Số tiền (đồng),\"Hình thức\nthanh toán:\","
                    "Ngày thanh toán,Trạng thái\nP1,D1,50.000,Trực tuyến,05/09/2025,Thành công\n",
                    encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert result.missing_required == [] and result.ignored_columns == []
    assert result.table.to_pylist() == [{"payment_id": "P1", "dossier_id": "D1", "amount": "50.000",
                                         "method": "online", "paid_at": "05/09/2025",
                                         "status": "success"}]
    assert result.row_numbers.to_pylist() == [3]  # the header spans lines 1-2


def test_xlsx_data_on_a_later_sheet_is_found_and_two_data_sheets_are_refused(tmp_path: Path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Hướng dẫn"
    workbook.active.append(["Điền mỗi giao dịch một dòng"])
    data = workbook.create_sheet("Tháng 9")
    data.append(["Mã giao dịch", "Mã hồ sơ", "Số tiền", "Hình thức thanh toán", "Ngày thanh toán",
                 "Trạng thái"])
    data.append(["P1", "D1", 50000, "Trực tuyến", "05/09/2025", "Thành công"])
    path = tmp_path / "thanh_toan.xlsx"
    workbook.save(path)
    result = read_table(path, THANH_TOAN)
    assert result.table.column("payment_id").to_pylist() == ["P1"]
    assert result.row_numbers.to_pylist() == [2]
    copy = workbook.copy_worksheet(data)
    copy.title = "Tháng 8"
    workbook.save(path)
    with pytest.raises(FileError, match="sheets 'Tháng 9', 'Tháng 8' all hold thanh_toan rows"):
        read_table(path, THANH_TOAN)


def test_xlsx_last_months_sheet_one_column_richer_is_refused_not_read(tmp_path: Path):
    # 'T8' kept beside 'T9', with one more (optional) column: both headers name every required
    # column, so which is the month cannot be told; T8 used to be read, as it names more
    workbook = openpyxl.Workbook()
    header = ["Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận", "Hình thức nộp", "Trạng thái"]
    row = ["H1", "1.001234", "05/09/2025", "Trực tuyến", "Đang xử lý"]
    workbook.active.title = "T8"
    workbook.active.append([*header, "Ngày hẹn trả"])
    workbook.active.append([*row, "10/09/2025"])
    workbook.create_sheet("T9").append(header)
    workbook["T9"].append(row)
    path = tmp_path / "ho_so.xlsx"
    workbook.save(path)
    with pytest.raises(FileError, match="sheets 'T8', 'T9' all hold ho_so rows"):
        read_table(path, HO_SO)


@pytest.mark.parametrize("wrap", [
    lambda rows: {"thanh_toan": rows},
    lambda rows: {"status": "ok", "result": {"items": rows}},
    lambda rows: {"data": rows},
])
def test_json_exports_wrapping_their_one_array_are_read(tmp_path: Path, wrap):
    rows = [{"payment_id": "P1", "dossier_id": "D1", "amount": 1000, "method": "online",
             "paid_at": "2025-09-03", "status": "success"}]
    path = tmp_path / "thanh_toan.json"
    path.write_text(json.dumps(wrap(rows)), encoding="utf-8")
    assert read_table(path, THANH_TOAN).table.column("payment_id").to_pylist() == ["P1"]


def test_json_object_with_two_arrays_is_refused(tmp_path: Path):
    path = tmp_path / "thanh_toan.json"
    path.write_text(json.dumps({"a": [{"payment_id": "P1"}], "b": [{"payment_id": "P2"}]}), encoding="utf-8")
    with pytest.raises(FileError, match="expected a JSON array of objects"):
        read_table(path, THANH_TOAN)


# --- 11. rows below the data ---------------------------------------------------------------

FOOTER = [["Tổng cộng", None, 100000], [], [None, None, "Hải Phòng, ngày 05 tháng 10 năm 2025"],
          ["Người lập biểu", None, None, "Thủ trưởng đơn vị"], ["Nguyễn Văn An", None, None, "Trần Thị Bình"]]
PAYMENT_ROWS = [["P1", "D1", 50000, "Trực tuyến", "2025-09-03", "Thành công"],
                ["TONG-1", "D2", 50000, "Tiền mặt", "2025-09-04", "Thành công"]]


def test_a_totals_row_and_signature_block_are_left_out_by_row(tmp_path: Path):
    rows = [["BẢNG KÊ THANH TOÁN"], PAYMENT_HEADERS, *PAYMENT_ROWS, *FOOTER]
    path = _xlsx(tmp_path / "thanh_toan.xlsx", rows)
    result = read_table(path, THANH_TOAN)
    assert result.table.column("payment_id").to_pylist() == ["P1", "TONG-1"]  # an id is no label
    assert result.rows_delivered == 2 and result.row_numbers.to_pylist() == [3, 4]
    assert [row for row, _ in result.footer] == [5, 7, 8, 9]  # row 6 is blank
    assert result.footer[0][1] == "Tổng cộng"


@pytest.mark.parametrize("below", [
    [["Tổng cộng", None, 100000], ["P3", "D3", 1, "Tiền mặt", "2025-09-05", "Thành công"]],  # data after it
    [["Cộng hòa", "D3", 1, "Tiền mặt", "2025-09-05", "Thành công"]],  # a key that only looks like one
])
def test_a_label_with_records_after_it_or_in_the_key_is_data(tmp_path: Path, below: list):
    path = _xlsx(tmp_path / "thanh_toan.xlsx", [PAYMENT_HEADERS, *PAYMENT_ROWS, *below])
    result = read_table(path, THANH_TOAN)
    assert result.footer == [] and result.rows_delivered == 2 + len(below)


def test_a_csv_ending_in_a_totals_row_is_read_by_python_and_left_out(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text(CSV + ",,,,,\n" + "Tổng số: 2 giao dịch,,50000,,,\n", encoding="utf-8")
    assert readers.plan_csv(path, THANH_TOAN, path.name) is None  # COPY would land it as a record
    result = read_table(path, THANH_TOAN)
    assert result.table.column("payment_id").to_pylist() == ["P1", "P2"]
    assert result.footer == [(5, "Tổng số: 2 giao dịch")]
    path.write_text(CSV, encoding="utf-8")
    assert readers.plan_csv(path, THANH_TOAN, path.name) is not None


def test_lines_of_delimiters_only_are_blank_lines_not_records(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    lines = CSV.splitlines()
    body = [lines[0], ",,,,,", lines[1], ' , ,"",,,', lines[2], ",,,,,"]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    assert readers.plan_csv(path, THANH_TOAN, path.name) is None
    result = read_table(path, THANH_TOAN)
    assert result.table.column("payment_id").to_pylist() == ["P1", "P2"]
    assert result.row_numbers.to_pylist() == [3, 5] and result.rows_delivered == 2


def test_an_alias_beside_the_contracts_header_is_ignored_not_refused(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    path.write_text("Số giao dịch,Mã GD,payment_id,dossier_id\nB1,G1,P1,D1\n", encoding="utf-8")
    with pytest.raises(FileError, match="columns 'Số giao dịch' and 'Mã GD' both mean payment_id"):
        read_table(path, THANH_TOAN)  # two aliases: which one is meant is not guessed
    path.write_text("Mã GD,payment_id,dossier_id\nG1,P1,D1\n", encoding="utf-8")
    result = read_table(path, THANH_TOAN)
    assert result.table.column("payment_id").to_pylist() == ["P1"] and result.ignored_columns == ["Mã GD"]
    path.write_text("Mã GD,Mã hồ sơ\nG1,D1\n", encoding="utf-8")
    assert read_table(path, THANH_TOAN).table.column("payment_id").to_pylist() == ["G1"]


# --- the column-numbering row of printed forms -------------------------------------------

NUMBERED_HEADER = ["Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận", "Hình thức nộp", "Ngày hẹn trả", "Trạng thái"]
NUMBERED_RECORD = ["D1", "1.001234", "03/09/2025 08:15", "Trực tuyến", "10/09/2025", "Đã trả kết quả"]


@pytest.mark.parametrize("numbering", [
    ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"],
    [1, 2, 3, 4, 5, 6],  # numbers in a sheet: under a date header 3 must not read as 1900-01-03
    ["A", "B", 1, 2, 3, 4],
    ["1", None, "3", "4", "5", "(6)=(4)+(5)"],
])
def test_xlsx_column_numbering_row_under_the_header_is_no_record(tmp_path: Path, numbering):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["BÁO CÁO HỒ SƠ THÁNG 9/2025"])
    sheet.append(NUMBERED_HEADER)
    sheet.append(numbering)
    sheet.append(NUMBERED_RECORD)
    path = tmp_path / "ho_so.xlsx"
    workbook.save(path)
    result = read_table(path, HO_SO)
    assert result.numbering_row == 3
    assert result.rows_delivered == 1
    assert result.row_numbers.to_pylist() == [4]  # the record keeps its sheet row
    assert result.table.column("dossier_id").to_pylist() == ["D1"]


def test_csv_column_numbering_row_is_no_record_and_leaves_the_copy_path(tmp_path: Path):
    path = tmp_path / "thanh_toan.csv"
    lines = CSV.splitlines()
    path.write_text("\n".join([lines[0], "1,2,3,4,5,6", *lines[1:]]) + "\n", encoding="utf-8")
    assert readers.plan_csv(path, THANH_TOAN, path.name) is None  # COPY would land it
    result = read_table(path, THANH_TOAN)
    assert (result.numbering_row, result.rows_delivered) == (2, 2)
    assert result.row_numbers.to_pylist() == [3, 4]


@pytest.mark.parametrize("cells", [
    ["1", "2", "4"],               # a number skipped with no empty column for it
    ["2", "3", "4"],               # does not start at 1
    ["1", "2"],                    # too few cells to tell
    ["1", "2", "3", "A"],          # a letter after the numbers
    ["P1", "D1", "50000", "online", "2025-09-03", "success"],
    ["1", "2", "2025-09-03"],      # a date: a record
])
def test_rows_that_do_not_number_the_columns(cells):
    assert not readers.is_column_numbering(cells)


@PROPERTY
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8),
       st.sampled_from(["2025-09-03 08:15", "03/09/2025", "H31.10537-250903-0001", "D1"]))
def test_a_row_with_an_identifier_or_a_date_never_numbers_the_columns(cells, value):
    # a record always has its key and its reception date: whatever else it holds, it lands
    assert not readers.is_column_numbering([*cells, value])


def test_a_strict_open_xml_workbook_is_refused_saying_how_to_save_it(tmp_path: Path):
    workbook = openpyxl.Workbook()
    workbook.active.append(NUMBERED_HEADER)
    workbook.active.append(NUMBERED_RECORD)
    plain = io.BytesIO()
    workbook.save(plain)
    # Excel's 'Strict Open XML Spreadsheet': the same parts under other namespaces
    strict = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(strict, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item).replace(
                b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                b"http://purl.oclc.org/ooxml/spreadsheetml/main"))
    path = tmp_path / "ho_so.xlsx"
    path.write_bytes(strict.getvalue())
    with pytest.raises(FileError, match=r"ho_so.xlsx: saved as 'Strict Open XML Spreadsheet'.*Workbook"):
        read_table(path, HO_SO)


# --- a header of two rows ----------------------------------------------------------------

TWO_ROW_HEADER = (["STT", "Mã hồ sơ", "Mã TTHC", "Ngày", None, None, "Hình thức nộp", "Trạng thái"],
                  [None, None, None, "Tiếp nhận", "Hẹn trả", "Hoàn thành", None, None])
TWO_ROW_RECORD = [1, "D1", "1.001234", "03/09/2025 08:15", "10/09/2025", "05/09/2025", "Trực tuyến",
                  "Đã trả kết quả"]
TWO_ROW_EXPECTED = {"dossier_id": "D1", "procedure_code": "1.001234", "received_at": "03/09/2025 08:15",
                    "channel": "online", "due_at": "10/09/2025", "completed_at": "05/09/2025",
                    "status": "returned"}


def test_xlsx_header_of_two_rows_under_a_merged_cell_names_its_columns(tmp_path: Path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in TWO_ROW_HEADER:
        sheet.append(row)
    sheet.merge_cells("D1:F1")  # 'Ngày' over the three dates
    for column in "ABCGH":
        sheet.merge_cells(f"{column}1:{column}2")
    sheet.append(TWO_ROW_RECORD)
    path = tmp_path / "ho_so.xlsx"
    workbook.save(path)
    result = read_table(path, HO_SO)
    assert result.missing_required == [] and result.ignored_columns == ["STT"]
    assert result.table.to_pylist() == [TWO_ROW_EXPECTED]
    assert result.row_numbers.to_pylist() == [3]


def test_csv_header_of_two_rows_then_a_numbering_row(tmp_path: Path):
    rows = [*TWO_ROW_HEADER, [f"({k})" for k in range(1, 9)], TWO_ROW_RECORD]
    path = tmp_path / "ho_so.csv"
    path.write_text("\n".join(",".join(str(c or "") for c in row) for row in rows) + "\n", encoding="utf-8")
    result = read_table(path, HO_SO)
    assert result.table.to_pylist() == [TWO_ROW_EXPECTED]
    assert (result.numbering_row, result.row_numbers.to_pylist()) == (3, [4])


def test_a_record_under_a_full_header_is_no_second_header():
    lookup = readers.header_lookup(HO_SO)
    header = ["Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận", "Hình thức nộp", "Trạng thái"]
    record = ["D1", "1.001234", "03/09/2025", "Trực tuyến", "Mới"]
    assert readers.with_subheader(header, record, lookup) is None
    # words only, but naming nothing more: no second header either
    assert readers.with_subheader(header, ["", "", "", "Trực tuyến", "Mới tiếp nhận"], lookup) is None


@PROPERTY
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8), st.integers(0, 9))
def test_a_row_with_a_digit_is_never_a_second_header(cells, digit):
    header = ["Mã hồ sơ", "Ngày", None, "Trạng thái", None, None, None, None, None, None]
    lookup = readers.header_lookup(HO_SO)
    assert readers.with_subheader(header, [*cells, f"Tiếp nhận {digit}"], lookup) is None


def test_xlsx_cell_merged_down_over_records_holds_its_value_in_each(tmp_path: Path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận", "Hình thức nộp", "Trạng thái"])
    sheet.append(["D1", "1.001234", "03/09/2025 08:15", "Trực tuyến", "Mới tiếp nhận"])
    sheet.append(["D2", None, "04/09/2025 09:00", "Trực tiếp", "Mới tiếp nhận"])
    sheet.append(["D3", None, None, "Trực tiếp", "Mới tiếp nhận"])
    sheet.append(["D4", "2.000001", "05/09/2025 10:00", "Trực tiếp", "Mới tiếp nhận"])
    sheet.merge_cells("B2:B4")  # one procedure written once for three dossiers
    sheet.merge_cells("C3:C4")
    path = tmp_path / "ho_so.xlsx"
    workbook.save(path)
    result = read_table(path, HO_SO)
    assert result.table.column("procedure_code").to_pylist() == ["1.001234"] * 3 + ["2.000001"]
    assert result.table.column("received_at").to_pylist() == [
        "03/09/2025 08:15", "04/09/2025 09:00", "04/09/2025 09:00", "05/09/2025 10:00"]
    assert sorted(result.merged) == ["B2:B4", "C3:C4"]


def test_a_carriage_return_in_the_first_record_is_no_numbering_row(tmp_path: Path):
    # the numbering-row look at the body's first line must not raise csv's own error
    path = tmp_path / "ho_so.csv"
    path.write_bytes(b"Ghi ch\xc3\xba,dossier_id,procedure_code,received_at\nD1,D1,D1,cr\rhere\n")
    data = path.read_bytes()
    assert not readers._numbers_columns(data, data.index(b"\n") + 1, len(data), ",")
    with pytest.raises(FileError, match=r"row 3: expected 4 fields"):
        read_table(path, HO_SO)
