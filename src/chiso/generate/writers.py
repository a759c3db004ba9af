"""Write a table as a commune would deliver it: CSV, XLSX (Vietnamese headers) or JSON.

The XLSX writer emits the OOXML parts directly instead of going through openpyxl: it
builds every cell with Arrow string kernels (a national run writes millions of cells),
and it pins zip entry times and document properties, which openpyxl stamps with the
wall clock, so two runs give byte-identical files.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from chiso.generate.tables import Table
from chiso.sources import Source

# Contract value → the wording an XLSX form uses; every one folds back to the contract
# value through chiso.sources.VIETNAMESE_VALUES.
VIETNAMESE_ENUMS: dict[str, dict[str, str]] = {
    "channel": {"online": "Trực tuyến", "direct": "Trực tiếp", "postal": "Bưu chính công ích"},
    "ho_so.status": {
        "in_progress": "Đang giải quyết",
        "completed": "Đã xử lý xong",
        "returned": "Đã trả kết quả",
        "refused": "Từ chối",
        "withdrawn": "Rút hồ sơ",
    },
    "method": {"online": "Trực tuyến", "cash": "Tiền mặt", "transfer": "Chuyển khoản"},
    "thanh_toan.status": {
        "success": "Thành công",
        "failed": "Thất bại",
        "pending": "Chờ thanh toán",
        "refunded": "Hoàn tiền",
    },
    "pakn.status": {"in_progress": "Đang xử lý", "handled": "Đã xử lý", "refused": "Từ chối"},
    "rating": {"satisfied": "Hài lòng", "unsatisfied": "Không hài lòng", "none": "Chưa đánh giá"},
    # "Không" alone would fold to the boolean false, hence "Không có" for no online service.
    "service_level": {"none": "Không có", "partial": "Một phần", "full": "Toàn trình"},
}
VIETNAMESE_BOOLEANS = ("Có", "Không")
SHEET_TITLES = {
    "ho_so": "Danh sách hồ sơ",
    "thanh_toan": "Thanh toán",
    "pakn": "PAKN",
    "danh_muc_tthc": "Danh mục TTHC",
}
EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")
ZIP_TIME = (2025, 1, 1, 0, 0, 0)


def vietnamese_enum(source: Source, column: str) -> dict[str, str]:
    return VIETNAMESE_ENUMS.get(f"{source.name}.{column}") or VIETNAMESE_ENUMS[column]


def _strings(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string(), from_pandas=True)


def _timestamps(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("datetime64[s]"), mask=np.isnat(values))


def _whole_numbers(values: np.ndarray) -> pa.Array:
    """An integer or amount column as text; NaN in a float column is a blank cell."""
    if values.dtype.kind == "f":
        return pc.cast(pc.cast(pa.array(values, from_pandas=True), pa.int64()), pa.string())
    return pc.cast(pa.array(values), pa.string())


def _mapped(values: np.ndarray, mapping: dict[str, str]) -> pa.Array:
    encoded = pc.dictionary_encode(_strings(values))
    dictionary = [mapping.get(v, v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(dictionary, pa.string()), encoded.indices)


def _join_rows(cells: list[pa.Array], separator: str) -> list[str]:
    if not cells or len(cells[0]) == 0:
        return []
    joined = pc.binary_join_element_wise(*cells, separator, null_handling="replace", null_replacement="")
    return joined.to_pylist()


# --- CSV -----------------------------------------------------------------------------

def _csv_quoted(values: pa.Array) -> pa.Array:
    needs = pc.match_substring_regex(values, r'[",\r\n]')
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(pc.fill_null(needs, False), quoted, values)


def csv_cells(table: Table, source: Source) -> tuple[list[str], list[pa.Array]]:
    names = [c for c in source.column_names if c in table]
    cells = []
    for name in names:
        values, kind = table[name], source.column(name).kind
        if kind in ("timestamp", "date"):
            cells.append(pc.strftime(_timestamps(values), format="%Y-%m-%d %H:%M:%S"))
        elif kind == "boolean":
            cells.append(pc.if_else(pa.array(values, pa.bool_()), "true", "false"))
        elif kind in ("integer", "amount"):
            cells.append(_whole_numbers(values))
        elif kind == "numeric":
            cells.append(pc.cast(pa.array(values), pa.string()))
        else:
            cells.append(_csv_quoted(_strings(values)))
    return names, cells


def write_csv(table: Table, source: Source, path: Path, *, style: str = "plain") -> None:
    """style 'plain': UTF-8, LF. 'excel': UTF-8 with BOM and CRLF, as Excel's 'CSV UTF-8' saves."""
    names, cells = csv_cells(table, source)
    newline = "\r\n" if style == "excel" else "\n"
    lines = [",".join(names), *_join_rows(cells, ",")]
    text = newline.join(lines) + newline
    path.write_bytes(("\ufeff" if style == "excel" else "").encode() + text.encode("utf-8"))


