"""The gate: one GX checkpoint run per source over all batches of a run, verdicts per batch.

Flow: the run's batches go into `audit.gate_scope`; each suite (expectations/suites/*.yml)
becomes GX suites of ExpectNoFailingBatches (an UnexpectedRowsExpectation whose query runs
once, see gate/expectation.py). Every query joins its table to that scope and returns one
row per failing batch. Set checks (duplicates, lookups, volumes) read the raw table; the
row checks of a source read `audit.gate_suspects_<source>`, the rows of the run that may
fail one of them, found in a single pass over the raw table. The failing rows are then
attributed back to their batches, written to `audit.expectation_results` (one row per
expectation × batch) and `audit.rule_violations` (the first rows per expectation and
batch), and `raw.batches.status` becomes passed, warned or quarantined. Quarantine is a
status: the batch's rows stay in raw.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg2
import psycopg2.extras

from chiso.gate.suites import (
    PERIOD_PARTITIONED,
    SCOPE_TABLE,
    Rule,
    Suite,
    load_suites,
    resolve_periods,
    run_periods,
)

log = logging.getLogger(__name__)

DATASOURCE = "warehouse"
BATCH_DEFINITION = "whole_table"
# The connection string reaches GX through config substitution, so great_expectations.yml
# never holds a URL (or a password) and the embedded server's socket DSN works as is.
URL_VARIABLE = "CHISO_GX_WAREHOUSE_URL"
SEVERITY_TO_GX = {"error": "critical", "warn": "warning"}
# Kinds whose failure is a statement about the batch, not a count of bad rows: their
# observed_value is the statement itself ("dossiers_total 921 ≠ 14 + 879 = 893").
STATEMENT_KINDS = frozenset(
    {"volume", "figure_sum", "unit_code", "has_source", "files_readable", "files_complete"}
)
# Findings about the files themselves: when one fails, the batch's other findings follow
# from it (rows missing, references not found).
ROOT_CAUSE_KINDS = frozenset({"files_readable", "files_complete", "has_source"})


def _root_causes(failing: list[tuple[Rule, _Finding]]) -> list[tuple[Rule, _Finding]]:
    """The findings a verdict names: the root causes when a file failed, else all of them.
    Every finding is recorded in audit.expectation_results either way."""
    roots = [(rule, finding) for rule, finding in failing
             if rule.kind in ROOT_CAUSE_KINDS and rule.severity == "error"]
    return roots or failing


# Serialises gate runs on one warehouse: they share audit.gate_scope.
LOCK_KEY = 766_0001


class GateError(RuntimeError):
    """The gate could not evaluate a rule (a broken suite or an unreachable warehouse)."""


@dataclass
class Verdict:
    batch_id: str
    status: str  # passed | warned | quarantined
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Batch:
    batch_id: str
    unit_code: str
    province_code: str
    period: str
    period_start: Any
    period_end: Any


@dataclass
class _Finding:
    unexpected_count: int
    examples: list[dict[str, Any]]


def default_context_dir() -> Path:
    env = os.environ.get("CHISO_EXPECTATIONS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "expectations"


def run_gate(
    conn_url: str,
    run_id: str,
    batch_ids: list[str],
    *,
    context_dir: Path | None = None,
) -> dict[str, Verdict]:
    """Validate the given landed batches; record results; return a verdict per batch.

    Re-running with the same run_id replaces that run's results for these batches.
    """
    context_dir = Path(context_dir) if context_dir else default_context_dir()
    suites = load_suites(context_dir / "suites")
    started = time.perf_counter()
    conn = psycopg2.connect(_libpq_url(conn_url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            batches = _load_batches(conn, batch_ids)
            if not batches:
                return {}
            _fill_scope(conn, batches)
            months = {batch.period for batch in batches}
            findings = _validate(conn, conn_url, context_dir, suites, run_id, months)
            row_counts = _row_counts(conn, suites, months)
            files = _source_files(conn)
            verdicts = _record(conn, run_id, suites, batches, findings, row_counts, files)
        finally:
            with conn.cursor() as cur:
                cur.execute(f"delete from {SCOPE_TABLE}")
                for suite in suites:
                    cur.execute(f"drop table if exists audit.{_suspects_table(suite)}")
                cur.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()
    counts = defaultdict(int)
    for verdict in verdicts.values():
        counts[verdict.status] += 1
    log.info(
        "gate %s: %d batches in %.1f s (%s)",
        run_id,
        len(verdicts),
        time.perf_counter() - started,
        ", ".join(f"{n} {status}" for status, n in sorted(counts.items())),
    )
    return verdicts


def _libpq_url(url: str) -> str:
    """SQLAlchemy spells the driver into the scheme (postgresql+psycopg2://); libpq does not."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+")[0]))


def _with_planner_options(url: str) -> str:
    """The connection GX validates with: no merge joins. Row estimates for regex filters
    are far too low, and the planner then sorts millions of rows for a merge join that a
    hash join does in a fraction of the time (a national month's catalogue lookup: 8 s to
    3 s). Index nested loops, the right plan for a run of a few batches, stay allowed."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.append(("options", "-c enable_mergejoin=off"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def _load_batches(conn: Any, batch_ids: list[str]) -> list[_Batch]:
    wanted = list(dict.fromkeys(batch_ids))
    with conn.cursor() as cur:
        cur.execute(
            """select batch_id, unit_code, province_code, period, period_start, period_end, status
               from raw.batches where batch_id = any(%s)""",
            (wanted,),
        )
        rows = cur.fetchall()
    known = {row[0] for row in rows}
    missing = [b for b in wanted if b not in known]
    if missing:
        raise ValueError(f"unknown batch ids (not in raw.batches): {', '.join(missing[:10])}")
    batches = []
    for batch_id, unit, province, period, start, end, status in rows:
        if status == "superseded":
            # A newer delivery replaced it; gating it again could put it back in the marts.
            log.warning("batch %s is superseded; not gated", batch_id)
            continue
        batches.append(_Batch(batch_id, unit, province, period, start, end))
    return batches


def _fill_scope(conn: Any, batches: list[_Batch]) -> None:
    with conn.cursor() as cur:
        # Scratch space of the run holding the lock; recreated so its shape follows the code.
        cur.execute(f"drop table if exists {SCOPE_TABLE}")
        cur.execute(
            f"""create unlogged table {SCOPE_TABLE} (
                    batch_id      text primary key,
                    unit_code     text not null,
                    province_code text not null,
                    period        text not null,
                    period_start  date not null,
                    period_end    date not null,
                    -- the same window as ISO text: rules compare delivered text against it
                    -- without converting a date on every row
                    day_from      text collate "C" not null,
                    day_to        text collate "C" not null
                )"""
        )
        psycopg2.extras.execute_values(
            cur,
            f"insert into {SCOPE_TABLE} values %s",
            [
                (
                    b.batch_id,
                    b.unit_code,
                    b.province_code,
                    b.period,
                    b.period_start,
                    b.period_end,
                    b.period_start.isoformat(),
                    b.period_end.isoformat(),
                )
                for b in batches
            ],
            page_size=5000,
        )
        # Fresh statistics let the planner pick a hash join for thousands of batches and
        # an index lookup on batch_id for a handful.
        cur.execute(f"analyze {SCOPE_TABLE}")


# --- GX ------------------------------------------------------------------------------------


def open_context(context_dir: Path, conn_url: str | None = None) -> Any:
    import great_expectations as gx

    env = {URL_VARIABLE: conn_url} if conn_url else {URL_VARIABLE: "postgresql://unset"}
    return gx.get_context(context_root_dir=str(context_dir), runtime_environment=env)


@dataclass(frozen=True)
class _Part:
    """One GX validation: a group of a suite's rules and the table they run over."""

    name: str  # GX suite, asset and validation name
    schema: str
    table: str
    rules: tuple[Rule, ...]


def _parts(suite: Suite) -> list[_Part]:
    """Row-local rules read the suite's suspects table when there are several of them."""
    if len(suite.row_rules) < 2:
        return [_Part(suite.name, suite.schema, suite.table, suite.rules)]
    parts = [_Part(f"{suite.name}__rows", "audit", _suspects_table(suite), suite.row_rules)]
    if suite.set_rules:
        parts.append(_Part(suite.name, suite.schema, suite.table, suite.set_rules))
    return parts


def _suspects_table(suite: Suite) -> str:
    return f"gate_suspects_{suite.name}"


def _fill_suspects(conn: Any, suite: Suite, months: set[str]) -> float:
    started = time.perf_counter()
    table = f"audit.{_suspects_table(suite)}"
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {table}")
        # The planner cannot estimate the disjunction and expects every row to come back,
        # which makes a parallel scan look dear; in fact few rows do (a clean national
        # month: none), and the scan is CPU-bound, so let the workers share it.
        cur.execute("set parallel_tuple_cost = 0")
        cur.execute(f"create unlogged table {table} as {resolve_periods(suite.suspects_sql(), months)}")
        cur.execute("reset parallel_tuple_cost")
        cur.execute(f"select count(*) from {table}")
        (n,) = cur.fetchone()
        cur.execute(f"analyze {table}")
    seconds = time.perf_counter() - started
    log.info("gate suite %s: %d rows may fail its %d row checks (one pass, %.2f s)",
             suite.name, n, len(suite.row_rules), seconds)
    return seconds


def _datasource(context: Any, parts: list[_Part]) -> Any:
    try:
        datasource = context.data_sources.get(DATASOURCE)
    except KeyError:
        datasource = context.data_sources.add_sql(
            name=DATASOURCE, connection_string="${" + URL_VARIABLE + "}"
        )
    for part in parts:
        try:
            asset = datasource.get_asset(part.name)
        except LookupError:
            asset = datasource.add_table_asset(
                name=part.name, table_name=part.table, schema_name=part.schema
            )
        try:
            asset.get_batch_definition(BATCH_DEFINITION)
        except KeyError:
            asset.add_batch_definition_whole_table(BATCH_DEFINITION)
    return datasource


def gx_suite(suite: Suite, part: _Part | None = None, months: Iterable[str] = ()) -> Any:
    """The GX suite of `suite` (or of one part of it) for a gate run over `months`."""
    import great_expectations as gx

    from chiso.gate.expectation import ExpectNoFailingBatches

    part = part or _Part(suite.name, suite.schema, suite.table, suite.rules)
    expectations = [
        ExpectNoFailingBatches(
            unexpected_rows_query=resolve_periods(rule.sql, months),
            description=f"**{rule.name}** ({rule.severity}): {rule.meaning_en} — {rule.meaning_vi}",
            severity=SEVERITY_TO_GX[rule.severity],
            meta={
                "rule": rule.qualified_name,
                "severity": rule.severity,
                "meaning_en": rule.meaning_en,
                "meaning_vi": rule.meaning_vi,
                "kind": rule.kind,
            },
        )
        for rule in part.rules
    ]
    description = suite.description
    if part.schema != suite.schema:
        description += (f" Row checks, run over the rows of {suite.schema}.{suite.table} in this"
                        " gate run that may fail one of them (found in one pass).")
    return gx.ExpectationSuite(
        name=part.name,
        expectations=expectations,
        meta={"description": description, "source_file": str(suite.path)},
    )


def _validate(
    conn: Any, conn_url: str, context_dir: Path, suites: list[Suite], run_id: str,
    months: set[str],
) -> dict[tuple[str, str], _Finding]:
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    context = open_context(context_dir, _with_planner_options(conn_url))
    suites = [suite for suite in suites if suite.rules]
    parts = {suite.name: _parts(suite) for suite in suites}
    suspects_seconds = {}
    for suite in suites:
        # Filled before GX sees the assets: adding a table asset checks the table exists.
        if any(part.schema == "audit" for part in parts[suite.name]):
            suspects_seconds[suite.name] = _fill_suspects(conn, suite, months)
    datasource = _datasource(context, [p for ps in parts.values() for p in ps])
    rules = {rule.qualified_name: rule for suite in suites for rule in suite.rules}
    findings: dict[tuple[str, str], _Finding] = {}
    for suite in suites:
        started = time.perf_counter() - suspects_seconds.get(suite.name, 0.0)
        validations = []
        for part in parts[suite.name]:
            batch_definition = datasource.get_asset(part.name).get_batch_definition(BATCH_DEFINITION)
            expectation_suite = context.suites.add_or_update(gx_suite(suite, part, months))
            validations.append(context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"gate_{part.name}", data=batch_definition,
                                        suite=expectation_suite)
            ))
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"gate_{suite.name}",
                validation_definitions=validations,
                actions=[],
                result_format={"result_format": "COMPLETE"},
            )
        )
        result = checkpoint.run(run_id=RunIdentifier(run_name=run_id))
        for suite_result in result.run_results.values():
            for outcome in suite_result.results:
                rule = rules[outcome.expectation_config.meta["rule"]]
                _raise_on_exception(rule, outcome)
                for row in outcome.result.get("details", {}).get("unexpected_rows") or []:
                    findings[(rule.qualified_name, row["batch_id"])] = _Finding(
                        int(row["unexpected_count"]), list(row["examples"] or [])
                    )
        log.info(
            "gate suite %s: %d expectations in %.2f s",
            suite.name,
            len(suite.rules),
            time.perf_counter() - started,
        )
    return findings


