"""Read one submission file (CSV, XLSX, JSON) into an Arrow table of contract columns.

Landing normalises spelling, never content: Vietnamese or snake_case headers map to the
contract names and Vietnamese enum words ("Trực tuyến", "Có") to the contract values. Dates
stay as delivered text (dbt parses day-first dates), except that an Excel date serial is
written as the ISO date it stands for. Every value stays text; typing is dbt's job and
checking is the gate's, so a bad value is quarantined with its row instead of failing the load.

Any failure to read a file is a FileError naming the file and the reason, so one bad file
never stops a batch.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import json
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from chiso.sources import VIETNAMESE_VALUES, Source, fold, header_lookup

MiB = 1024 * 1024


def _limit_bytes(variable: str, default_mib: int) -> int:
    return int(float(os.environ.get(variable) or default_mib) * MiB)


def _size(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= 10 * MiB else f"{n} bytes"


MAX_FILE_BYTES = _limit_bytes("CHISO_MAX_FILE_MB", 512)
MAX_UNPACKED_BYTES = _limit_bytes("CHISO_MAX_UNPACKED_MB", 1024)
MAX_COMPRESSION_RATIO = 200  # real workbooks stay far below; a zip bomb is far above
HEADER_SCAN_ROWS = 30  # the header may sit below title rows; look this far for it
SHEET_CHOICE_ROWS = 1_000  # which sheet holds the data is told from this many rows at its top
MAX_COLUMNS = 16_384  # a worksheet's own limit (column XFD): a wider "header" is no table
CSV_DELIMITERS = (",", ";", "\t")  # in order of preference on a tie
EXCEL_MAX_SERIAL = 2958466  # 10000-01-01: serials at or above are not dates
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls, or an encrypted (password-protected) workbook


class FileError(Exception):
    """A file that cannot be read; the message names the file, row and field."""


@dataclass
class ReadResult:
    table: pa.Table  # contract columns present in the file, all strings
    rows_delivered: int
    missing_required: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    # For each table row, its row number as a spreadsheet or text editor shows it (CSV:
    # physical line where the record starts; XLSX: sheet row; JSON: 1-based record index).
    row_numbers: pa.Array = field(default_factory=lambda: pa.array([], pa.int32()))
    header_row: int = 1  # where the header is, numbered the same way (0 for JSON)
    encoding: str = "UTF-8"  # or LEGACY_ENCODING, read after a check (_from_windows_1258)
    # rows below the data that are no records (a totals row, a signature block): their row
    # numbers and first cells, not counted in rows_delivered and not landed (_footer_start)
    footer: list[tuple[int, str]] = field(default_factory=list)
    # the row right under the header that numbers the columns ('(1)', '(2)', … or 'A', 'B',
    # 1, 2, …), as forms printed for signature carry it: its row number, not landed
    numbering_row: int | None = None
    # cells merged down over several records ('C5:C9'), whose value each of those rows holds
    merged: list[str] = field(default_factory=list)


@dataclass
class _Raw:
    """A file as read: its header cells and text columns c0, c1, … in the same order."""

    headers: list[str]
    table: pa.Table
    row_numbers: pa.Array
    header_row: int
    encoding: str = "UTF-8"
    numbering_row: int | None = None
    merged: list[str] = field(default_factory=list)


def read_table(path: Path, source: Source, display_name: str | None = None) -> ReadResult:
    name = display_name or path.name
    suffix = path.suffix.lower()
    try:
        return _read(path, source, name, suffix)
    except FileError:
        raise
    except MemoryError:
        raise FileError(f"{name}: file is too large to read in memory") from None
    except RecursionError:
        raise FileError(f"{name}: data is nested too deeply to read") from None
    except Exception as err:
        raise FileError(f"{name}: {_reason(err, suffix)}") from err


def _read(path: Path, source: Source, name: str, suffix: str) -> ReadResult:
    if suffix not in (".csv", ".xlsx", ".json"):
        raise FileError(f"{name}: unsupported file type {suffix!r} (use .csv, .xlsx or .json)")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileError(
            f"{name}: file is {_size(size)}, over the {_size(MAX_FILE_BYTES)} limit (CHISO_MAX_FILE_MB)"
        )
    data = path.read_bytes()
    if not data or data.isspace():  # isspace, not strip: no copy of a large file
        raise FileError(f"{name}: file is empty (no header row)")
    if suffix == ".csv":
        raw = _read_csv(data, name, source)
    elif suffix == ".xlsx":
        raw = _read_xlsx(data, name, source)
    else:
        raw = _read_json(data, name)
    return _to_contract(raw, source, name)


def _reason(err: Exception, suffix: str) -> str:
    """An unexpected failure in plain words, for the file's owner."""
    detail = str(err)[:200] or type(err).__name__
    if isinstance(err, OSError) and err.filename is not None:
        return f"file cannot be opened ({err.strerror or detail})"
    if suffix == ".xlsx":
        # openpyxl wraps the parser's error in its own: look down the chain for the cause
        cause: BaseException | None = err
        for _ in range(5):
            if cause is None:
                break
            if isinstance(cause, ParseError):
                return f"not a readable XLSX workbook (malformed XML: {str(cause)[:200]})"
            if type(cause).__name__.endswith("Forbidden"):  # defusedxml refusing a DTD or entity
                return f"not a readable XLSX workbook (unsafe XML refused: {str(cause)[:200]})"
            cause = cause.__cause__ or cause.__context__
        return f"not a readable XLSX workbook (truncated or corrupt: {detail})"
    if isinstance(err, UnicodeError):
        return f"text cannot be decoded ({detail}); save the file as UTF-8"
    return f"cannot be read ({type(err).__name__}: {detail})"


# --- headers -----------------------------------------------------------------------------

def _contract_name(header: object, lookup: dict[str, str]) -> str | None:
    folded = fold(str(header))
    return (lookup.get(folded) or lookup.get(folded.replace(" ", "_"))
            or _loose_lookup(lookup).get(_loose(folded)))


def _loose(folded: str) -> str:
    """A header as templates decorate it, bare: 'ma ho so (*)', 'phi, le phi (dong)',
    'ngay tiep nhan:' → 'ma ho so', 'phi le phi', 'ngay tiep nhan'."""
    bare = re.sub(r"\([^)]*\)|\*", " ", folded)
    return re.sub(r"[^0-9a-z]+", " ", bare).strip()


_LOOSE_LOOKUPS: dict[int, tuple[dict[str, str], dict[str, str]]] = {}


