"""Corrupt a few unit folders of a generated tree, one fault per unit, for the quality gate.

Each fault is one that real submissions show (a negative fee, a dossier dated before the
period, a half-uploaded workbook, a CSV saved as Windows-1258, …). `inject_faults`
returns what it did, so a test can assert that the gate catches every one, and writes
the same list to `<root>/faults_<period>.json` for whoever inspects the tree later.
"""

from __future__ import annotations

import json
import logging
import shutil
import unicodedata
import zipfile
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from chiso.generate.tables import Table
from chiso.generate.writers import write_table
from chiso.periods import period_window
from chiso.readers import read_table
from chiso.sources import SOURCES, TABULAR_EXTENSIONS

log = logging.getLogger(__name__)

FAULT_KINDS = (
    "negative_fee",
    "date_outside_period",
    "unknown_unit",
    "duplicate_dossier_id",
    "truncated_xlsx",
    "wrong_encoding",
    "payment_missing_dossier",
    "empty_file",
    "missing_column",
    "completed_before_received",
)
UNKNOWN_UNIT_CODES = ("99999", "99998", "99997")
# Windows-1258 spells Vietnamese as a base letter plus a combining tone mark.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
# TCVN3 (ABC), the 8-bit Vietnamese encoding of the .Vn fonts: one byte per lower-case letter
# (capitals with tone marks have no code of their own: an upper-case font draws them).
TCVN3 = dict(zip(
    "ĂÂÊÔƠƯĐăâêôơưđàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
    [*range(0xA1, 0xAF), *range(0xB5, 0xBA), 0xBB, 0xBC, 0xBD, 0xBE, 0xC6, *range(0xC7, 0xCC),
     0xCC, 0xCE, 0xCF, 0xD0, 0xD1, *range(0xD2, 0xD7), 0xD7, 0xD8, 0xDC, 0xDD, 0xDE,
     0xDF, *range(0xE1, 0xEF), 0xEF, *range(0xF1, 0xFF)],
    strict=True,
))


@dataclass(frozen=True)
class Fault:
    unit_code: str
    kind: str
    file: str  # path relative to the submissions root
    detail: str