def _raise_on_exception(rule: Rule, outcome: Any) -> None:
    info = outcome.exception_info or {}
    infos = [info] if "raised_exception" in info else list(info.values())
    for item in infos:
        if isinstance(item, dict) and item.get("raised_exception"):
            raise GateError(
                f"rule {rule.qualified_name} could not be evaluated: {item.get('exception_message')}"
            )


# --- attribution and recording -----------------------------------------------------------


def _row_counts(conn: Any, suites: list[Suite], months: set[str]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    with conn.cursor() as cur:
        for suite in suites:
            if suite.schema != "raw" or suite.table == "batches":
                continue
            periods = f"and {run_periods('t')}" if suite.name in PERIOD_PARTITIONED else ""
            cur.execute(resolve_periods(
                f"""select t.batch_id, count(*) from {suite.schema}.{suite.table} t
                    join {SCOPE_TABLE} s on s.batch_id = t.batch_id {periods}
                    group by t.batch_id""", months))
            counts.update({(suite.name, batch_id): n for batch_id, n in cur.fetchall()})
    return counts


def _source_files(conn: Any) -> dict[tuple[str, str], str]:
    # Suite → file per batch: a source's own file, the report for the figures extracted
    # from it, and the submission folder for the batch-level rules.
    with conn.cursor() as cur:
        cur.execute(
            f"""select case f.source when 'bao_cao' then 'report_figures' else f.source end,
                       f.batch_id, min(f.source_file)
                from raw.files f join {SCOPE_TABLE} s on s.batch_id = f.batch_id
                group by 1, f.batch_id
                union all
                select 'batches', b.batch_id, b.submission_dir
                from raw.batches b join {SCOPE_TABLE} s on s.batch_id = b.batch_id"""
        )
        return {(source, batch_id): path for source, batch_id, path in cur.fetchall()}


def _meaning(rule: Rule, batch: _Batch) -> str:
    values = {
        "period_start": batch.period_start,
        "period_end": batch.period_end,
        "period": batch.period,
        "unit_code": batch.unit_code,
        "province_code": batch.province_code,
    }
    try:
        return rule.meaning_en.format(**values)
    except (KeyError, IndexError, ValueError):
        return rule.meaning_en


def _describe(example: dict[str, Any], rule: Rule) -> str:
    parts = []
    if example.get("source_file"):
        parts.append(PurePosixPath(str(example["source_file"])).name)
    if example.get("source_row") is not None:
        parts.append(f"{rule.row_label} {example['source_row']}")
    if example.get("field"):
        parts.append(f"field {example['field']}")
    if example.get("value") is not None:
        parts.append(f"value '{example['value']}'")
    text = " ".join(parts)
    if example.get("detail"):
        text = f"{text} ({example['detail']})" if text else str(example["detail"])
    return text


def _reason(rule: Rule, batch: _Batch, finding: _Finding) -> str:
    n = finding.unexpected_count
    first = _describe(finding.examples[0], rule) if finding.examples else ""
    what = "" if rule.kind in STATEMENT_KINDS else f" ({n} {'row' if n == 1 else 'rows'})"
    return f"[{rule.severity}] {rule.qualified_name}{what}: {first} — {_meaning(rule, batch)}"


def _observed(rule: Rule, finding: _Finding | None, rows: int | None) -> str:
    if finding is None:
        return "0 unexpected" if rows is None else f"0 of {rows} rows unexpected"
    if rule.kind in STATEMENT_KINDS:
        details = [str(e.get("detail") or e.get("value")) for e in finding.examples]
        return "; ".join(dict.fromkeys(details))
    n = finding.unexpected_count
    return f"{n} unexpected" if rows is None else f"{n} of {rows} rows unexpected"


def _record(
    conn: Any,
    run_id: str,
    suites: list[Suite],
    batches: list[_Batch],
    findings: dict[tuple[str, str], _Finding],
    row_counts: dict[tuple[str, str], int],
    files: dict[tuple[str, str], str],
) -> dict[str, Verdict]:
    results = io.StringIO()
    writer = csv.writer(results)
    violations: list[tuple[Any, ...]] = []
    verdicts: dict[str, Verdict] = {}
    for batch in batches:
        failing: list[tuple[Rule, _Finding]] = [
            (rule, findings[(rule.qualified_name, batch.batch_id)])
            for suite in suites for rule in suite.rules
            if (rule.qualified_name, batch.batch_id) in findings
        ]
        explained = _root_causes(failing)
        errors = [_reason(r, batch, f) for r, f in explained if r.severity == "error"]
        warnings = [_reason(r, batch, f) for r, f in explained if r.severity == "warn"]
        quarantined = bool(errors)
        for suite in suites:
            for rule in suite.rules:
                finding = findings.get((rule.qualified_name, batch.batch_id))
                source_file = files.get((suite.name, batch.batch_id))
                if finding is not None and finding.examples:
                    source_file = finding.examples[0].get("source_file") or source_file
                writer.writerow(
                    [
                        run_id,
                        batch.batch_id,
                        batch.unit_code,
                        batch.period,
                        suite.name,
                        source_file,
                        rule.qualified_name,
                        rule.severity,
                        finding is None,
                        _observed(rule, finding, row_counts.get((suite.name, batch.batch_id))),
                        finding.unexpected_count if finding else 0,
                        quarantined,
                    ]
                )
        for rule, finding in failing:
            for example in finding.examples:
                violations.append(
                    (
                        run_id,
                        batch.batch_id,
                        rule.suite,
                        example.get("source_file"),
                        example.get("source_row"),
                        example.get("field"),
                        None if example.get("value") is None else str(example["value"]),
                        rule.qualified_name,
                        rule.severity,
                    )
                )
        status = "quarantined" if errors else "warned" if warnings else "passed"
        verdicts[batch.batch_id] = Verdict(batch.batch_id, status, errors + warnings)

    ids = [b.batch_id for b in batches]
    results.seek(0)
    conn.autocommit = False
    with conn:  # one transaction: a re-run replaces the previous results atomically
        with conn.cursor() as cur:
            cur.execute(
                "delete from audit.expectation_results where run_id = %s and batch_id = any(%s)",
                (run_id, ids),
            )
            cur.execute(
                "delete from audit.rule_violations where run_id = %s and batch_id = any(%s)",
                (run_id, ids),
            )
            cur.copy_expert(
                """copy audit.expectation_results (
                       run_id, batch_id, unit_code, period, source, source_file, expectation,
                       severity, success, observed_value, unexpected_count, quarantined
                   ) from stdin with (format csv)""",
                results,
            )
            psycopg2.extras.execute_values(
                cur,
                """insert into audit.rule_violations (
                       run_id, batch_id, source, source_file, source_row, field, value,
                       expectation, severity
                   ) values %s""",
                violations,
                page_size=5000,
            )
            psycopg2.extras.execute_values(
                cur,
                """update raw.batches b set status = v.status, verdict = v.status, reason = v.reason
                   from (values %s) as v (batch_id, status, reason)
                   where b.batch_id = v.batch_id""",
                [(v.batch_id, v.status, "; ".join(v.reasons) or None) for v in verdicts.values()],
                page_size=5000,
            )
            # An accepted batch now speaks for its unit and period; a quarantined one leaves
            # the batch before it in place.
            cur.execute(
                "select raw.make_current(batch_id) from unnest(%s::text[]) as batch_id",
                ([v.batch_id for v in verdicts.values() if v.status in ("passed", "warned")],),
            )
    conn.autocommit = True
    return verdicts


# --- Data Docs ------------------------------------------------------------------------------


def build_data_docs(context_dir: Path | None = None, reports_dir: Path | None = None) -> Path:
    """Render GX Data Docs (suites and the stored validation results); return index.html.

    By default the site is expectations/uncommitted/data_docs/local_site; `reports_dir`
    renders it there instead (e.g. the demo's reports folder).
    """
    context_dir = Path(context_dir) if context_dir else default_context_dir()
    context = open_context(context_dir)
    site_name = "local_site"
    if reports_dir is not None:
        site_name = "chiso_reports"
        sites = dict(context.variables.data_docs_sites or {})
        sites[site_name] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(reports_dir).resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        # In memory only: great_expectations.yml keeps describing the default site.
        context.variables.data_docs_sites = sites
    urls = context.build_data_docs(site_names=[site_name])
    url = urls[site_name]
    index = Path(urlsplit(url).path) if url.startswith("file://") else Path(url)
    log.info("data docs: %s", index)
    return index
