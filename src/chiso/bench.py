"""`make bench`: the pipeline measured against the machine's raw COPY rate, in one run.

Absolute times on a shared 2-core machine are noisy, so every figure is also reported as a
ratio to the raw COPY of the same dossier and payment files measured in the same process.
"""

from __future__ import annotations

import json
import logging
import platform
import resource
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg2

from chiso import gate, landing, transform, warehouse
from chiso.periods import Period, period_range

log = logging.getLogger(__name__)

BENCH_PERIODS = "2025-07:2025-12"  # the national month is the last (rules in force from 2025-07)
# The incremental series: month after month from the first the rules apply to, so the sixth
# and the twelfth month (2026-06, its year rollup restarted in January) are measured.
INCREMENTAL_FIRST = "2025-07"
INCREMENTAL_UNITS = 600  # the series' size: the ratio month n / month 1 is what is judged
# The raw COPY baseline swings from run to run on a shared machine: measured several times,
# before the pipeline and after it, and the median is the baseline.
COPY_RUNS_BEFORE, COPY_RUNS_AFTER = 3, 2


@dataclass
class Stage:
    name: str
    seconds: float
    rows: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class BenchResult:
    units: int
    dossiers: int
    payments: int
    stages: list[Stage] = field(default_factory=list)
    incremental: dict[str, float] = field(default_factory=dict)
    split_by_province_identical: bool | None = None
    copy_samples: list[float] = field(default_factory=list)  # every raw COPY timing, in order
    workers: dict = field(default_factory=dict)  # chiso.bench_workers: 1 → 2 workers
    incremental_units: int = 0
    incremental_stages: dict = field(default_factory=dict)  # month_n: landing, gate, dbt_build
    incremental_dossiers: dict[str, int] = field(default_factory=dict)  # month_n: dossiers landed
    incremental_growth: dict = field(default_factory=dict)  # month_n: nodes grown most since month 1
    # month_n: a raw COPY of that month's dossier and payment files, timed just before it:
    # the machine's speed at that moment, so month n / month 1 can be read net of its drift
    incremental_copy: dict[str, float] = field(default_factory=dict)
    dbt_slowest: dict[str, float] = field(default_factory=dict)  # the national build's slowest nodes
    peak_rss_mib: float = 0.0
    machine: str = platform.platform()

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def ratios(self) -> dict[str, float]:
        copy = self.stage("raw_copy")
        landing_stage = self.stage("landing")
        pipeline = sum(s.seconds for s in self.stages if s.name in ("landing", "gate", "dbt_build"))
        ratios = {
            "landing_rows_per_s_vs_copy": landing_stage.rows_per_second / copy.rows_per_second,
            "pipeline_seconds_vs_copy": pipeline / copy.seconds,
        }
        seconds, dossiers = self.incremental, self.incremental_dossiers
        for n, name in ((6, "sixth"), (12, "twelfth")):
            if f"month_{n}" not in seconds:
                continue
            ratios[f"{name}_month_vs_first"] = seconds[f"month_{n}"] / seconds["month_1"]
            # the same, per dossier: a later month also delivers the dossiers carried over
            # into it, which the first month of a series has fewer of
            if dossiers.get("month_1") and dossiers.get(f"month_{n}"):
                later, first = (seconds[f"month_{m}"] / dossiers[f"month_{m}"] for m in (n, 1))
                ratios[f"{name}_month_vs_first_per_dossier"] = later / first
            copies = self.incremental_copy
            if copies.get("month_1") and copies.get(f"month_{n}"):
                later, first = (seconds[f"month_{m}"] / copies[f"month_{m}"] for m in (n, 1))
                ratios[f"{name}_month_vs_first_per_copy"] = later / first
        return ratios


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def raw_copy(dsn: str, files: list[Path]) -> int:
    """The baseline: COPY the dossier and payment files into unindexed text tables.

    The tables are created and committed first, as landing's partitions are: a table
    created in the COPY's own transaction skips the WAL under the embedded server's
    wal_level = minimal (chiso.warehouse), which no COPY into an existing table does."""
    rows = 0
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        for source in ("ho_so", "thanh_toan"):
            cur.execute(f"drop table if exists public.bench_{source}")
            columns = ", ".join(f"{c} text" for c in landing.SOURCES[source].column_names)
            # scratch tables: autovacuum reading a million fresh rows beside the measured
            # pipeline would time the bench, not the pipeline
            cur.execute(f"create table public.bench_{source} ({columns}) with (autovacuum_enabled = false)")
        conn.commit()
        for path in files:
            source = path.stem
            header = path.open(encoding="utf-8-sig").readline().strip()
            with path.open(encoding="utf-8") as handle:
                cur.copy_expert(
                    f"copy public.bench_{source} ({header}) from stdin with (format csv, header true)",
                    handle,
                )
            rows += cur.rowcount
        conn.commit()
    return rows