def inject_faults(root: Path, period: str, *, seed: int, kinds: list[str] | tuple[str, ...] | None = None
                  ) -> list[Fault]:
    """Put one fault of each kind (default: all of FAULT_KINDS) into a different unit folder of `period`."""
    root = Path(root)
    kinds = list(kinds or FAULT_KINDS)
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"unknown fault kinds {unknown}; choose from {FAULT_KINDS}")
    folders = sorted(
        p for p in root.glob(f"*/*/{period}") if p.is_dir() and p.parent.name not in UNKNOWN_UNIT_CODES
    )
    if not folders:
        raise FileNotFoundError(f"no unit folders for period {period} under {root}")
    rng = np.random.default_rng([seed, 766_900])
    order = [folders[i] for i in rng.permutation(len(folders))]
    faults: list[Fault] = []
    if "unknown_unit" in kinds:
        # Copied before any other fault lands, so the stray folder is otherwise clean.
        faults.append(_unknown_unit(root, order[0]))
    unit_kinds = [k for k in kinds if k != "unknown_unit"]
    if len(unit_kinds) > len(order):
        log.warning("only %d unit folders for %d fault kinds; skipping %s", len(order), len(unit_kinds),
                    unit_kinds[len(order):])
    for kind, folder in zip(unit_kinds, order, strict=False):
        faults.append(INJECTORS[kind](root, folder, period, rng))
    for fault in faults:
        log.debug("injected %s into %s (%s)", fault.kind, fault.file, fault.detail)
    log.info("injected %d faults into period %s under %s", len(faults), period, root)
    (root / f"faults_{period}.json").write_text(
        json.dumps([asdict(f) for f in faults], ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return faults


# --- reading and rewriting a file in its own format ------------------------------------

def _file(folder: Path, source: str) -> Path:
    for suffix in TABULAR_EXTENSIONS:
        path = folder / f"{source}{suffix}"
        if path.is_file():
            return path
    raise FileNotFoundError(f"{folder} has no {source} file")


def _load(path: Path) -> Table:
    """A delivered file back as typed columns, through the same reader landing uses."""
    source = SOURCES[path.stem]
    result = read_table(path, source)
    table: Table = {}
    for name in result.table.column_names:
        values = np.asarray(result.table.column(name).to_numpy(zero_copy_only=False), dtype=object)
        kind = source.column(name).kind
        if kind in ("timestamp", "date"):
            # ISO, or day-first text as the XLSX variant writes it (landing keeps both as
            # delivered); dayfirst is not applied to ISO text, where it would swap day and month.
            series = pd.Series(values).replace("", None)
            parsed = pd.to_datetime(series, format="ISO8601", errors="coerce")
            day_first = series.notna() & parsed.isna()
            if day_first.any():
                parsed[day_first] = pd.to_datetime(series[day_first], format="mixed", dayfirst=True)
            table[name] = parsed.to_numpy().astype("datetime64[s]")
        elif kind == "boolean":
            table[name] = values == "true"
        elif kind in ("integer", "numeric", "amount"):
            numbers = pd.to_numeric(pd.Series(values).replace("", None))
            # a blank stays NaN in a float column, which the writers print as a blank cell
            table[name] = numbers.to_numpy(dtype=float if numbers.isna().any() else np.int64, copy=True)
        else:
            table[name] = np.where(values == "", None, values).astype(object)
    return table


def _save(table: Table, path: Path, file_format: str | None = None) -> Path:
    source = SOURCES[path.stem]
    file_format = file_format or path.suffix.lstrip(".")
    style = "excel" if path.suffix == ".csv" and path.read_bytes()[:3] == b"\xef\xbb\xbf" else "plain"
    dates = "excel"
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            sheet = "xl/worksheets/sheet1.xml"
            if sheet in archive.namelist() and b' s="1"' not in archive.read(sheet):
                dates = "text"
    path.unlink()
    return write_table(table, source, path.parent, file_format, style=style, dates=dates)


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _row(rng: np.random.Generator, mask: np.ndarray) -> int:
    candidates = np.flatnonzero(mask)
    return int(rng.choice(candidates)) if len(candidates) else 0


# --- the faults --------------------------------------------------------------------------

def _negative_fee(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    path = _file(folder, "ho_so")
    ho_so = _load(path)
    row = _row(rng, ho_so["fee_amount"] > 0)
    ho_so["fee_amount"][row] = -abs(int(ho_so["fee_amount"][row]) or 20_000)
    path = _save(ho_so, path)
    return Fault(folder.parent.name, "negative_fee", _rel(root, path),
                 f"dossier {ho_so['dossier_id'][row]}: fee_amount {ho_so['fee_amount'][row]}")


def _date_outside_period(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    path = _file(folder, "ho_so")
    ho_so = _load(path)
    row = _row(rng, np.ones(len(ho_so["dossier_id"]), bool))
    # After the end of both cycles, whichever one the run uses: a dossier received before
    # the period is a carry-over the file may hold, one received after it cannot be there.
    latest = max(period_window(period, "calendar").end, period_window(period, "15th").end)
    moment = np.datetime64(latest + timedelta(days=3), "s") + np.timedelta64(9 * 3600, "s")
    # the dossier's other dates move with it, so the period is the one thing wrong
    shift = moment - ho_so["received_at"][row]
    for column in ("due_at", "completed_at", "result_returned_at"):
        if column in ho_so and not np.isnat(ho_so[column][row]):
            ho_so[column][row] = ho_so[column][row] + shift
    ho_so["received_at"][row] = moment
    path = _save(ho_so, path)
    return Fault(folder.parent.name, "date_outside_period", _rel(root, path),
                 f"dossier {ho_so['dossier_id'][row]}: received_at {moment} after {latest}")


def _duplicate_dossier_id(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    path = _file(folder, "ho_so")
    ho_so = _load(path)
    paid = set(_load(_file(folder, "thanh_toan")).get("dossier_id", []))
    pakn = set(_load(_file(folder, "pakn")).get("dossier_id", []))
    # Overwrite an id nothing refers to, so the duplicate is the only fault in this unit.
    free = np.array([d not in paid and d not in pakn for d in ho_so["dossier_id"]])
    target = _row(rng, free)
    original = int(0 if target else 1)
    ho_so["dossier_id"][target] = ho_so["dossier_id"][original]
    path = _save(ho_so, path)
    return Fault(folder.parent.name, "duplicate_dossier_id", _rel(root, path),
                 f"dossier_id {ho_so['dossier_id'][original]} on rows {min(original, target) + 2} and "
                 f"{max(original, target) + 2}")


def _truncated_xlsx(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    path = _file(folder, "ho_so")
    if path.suffix != ".xlsx":
        path = _save(_load(path), path, "xlsx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return Fault(folder.parent.name, "truncated_xlsx", _rel(root, path),
                 f"cut from {len(data):,} to {len(data) // 2:,} bytes")


def windows_1258(text: str) -> bytes:
    """What Excel on a Vietnamese Windows saves as CSV: letters with a circumflex, breve or
    horn composed where the code page has them, tone marks as combining characters."""
    encoded = bytearray()
    for char in text:
        try:
            encoded += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
            marks = "".join(c for c in parts if c in TONE_MARKS)
            encoded += (base + marks).encode("cp1258", errors="replace")
    return bytes(encoded)


def tcvn3(text: str) -> bytes:
    """`text` in TCVN3 (ABC); a capital with a tone mark as its lower-case letter."""
    encoded = bytearray()
    for char in unicodedata.normalize("NFC", text):
        code = TCVN3.get(char) or TCVN3.get(char.lower())
        encoded += bytes([code]) if code else char.encode("ascii", errors="replace")
    return bytes(encoded)


def _wrong_encoding(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    # The procedure names carry the Vietnamese text an encoding mistake mangles.
    path = _file(folder, "danh_muc_tthc")
    if path.suffix != ".csv":
        path = _save(_load(path), path, "csv")
    # TCVN3, the legacy encoding of the .Vn fonts (UTF-16 with its byte order mark is read,
    # and so is Windows-1258 when every character it gives is Vietnamese: no fault)
    path.write_bytes(tcvn3(path.read_bytes().decode("utf-8-sig")))
    return Fault(folder.parent.name, "wrong_encoding", _rel(root, path), "re-encoded as TCVN3 (ABC)")


def _payment_missing_dossier(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    ho_so = _load(_file(folder, "ho_so"))
    path = _file(folder, "thanh_toan")
    payments = _load(path)
    dossier_ids = set(ho_so["dossier_id"])
    first = str(ho_so["dossier_id"][0])
    orphan = first.rsplit("-", 1)[0] + "-9999"
    while orphan in dossier_ids:
        orphan += "9"
    middle = ho_so["received_at"][len(ho_so["received_at"]) // 2]
    row = {
        "payment_id": f"TT{folder.parent.name}{period[2:4]}{period[5:7]}99999",
        "dossier_id": orphan,
        "amount": 50_000,
        "method": "online",
        "paid_at": middle + np.timedelta64(600, "s"),
        "status": "success",
    }
    for name, value in row.items():
        extra = np.array([value], dtype=object) if isinstance(value, str) else np.array([value])
        column = payments.get(name)
        payments[name] = extra if column is None or not len(column) else np.concatenate(
            [column, extra.astype(column.dtype)])
    path = _save(payments, path)
    return Fault(folder.parent.name, "payment_missing_dossier", _rel(root, path),
                 f"payment {row['payment_id']} for dossier {orphan}, which is not in ho_so")


def _empty_file(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    path = _file(folder, "thanh_toan")
    path.write_bytes(b"")
    return Fault(folder.parent.name, "empty_file", _rel(root, path), "0 bytes, no header row")


def _missing_column(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    path = _file(folder, "ho_so")
    ho_so = _load(path)
    # a required column: due_at, once the example, may be blank since the contract allowed
    # procedures without an appointment date
    del ho_so["received_at"]
    path = _save(ho_so, path)
    return Fault(folder.parent.name, "missing_column", _rel(root, path),
                 "no received_at (Ngày tiếp nhận) column")


def _completed_before_received(root: Path, folder: Path, period: str, rng: np.random.Generator) -> Fault:
    path = _file(folder, "ho_so")
    ho_so = _load(path)
    row = _row(rng, ~np.isnat(ho_so["completed_at"]))
    ho_so["completed_at"][row] = ho_so["received_at"][row] - np.timedelta64(2 * 86_400, "s")
    path = _save(ho_so, path)
    return Fault(folder.parent.name, "completed_before_received", _rel(root, path),
                 f"dossier {ho_so['dossier_id'][row]}: completed_at {ho_so['completed_at'][row]} before "
                 f"received_at {ho_so['received_at'][row]}")


def _unknown_unit(root: Path, donor: Path) -> Fault:
    province_dir = donor.parent.parent
    code = next((c for c in UNKNOWN_UNIT_CODES if not (province_dir / c / donor.name).exists()),
                UNKNOWN_UNIT_CODES[-1])
    target = province_dir / code / donor.name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(donor, target)
    return Fault(code, "unknown_unit", _rel(root, target),
                 f"copy of unit {donor.parent.name}'s submission under code {code}, not a 2025 unit code")


INJECTORS = {
    "negative_fee": _negative_fee,
    "date_outside_period": _date_outside_period,
    "duplicate_dossier_id": _duplicate_dossier_id,
    "truncated_xlsx": _truncated_xlsx,
    "wrong_encoding": _wrong_encoding,
    "payment_missing_dossier": _payment_missing_dossier,
    "empty_file": _empty_file,
    "missing_column": _missing_column,
    "completed_before_received": _completed_before_received,
}
