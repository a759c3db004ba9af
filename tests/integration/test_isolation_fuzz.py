"""Fault isolation, attacked with inputs nobody designed (hypothesis).

A small Hải Phòng province is generated and run once clean (land → gate → dbt build, the
DAG's task functions). Each example then breaks several units' submissions at random, each
in its own way (any text into any cell, a truncated file, another encoding or delimiter,
title rows, a renamed or deleted file or folder, a symbolic link to a file outside the
root), runs the period again on a fresh database, and checks:

- the run finishes (no task raises) whatever the files hold;
- every unit left alone scores exactly as in the clean run: its criterion, group and total
  scores, rating and data status (ranks are relative and may move when a unit drops out);
- each broken unit is scored, warned, quarantined with a reason naming its file or folder,
  or refused out loud (a refused file, or its path in the run's inventory);
- nothing is silently lost: every file of a landed batch that was not refused has as many
  rows in raw as it delivered, and every path in scope is in audit.inventory.

A run costs a dbt build, so one example breaks several units at once: `make test` runs
a few examples (a few dozen broken submissions); CHISO_FUZZ_EXAMPLES=n runs more.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import uuid
from pathlib import Path

import psycopg2
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chiso import pipeline, warehouse
from chiso.generate import generate
from chiso.periods import period_range
from chiso.sources import SOURCES
from tests.conftest import REPO, rows

pytestmark = pytest.mark.slow

PERIOD, PROVINCE, SEED, UNITS = "2025-09", "31", 23, 8
EXAMPLES = int(os.environ.get("CHISO_FUZZ_EXAMPLES", "5"))
# Values offices and their software really put in cells, besides whatever hypothesis draws.
NASTY = ["31/09/2025", "12345678901", "1.234", "36000000000", "", " ", "-5", "NaN", "#N/A",
         "=SUM(A1:A9)", "2025-13-01", "0000-00-00", "Có", "x", "٣", "1,5", "null", "None",
         "2025-09-01 25:00", "45903", "9999999999999999999999", "'", '"', ";", "\t", "\n"]
KINDS = ("cell", "truncate", "encoding", "delimiter", "title_rows", "rename_file", "delete_file",
         "rename_folder", "delete_folder", "symlink", "duplicate_row", "empty_file")

SCORE_COLUMNS = {
    "unit_ranking": "unit_code, total_points, rating, data_status, batch_id",
    "group_scores": "unit_code, group_code, points",
    "criterion_scores": "unit_code, criterion_code, numerator, denominator, rate, points",
}


def _fresh_database(server_dsn: str) -> str:
    name = f"t_fuzz_{uuid.uuid4().hex[:8]}"
    with contextlib.closing(psycopg2.connect(server_dsn.replace("/chiso?", "/postgres?"))) as conn:
        conn.autocommit = True
        warehouse.create_database(conn.cursor(), name)
    dsn = server_dsn.replace("/chiso?", f"/{name}?")
    warehouse.bootstrap(dsn)
    return dsn


def _drop(server_dsn: str, dsn: str) -> None:
    name = dsn.split("/")[-1].split("?")[0]
    with contextlib.closing(psycopg2.connect(server_dsn.replace("/chiso?", "/postgres?"))) as conn:
        conn.autocommit = True
        conn.cursor().execute(f"drop database if exists {name} with (force)")


def _run(root: Path, dsn: str, context: Path, run_id: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", dsn)
        mp.setenv("CHISO_EXPECTATIONS_DIR", str(context))
        mp.setenv("CHISO_LANDING_WORKERS", "1")
        job = pipeline.Job.from_params({"submissions": str(root), "period": PERIOD,
                                        "province": PROVINCE, "cycle": "calendar"})
        batch_ids = pipeline.land_submissions(job, run_id)
        if batch_ids:
            pipeline.run_gate(pipeline.Job.with_batches(job, batch_ids), run_id)
        pipeline.build_marts(job)


def _scores(dsn: str) -> dict[str, dict[str, list[tuple]]]:
    """Per unit, its rows of each score mart (only the columns that do not depend on others)."""
    by_unit: dict[str, dict[str, list[tuple]]] = {}
    for mart, columns in SCORE_COLUMNS.items():
        for row in rows(dsn, f"select {columns} from marts.{mart} where period = %s order by 1, 2",
                        (PERIOD,)):
            by_unit.setdefault(row[0], {}).setdefault(mart, []).append(row)
    return by_unit


@pytest.fixture(scope="module")
def clean(server_dsn, tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    context = base / "expectations"
    context.mkdir()
    shutil.copy(REPO / "expectations/great_expectations.yml", context)
    shutil.copytree(REPO / "expectations/suites", context / "suites")
    pristine = base / "pristine"
    generate(pristine, province=PROVINCE, periods=period_range(PERIOD), seed=SEED, units=UNITS, scale=0.05)
    dsn = _fresh_database(server_dsn)
    _run(pristine, dsn, context, "clean")
    scores = _scores(dsn)
    units = sorted(p.parent.name for p in pristine.glob(f"{PROVINCE}/*/{PERIOD}"))
    assert len(units) == UNITS and set(units) <= set(scores)
    _drop(server_dsn, dsn)
    return {"pristine": pristine, "context": context, "scores": scores, "units": units, "base": base}


# --- mutations -------------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _write_csv(path: Path, table: list[list[str]], delimiter: str = ",") -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(table)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _set_cell(path: Path, row: int, column: int, value: str) -> str:
    """Put `value` into a data cell; returns a description."""
    if path.suffix == ".csv":
        table = _csv_rows(path)
        r = 1 + row % max(len(table) - 1, 1)
        c = column % len(table[0])
        if r < len(table):
            table[r][c] = value
        _write_csv(path, table)
        return f"{path.name} row {r + 1} column {table[0][c]} = {value!r}"
    if path.suffix == ".json":
        payload = json.loads(path.read_text(encoding="utf-8"))
        records = payload if isinstance(payload, list) else payload.get("rows", payload.get("data"))
        if records:
            record = records[row % len(records)]
            key = sorted(record)[column % len(record)]
            record[key] = value
        path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        return f"{path.name} record {row % max(len(records), 1)} = {value!r}"
    if path.suffix in (".txt", ".md"):  # the narrative report: the value written into a line
        lines = path.read_text(encoding="utf-8").split("\n")
        r = row % len(lines)
        at = column % (len(lines[r]) + 1)
        lines[r] = lines[r][:at] + value + lines[r][at:]
        path.write_text("\n".join(lines), encoding="utf-8")
        return f"{path.name} line {r + 1} column {at + 1} gets {value!r}"
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    r = 2 + row % max(sheet.max_row - 1, 1)
    c = 1 + column % sheet.max_column
    # openpyxl refuses control characters in cells, as Excel does
    sheet.cell(r, c).value = "".join(ch for ch in value if ch >= " " or ch in "\t\n")
    book.save(path)
    return f"{path.name} cell {r},{c} = {value!r}"


def _mutate(unit_folder: Path, root: Path, kind: str, data: st.DataObject) -> str:
    files = sorted(p for p in unit_folder.iterdir() if p.is_file())
    path = data.draw(st.sampled_from(files), label="file")
    if kind == "cell":
        value = data.draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=24)), label="value")
        return _set_cell(path, data.draw(st.integers(0, 10_000)), data.draw(st.integers(0, 40)), value)
    if kind == "truncate":
        content = path.read_bytes()
        cut = data.draw(st.integers(0, max(len(content) - 1, 0)), label="cut")
        path.write_bytes(content[:cut])
        return f"{path.name} truncated at byte {cut}"
    if kind == "empty_file":
        path.write_bytes(b"")
        return f"{path.name} emptied"
    if kind == "encoding" and path.suffix in (".csv", ".json", ".txt", ".md"):
        encoding = data.draw(st.sampled_from(["cp1258", "utf-16", "utf-8-sig", "latin-1"]), label="encoding")
        text = path.read_text(encoding="utf-8-sig")
        path.write_bytes(text.encode(encoding, errors="replace"))
        return f"{path.name} re-encoded as {encoding}"
    if kind == "delimiter" and path.suffix == ".csv":
        delimiter = data.draw(st.sampled_from([";", "\t", "|"]), label="delimiter")
        _write_csv(path, _csv_rows(path), delimiter)
        return f"{path.name} delimited by {delimiter!r}"
    if kind == "title_rows" and path.suffix == ".csv":
        table = _csv_rows(path)
        titles = [["BÁO CÁO HỒ SƠ THÁNG 9/2025"], [], ["Đơn vị: UBND xã"]]
        _write_csv(path, titles + table)
        return f"{path.name} with title rows"
    if kind == "duplicate_row" and path.suffix == ".csv":
        table = _csv_rows(path)
        if len(table) > 1:
            table.append(table[1])
        _write_csv(path, table)
        return f"{path.name} with its first row twice"
    if kind == "rename_file":
        new = data.draw(st.sampled_from([f"{path.stem} (1){path.suffix}", path.name.upper(),
                                         f"{path.stem}.xls", f"{path.stem.replace('_', '')}{path.suffix}"]))
        path.rename(path.with_name(new))
        return f"{path.name} renamed {new}"
    if kind == "delete_file":
        path.unlink()
        return f"{path.name} deleted"
    if kind == "rename_folder":
        new = data.draw(st.sampled_from(["2025-9", "09-2025", "T9.2025", "2025_09", "2025-09 (1)"]))
        unit_folder.rename(unit_folder.with_name(new))
        return f"folder renamed {new}"
    if kind == "delete_folder":
        shutil.rmtree(unit_folder)
        return "folder deleted"
    if kind == "symlink":
        outside = root.parent / "outside.csv"
        outside.write_text("dossier_id\nSECRET-1\n", encoding="utf-8")
        path.unlink()
        path.symlink_to(outside)
        return f"{path.name} is a symbolic link outside the root"
    return f"{kind} not applicable to {path.name}: unchanged"


# --- the property ----------------------------------------------------------------------------


# No shrinking: each example is a full run; the first failing one is reported as drawn.
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],
          derandomize=os.environ.get("CHISO_FUZZ_EXAMPLES") is None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_broken_submission_affects_only_itself(clean, server_dsn, data):
    root = clean["base"] / f"run-{uuid.uuid4().hex[:8]}" / "submissions"
    shutil.copytree(clean["pristine"], root)
    units = clean["units"]
    broken = data.draw(st.lists(st.sampled_from(units), min_size=2, max_size=UNITS - 2, unique=True),
                       label="broken units")
    mutations = {}
    for unit in broken:
        kind = data.draw(st.sampled_from(KINDS), label=f"mutation of {unit}")
        mutations[unit] = _mutate(root / PROVINCE / unit / PERIOD, root, kind, data)
    dsn = _fresh_database(server_dsn)
    try:
        _run(root, dsn, clean["context"], "fuzz")  # must not raise, whatever the files hold
        scores = _scores(dsn)
        for unit in units:
            if unit not in broken:
                assert scores.get(unit) == clean["scores"][unit], f"{unit} changed by {mutations}"
        _check_broken_units(dsn, broken, mutations)
        _check_nothing_silently_lost(dsn, root)
    finally:
        _drop(server_dsn, dsn)
        shutil.rmtree(root.parent, ignore_errors=True)


def _check_broken_units(dsn: str, broken: list[str], mutations: dict[str, str]) -> None:
    for unit in broken:
        folder = f"{PROVINCE}/{unit}"
        [(status,)] = rows(dsn, "select coalesce(max(data_status), 'unranked') from marts.unit_ranking "
                                "where unit_code = %s and period = %s", (unit, PERIOD)) or [("unranked",)]
        said = rows(dsn, "select status, reason from audit.inventory where unit_code = %s "
                         "and status in ('refused', 'not_a_submission', 'no_submission')", (unit,))
        if status == "quarantined":
            reasons = [r for (r,) in rows(dsn, "select reason from raw.batches where unit_code = %s "
                                               "and status = 'quarantined'", (unit,))]
            names = {folder} | {Path(f).name for (f,) in rows(
                dsn, "select source_file from raw.files f join raw.batches b using (batch_id) "
                     "where b.unit_code = %s", (unit,))}
            assert reasons and all(any(n in r for n in names) for r in reasons), (
                unit, mutations[unit], reasons)
        elif status == "unranked":
            assert said, f"{unit} vanished without a word after {mutations[unit]}"
        else:
            assert status in ("ok", "warned"), (unit, status)


def _check_nothing_silently_lost(dsn: str, root: Path) -> None:
    for source in SOURCES:
        for source_file, delivered, landed, counted in rows(
            dsn, f"""select f.source_file, f.rows_delivered, f.rows_landed,
                            (select count(*) from raw.{source} r where r.batch_id = f.batch_id
                               and r.source_file = f.source_file)
                     from raw.files f where f.source = %s and f.error is null""", (source,)):
            assert delivered == landed == counted, (source_file, delivered, landed, counted)
    recorded = {p for (p,) in rows(dsn, "select path from audit.inventory")}
    recorded |= {p for (p,) in rows(dsn, "select source_file from raw.files")}
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        parts = relative.split("/")
        # Folders of this period and the files in them; province and unit folders are the frame.
        if len(parts) >= 3 and not path.is_dir() or len(parts) == 3:
            assert any(relative == r or relative.startswith(r + "/") or r.startswith(relative + "/")
                       for r in recorded), relative