def gx_context() -> Path:
    """The bench's own GX context (`<state dir>/bench/gx`, or CHISO_EXPECTATIONS_DIR): its
    validation runs never show in the warehouse's Data Docs."""
    import os

    from chiso import config
    from chiso.gate.gx_adapter import prepare_context_dir

    if os.environ.get("CHISO_EXPECTATIONS_DIR"):
        return Path(os.environ["CHISO_EXPECTATIONS_DIR"])
    return prepare_context_dir(config.state_dir() / "bench" / "gx", config.expectations_dir())


def run_month(dsn: str, root: Path, period: Period, result: BenchResult | None, run_id: str,
              province: str | None = None) -> dict[str, float]:
    """Land, gate and build one month; seconds of each stage, their total and the dossiers
    landed. With `result`, the stages (and their rows) are also appended to it."""
    seconds: dict[str, float] = {}

    @contextmanager
    def stage(name: str):
        started = time.perf_counter()
        yield
        seconds[name] = time.perf_counter() - started

    submissions = landing.discover(root, period, province)
    with stage("landing"):
        landed = landing.land(submissions, root, run_id, dsn)
    with stage("gate"):
        gate.run_gate(dsn, run_id, [b.batch_id for b in landed if b.new], context_dir=gx_context())
    with stage("dbt_build"):
        transform.build(period.label, dsn)
    dossiers = sum(b.rows.get("ho_so", 0) for b in landed)
    if result is not None:
        # Every tabular row landed counts for landing (catalogues and feedback too), since
        # its time includes them; the gate and the build are set against the COPY's rows.
        rows = sum(b.rows.get("ho_so", 0) + b.rows.get("thanh_toan", 0) for b in landed)
        landed_rows = sum(sum(b.rows.values()) for b in landed)
        for name, value in seconds.items():
            result.stages.append(Stage(name, value, landed_rows if name == "landing" else rows))
            log.info("%-10s %8.2f s", name, value)
        result.dbt_slowest = slowest_dbt_nodes()
    return seconds | {"total": sum(seconds.values()), "dossiers": dossiers}


def dbt_node_seconds() -> dict[str, float]:
    """Seconds of each model and test of the last dbt build (its run_results.json)."""
    results = json.loads((transform.target_dir() / "run_results.json").read_text(encoding="utf-8"))
    return {r["unique_id"].split(".", 1)[1]: round(r["execution_time"], 2) for r in results["results"]}


def slowest_dbt_nodes(count: int = 10) -> dict[str, float]:
    nodes = sorted(dbt_node_seconds().items(), key=lambda kv: kv[1], reverse=True)[:count]
    return {name: round(seconds, 1) for name, seconds in nodes}


def growth(first: dict[str, float], later: dict[str, float], count: int = 6) -> dict[str, list[float]]:
    """The dbt nodes whose time grew most from one month to a later one: [first, later]."""
    grown = sorted(later, key=lambda n: later[n] - first.get(n, 0.0), reverse=True)[:count]
    return {n: [round(first.get(n, 0.0), 1), round(later[n], 1)] for n in grown}


MARTS_COMPARED = ("criterion_scores", "group_scores", "unit_ranking", "province_summary", "reconciliation")


def marts_snapshot(dsn: str) -> dict[str, list[str]]:
    return {m: sorted(warehouse.query_csv(f"select * from marts.{m}", dsn).splitlines())
            for m in MARTS_COMPARED}


def split_by_province_matches(dsn: str, root: Path, period: Period, national: dict) -> bool:
    """Re-run the month province by province (as separate DAG runs would) and compare."""
    _reset_warehouse(dsn)
    provinces = sorted({p.name for p in root.iterdir() if p.is_dir()})
    for province in provinces:
        run_month(dsn, root, period, None, f"bench-split-{province}", province)
    identical = marts_snapshot(dsn) == national
    log.info("per-province runs (%d provinces) give %s marts", len(provinces),
             "identical" if identical else "DIFFERENT")
    return identical


