"""Inputs found by fuzzing that crashed or stalled a reader or the report extractor: each must
now give a result or a clear error naming the file, within a time a pipeline can afford."""

from __future__ import annotations

import io
import itertools
import json
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiso.extract import ExtractionError, extract_report
from chiso.extract.numbers import Number, parse_number
from chiso.extract.tables import ROLES, ScoreRow, _role_layouts, assign_roles
from chiso.readers import FileError, read_table
from chiso.sources import HO_SO

REPORT_HEAD = (
    "Báo cáo kết quả giải quyết thủ tục hành chính tháng 7 năm 2025 của UBND xã "
    "Vĩnh Thuận, tỉnh An Giang.\n"
)


class within:
    """Fails the test when the block takes longer than `seconds` (generous: CI is shared)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        took = time.perf_counter() - self.start
        assert took < self.seconds, f"took {took:.1f} s (limit {self.seconds} s)"


def outcome(path: Path) -> str:
    """'figures: …' or the ExtractionError's message; any other exception fails the test."""
    try:
        report = extract_report(path)
    except ExtractionError as exc:
        assert path.name in str(exc)
        return str(exc)
    return "figures: " + ", ".join(sorted(f.name for f in report.figures))


# --------------------------------------------------------------------------- reports


def test_text_with_a_utf16_mark_that_does_not_decode_is_an_extraction_error(tmp_path: Path):
    path = tmp_path / "bao_cao.txt"
    path.write_bytes(b"\xff\xfe" + "Báo cáo".encode("utf-16-le") + b"\x00\xd8")  # lone surrogate
    with pytest.raises(ExtractionError, match=r"bao_cao\.txt.*UTF-16"):
        extract_report(path)