# --- JSON ----------------------------------------------------------------------------

def write_json(table: Table, source: Source, path: Path) -> None:
    """An array of objects with snake_case keys, ISO-8601 timestamps and JSON booleans."""
    frame = {}
    for name in (c for c in source.column_names if c in table):
        values, kind = table[name], source.column(name).kind
        if kind in ("timestamp", "date"):
            frame[name] = pc.strftime(_timestamps(values), format="%Y-%m-%dT%H:%M:%S").to_pandas()
        elif kind in ("integer", "amount") and values.dtype.kind == "f":
            frame[name] = pd.array(values, dtype="Int64")  # whole numbers, NaN as null
        else:
            frame[name] = values
    text = pd.DataFrame(frame).to_json(orient="records", force_ascii=False, indent=1)
    path.write_text(text + "\n", encoding="utf-8")


# --- XLSX ----------------------------------------------------------------------------

def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(values: pa.Array) -> pa.Array:
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        values = pc.replace_substring(values, raw, escaped)
    return values


def _text_cells(letter: str, rows: pa.Array, values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(
        f'<c r="{letter}', rows, '" t="inlineStr"><is><t>', _xml_text(values), "</t></is></c>", "",
        null_handling="emit_null",
    )


def _number_cells(letter: str, rows: pa.Array, values: pa.Array, style: str = "") -> pa.Array:
    return pc.binary_join_element_wise(
        f'<c r="{letter}', rows, f'"{style}><v>', values, "</v></c>", "", null_handling="emit_null"
    )


def header_text(source: Source, name: str, headers: str = "contract") -> str:
    """A column's header in a workbook: the contract's Vietnamese header, or with headers
    'alias' the first other spelling office software exports for it (chiso.sources)."""
    column = source.column(name)
    return column.aliases[0] if headers == "alias" and column.aliases else column.vietnamese


def _footer_rows(first: int, count: int, width: int, signed: str) -> list[str]:
    """What a sheet kept by hand has below its data: a totals row, a blank row, the place
    and date, who signs, and their names (under the first column and the fourth)."""
    def text(letter: str, row: int, value: str) -> str:
        return f'<c r="{letter}{row}" t="inlineStr"><is><t>{value}</t></is></c>'

    right = _column_letter(min(3, max(width - 1, 0)))
    lines = [
        text("A", first, f"Tổng cộng: {count} dòng"),
        text(right, first + 2, signed),
        text("A", first + 3, "Người lập biểu") + text(right, first + 3, "Thủ trưởng đơn vị"),
        text("A", first + 4, "Nguyễn Văn An") + text(right, first + 4, "Trần Thị Bình"),
    ]
    rows = [first, first + 2, first + 3, first + 4]
    return [f'<row r="{r}">{cells}</row>' for r, cells in zip(rows, lines, strict=True)]


def xlsx_bytes(table: Table, source: Source, *, dates: str = "excel", headers: str = "contract",
               footer: bool = False, numbering: bool = False, created: datetime = datetime(2025, 1, 1),
               creator: str = "") -> bytes:
    """dates 'excel': real Excel date-times (number format dd/mm/yyyy hh:mm); 'text': 'dd/mm/yyyy HH:MM'.
    headers 'contract' or 'alias' (header_text). footer: a totals row and a signature block
    below the data (_footer_rows); numbering: a row '(1)', '(2)', … under the header; landing
    leaves both out with a note."""
    names = [c for c in source.column_names if c in table]
    n = len(table[names[0]]) if names else 0
    first = 3 if numbering else 2  # the first record's row
    rows = pc.cast(pa.array(np.arange(first, n + first)), pa.string())
    header = "".join(
        f'<c r="{_column_letter(i)}1" s="2" t="inlineStr"><is><t>{header_text(source, name, headers)}'
        "</t></is></c>"
        for i, name in enumerate(names)
    )
    cells = []
    for i, name in enumerate(names):
        letter, values, column = _column_letter(i), table[name], source.column(name)
        if column.kind in ("timestamp", "date"):
            if dates == "excel":
                serial = (values - EXCEL_EPOCH).astype(np.int64) / 86_400.0
                serial_text = pc.cast(pa.array(serial, mask=np.isnat(values)), pa.string())
                cells.append(_number_cells(letter, rows, serial_text, ' s="1"'))
            else:
                text = pc.strftime(_timestamps(values), format="%d/%m/%Y %H:%M")
                cells.append(_text_cells(letter, rows, text))
        elif column.kind == "boolean":
            yes, no = VIETNAMESE_BOOLEANS
            cells.append(_text_cells(letter, rows, pc.if_else(pa.array(values, pa.bool_()), yes, no)))
        elif column.kind in ("integer", "amount"):
            cells.append(_number_cells(letter, rows, _whole_numbers(values)))
        elif column.kind == "numeric":
            cells.append(_number_cells(letter, rows, pc.cast(pa.array(values), pa.string())))
        elif column.kind == "enum":
            cells.append(_text_cells(letter, rows, _mapped(values, vietnamese_enum(source, name))))
        else:
            cells.append(_text_cells(letter, rows, _strings(values)))
    body = pc.binary_join_element_wise(
        '<row r="', rows, '">', *cells, "</row>", "", null_handling="replace", null_replacement=""
    ).to_pylist() if n else []
    if numbering:
        body.insert(0, '<row r="2">' + "".join(
            f'<c r="{_column_letter(i)}2" t="inlineStr"><is><t>({i + 1})</t></is></c>'
            for i in range(len(names))) + "</row>")
    if footer:
        signed = f"ngày {created.day:02d} tháng {created.month:02d} năm {created.year}"
        body += _footer_rows(n + first, n, len(names), signed)
    last = _column_letter(max(len(names) - 1, 0))
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}{n + first - 1 + (5 if footer else 0)}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f'<cols><col min="1" max="{max(len(names), 1)}" width="20" customWidth="1"/></cols>'
        f'<sheetData><row r="1">{header}</row>{"".join(body)}</sheetData></worksheet>'
    )
    return _package(sheet, SHEET_TITLES.get(source.name, source.name), created, creator)


def write_xlsx(table: Table, source: Source, path: Path, **options) -> None:
    path.write_bytes(xlsx_bytes(table, source, **options))


def _package(sheet: str, title: str, created: datetime, creator: str) -> bytes:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" '
            'Target="docProps/app.xml"/>'
            "</Relationships>"
        ),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:creator>{creator}</dc:creator><cp:lastModifiedBy>{creator}</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>Microsoft Excel</Application></Properties>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, content.encode("utf-8"))
    return buffer.getvalue()


# --- any format ----------------------------------------------------------------------

def write_table(table: Table, source: Source, folder: Path, file_format: str, **options) -> Path:
    path = folder / f"{source.name}.{file_format}"
    if file_format == "csv":
        write_csv(table, source, path, style=options.get("style", "plain"))
    elif file_format == "xlsx":
        write_xlsx(table, source, path, dates=options.get("dates", "excel"),
                   headers=options.get("headers", "contract"), footer=options.get("footer", False),
                   numbering=options.get("numbering", False),
                   created=options.get("created", datetime(2025, 1, 1)), creator=options.get("creator", ""))
    elif file_format == "json":
        write_json(table, source, path)
    else:
        raise ValueError(f"unknown file format {file_format!r}")
    return path