def main(out: Path, units: int | None = None, incremental: bool = False, seed: int = 11,
         compare_split: bool = False, dsn: str | None = None, scale: float = 1.0,
         months: int = 12, incremental_units: int | None = INCREMENTAL_UNITS,
         workers: bool = False) -> BenchResult:
    """Measure one month in the database at `dsn` (default: `chiso_bench` beside the warehouse,
    so the bench never touches the warehouse itself); that database is reset. With
    `incremental`, also load `months` months one after the other (`incremental_units` units,
    None: as many as the national month) and time each. With `workers`, also time the
    DAG's per-province landing and gate with 1 and then 2 worker processes
    (chiso.bench_workers), each in a scratch database beside the bench's."""
    out.mkdir(parents=True, exist_ok=True)
    month = period_range(BENCH_PERIODS, "calendar")[-1]
    data = _data(out, units, seed, scale, [month])
    dsn = dsn or warehouse.sibling_database("chiso_bench")
    _reset_warehouse(dsn)
    files = sorted(data.glob(f"*/*/{month.label}/ho_so.csv")) + sorted(
        data.glob(f"*/*/{month.label}/thanh_toan.csv")
    )
    result = BenchResult(units=len({f.parent.parent for f in files}), dossiers=0, payments=0)
    copies = [_timed_copy(dsn, files) for _ in range(COPY_RUNS_BEFORE)]
    with warehouse.cursor(dsn) as cur:
        cur.execute("select (select count(*) from public.bench_ho_so), "
                    "(select count(*) from public.bench_thanh_toan)")
        result.dossiers, result.payments = cur.fetchone()
        cur.execute("drop table public.bench_ho_so; drop table public.bench_thanh_toan")
    _checkpoint(dsn)  # the copies' dirty pages written now, not in the middle of the pipeline

    run_month(dsn, data, month, result, "bench-national")
    result.peak_rss_mib = peak_rss_mib()
    copies += [_timed_copy(dsn, files) for _ in range(COPY_RUNS_AFTER)]
    with warehouse.cursor(dsn) as cur:
        cur.execute("drop table public.bench_ho_so; drop table public.bench_thanh_toan")
    result.copy_samples = [round(c.seconds, 3) for c in copies]
    baseline = sorted(copies, key=lambda c: c.seconds)[len(copies) // 2]
    result.stages.insert(0, baseline)
    log.info("raw COPY %s s: the median, %.2f s, is the baseline",
             ", ".join(f"{c.seconds:.2f}" for c in copies), baseline.seconds)
    if compare_split:
        result.split_by_province_identical = split_by_province_matches(
            dsn, data, month, marts_snapshot(dsn))

    if workers:
        from chiso.bench_workers import measure_worker_speedup

        result.workers = measure_worker_speedup(data, month.label, (1, 2), server_dsn=dsn)

    if incremental:
        series = period_range(f"{INCREMENTAL_FIRST}:{_months_after(INCREMENTAL_FIRST, months - 1)}",
                              "calendar")
        size = incremental_units if incremental_units is not None else units
        series_data = _data(out, size, seed, scale, series)
        result.incremental_units = size or result.units
        _reset_warehouse(dsn)
        nodes: dict[int, dict[str, float]] = {}
        for index, period in enumerate(series, start=1):
            month_files = sorted(series_data.glob(f"*/*/{period.label}/ho_so.csv")) + sorted(
                series_data.glob(f"*/*/{period.label}/thanh_toan.csv"))
            result.incremental_copy[f"month_{index}"] = round(_timed_copy(dsn, month_files).seconds, 3)
            with warehouse.cursor(dsn) as cur:
                cur.execute("drop table public.bench_ho_so; drop table public.bench_thanh_toan")
            seconds = run_month(dsn, series_data, period, None, f"bench-{period.label}")
            result.incremental[f"month_{index}"] = seconds["total"]
            result.incremental_stages[f"month_{index}"] = {k: round(v, 1) for k, v in seconds.items()
                                                           if k != "dossiers"}
            result.incremental_dossiers[f"month_{index}"] = int(seconds["dossiers"])
            nodes[index] = dbt_node_seconds()
            log.info("incremental month %d (%s): %.1f s", index, period.label, seconds["total"])
        result.incremental_growth = {f"month_{n}": growth(nodes[1], nodes[n])
                                     for n in (6, 12) if n in nodes}
        # every node of every month, for the question the growth summary raises next
        (out / "incremental_nodes.json").write_text(
            json.dumps({f"month_{n}": seconds for n, seconds in nodes.items()}, indent=1), encoding="utf-8")
        result.peak_rss_mib = peak_rss_mib()

    write_results(out, result)
    return result


def _data(out: Path, units: int | None, seed: int, scale: float, periods: list[Period]) -> Path:
    """The synthetic submissions for these months (generated once, kept under `out`)."""
    from chiso.generate import generate

    data = out / "data" / f"units-{units or 'all'}-seed-{seed}-scale-{scale}"
    missing = [p for p in periods if not any(data.glob(f"*/*/{p.label}"))]
    if missing:
        log.info("generating %s units × %d month(s) into %s", units or "all", len(missing), data)
        generate(data, province=None, periods=missing, seed=seed, units=units, national=True,
                 scale=scale, progress=True)
    return data


def _months_after(label: str, n: int) -> str:
    year, month = int(label[:4]), int(label[5:7]) - 1 + n
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def _checkpoint(dsn: str) -> None:
    """A checkpoint, as pgbench takes one before it measures (needs pg_checkpoint or a
    superuser: without, the bench goes on)."""
    try:
        with warehouse.cursor(dsn) as cur:
            cur.execute("checkpoint")
    except psycopg2.Error as err:
        log.info("no checkpoint before the pipeline (%s)", str(err).strip())


def _timed_copy(dsn: str, files: list[Path]) -> Stage:
    started = time.perf_counter()
    rows = raw_copy(dsn, files)
    stage = Stage("raw_copy", time.perf_counter() - started, rows)
    log.info("raw COPY   %8.2f s  %10d rows  %10.0f rows/s", stage.seconds, rows, stage.rows_per_second)
    return stage


def _reset_warehouse(dsn: str) -> None:
    with warehouse.cursor(dsn) as cur:
        cur.execute("drop schema if exists raw, audit, staging, intermediate, marts cascade")
    warehouse.bootstrap(dsn)


def write_results(out: Path, result: BenchResult) -> None:
    payload = asdict(result) | {"ratios": result.ratios()}
    for stage in payload["stages"]:
        stage["rows_per_second"] = round(stage["rows"] / stage["seconds"], 1) if stage["seconds"] else 0
    (out / "results.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    lines = [
        f"# chiso bench: {result.units} units, {result.dossiers:,} dossiers, {result.payments:,} payments",
        "",
        "| stage | seconds | rows | rows/s |",
        "|---|---:|---:|---:|",
        *(f"| {s.name} | {s.seconds:.2f} | {s.rows:,} | {s.rows_per_second:,.0f} |" for s in result.stages),
        "",
        "| ratio | value | target |",
        "|---|---:|---|",
    ]
    targets = {
        "landing_rows_per_s_vs_copy": "≥ 0.7",
        "pipeline_seconds_vs_copy": "≤ 4",
        "sixth_month_vs_first": "≤ 1.1",
        "twelfth_month_vs_first": "≤ 1.1 (measured)",
        "sixth_month_vs_first_per_dossier": "(context: seconds per dossier landed)",
        "twelfth_month_vs_first_per_dossier": "(context: seconds per dossier landed)",
        "sixth_month_vs_first_per_copy": "(context: each month over a raw COPY timed just before it)",
        "twelfth_month_vs_first_per_copy": "(context: each month over a raw COPY timed just before it)",
    }
    lines += [f"| {k} | {v:.2f} | {targets[k]} |" for k, v in result.ratios().items()]
    lines += ["", f"Peak RSS of the pipeline process: {result.peak_rss_mib:,.0f} MiB (target ≤ 2048)."]
    if result.split_by_province_identical is not None:
        lines += ["", "Marts from per-province runs identical to the single run: "
                  f"{'yes' if result.split_by_province_identical else 'NO'}."]
    lines += ["", "Raw COPY timings (s), before and after the pipeline; the median is the baseline: "
              + ", ".join(f"{c:.2f}" for c in result.copy_samples) + "."]
    if result.workers:
        runs = result.workers["runs"]
        lines += ["", "The DAG's landing mapped per province, then its one gate, with 1 → 2 worker "
                  f"processes: {runs['1']['seconds']} s → {runs['2']['seconds']} s (landing "
                  f"{runs['1']['landing_seconds']} → {runs['2']['landing_seconds']} s, gate "
                  f"{runs['1']['gate_seconds']} → {runs['2']['gate_seconds']} s), speed-up "
                  f"{result.workers['speedup']['2']} × on {result.workers['cpus']} CPUs."]
    if result.dbt_slowest:
        lines += ["", "Slowest dbt nodes of the national build (s): " + ", ".join(
            f"{name} {seconds}" for name, seconds in result.dbt_slowest.items())]
    if result.incremental:
        lines += ["", f"Incremental months ({result.incremental_units} units, month by month from "
                  f"{INCREMENTAL_FIRST}; seconds of landing + gate + dbt build): " + ", ".join(
                      f"{k} {v:.1f}" for k, v in result.incremental.items())]
        if result.incremental_dossiers:
            lines += ["", "Dossiers landed: " + ", ".join(
                f"{k} {v:,}" for k, v in result.incremental_dossiers.items())]
        if result.incremental_copy:
            lines += ["", "Raw COPY of each month's dossier and payment files, just before it (s): "
                      + ", ".join(f"{k} {v:.2f}" for k, v in result.incremental_copy.items())]
        lines += ["", "Per stage (landing / gate / dbt build, s): " + ", ".join(
            f"{k} {v['landing']} / {v['gate']} / {v['dbt_build']}"
            for k, v in result.incremental_stages.items())]
        for month, grown in result.incremental_growth.items():
            lines += ["", f"dbt nodes grown most from month_1 to {month} (s): " + ", ".join(
                f"{name} {a} → {b}" for name, (a, b) in grown.items())]
    (out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