def _loose_lookup(lookup: dict[str, str]) -> dict[str, str]:
    """lookup's spellings made loose, computed once per lookup (the header search asks for
    it for every cell of the first rows: rebuilding it each time was most of a CSV's plan)."""
    kept = _LOOSE_LOOKUPS.get(id(lookup))
    if kept is None or kept[0] is not lookup:
        if len(_LOOSE_LOOKUPS) > 64:  # lookups made on the fly (tests): keep the cache small
            _LOOSE_LOOKUPS.clear()
        # the lookup is kept beside its loose form, so its id cannot be reused meanwhile
        kept = _LOOSE_LOOKUPS[id(lookup)] = (lookup, {_loose(s): c for s, c in lookup.items()})
    return kept[1]


def _find_header(rows: Sequence[Sequence[str]], lookup: dict[str, str]) -> tuple[int, int]:
    """Index of the header among a file's first non-empty rows, and how many contract columns it names.

    The header is the first row naming the most contract columns, if that is at least two;
    otherwise the first row (and missing required columns are reported as such).
    """
    most = len(set(lookup.values()))
    counts: list[int] = []
    for row in rows[:HEADER_SCAN_ROWS]:
        counts.append(_columns_named(row, lookup))
        if counts[-1] == most >= 2:  # no later row can name more: the rows below are data
            break
    best = max(counts, default=0)
    if best < 2:
        return 0, counts[0] if counts else 0
    return counts.index(best), best


def with_subheader(header: Sequence[str], below: Sequence[str], lookup: dict[str, str]) -> list[str] | None:
    """The header completed by the row below it, when that row is a second header row
    (printed forms merge 'Ngày' over 'Tiếp nhận', 'Hẹn trả', 'Hoàn thành'): its cells are
    words without a digit (a record has an identifier or a date), and read alone or after the
    header cell above them (the nearest filled one to the left, a merged cell's) they name
    more contract columns than the header alone. None when the row is no second header."""
    below = [str(cell or "").strip() for cell in below]
    if len(below) > len(header) or not any(below) or any(c.isdigit() for cell in below for c in cell):
        return None
    combined: list[str] = []
    parent = ""
    for i, cell in enumerate(header):
        cell = str(cell or "").strip()
        parent = cell or parent
        sub = below[i] if i < len(below) else ""
        if not sub:
            combined.append(cell)
            continue
        candidates = [sub, f"{parent} {sub}".strip()]
        combined.append(next((c for c in candidates if _contract_name(c, lookup)), candidates[-1]))
    return combined if _columns_named(combined, lookup) > _columns_named(header, lookup) else None


def _columns_named(row: Sequence[str], lookup: dict[str, str]) -> int:
    """How many contract columns a row's cells name."""
    return len({c for c in (_contract_name(cell, lookup) for cell in row) if c})


def _is_blank(cells: Sequence[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in cells)


# --- text and encodings -------------------------------------------------------------------

def _utf8(data: bytes, name: str) -> tuple[bytes, int, str]:
    """The file as UTF-8 bytes, where its text starts (after a byte order mark) and the
    encoding it was read in.

    UTF-16 (with its byte order mark) is converted, and so is Windows-1258 when every
    character it gives is one Vietnamese text uses (_from_windows_1258); anything else is
    checked later, where it is read, and refused there naming the first row that is not UTF-8.
    """
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16").encode("utf-8"), 0, "UTF-16"
        except UnicodeDecodeError as err:
            raise FileError(f"{name}: not valid UTF-16 text ({err.reason}); save it as UTF-8") from None
    start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    legacy = None if start else _from_windows_1258(data)
    if legacy is not None:
        return legacy, 0, LEGACY_ENCODING
    return data, start, "UTF-8"


# Excel on a Vietnamese Windows saves "CSV" in the system's code page, Windows-1258, which
# writes most tone marks as combining characters.
LEGACY_ENCODING = "Windows-1258"
LEGACY_PUNCTUATION = frozenset("\u00a0\u00b0\u2013\u2014\u2018\u2019\u201c\u201d\u2022\u2026\u20ab")


@functools.cache
def _vietnamese_letters() -> frozenset[str]:
    """Every letter of Vietnamese beyond ASCII, composed (NFC), both cases."""
    bases = "aăâeêioôơuưy"
    marks = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    letters = {unicodedata.normalize("NFC", b + m) for b in bases for m in marks} | {"đ"}
    return frozenset(letters | {c.upper() for c in letters}) - set("aeiouyAEIOUY")


def _from_windows_1258(data: bytes) -> bytes | None:
    """UTF-8 bytes of a file written in Windows-1258, or None: the file is UTF-8 already,
    or reading it as Windows-1258 gives a character that is neither a Vietnamese letter nor
    common punctuation (TCVN3/ABC, VNI or another code page), which is left to be refused
    rather than read as the wrong letters."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError:
        pass
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:  # a byte Windows-1258 does not define
        return None
    letters = _vietnamese_letters()
    if any(c not in letters and c not in LEGACY_PUNCTUATION for c in set(text) if ord(c) > 127):
        return None
    return text.encode("utf-8")


def _decode(data: bytes, name: str, start: int = 0, final: bool = True) -> str:
    """data[start:] as text; bytes that are not UTF-8 are a FileError naming their row."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data[start:], final=final)
    except UnicodeDecodeError as err:
        position = start + err.start
        line = data[:position].count(b"\n") + 1
        raise FileError(
            f"{name}: row {line}: not valid UTF-8 (byte 0x{data[position]:02x}); the file looks like "
            "a legacy Vietnamese encoding (TCVN3/ABC or VNI) or mixes encodings: save it as UTF-8"
        ) from None


# --- CSV ---------------------------------------------------------------------------------

CSV_SCAN_BYTES = 1 * MiB  # enough for the title rows and header of any real file


@dataclass
class _Record:
    first_line: int
    last_line: int
    cells: list[str]


def _read_csv(data: bytes, name: str, source: Source) -> _Raw:
    # Python looks at the first rows to find the delimiter and header; Arrow reads the rest.
    data, start, encoding = _utf8(data, name)
    scan_end = len(data) if len(data) <= CSV_SCAN_BYTES else data.rfind(b"\n", 0, CSV_SCAN_BYTES) + 1
    leading_text = _decode(data[: scan_end or CSV_SCAN_BYTES], name, start, final=False)
    delimiter, header = _choose_header(leading_text, header_lookup(source), name)
    _check_width(header.cells, header.first_line, name)
    breaks = _line_breaks(data)
    body_start = int(breaks[header.last_line - 1]) + 1 if header.last_line <= len(breaks) else len(data)
    width = len(header.cells)
    raw_names = [f"c{i}" for i in range(width)]
    row_numbers = _record_lines(data, breaks, body_start, header.last_line + 1)
    if not len(row_numbers):  # header only (Arrow refuses an empty input)
        table = pa.table({n: pa.array([], pa.string()) for n in raw_names})
    else:
        try:
            table = _arrow_csv(data, body_start, raw_names, delimiter)
        except pa.ArrowInvalid:
            _decode(data, name, start)  # a FileError naming the row, if the bytes are not UTF-8
            # Lines of whitespace (or delimiters) only, shorter than the header: no records,
            # as read_table counts them, so they are blanked (keeping the line numbers)
            blanked = data[:body_start - 1] + _empty_record(delimiter, ahead=True).sub(
                b"\n", data[body_start - 1:] + (b"" if data.endswith(b"\n") else b"\n"))
            try:
                table = _arrow_csv(blanked, body_start, raw_names, delimiter)
            except pa.ArrowInvalid:
                text = data[body_start:].decode("utf-8")
                where = _locate_csv_error(text, name, width, delimiter, header.last_line + 1)
                raise FileError(where) from None
            data = blanked
            row_numbers = _record_lines(data, _line_breaks(data), body_start, header.last_line + 1)
    if len(row_numbers) != table.num_rows:  # quotes inside unquoted fields: let Python count
        text = data[body_start:].decode("utf-8")
        row_numbers = _csv_record_lines(text, delimiter, header.last_line + 1)
    if len(row_numbers) != table.num_rows:
        row_numbers = np.arange(header.last_line + 1, header.last_line + 1 + table.num_rows)
    return _Raw(header.cells, table, pa.array(row_numbers, pa.int32()), header.first_line, encoding)


def _arrow_csv(data: bytes, body_start: int, names: list[str], delimiter: str) -> pa.Table:
    return pcsv.read_csv(
        pa.BufferReader(pa.py_buffer(data).slice(body_start)),  # zero-copy
        read_options=pcsv.ReadOptions(column_names=names),
        parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=b'"' in data),
        convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )


