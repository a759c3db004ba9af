"""Realistic, deterministic synthetic submissions (DESIGN §3) for demos, tests and benchmarks.

    generate(Path("submissions"), province="31", periods=period_range("2025-07:2025-09"))

writes `<out>/<province_code>/<unit_code>/<YYYY-MM>/` with `ho_so`, `thanh_toan`, `pakn`,
`danh_muc_tthc` (.csv, .xlsx or .json) and, for about one unit in five, `bao_cao.txt`.
Each unit has a stable size and quality profile, so scores and rankings vary the way real
ones do; the same seed always gives byte-identical files. `<out>/generation_manifest.json`
records the run and the answer key for reconciliation (the reporting errors planted in
bao_cao.txt). `inject_faults` then corrupts a few unit folders for the quality gate.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from tqdm import tqdm

from chiso.generate import catalogue as cat
from chiso.generate import tables
from chiso.generate.faults import FAULT_KINDS, Fault, inject_faults
from chiso.generate.report import error_records, render, with_reporting_error
from chiso.generate.units import Profile, Unit, load_provinces, load_units, profile_for
from chiso.generate.writers import write_table
from chiso.periods import Period, period_window
from chiso.sources import SOURCES

__all__ = ["FAULT_KINDS", "Fault", "GenerationSummary", "generate", "inject_faults", "select_units"]

log = logging.getLogger(__name__)
MANIFEST = "generation_manifest.json"


@dataclass
class GenerationSummary:
    units: int
    periods: list[str]
    files: int
    rows: dict[str, int] = field(default_factory=dict)
    reports: int = 0
    report_errors: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        rows = ", ".join(f"{name} {count:,}" for name, count in self.rows.items())
        return (f"{self.units} units × {len(self.periods)} periods ({', '.join(self.periods)}): "
                f"{self.files:,} files, {self.bytes / 1e6:,.1f} MB, rows: {rows}; {self.reports} reports "
                f"({self.report_errors} with a planted error) in {self.seconds:.1f} s")


def select_units(province: str | None = "31", *, units: int | None = None,
                 national: bool = False) -> list[Unit]:
    """The units a run covers, sorted by code: one province, or every 2025 commune."""
    selected = load_units()
    if not national and province is not None:
        selected = [u for u in selected if u.province_code == province]
        if not selected:
            raise ValueError(f"no 2025 units for province {province!r}")
    return selected[:units] if units is not None else selected


def _period_seed(period: Period) -> int:
    return int(period.label[:4]) * 100 + int(period.label[5:7])


def generate(out: Path, *, province: str | None = "31", periods: list[Period], seed: int = 7,
             units: int | None = None, national: bool = False, scale: float = 1.0,
             progress: bool = False) -> GenerationSummary:
    started = time.perf_counter()
    if not periods:
        raise ValueError("generate needs at least one period")
    out = Path(out)
    selected = select_units(province, units=units, national=national)
    provinces = load_provinces()
    pool = cat.national_pool(seed)
    available: dict[str, np.ndarray] = {}
    summary = GenerationSummary(len(selected), [p.label for p in periods], 0, {s: 0 for s in SOURCES})
    errors: list[dict] = []
    reports: list[dict] = []
    log.info("generating %d units × %d periods into %s", len(selected), len(periods), out)

    for unit in tqdm(selected, desc="generating", unit="unit", disable=not progress):
        profile = profile_for(unit, seed, mixed_formats=not national)
        if unit.province_code not in available:
            available[unit.province_code] = cat.province_pool(pool, unit.province_code, seed)
        unit_catalogue = cat.unit_catalogue(
            pool, available[unit.province_code], np.random.default_rng([seed, int(unit.code), 766_300]),
            profile.catalogue_size, profile.offered_online, profile.full_share, profile.offers_e_copy,
        )
        for period in periods:
            written = _unit_period(out, unit, profile, unit_catalogue, pool, period, seed, scale,
                                   provinces.get(unit.province_code, (unit.province_code, "tỉnh")))
            summary.files += len(written.files)
            summary.bytes += sum(p.stat().st_size for p in written.files)
            for source, count in written.rows.items():
                summary.rows[source] += count
            if written.report:
                reports.append({"unit_code": unit.code, "period": period.label})
            errors.extend(written.errors)

    summary.reports = len(reports)
    summary.report_errors = len({(e["unit_code"], e["period"]) for e in errors})
    _write_manifest(out, province=None if national else province, periods=periods, seed=seed, scale=scale,
                    units=[u.code for u in selected], reports=reports, errors=errors)
    summary.seconds = round(time.perf_counter() - started, 2)
    log.info("generated %s", summary)
    return summary


@dataclass
class _Written:
    files: list[Path]
    rows: dict[str, int]
    report: bool
    errors: list[dict]


def _unit_period(out: Path, unit: Unit, profile: Profile, unit_catalogue: cat.UnitCatalogue,
                 pool: cat.ProcedurePool, period: Period, seed: int, scale: float,
                 province: tuple[str, str]) -> _Written:
    period_seed = _period_seed(period)
    rng = np.random.default_rng([seed, int(unit.code), period_seed, 766_400])
    ho_so = tables.dossiers(rng, unit, profile, unit_catalogue, pool, period, scale)
    generated = {
        "ho_so": ho_so,
        "thanh_toan": tables.payments(rng, unit, profile, ho_so, period),
        "pakn": tables.feedback(rng, unit, profile, ho_so, period),
        "danh_muc_tthc": tables.procedures(
            rng, profile, unit_catalogue, pool, np.random.default_rng([seed, int(unit.code), 766_301])
        ),
    }
    # after payments and feedback, which concern this month's dossiers: their draws stay put
    generated["ho_so"] = tables.appended(
        ho_so, _carried_over(unit, profile, unit_catalogue, pool, period, seed, scale))
    if profile.file_format == "xlsx" and profile.xlsx_dates == "text":
        # 'dd/mm/yyyy HH:MM' drops the seconds: truncate first, so that the report's figures
        # and the warehouse see the same instants (a dossier 30 s late reads as on time).
        for table in generated.values():
            for name, values in table.items():
                if values.dtype.kind == "M":
                    table[name] = values.astype("datetime64[m]").astype("datetime64[s]")
    folder = out / unit.province_code / unit.code / period.label
    folder.mkdir(parents=True, exist_ok=True)
    # A resubmission keeps one file per source: drop any other format of it left from a previous run.
    for stale in folder.iterdir():
        if stale.is_file():
            stale.unlink()
    exported = datetime.combine(period.end + timedelta(days=2), datetime.min.time()).replace(hour=8)
    files = []
    for name, table in generated.items():
        file_format = "json" if profile.json_source == name else profile.file_format
        files.append(write_table(
            table, SOURCES[name], folder, file_format,
            style=profile.csv_style, dates=profile.xlsx_dates, headers=profile.xlsx_headers,
            footer=profile.xlsx_footer, numbering=profile.xlsx_numbering,
            created=exported, creator=f"UBND {unit.title}",
        ))
    rows = {name: len(next(iter(table.values()))) for name, table in generated.items()}
    errors: list[dict] = []
    if profile.writes_report:
        report_rng = np.random.default_rng([seed, int(unit.code), period_seed, 766_500])
        figures = tables.figures(report_rng, generated, period)
        figures, planted = with_reporting_error(figures, report_rng, unit, period)
        path = folder / "bao_cao.txt"
        path.write_text(render(unit, province, period, figures, report_rng), encoding="utf-8")
        files.append(path)
        errors = error_records(planted)
    return _Written(files, rows, profile.writes_report, errors)


def _carried_over(unit: Unit, profile: Profile, unit_catalogue: cat.UnitCatalogue, pool: cat.ProcedurePool,
                  period: Period, seed: int, scale: float) -> tables.Table:
    """The previous month's dossiers still open at its end, as they stand at this one's."""
    previous = period_window(period.previous_label, "calendar" if period.start.day == 1 else "15th")

    def seen(as_of: np.datetime64 | None) -> tables.Table:
        rng = np.random.default_rng([seed, int(unit.code), _period_seed(previous), 766_400])
        return tables.dossiers(rng, unit, profile, unit_catalogue, pool, previous, scale, as_of=as_of)

    return tables.carried_over(seen(None), seen(tables.snapshot_of(period)))


def _write_manifest(out: Path, *, province: str | None, periods: list[Period], seed: int, scale: float,
                    units: list[str], reports: list[dict], errors: list[dict]) -> None:
    manifest = {
        "generator": "chiso.generate",
        "seed": seed,
        "province": province,
        "scale": scale,
        "periods": [
            {"label": p.label, "start": p.start.isoformat(), "end": p.end.isoformat()} for p in periods
        ],
        "units": units,
        "reports": reports,
        "report_errors": errors,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