def test_docx_table_whose_first_row_continues_a_vertical_merge_is_still_read(tmp_path: Path):
    docx = pytest.importorskip("docx")
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_paragraph(REPORT_HEAD)
    table = document.add_table(rows=0, cols=2)
    for label, number in [("Chỉ tiêu", "Số lượng"), ("Tiếp nhận mới", "520"), ("Đã giải quyết", "500")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, number
    # '<w:vMerge/>' on the top row: continues a merge from a row that does not exist
    table.rows[0].cells[0]._tc.get_or_add_tcPr().append(OxmlElement("w:vMerge"))
    assert table._tbl.tr_lst[0].tc_lst[0].tcPr.find(qn("w:vMerge")) is not None
    path = tmp_path / "bao_cao_vinh_thuan.docx"
    document.save(str(path))
    report = extract_report(path)
    assert {f.name: f.value for f in report.figures} == {"dossiers_received": 520, "dossiers_resolved": 500}


@pytest.mark.parametrize("word", ["I" * 300, "l" * 400, "rn" * 200, "nghiaquyen" * 60])
def test_a_very_long_word_does_not_stall_the_extractor(tmp_path: Path, word: str):
    path = tmp_path / "bao_cao.txt"
    path.write_text(REPORT_HEAD + f"Tiếp nhận mới {word} 520 hồ sơ.\n", encoding="utf-8")
    with within(10):
        outcome(path)


def test_a_table_row_of_thousands_of_numbers_does_not_stall_the_extractor(tmp_path: Path):
    path = tmp_path / "bao_cao.txt"
    row = "Tổng số hồ sơ tiếp nhận\t" + "\t".join(str(k % 90 + 1) for k in range(3_000))
    path.write_text(REPORT_HEAD + "Chỉ tiêu\tSố lượng\n" + row + "\n", encoding="utf-8")
    with within(20):
        outcome(path)


@pytest.mark.parametrize("clause", [
    " ".join(str(k % 900 + 1) for k in range(20_000)),  # a clause of 20,000 numbers: > 120 s before
    ", ".join(f"{k % 90 + 1} hồ sơ đúng hạn" for k in range(800)),  # one sentence, 800 counts: 9 s
])
def test_a_clause_of_thousands_of_numbers_does_not_stall_the_extractor(tmp_path: Path, clause: str):
    path = tmp_path / "bao_cao.txt"
    path.write_text(REPORT_HEAD + "Đã giải quyết " + clause + ".\n", encoding="utf-8")
    with within(10):
        outcome(path)


def test_score_table_roles_are_chosen_as_by_full_enumeration_and_fast_when_wide():
    for width in range(1, 7):
        full = [r for r in itertools.product((*ROLES, "other"), repeat=width)
                if "score" in r and not any(r.count(x) > 1 for x in ROLES)]
        assert _role_layouts(width) == full
    # twelve numbers a row (an OCR'd letter whose footnotes ran into the table): max, score,
    # rank, then nine others; 4**12 tuples took 12 s, the layouts take well under one
    tail = ["2", "4", "5", "6", "7", "8", "9", "10", "11"]

    def row(line: int, group: str, cap: str, score: str, rank: str) -> ScoreRow:
        raws = [cap, score, rank, *tail]
        return ScoreRow(line, group, [Number(parse_number(raw), raw, 0, 0) for raw in raws])

    rows = [row(1, "CKMB", "18", "15,5", "3"), row(2, "TDGQ", "20", "17,25", "12")]
    with within(5):
        roles = assign_roles(rows, "diem toi da ket qua xep hang")
    assert roles == ("max", "score", "rank", *["other"] * len(tail))


# --------------------------------------------------------------------------- submission files


def test_json_whose_records_each_have_their_own_keys_is_refused_quickly(tmp_path: Path):
    path = tmp_path / "ho_so.json"
    path.write_text(json.dumps([{f"k{i}": i} for i in range(8_000)]), encoding="utf-8")
    with within(5), pytest.raises(FileError, match=r"ho_so\.json: .*8,000 different keys"):
        read_table(path, HO_SO)


def test_json_lone_surrogate_and_huge_integer_get_their_own_reasons(tmp_path: Path):
    path = tmp_path / "ho_so.json"
    path.write_text('[{"dossier_id": "D\\ud800"}]', encoding="utf-8")
    with pytest.raises(FileError, match=r"ho_so\.json: .*half of a UTF-16 pair"):
        read_table(path, HO_SO)
    path.write_text('[{"dossier_id": ' + "9" * 4_301 + "}]", encoding="utf-8")
    with pytest.raises(FileError, match=r"ho_so\.json: invalid JSON .*digits"):
        read_table(path, HO_SO)


def test_csv_header_wider_than_a_worksheet_is_refused_quickly(tmp_path: Path):
    path = tmp_path / "ho_so.csv"
    path.write_text("dossier_id,procedure_code" + "," * 100_000 + "\nD1,1.0001" + "," * 100_000 + "\n")
    with within(5), pytest.raises(FileError, match=r"ho_so\.csv: row 1: the header has 100,002 columns"):
        read_table(path, HO_SO)


def test_sheets_with_one_far_cell_do_not_make_the_reader_walk_a_million_rows(tmp_path: Path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "notes"
    workbook.active["A1048576"] = "x"
    data = workbook.create_sheet("data")
    data.append(["Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận"])
    data.append(["D1", "1.001234", "03/09/2025 08:15"])
    for k in range(12):
        workbook.create_sheet(f"extra{k}")["A1048576"] = "x"
    path = tmp_path / "ho_so.xlsx"
    workbook.save(path)
    with within(5):
        result = read_table(path, HO_SO)
    assert result.table.column("dossier_id").to_pylist() == ["D1"]


def test_workbook_without_worksheets_says_so(tmp_path: Path):
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    path = tmp_path / "ho_so.xlsx"
    with zipfile.ZipFile(path, "w") as target:
        for part in source.infolist():
            content = source.read(part)
            if part.filename == "xl/workbook.xml":
                content = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", content, flags=re.S)
            target.writestr(part, content)
    with pytest.raises(FileError, match=r"ho_so\.xlsx: .*no worksheet"):
        read_table(path, HO_SO)


# --------------------------------------------------------------------------- docx structure

HEAD_LINE = REPORT_HEAD.strip()


def _docx_with(tmp_path: Path, build) -> Path:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph(HEAD_LINE)
    build(document)
    path = tmp_path / "bao_cao_vinh_thuan.docx"
    document.save(str(path))
    return path


def _figures_table(document):
    table = document.add_table(rows=0, cols=2)
    for label, number in [("Chỉ tiêu", "Số lượng"), ("Tiếp nhận mới", "520"), ("Đã giải quyết", "500")]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, number
    return table


def _wrap(element, *names: str):
    """Moves `element` into nested w:<name> wrappers at its place (content controls …)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    parent, index = element.getparent(), element.getparent().index(element)
    parent.remove(element)
    inner = outer = None
    for name in names:
        node = parse_xml(f"<w:{name} {nsdecls('w')}/>")
        if inner is None:
            outer = node
        else:
            inner.append(node)
        inner = node
    inner.append(element)
    parent.insert(index, outer)


def _inline(document, wrapper: str) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    paragraph = document.add_paragraph("Tiếp nhận mới ")
    paragraph._p.append(parse_xml(f'<w:{wrapper} {nsdecls("w")}><w:r><w:t>520</w:t></w:r></w:{wrapper}>'))
    paragraph.add_run(" hồ sơ, đã giải quyết 500 hồ sơ.")


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda d: _wrap(d.add_paragraph("Tiếp nhận mới 520 hồ sơ, đã giải quyết 500 hồ sơ.")._p,
                                     "sdt", "sdtContent"), id="paragraph-in-content-control"),
        pytest.param(lambda d: _wrap(_figures_table(d)._tbl, "sdt", "sdtContent"), id="table-in-control"),
        pytest.param(lambda d: _wrap(_figures_table(d)._tbl.tr_lst[1], "sdt", "sdtContent"), id="row"),
        pytest.param(lambda d: _wrap(_figures_table(d)._tbl.tr_lst[1].tc_lst[1], "sdt", "sdtContent"),
                     id="cell-in-control"),
        pytest.param(lambda d: _inline(d, "ins"), id="tracked-insertion"),
        pytest.param(lambda d: _inline(d, "smartTag"), id="smart-tag"),
        pytest.param(lambda d: _inline(d, "fldSimple"), id="field"),
        pytest.param(lambda d: _figures_table(d.add_table(rows=1, cols=1).cell(0, 0)), id="nested-table"),
    ],
)
def test_docx_text_wrapped_the_ways_word_wraps_it_is_read(tmp_path: Path, build):
    report = extract_report(_docx_with(tmp_path, build))
    assert {f.name: f.value for f in report.figures} == {"dossiers_received": 520, "dossiers_resolved": 500}


def test_tracked_deletions_are_not_read(tmp_path: Path):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    def build(document):
        paragraph = document.add_paragraph("Tiếp nhận mới ")
        paragraph._p.append(parse_xml(f'<w:moveFrom {nsdecls("w")}><w:r><w:t>999</w:t></w:r></w:moveFrom>'))
        paragraph._p.append(parse_xml(f'<w:del {nsdecls("w")}><w:r><w:delText>888</w:delText></w:r></w:del>'))
        paragraph.add_run("520 hồ sơ, đã giải quyết 500 hồ sơ.")

    report = extract_report(_docx_with(tmp_path, build))
    assert {f.name: f.value for f in report.figures} == {"dossiers_received": 520, "dossiers_resolved": 500}


def _python_docx_rows(table) -> list[str]:
    """What python-docx's own grid (row.cells) gives, a cell spanning several grid columns
    followed by an empty one for each other column it spans (the readings line up)."""
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            cells.append("" if id(cell._tc) in seen else " ".join(cell.text.split()))
            seen.add(id(cell._tc))
        lines.append("\t".join(cells))
    return lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), merges=st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)), max_size=3))
def test_merged_cells_read_as_python_docx_lays_them_out(tmp_path: Path, rows, cols, merges):
    docx = pytest.importorskip("docx")
    from chiso.extract.text import _table_lines

    document = docx.Document()
    table = document.add_table(rows=rows, cols=cols)
    for r in range(rows):
        for c in range(cols):
            table.cell(r, c).text = f"r{r}c{c}"
    for r1, c1, r2, c2 in merges:
        try:
            corner = table.cell(min(r2, rows - 1), min(c2, cols - 1))
            table.cell(min(r1, rows - 1), min(c1, cols - 1)).merge(corner)
        except Exception:  # noqa: BLE001 - python-docx refuses merges across earlier merges
            continue
    try:
        expected = _python_docx_rows(table)
    except ValueError:  # a merge python-docx cannot lay out itself: read, one line a row
        assert len(_table_lines(table._tbl)) == rows
        return
    assert _table_lines(table._tbl) == expected


# --------------------------------------------------------------------------- CSV: COPY path = read_table

PAKN_HEADER = ("feedback_id,dossier_id,received_at,due_at,handled_at,supplement_requested_at,published_at,"
               "status,rating,repeated")
PAKN_ROW = "PAKN-{k},H{k},2025-09-04 11:34:43,2025-09-25 11:34:43,,,,handled,none,false"
FIRST, SECOND = PAKN_ROW.format(k=1), PAKN_ROW.format(k=2)


def _read_both(path: Path):
    """read_table's records, and what landing's COPY path would land (None: it leaves the
    file to read_table)."""
    from chiso.readers import plan_csv
    from chiso.sources import PAKN

    result = read_table(path, PAKN)
    plan = plan_csv(path, PAKN, path.name)
    return result, plan


@pytest.mark.parametrize(
    ("body", "records"),
    [
        pytest.param([FIRST, ",\t,,,,,,,,", SECOND], 2, id="tab-in-a-blank-record"),
        pytest.param([FIRST, ",\u00a0,,,,,,,,", SECOND], 2, id="nbsp-in-a-blank-record"),
        pytest.param([FIRST, " ", SECOND], 2, id="line-of-one-space"),
        pytest.param([FIRST, "\t \t"], 1, id="last-line-of-whitespace"),
        pytest.param([FIRST, "Tổng cộng,,,,,,,,,"] + ["Ghi chú: " + "x" * 300 + ",,,,,,,,,"] * 16, 1,
                     id="footer-longer-than-4kb"),
        pytest.param(["\ufeff" + FIRST], 1, id="bom-at-body-start"),
    ],
)
def test_the_copy_path_lands_what_read_table_reads(tmp_path: Path, body: list[str], records: int):
    path = tmp_path / "pakn.csv"
    path.write_text("\n".join([PAKN_HEADER, *body]) + "\n", encoding="utf-8")
    result, plan = _read_both(path)
    assert result.rows_delivered == records
    assert result.table.column("feedback_id").to_pylist()[0] == "PAKN-1"
    assert plan is None or plan.records == records


# --------------------------------------------------------------------------- XLSX rows

def _xlsx_rows(tmp_path: Path, rows: list[list], edit=None) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = tmp_path / "ho_so.xlsx"
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(path, "w") as target:
        for part in source.infolist():
            content = source.read(part)
            if edit and part.filename == "xl/worksheets/sheet1.xml":
                content = edit(content)
            target.writestr(part, content)
    return path


HO_SO_ROWS = [["Mã hồ sơ", "Mã TTHC", "Ngày tiếp nhận"], ["D1", "1.001234", "01/09/2025 08:15"],
              ["D2", "1.001234", "02/09/2025 08:15"], ["D3", "1.001234", "03/09/2025 08:15"]]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda x: x.replace(b'<row r="4"', b'<row r="99999999999"'),
                     "row number 99,999,999,999", id="row-past-the-last"),
        pytest.param(lambda x: x.replace(b'<row r="2"', b'<row r="7"'), "row 3 after row 7", id="order"),
        pytest.param(lambda x: x.replace(b'<row r="3"', b'<row r="2"'), "row 2 after row 2", id="row-twice"),
    ],
)
def test_a_sheet_whose_row_numbers_would_lose_or_stall_rows_is_refused(tmp_path: Path, edit, message: str):
    path = _xlsx_rows(tmp_path, HO_SO_ROWS, edit)
    with within(5), pytest.raises(FileError, match=rf"ho_so\.xlsx: sheet .* is malformed \({message}"):
        read_table(path, HO_SO)


def test_formulas_without_computed_values_are_refused_not_read_as_blank(tmp_path: Path):
    path = _xlsx_rows(tmp_path, [*HO_SO_ROWS, ['="D"&ROW()', "=B2", "=C2"]])  # openpyxl does not calculate
    with pytest.raises(FileError, match=r"ho_so\.xlsx: sheet .* formulas without computed values"):
        read_table(path, HO_SO)
    from chiso.readers import UNCOMPUTED_FORMULA

    assert not UNCOMPUTED_FORMULA.search(b'<c r="A1"><f>1+1</f><v>2</v></c>')  # Excel stores the value
    assert not UNCOMPUTED_FORMULA.search(b'<c r="A1" s="3" t="str"><f>IF(B1="","",B1)</f><v></v></c>')  # ""
    assert UNCOMPUTED_FORMULA.search(b'<c r="A1"><f>1+1</f></c>')


def test_records_after_a_subtotal_row_are_data_not_a_footer(tmp_path: Path):
    rows = [*HO_SO_ROWS, ["Cộng tháng 8"], *[[f"H31 10537 00{k}", "1.001234", None] for k in range(3)]]
    result = read_table(_xlsx_rows(tmp_path, rows), HO_SO)
    assert result.footer == [] and result.rows_delivered == 7


def test_records_between_two_headers_are_refused_not_read_as_titles(tmp_path: Path):
    first = "payment_id,dossier_id,amount,method,status"
    second = "payment_id,dossier_id,amount,method,paid_at,status"
    records = [f"P{k},D{k},50000,online,success" for k in range(5)]
    path = tmp_path / "thanh_toan.csv"
    path.write_text("\n".join([first, *records, second, "P9,D9,50000,online,2025-09-03,success"]) + "\n",
                    encoding="utf-8")
    from chiso.readers import plan_csv
    from chiso.sources import THANH_TOAN

    assert plan_csv(path, THANH_TOAN, path.name) is None  # the COPY path leaves it to read_table
    with pytest.raises(FileError, match=r"thanh_toan\.csv: rows 1 and 7 are both headers, with 5 row"):
        read_table(path, THANH_TOAN)
    # a header in two languages, one row under the other, is no such case (the first is the
    # header; the second, read as a record, is the gate's to judge)
    two_languages = ["Mã giao dịch,Mã hồ sơ,Số tiền", "payment_id,dossier_id,amount", "P1,D1,5"]
    path.write_text("\n".join(two_languages) + "\n", encoding="utf-8")
    assert read_table(path, THANH_TOAN).header_row == 1