def _check_width(headers: Sequence[object], row: int, name: str) -> None:
    if len(headers) > MAX_COLUMNS:
        raise FileError(
            f"{name}: row {row}: the header has {len(headers):,} columns, more than a worksheet "
            f"holds ({MAX_COLUMNS:,}); not a table of records"
        )


def _choose_header(text: str, lookup: dict[str, str], name: str) -> tuple[str, _Record]:
    """The delimiter under which a header row names the most contract columns, and that row.

    A tie goes to the delimiter splitting the header into more fields, then to the earlier one.
    """
    best: tuple[tuple[int, int], str, _Record, list[_Record], int] | None = None
    for delimiter in CSV_DELIMITERS:
        if best is not None and best[0][0] >= 2 and delimiter not in text:
            continue  # every row would be one field, naming at most one column: cannot win
        records = _leading_records(text, delimiter, name)
        if not records:
            raise FileError(f"{name}: file is empty (no header row)")
        index, named = _find_header([r.cells for r in records], lookup)
        score = (named, len(records[index].cells))
        if best is None or score > best[0]:
            best = (score, delimiter, records[index], records, index)
    assert best is not None
    _, delimiter, header, records, index = best
    _check_above_header([r.cells for r in records], [r.first_line for r in records], index, lookup, name)
    if index + 1 < len(records) and records[index + 1].first_line == header.last_line + 1:
        combined = with_subheader(header.cells, records[index + 1].cells, lookup)
        if combined is not None:  # a header of two rows: the body starts below the second
            header = _Record(header.first_line, records[index + 1].last_line, combined)
    return delimiter, header


def _check_above_header(rows: Sequence[Sequence[str]], row_numbers: Sequence[int], index: int,
                        lookup: dict[str, str], name: str) -> None:
    """Rows above the header are titles, unless an earlier row is a header too with rows
    between the two that name no columns: records under a first header, which reading from
    the second would drop without a word."""
    for first in range(index):
        if _columns_named(rows[first], lookup) >= 2:
            between = [k for k in range(first + 1, index) if _columns_named(rows[k], lookup) < 2]
            if between:
                raise FileError(
                    f"{name}: rows {row_numbers[first]} and {row_numbers[index]} are both headers, with "
                    f"{len(between)} row(s) between them that would be read as titles, not records: "
                    "keep one header row"
                )
            return


def _leading_records(text: str, delimiter: str, name: str) -> list[_Record]:
    """The first non-empty records of text, with the lines each spans (1-based)."""
    # newline=None: \r\n, \r and \n each end a line, as Arrow and text editors see it
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    records: list[_Record] = []
    previous = 0
    try:
        for cells in reader:
            if not _is_blank(cells):
                records.append(_Record(previous + 1, reader.line_num, cells))
                if len(records) == HEADER_SCAN_ROWS:
                    break
            previous = reader.line_num
    except csv.Error as err:
        raise FileError(f"{name}: row {previous + 1}: malformed CSV ({err})") from None
    return records


def _line_breaks(data: bytes) -> np.ndarray:
    """Byte offsets of the line breaks: each \\n, and each \\r not followed by \\n."""
    buffer = np.frombuffer(data, np.uint8)
    newlines = np.flatnonzero(buffer == 10)
    returns = np.flatnonzero(buffer == 13)
    if len(returns):
        following = returns + 1
        alone = returns[(following == len(buffer)) | (buffer[np.minimum(following, len(buffer) - 1)] != 10)]
        newlines = np.union1d(newlines, alone)
    return newlines


def _record_lines(data: bytes, breaks: np.ndarray, start: int, first_line: int) -> np.ndarray:
    """The line on which each non-empty record of data[start:] begins, as Arrow reads them.

    A line break inside a quoted field (after an odd number of quotes) does not end a record.
    Exact for fields quoted as the CSV standard says; a stray quote inside an unquoted field
    makes the count differ from Arrow's, and the caller falls back to Python's csv.
    """
    buffer = np.frombuffer(data, np.uint8)[start:]
    local = breaks[breaks >= start] - start
    if b'"' in data:
        quotes = np.flatnonzero(buffer == 34)
        ending = np.searchsorted(quotes, local) % 2 == 0
    else:
        ending = np.ones(len(local), bool)
    starts = np.concatenate(([0], local[ending] + 1))
    lines = first_line + np.concatenate(([0], np.flatnonzero(ending) + 1))
    # Arrow skips empty lines: a record starting at a line break (or the end) is no record
    inside = starts < len(buffer)
    starts, lines = starts[inside], lines[inside]
    first_byte = buffer[starts]
    return lines[(first_byte != 10) & (first_byte != 13)]


def _csv_record_lines(text: str, delimiter: str, first_line: int) -> list[int]:
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    lines: list[int] = []
    previous = 0
    try:
        for cells in reader:
            if cells:
                lines.append(first_line + previous)
            previous = reader.line_num
    except csv.Error:
        return []
    return lines


