"""Read one submission file (CSV, XLSX, JSON) into an Arrow table of contract columns.

Landing normalises spelling, never content: Vietnamese or snake_case headers map to the
contract names, Vietnamese enum words ("Trực tuyến", "Có") to the contract values, and
dd/mm/yyyy dates to ISO. Every value stays text; typing is dbt's job and checking is the
gate's, so a bad value is quarantined with its row instead of failing the load.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from chiso.sources import VIETNAMESE_VALUES, Source, fold, header_lookup


class FileError(Exception):
    """A file that cannot be read; the message names the file, row and field."""


@dataclass
class ReadResult:
    table: pa.Table  # contract columns present in the file, all strings
    rows_delivered: int
    missing_required: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def read_table(path: Path, source: Source, display_name: str | None = None) -> ReadResult:
    name = display_name or path.name
    data = path.read_bytes()
    if not data.strip():
        raise FileError(f"{name}: file is empty (no header row)")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        headers, table = _read_csv(data, name)
    elif suffix == ".xlsx":
        headers, table = _read_xlsx(data, name, source)
    elif suffix == ".json":
        headers, table = _read_json(data, name)
    else:
        raise FileError(f"{name}: unsupported file type {suffix!r} (use .csv, .xlsx or .json)")
    return _to_contract(table, headers, source, name)


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileError(f"{name}: file is UTF-16 encoded; save it as UTF-8 CSV")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise FileError(
            f"{name}: row {line}: not valid UTF-8 (byte 0x{data[err.start]:02x}); "
            "the file looks like another encoding (e.g. Windows-1258/TCVN3): save it as UTF-8"
        ) from None


def _read_csv(data: bytes, name: str) -> tuple[list[str], pa.Table]:
    # Arrow reads the bytes as they are and checks they are UTF-8; only a file it rejects
    # is decoded in Python, to say which row and why.
    end = data.find(b"\n")
    headers = next(csv.reader([_decode(data[: end if end >= 0 else len(data)], name).rstrip("\r")]))
    raw_names = [f"c{i}" for i in range(len(headers))]
    body = pa.py_buffer(data)  # zero-copy; the UTF-8 byte order mark is not data
    try:
        table = pcsv.read_csv(
            pa.BufferReader(body.slice(3) if data.startswith(b"\xef\xbb\xbf") else body),
            read_options=pcsv.ReadOptions(column_names=raw_names, skip_rows=1),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in raw_names}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        raise FileError(_locate_csv_error(_decode(data, name), name, len(headers))) from None
    return headers, table


def _locate_csv_error(text: str, name: str, width: int) -> str:
    for row_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if len(row) != width and any(cell.strip() for cell in row):
            return f"{name}: row {row_no}: expected {width} fields as in the header, found {len(row)}"
    return f"{name}: malformed CSV (unbalanced quotes?)"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes, name: str, source: Source) -> tuple[list[str], pa.Table]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise FileError(f"{name}: not a readable XLSX workbook (truncated or corrupt: {err})") from None
    sheet = workbook[source.name] if source.name in workbook.sheetnames else workbook.worksheets[0]
    try:
        rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise FileError(f"{name}: sheet {sheet.title!r} cannot be read ({err})") from None
    finally:
        workbook.close()
    rows = [row for row in rows if any(row)]
    if not rows:
        raise FileError(f"{name}: sheet {sheet.title!r} is empty (no header row)")
    headers = rows[0]
    body = rows[1:]
    columns = {f"c{i}": [row[i] if i < len(row) else "" for row in body] for i in range(len(headers))}
    return headers, pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def _read_json(data: bytes, name: str) -> tuple[list[str], pa.Table]:
    try:
        payload = json.loads(_decode(data, name))
    except json.JSONDecodeError as err:
        raise FileError(f"{name}: row {err.lineno}: invalid JSON ({err.msg})") from None
    records = payload.get("rows", payload.get("data")) if isinstance(payload, dict) else payload
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FileError(f"{name}: expected a JSON array of objects (or {{\"rows\": [...]}})")
    headers: list[str] = []
    for record in records:
        headers.extend(k for k in record if k not in headers)
    columns = {
        f"c{i}": pa.array([_cell_text(r.get(h)) for r in records], pa.string())
        for i, h in enumerate(headers)
    }
    return headers, pa.table(columns) if columns else pa.table({})


def _to_contract(table: pa.Table, headers: list[str], source: Source, name: str) -> ReadResult:
    lookup = header_lookup(source)
    arrays: dict[str, pa.Array] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        column = lookup.get(fold(str(header))) or lookup.get(fold(str(header)).replace(" ", "_"))
        if column is None or column in arrays:
            ignored.append(str(header))
            continue
        values = pc.utf8_trim_whitespace(table.column(f"c{index}"))
        kind = source.column(column).kind
        if kind in ("enum", "boolean"):
            values = _map_vietnamese(values)
        elif kind in ("timestamp", "date") and pc.any(pc.match_substring(values, "/")).as_py():
            values = pc.replace_substring_regex(
                values, r"^(\d{1,2})/(\d{1,2})/(\d{4})", r"\3-\2-\1"
            )
        arrays[column] = values
    missing = [c.name for c in source.columns if c.required and c.name not in arrays]
    ordered = {c: arrays[c] for c in source.column_names if c in arrays}
    result = pa.table(ordered) if ordered else pa.table({})
    return ReadResult(result, table.num_rows, missing, ignored)


def _map_vietnamese(values: pa.ChunkedArray) -> pa.Array:
    encoded = pc.dictionary_encode(values).combine_chunks()
    dictionary = [
        VIETNAMESE_VALUES.get(fold(v), v.lower() if fold(v) == v.lower() else v)
        for v in encoded.dictionary.to_pylist()
    ]
    return pc.take(pa.array(dictionary, pa.string()), encoded.indices)