def _locate_csv_error(text: str, name: str, width: int, delimiter: str, first_line: int) -> str:
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    previous = 0
    try:
        for row in reader:
            if row and len(row) != width:  # an empty line is [] and no record
                return (
                    f"{name}: row {first_line + previous}: expected {width} fields as in the header, "
                    f"found {len(row)}"
                )
            previous = reader.line_num
    except csv.Error as err:
        return f"{name}: row {first_line + previous}: malformed CSV ({err})"
    return f"{name}: malformed CSV (unbalanced quotes?)"


@dataclass
class CsvBody:
    """A CSV file whose records PostgreSQL can COPY as delivered (chiso.staging): the bytes
    data[start:end] hold `records` records, one a line, record k on line first_line + k."""

    data: bytes
    start: int
    end: int
    delimiter: str
    width: int  # fields in each record, as in the header
    first_line: int
    records: int
    headers: list[str]
    header_row: int
    # False when no field starts or ends with whitespace: nothing to trim (chiso.staging
    # then spares PostgreSQL a btrim of every cell)
    needs_trim: bool = True
    # False when no field is a quoted empty text ("" ): COPY then gives no empty text,
    # only nulls for empty fields
    empty_texts: bool = True


def plan_csv(path: Path, source: Source, name: str) -> CsvBody | None:
    """The header found as read_table finds it, and the body, when PostgreSQL's COPY reads
    that body exactly as read_table would: None sends the file down read_table's path (it
    also raises read_table's error for a file that cannot be read at all).

    COPY agrees with read_table on a body of one record a line in standard CSV quoting;
    blank lines (read_table skips them, COPY would not), quoted line breaks (COPY cannot
    tell where a record starts), a quote inside an unquoted field (read as text by one and
    as a quote by the other), a "\\." line (end of data to PostgreSQL before 18) and UTF-16
    are left to read_table. What COPY refuses (a wrong number of fields, bytes that are not
    UTF-8, mixed line endings) also goes back to read_table, for its error or its reading.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
        if not data or data.isspace() or data.startswith(UTF16_BOMS):
            return None
        start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
        scan_end = len(data) if len(data) <= CSV_SCAN_BYTES else data.rfind(b"\n", 0, CSV_SCAN_BYTES) + 1
        leading_text = _decode(data[: scan_end or CSV_SCAN_BYTES], name, start, final=False)
        delimiter, header = _choose_header(leading_text, header_lookup(source), name)
    except Exception:  # noqa: BLE001 — read_table meets the same failure and names it
        return None
    breaks = _line_breaks(data)
    body_start = int(breaks[header.last_line - 1]) + 1 if header.last_line <= len(breaks) else len(data)
    end = len(data)
    while end > body_start and data[end - 1] in b"\r\n":  # trailing line breaks end no record
        end -= 1
    plan = CsvBody(data, body_start, end, delimiter, len(header.cells), header.last_line + 1, 0,
                   header.cells, header.first_line)
    if end == body_start:
        return plan
    if data.find(b"\\.", body_start, end) >= 0:
        return None
    inner = breaks[(breaks >= body_start) & (breaks < end)]
    tail = int(inner[-FOOTER_MAX_ROWS]) + 1 if len(inner) >= FOOTER_MAX_ROWS else body_start
    if _may_end_in_footer(data, tail, end, delimiter):
        return None  # read_table finds the footer and leaves it out
    if data.startswith(UTF8_BOM, body_start):
        return None  # Arrow drops a byte-order mark starting its input; COPY would keep it
    if _numbers_columns(data, body_start, end, delimiter):
        return None  # read_table leaves the column-numbering row out
    buffer = np.frombuffer(data, np.uint8)
    starts = np.concatenate(([body_start], inner + 1))
    ends = np.concatenate((inner, [end]))
    lengths = ends - starts
    crlf = buffer[ends[:-1] - 1] == 13  # "\r\n": the \r is no part of the line
    lengths[:-1] -= crlf
    if (lengths <= 0).any():
        return None  # a blank line
    if _has_empty_record(data, body_start, end, delimiter):
        return None  # a line of delimiters only: read_table leaves it out, COPY would not
    if data.find(b'"', body_start, end) >= 0 and not _standard_quoting(data, buffer, starts, ends, delimiter):
        return None
    plan.records = len(starts)
    plan.needs_trim = _edges_need_trim(buffer, body_start, end, delimiter)
    plan.empty_texts = data.find(b'""', body_start, end) >= 0
    return plan


def _numbers_columns(data: bytes, start: int, end: int, delimiter: str) -> bool:
    """Whether the body's first line is a column-numbering row (is_column_numbering)."""
    stop = data.find(b"\n", start, end)
    line = data[start:end if stop < 0 else stop].decode("utf-8", "replace").rstrip("\r")
    try:
        return is_column_numbering(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:  # a stray carriage return: no numbering row, and read_table says what it is
        return False


def _has_empty_record(data: bytes, start: int, end: int, delimiter: str) -> bool:
    """Whether a line of data[start:end] (the body, from just after the header's line break
    to its last record) holds nothing but delimiters, quotes and whitespace."""
    if _empty_record(delimiter).search(data, start - 1, end):
        return True
    newline = data.rfind(b"\n", start, end)  # the last line has no line break within the body
    last = data[newline + 1 if newline >= 0 else start:end].decode("utf-8", errors="replace")
    return not last.strip(trimmed_whitespace() + '"' + delimiter)


@functools.cache
def _empty_record(delimiter: str, ahead: bool = False) -> re.Pattern[bytes]:
    """A line of the body holding only delimiters, quotes and whitespace (what read_table
    trims), between two line breaks: an empty record. One byte class (every byte of the
    whitespace characters' UTF-8), so the search skips from line break to line break as fast
    as a literal: it may also take a line of other characters made of those bytes ('“”'),
    which only sends the file down read_table's path. `ahead`: the line break after the line
    is not part of the match."""
    spelled = {byte for c in trimmed_whitespace() if c not in "\r\n" for byte in c.encode()}
    spelled |= {ord(delimiter), ord('"')}
    byte_class = rb"[" + b"".join(re.escape(bytes([b])) for b in sorted(spelled)) + rb"]"
    end = rb"(?=\r?\n)" if ahead else rb"\r?\n"
    return re.compile(rb"\n" + byte_class + rb"*" + end)


def _may_end_in_footer(data: bytes, start: int, end: int, delimiter: str) -> bool:
    """Whether one of the last lines of a CSV body starts with a footer label (FOOTER_LABEL)."""
    text = data[start:end].decode("utf-8", errors="replace")
    for line in text.splitlines()[-FOOTER_MAX_ROWS:]:
        cells = [c.strip().strip('"').strip() for c in line.split(delimiter)]
        first = next((c for c in cells if c), "")
        if first and FOOTER_LABEL.fullmatch(fold(first)):
            return True
    return False


@functools.cache
def _whitespace_bytes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The whitespace read_table trims, in UTF-8: a table of the one-byte ones, and the
    two- and three-byte ones as integers (no whitespace character takes four bytes)."""
    single = np.zeros(256, bool)
    double, triple = [], []
    for char in trimmed_whitespace():
        code = char.encode()
        if len(code) == 1:
            single[code[0]] = True
        else:
            (double if len(code) == 2 else triple).append(int.from_bytes(code, "big"))
    return single, np.array(double, np.int64), np.array(triple, np.int64)


def _edges_need_trim(buffer: np.ndarray, start: int, end: int, delimiter: str) -> bool:
    """Whether some field of buffer[start:end] may start or end with whitespace: looks at the
    characters beside every delimiter, line break and quote (a quoted field's edges sit
    beside its quotes). It may say yes for nothing (after an escaped quote); never no for a
    field that needs trimming."""
    single, double, triple = _whitespace_bytes()
    body = buffer[start:end]
    size = len(body)
    boundary = np.zeros(256, bool)
    boundary[[ord(delimiter), 10, 13, 34]] = True
    edge = boundary[body]
    marks = np.flatnonzero(edge)
    first = np.concatenate(([0], marks + 1))
    last = np.concatenate((marks - 1, [size - 1]))
    first = first[first < size]
    last = last[last >= 0]
    first, last = first[~edge[first]], last[~edge[last]]  # empty fields have no edge characters
    if single[body[first]].any() or single[body[last]].any():
        return True

    def code(at: np.ndarray, width: int) -> np.ndarray:  # `width` bytes from each `at`, as integers
        value = np.zeros(len(at), np.int64)
        for k in range(width):
            inside = (at + k >= 0) & (at + k < size)
            value = value << 8 | np.where(inside, body[np.clip(at + k, 0, size - 1)], 0)
        return value

    lead = first[body[first] >= 0xC2]  # a character of two or three bytes starts a field
    if len(lead) and (np.isin(code(lead, 2), double).any() or np.isin(code(lead, 3), triple).any()):
        return True
    tail = last[body[last] >= 0x80]  # … or ends one
    return bool(len(tail)) and bool(np.isin(code(tail - 1, 2), double).any()
                                    or np.isin(code(tail - 2, 3), triple).any())


@functools.lru_cache(maxsize=len(CSV_DELIMITERS))
def _standard_line(delimiter: str) -> re.Pattern[bytes]:
    d = re.escape(delimiter.encode())
    field = rb'(?:[^"' + d + rb'\r\n]*|"(?:[^"]|"")*")'
    return re.compile(field + rb"(?:" + d + field + rb")*\r?")


def _standard_quoting(data: bytes, buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                      delimiter: str) -> bool:
    """Every line holding a quote is fields quoted whole, as the CSV standard says."""
    quotes = np.flatnonzero(buffer[starts[0]: ends[-1]] == 34) + starts[0]
    lines = np.unique(np.searchsorted(ends, quotes, side="right"))
    line = _standard_line(delimiter)
    return all(line.fullmatch(data, int(starts[i]), int(ends[i])) for i in lines)


# --- XLSX --------------------------------------------------------------------------------

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


def _serial_text(value: object, epoch: datetime) -> str:
    """A number in a date column is an Excel serial: the ISO date (and time) it stands for."""
    from openpyxl.utils.datetime import from_excel

    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value < EXCEL_MAX_SERIAL:
        return _cell_text(value)
    try:
        moment = from_excel(value, epoch)
    except (OverflowError, ValueError):  # past year 9999 in the 1904 calendar
        return _cell_text(value)
    if value % 1 == 0:
        return moment.strftime("%Y-%m-%d")
    moment = (moment + timedelta(milliseconds=500)).replace(microsecond=0)  # to the nearest second
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _check_package(data: bytes, name: str) -> None:
    """Refuse a workbook whose zip would unpack to too much, or whose XML declares a DTD.

    The sizes are those the zip directory declares; Python's zipfile never inflates a part
    beyond its declared size (it fails the CRC check instead), so checking them is enough.
    """
    if data.startswith(OLE_MAGIC):
        raise FileError(
            f"{name}: not a readable XLSX workbook (an old .xls file, or password-protected): "
            "save it as .xlsx without a password"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise FileError(f"{name}: not a readable XLSX workbook (truncated or corrupt: {err})") from None
    with archive:
        parts = archive.infolist()
        for part in parts:
            if part.file_size > MAX_COMPRESSION_RATIO * max(part.compress_size, 1):
                ratio = part.file_size / max(part.compress_size, 1)
                raise FileError(
                    f"{name}: part {part.filename!r} expands {ratio:.0f} times (limit "
                    f"{MAX_COMPRESSION_RATIO}); refused as a likely zip bomb"
                )
        unpacked = sum(p.file_size for p in parts)
        if unpacked > MAX_UNPACKED_BYTES:
            largest = max(parts, key=lambda p: p.file_size)
            raise FileError(
                f"{name}: workbook unpacks to {_size(unpacked)}, over the {_size(MAX_UNPACKED_BYTES)} "
                f"limit (CHISO_MAX_UNPACKED_MB); largest part {largest.filename!r} is "
                f"{_size(largest.file_size)}"
            )
        # OOXML parts never carry a DTD, and a DTD is how entity-expansion attacks start
        # ("billion laughs"). It must come before the root element, so the head is enough;
        # openpyxl's parser (defusedxml, or expat's amplification limit) guards the rest.
        for part in parts:
            with archive.open(part) as stream:
                head = stream.read(64 * 1024).replace(b"\x00", b"")
            if b"<!DOCTYPE" in head.upper():
                raise FileError(
                    f"{name}: not a readable XLSX workbook (part {part.filename!r} declares a DTD, "
                    "which workbooks never need; refused as unsafe)"
                )


EXCEL_MAX_ROW = 1_048_576
SHEET_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
# A formula cell with no value, or an empty one while no type says the value is text: the
# writer (a script, a web export) stored the formula without calculating it, so reading the
# computed values (data_only) would give blank cells, and a row of them would vanish.
UNCOMPUTED_FORMULA = re.compile(
    rb'<c\b(?![^>]*\st="(?:str|s|b|e|inlineStr)")[^>]*>\s*<f\b[^>]*(?:/>|>[^<]*</f>)'
    rb"\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>"
)


def _sheet_parts(data: bytes, workbook, name: str) -> dict[str, bytes]:
    """Each worksheet's XML, checked before any row is read: openpyxl pads the rows up to
    each row number it meets (row 99,999,999,999 would never end) and drops a row whose
    number is not above the one before (its records would vanish without a word)."""
    parts: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for sheet in workbook.worksheets:
            path = sheet._worksheet_path
            if path in parts:
                continue
            parts[path] = part = archive.read(path.lstrip("/"))
            previous = 0
            for match in SHEET_ROW.finditer(part):
                row = int(match.group(1))
                if row <= previous or row > EXCEL_MAX_ROW:
                    where = f"row {row} after row {previous}" if row <= previous else f"row number {row:,}"
                    raise FileError(
                        f"{name}: sheet {sheet.title!r} is malformed ({where}; a worksheet's rows "
                        f"run 1 to {EXCEL_MAX_ROW:,} in order): open it in Excel and save it again"
                    )
                previous = row
    return parts


def _leading_rows(sheet, max_row: int | None = None) -> tuple:
    """The sheet's row iterator, and its first non-blank rows (read from it) with their numbers."""
    sheet.reset_dimensions()  # the <dimension> a writer records may be stale: trust the cells
    numbered = enumerate(sheet.iter_rows(min_row=1, max_row=max_row, values_only=True), start=1)
    leading: list[tuple[int, tuple]] = []
    for row_no, values in numbered:
        if not _is_blank(values):
            leading.append((row_no, values))
            if len(leading) == HEADER_SCAN_ROWS:
                break
    return numbered, leading


def _data_sheet(workbook, source: Source, lookup: dict[str, str], name: str):
    """The sheet named after the source, else the one whose header names the most contract
    columns (a cover or instructions sheet may come first). Two sheets with data whose
    headers name every required column, or that look equally like the source, are refused:
    which one is meant cannot be told (last month's sheet 'T8' kept beside 'T9', one column
    richer, was read as the month)."""
    if source.name in workbook.sheetnames:
        return workbook[source.name]
    if not workbook.worksheets:
        raise FileError(f"{name}: the workbook has no worksheet (only chart sheets or none at all)")
    required = {c.name for c in source.columns if c.required}
    scored = []
    for sheet in workbook.worksheets:
        # only the top of each sheet: one stray cell at row 1,048,576 of a notes sheet
        # would otherwise make it read a million blank rows
        _, leading = _leading_rows(sheet, SHEET_CHOICE_ROWS)
        texts = [[_cell_text(v) for v in values] for _, values in leading]
        index, named = _find_header(texts, lookup)
        header = {_contract_name(cell, lookup) for cell in texts[index]} if texts else set()
        scored.append((named, len(leading) > index + 1, required <= header, sheet))
    best = max((named for named, _, _, _ in scored), default=0)
    if best < 2:
        return workbook.worksheets[0]
    with_data = [sheet for named, has_data, complete, sheet in scored
                 if has_data and (named == best or complete)]
    if len(with_data) > 1:
        titles = ", ".join(repr(sheet.title) for sheet in with_data)
        raise FileError(f"{name}: sheets {titles} all hold {source.name} rows; keep one sheet")
    return with_data[0] if with_data else next(s for n, _, _, s in scored if n == best)


STRICT_OOXML = b"purl.oclc.org/ooxml/spreadsheetml"


def _strict_workbook(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            return STRICT_OOXML in archive.read("xl/workbook.xml")[:4096]
        except KeyError:
            return False


def _read_xlsx(data: bytes, name: str, source: Source) -> _Raw:
    import openpyxl

    _check_package(data, name)
    if _strict_workbook(data):  # openpyxl would see no sheet, or empty ones
        raise FileError(f"{name}: saved as 'Strict Open XML Spreadsheet', which cannot be read: "
                        "save it as 'Excel Workbook (.xlsx)'")
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lookup = header_lookup(source)
    try:
        parts = _sheet_parts(data, workbook, name)
        sheet = _data_sheet(workbook, source, lookup, name)
        if UNCOMPUTED_FORMULA.search(parts.get(sheet._worksheet_path, b"")):
            raise FileError(
                f"{name}: sheet {sheet.title!r} holds formulas without computed values (the program "
                "that wrote it does not calculate): open it in Excel or LibreOffice and save it again"
            )
        numbered, leading = _leading_rows(sheet)
        if not leading:
            raise FileError(f"{name}: sheet {sheet.title!r} is empty (no header row)")
        texts = [[_cell_text(v) for v in values] for _, values in leading]
        index, _ = _find_header(texts, lookup)
        _check_above_header(texts, [n for n, _ in leading], index, lookup, name)
        header_row, header_values = leading[index]
        _check_width(header_values, header_row, name)
        headers = [_cell_text(v) for v in header_values]
        below = index + 1
        if below < len(leading) and leading[below][0] == header_row + 1:
            combined = with_subheader(headers, texts[below], lookup)
            if combined is not None:  # a header of two rows: the body starts below the second
                headers, below = combined, below + 1
        body = leading[below:] + [(n, v) for n, v in numbered if not _is_blank(v)]
        merged = _fill_merged_down(body, parts.get(sheet._worksheet_path, b""))
        numbering_row = None
        if body and is_column_numbering(body[0][1]):
            numbering_row = body.pop(0)[0]
        epoch = workbook.epoch
    finally:
        workbook.close()
    dates = {
        i for i, h in enumerate(headers)
        if (column := _contract_name(h, lookup)) and source.column(column).kind in ("timestamp", "date")
    }
    columns = {}
    for i in range(len(headers)):
        cells = [values[i] if i < len(values) else None for _, values in body]
        texts = [_serial_text(v, epoch) for v in cells] if i in dates else [_cell_text(v) for v in cells]
        columns[f"c{i}"] = pa.array(texts, pa.string())
    row_numbers = pa.array([n for n, _ in body], pa.int32())
    return _Raw(headers, pa.table(columns) if columns else pa.table({}), row_numbers, header_row,
                numbering_row=numbering_row, merged=merged)


MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\sref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


def _fill_merged_down(body: list, sheet_xml: bytes) -> list[str]:
    """A cell merged down over several records (a procedure code or a date written once for
    the rows it covers, as sheets kept by hand do) holds its value for each of them: a
    reader sees it in every row, openpyxl only in the first. Filled in place; the ranges
    filled, as 'C5:C9', for the file's note."""
    from openpyxl.utils import column_index_from_string

    rows = {number: k for k, (number, _) in enumerate(body)}
    filled = []
    for match in MERGE_CELL.finditer(sheet_xml):
        column = column_index_from_string(match.group(1).decode()) - 1
        first, last = int(match.group(2)), int(match.group(4))
        if last <= first or first not in rows:
            continue  # one row (merged across), or above the records (a header's cells)
        top = body[rows[first]][1]
        value = top[column] if column < len(top) else None
        if _is_blank((value,)):
            continue
        for number in range(first + 1, last + 1):
            if number in rows:
                k = rows[number]
                cells = list(body[k][1]) + [None] * max(0, column + 1 - len(body[k][1]))
                if _is_blank((cells[column],)):
                    cells[column] = value
                    body[k] = (number, tuple(cells))
        filled.append(f"{match.group(1).decode()}{first}:{match.group(3).decode()}{last}")
    return filled


# --- JSON --------------------------------------------------------------------------------

def _json_cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return _cell_text(value)


def _json_records(payload: object) -> object:
    """The array of records: the payload itself, its "rows" or "data", or the one array an
    export wraps in an object of its own ({"ho_so": [...]}, {"result": {"items": [...]}})."""
    while isinstance(payload, dict):
        if "rows" in payload or "data" in payload:
            payload = payload.get("rows", payload.get("data"))
            continue
        arrays = [v for v in payload.values() if isinstance(v, (list, dict))]
        if len(arrays) != 1:
            return payload
        payload = arrays[0]
    return payload


def _read_json(data: bytes, name: str) -> _Raw:
    data, start, encoding = _utf8(data, name)
    try:
        payload = json.loads(_decode(data, name, start))
    except json.JSONDecodeError as err:
        raise FileError(f"{name}: row {err.lineno}: invalid JSON ({err.msg})") from None
    except ValueError as err:  # e.g. an integer past Python's digit limit
        raise FileError(f"{name}: invalid JSON ({err})") from None
    records = _json_records(payload)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FileError(f"{name}: expected a JSON array of objects (or {{\"rows\": [...]}})")
    headers: list[str] = list(dict.fromkeys(k for record in records for k in record))
    _check_width(headers, 1, name)
    if len(headers) * len(records) > max(1_000_000, 4 * len(data)):
        # every written key costs a few bytes at least: a table this large from a file this
        # small means each record has keys of its own (a map keyed by ids, not records)
        raise FileError(
            f"{name}: its {len(records):,} records use {len(headers):,} different keys; "
            "expected records sharing one set of keys (the columns)"
        )
    try:
        columns = {
            f"c{i}": pa.array([_json_cell(r.get(h)) for r in records], pa.string())
            for i, h in enumerate(headers)
        }
    except UnicodeEncodeError as err:  # a lone surrogate escape ("\ud800") is no character
        bad = repr(err.object[err.start:err.end])
        raise FileError(f"{name}: a text value holds {bad}, half of a UTF-16 pair: not a character") from None
    table = pa.table(columns) if columns else pa.table({})
    return _Raw(headers, table, pa.array(range(1, len(records) + 1), pa.int32()), 0, encoding)


# --- onto the contract -------------------------------------------------------------------

@dataclass
class HeaderMap:
    """Which delivered column (by position) is which contract column, in contract order."""

    columns: dict[int, str]
    missing_required: list[str]
    ignored_columns: list[str]


def map_headers(headers: Sequence[object], source: Source, name: str) -> HeaderMap:
    """Two delivered columns meaning one contract column are refused, except an alias beside
    the contract's own header: the contract's header is taken, the alias ignored (a file
    with 'Mã hồ sơ' and 'Số hồ sơ' may mean two different numbers by them)."""
    lookup, contract = header_lookup(source), header_lookup(source, aliases=False)
    found: dict[str, tuple[int, bool]] = {}  # contract column → delivered position, by an alias
    ignored: list[str] = []
    for index, header in enumerate(headers):
        column = _contract_name(header, lookup)
        if column is None:
            if str(header).strip():
                ignored.append(str(header))
            continue
        alias = _contract_name(header, contract) != column
        if column in found:
            other, other_alias = found[column]
            if alias == other_alias:
                raise FileError(
                    f"{name}: columns {str(headers[other])!r} and {str(header)!r} both mean "
                    f"{column}; keep one of them"
                )
            ignored.append(str(header if alias else headers[other]))
            if alias:
                continue
        found[column] = (index, alias)
    missing = [c.name for c in source.columns if c.required and c.name not in found]
    ordered = {found[c][0]: c for c in source.column_names if c in found}
    return HeaderMap(ordered, missing, ignored)


# words every other header has ('ngày', 'số', 'hồ sơ' …): a shared one says nothing
_COMMON_HEADER_WORDS = {"ngay", "so", "ho", "ma", "co", "da", "thoi", "gian", "cua", "va", "kq", "ket", "qua"}


def lookalike_columns(ignored: Sequence[str], present: Iterable[str], source: Source) -> list[str]:
    """Ignored headers that look like a contract column the file lacks ('Ngày hẹn trả KQ'
    beside no 'Ngày hẹn trả'): two words in common with one of its spellings, one of them
    not a word every header has. Said as "'Ngày hẹn trả KQ' looks like due_at (Ngày hẹn trả)",
    so the batch warns instead of scoring a column it never read as blank."""
    present = set(present)
    found = []
    for header in ignored:
        words = set(re.findall(r"[a-z0-9]+", fold(header)))
        for column in source.columns:
            if column.name in present:
                continue
            shared = max((words & set(re.findall(r"[a-z0-9]+", fold(spelling)))
                          for spelling in (column.vietnamese, *column.aliases)), key=len)
            if len(shared) >= 2 and shared - _COMMON_HEADER_WORDS:
                found.append(f"{header!r} looks like {column.name} ({column.vietnamese})")
                break
    return found


def _to_contract(raw: _Raw, source: Source, name: str) -> ReadResult:
    raw = _without_numbering_row(_without_empty_records(raw))
    mapping = map_headers(raw.headers, source, name)
    key = next((i for i, c in mapping.columns.items() if c == source.key), None)
    dated = [i for i, c in mapping.columns.items()
             if source.column(c).required and source.column(c).kind in ("timestamp", "date")]
    records = raw.table.num_rows
    start = _footer_start(raw.table, key, dated) if key is not None else None
    footer: list[tuple[int, str]] = []
    if start is not None:
        footer = [(int(raw.row_numbers[i].as_py()), _first_cell(raw.table, i)) for i in range(start, records)]
        records = start
    arrays: dict[str, pa.Array] = {}
    for index, column in mapping.columns.items():
        values = pc.utf8_trim_whitespace(raw.table.column(f"c{index}").slice(0, records))
        if source.column(column).kind in ("enum", "boolean"):
            values = _map_vietnamese(values)
        arrays[column] = values
    table = pa.table(arrays) if arrays else pa.table({})
    row_numbers = raw.row_numbers.slice(0, table.num_rows)  # none if no contract column lands
    return ReadResult(table, records, mapping.missing_required, mapping.ignored_columns,
                      row_numbers, raw.header_row, raw.encoding, footer, raw.numbering_row, raw.merged)


# Below its data, a sheet kept by hand often has a totals row ('Tổng cộng', 'Tổng số: 125 hồ
# sơ', 'Cộng') and a signature block ('Người lập biểu', 'Thủ trưởng đơn vị', 'Hải Phòng,
# ngày 05 tháng 10 năm 2025', then names): rows that are no records. Matched on the first
# non-empty cell, folded (chiso.sources.fold).
FOOTER_LABEL = re.compile(
    r"(?:tong cong|tong so|tong|cong|total|nguoi lap(?: bieu)?|thu truong(?: don vi)?|(?:pho )?chu tich"
    r"|xac nhan|ky ten)(?:[\s:].*)?|.*\bngay \d{1,2} thang \d{1,2} nam \d{4}\b.*"
)
DATE_LIKE = re.compile(r"\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
FOOTER_MAX_ROWS = 20  # a footer is at most this many rows


def _without_empty_records(raw: _Raw) -> _Raw:
    """Records with every cell empty or blank (a CSV line of delimiters only, which Excel
    writes for the formatted rows below the data) are blank lines: not records."""
    if not raw.table.num_columns or not raw.table.num_rows:
        return raw
    filled = None
    for column in raw.table.columns:
        cell = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(column), ""), False)
        filled = cell if filled is None else pc.or_(filled, cell)
    if pc.all(filled).as_py():
        return raw
    return replace(raw, table=raw.table.filter(filled),
                   row_numbers=raw.row_numbers.filter(pa.array(filled.to_numpy())))


# A cell of a column-numbering row: "3", "(3)", "[3]", "3.", a letter ("A", "(B)"), or a
# form's arithmetic between numbered columns ("(4)=(5)+(6)").
NUMBERING_CELL = re.compile(
    r"[(\[]?(?:(\d{1,3})|([A-Za-z]))[)\]]?\.?(?:\s*=\s*[-+*/()\[\]\d\s]+)?")


def is_column_numbering(cells: Sequence[object]) -> bool:
    """A row that numbers the columns under their headers, as printed forms do: at least
    three filled cells, letters first if any (A, B, …, consecutive), then numbers counting
    up by one from cell to cell (a column left empty or merged may skip a number: then each
    number is its column's position plus one same offset). No record looks like that: a
    record has an identifier and a date."""
    filled = [(i, _cell_text(v).strip()) for i, v in enumerate(cells)]
    filled = [(i, text) for i, text in filled if text]
    if len(filled) < 3:
        return False
    letters: list[int] = []
    numbers: list[tuple[int, int]] = []
    for column, text in filled:
        match = NUMBERING_CELL.fullmatch(text)
        if match is None:
            return False
        if match.group(2):
            if numbers:  # a letter after the numbers
                return False
            letters.append(ord(match.group(2).upper()))
        else:
            numbers.append((column, int(match.group(1))))
    if letters and letters != list(range(letters[0], letters[0] + len(letters))):
        return False
    if not numbers:
        return len(letters) >= 3 and letters[0] == ord("A")
    counted = [n for _, n in numbers]
    consecutive = counted == list(range(counted[0], counted[0] + len(counted)))
    positional = len({n - column for column, n in numbers}) == 1
    return counted[0] in (0, 1) and (consecutive or positional)


def _without_numbering_row(raw: _Raw) -> _Raw:
    """The column-numbering row right under the header (is_column_numbering) is no record."""
    if raw.numbering_row is not None or not raw.table.num_rows or not raw.table.num_columns:
        return raw
    if not is_column_numbering([column[0].as_py() for column in raw.table.columns]):
        return raw
    return replace(raw, table=raw.table.slice(1), row_numbers=raw.row_numbers.slice(1),
                   numbering_row=int(raw.row_numbers[0].as_py()))


def _first_cell(table: pa.Table, row: int) -> str:
    for column in table.columns:
        value = column[row].as_py()
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def _footer_start(table: pa.Table, key: int, dated: Sequence[int] = ()) -> int | None:
    """Where the rows below the data begin, or None. The footer starts at the first of the
    last FOOTER_MAX_ROWS rows whose first non-empty cell is a footer label (FOOTER_LABEL),
    with the key column empty or holding that label and no date in a required date column
    (`dated`: a record has one), provided every row after it is a footer row too:
    labelled, without a key, or with a "key" that is a person's name (text with a space, as
    the names under a signature block land in the first column: words without a digit). A
    row with an identifier after it (a key with a digit: 'H31 10537 000' too) means the
    label was data (a subtotal): nothing is left out."""
    keys = table.column(f"c{key}")
    rows = table.num_rows

    def key_of(row: int) -> str:
        return (keys[row].as_py() or "").strip()

    def labelled(row: int) -> bool:
        label = _first_cell(table, row)
        return (bool(label) and FOOTER_LABEL.fullmatch(fold(label)) is not None
                and key_of(row) in ("", label)
                and not any(DATE_LIKE.match(table.column(f"c{i}")[row].as_py() or "") for i in dated))

    def name_row(row: int) -> bool:  # a person's name: words, no digit (an identifier has some)
        key = key_of(row)
        return " " in key and not any(c.isdigit() for c in key)

    for start in range(max(0, rows - FOOTER_MAX_ROWS), rows):
        if labelled(start):
            below = (labelled(r) or not key_of(r) or name_row(r) for r in range(start + 1, rows))
            return start if all(below) else None
    return None


def contract_values(values: Sequence[str]) -> list[str | None]:
    """What landing makes of delivered enum or boolean cells: trimmed, Vietnamese words
    mapped onto contract values, empty as missing (None). The same code as the table path,
    so PostgreSQL can be told the value of each spelling it meets (chiso.staging)."""
    mapped = _map_vietnamese(pc.utf8_trim_whitespace(pa.chunked_array([pa.array(values, pa.string())])))
    return [v or None for v in mapped.to_pylist()]


@functools.cache
def trimmed_whitespace() -> str:
    """The characters pyarrow's utf8_trim_whitespace strips (all Unicode whitespace lies in
    the Basic Multilingual Plane), so SQL's btrim can strip exactly the same ones."""
    candidates = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    trimmed = pc.utf8_trim_whitespace(pa.array([c + "x" for c in candidates])).to_pylist()
    return "".join(c for c, t in zip(candidates, trimmed, strict=True) if t != c + "x")


def _map_vietnamese(values: pa.ChunkedArray) -> pa.Array:
    encoded = pc.dictionary_encode(values).combine_chunks()
    dictionary = [
        VIETNAMESE_VALUES.get(fold(v), v.lower() if fold(v) == v.lower() else v)
        for v in encoded.dictionary.to_pylist()
    ]
    return pc.take(pa.array(dictionary, pa.string()), encoded.indices)
