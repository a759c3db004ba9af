"""The GX adapter: the suites as GX expectation suites over the warehouse, run as one
checkpoint per source; the failing batches each expectation finds come back as findings."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from chiso.gate.suites import Rule, Suite, resolve_periods
from chiso.gate.verdicts import Finding

log = logging.getLogger(__name__)

DATASOURCE = "warehouse"
BATCH_DEFINITION = "whole_table"
# The connection string reaches GX through config substitution, so great_expectations.yml
# never holds a URL (or a password) and the embedded server's socket DSN works as is.
URL_VARIABLE = "CHISO_GX_WAREHOUSE_URL"
SEVERITY_TO_GX = {"error": "critical", "warn": "warning"}
class GateError(RuntimeError):
    """The gate could not evaluate a rule (a broken suite or an unreachable warehouse)."""


def _with_planner_options(url: str) -> str:
    """The connection GX validates with: no merge joins. Row estimates for regex filters
    are far too low, and the planner then sorts millions of rows for a merge join that a
    hash join does in a fraction of the time (a national month's catalogue lookup: 8 s to
    3 s). Index nested loops, the right plan for a run of a few batches, stay allowed."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.append(("options", "-c enable_mergejoin=off"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def default_context_dir() -> Path:
    """The GX context the gate writes to: CHISO_EXPECTATIONS_DIR, else `<state dir>/gx`, laid
    out from the checkout's expectations/ (prepare_context_dir). Validation results and Data
    Docs live with the warehouse's other state, so they hold this warehouse's runs only, never
    a test's or a bench's (each has its own state dir)."""
    env = os.environ.get("CHISO_EXPECTATIONS_DIR")
    if env:
        return Path(env)
    from chiso import config

    return prepare_context_dir(config.state_dir() / "gx", config.expectations_dir())


def prepare_context_dir(target: Path, source: Path) -> Path:
    """Lay out a GX context at `target` from the committed one at `source`: its
    great_expectations.yml (copied again when the committed file changes; GX adds to the copy)
    and suites/ (the suites as code, kept equal to the checkout's). Return `target`."""
    import hashlib
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    config_file = source / "great_expectations.yml"
    digest = hashlib.sha256(config_file.read_bytes()).hexdigest()
    stamp = target / "uncommitted" / "source_config.sha256"
    if not (target / config_file.name).is_file() or not stamp.is_file() or stamp.read_text() != digest:
        shutil.copyfile(config_file, target / config_file.name)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    suites = target / "suites"
    suites.mkdir(exist_ok=True)
    wanted = {path.name: path for path in (source / "suites").glob("*.yml")}
    for stale in suites.glob("*.yml"):
        if stale.name not in wanted:
            stale.unlink()
    for name, path in wanted.items():
        copy = suites / name
        if not copy.is_file() or copy.read_bytes() != path.read_bytes():
            tmp = copy.with_suffix(f".yml.{os.getpid()}.tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, copy)  # a concurrent reader sees the old file or the new, never half
    return target


def open_context(context_dir: Path, conn_url: str | None = None) -> Any:
    import great_expectations as gx

    env = {URL_VARIABLE: conn_url} if conn_url else {URL_VARIABLE: "postgresql://unset"}
    return gx.get_context(context_root_dir=str(context_dir), runtime_environment=env)


def open_context_in_background(context_dir: Path, conn_url: str) -> Future:
    """The gate's GX context, opened on a thread: importing GX takes seconds of Python
    that would otherwise come on top of the gate's first queries (the suspects pass, the
    row counts), which keep PostgreSQL busy meanwhile and leave the interpreter idle."""
    return _in_background(_open_gate_context, context_dir, conn_url)


def _open_gate_context(context_dir: Path, conn_url: str) -> Any:
    started = time.perf_counter()
    import chiso.gate.expectation  # noqa: F401  (registers the gate's expectation with GX)

    context = open_context(context_dir, _with_planner_options(conn_url))
    log.debug("gate: GX imported and context opened in %.2f s", time.perf_counter() - started)
    return context


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
    parts = [_Part(f"{suite.name}__rows", "audit", suspects_table(suite), suite.row_rules)]
    if suite.set_rules:
        parts.append(_Part(suite.name, suite.schema, suite.table, suite.set_rules))
    return parts


def suspects_table(suite: Suite) -> str:
    return f"gate_suspects_{suite.name}"


def _fill_suspects(conn: Any, suite: Suite, months: set[str]) -> float:
    started = time.perf_counter()
    table = f"audit.{suspects_table(suite)}"
    with conn.cursor() as cur:
        cur.execute(f"drop table if exists {table}")
        # The planner cannot estimate the disjunction and expects every row to come back,
        # which makes a parallel scan look dear; in fact few rows do (a clean national
        # month: none), and the scan is CPU-bound, so let the workers share it.
        cur.execute("set parallel_tuple_cost = 0")
        sql = resolve_periods(suite.suspects_sql(), months)
        cur.execute(f"create unlogged table {table} as {sql}")
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

    from chiso.gate.expectation import RULE_OF_QUERY, ExpectNoFailingBatches

    part = part or _Part(suite.name, suite.schema, suite.table, suite.rules)
    RULE_OF_QUERY.update({resolve_periods(rule.sql, months): rule.qualified_name for rule in part.rules})
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


def validate(
    conn: Any, conn_url: str, context_dir: Path, suites: list[Suite], run_id: str,
    months: set[str], context: Future | None = None,
) -> dict[tuple[str, str], Finding]:
    """Run the suites; `context`, when given, is the GX context being opened in the
    background (open_context_in_background).

    The checks over the raw tables run on a thread, one GX checkpoint after another, while
    this thread finds each source's suspect rows; the row checks over those follow. A set
    check's query mostly runs in one process, a suspects pass in several: side by side they
    keep both cores of a small server busy (the gate of a national month spent 17 s in
    ho_so's set checks with one core idle). GX is only ever used by one thread at a time.
    """
    suites = [suite for suite in suites if suite.rules]
    rules = {rule.qualified_name: rule for suite in suites for rule in suite.rules}
    parts = [(suite, part) for suite in suites for part in _parts(suite)]
    over_raw = [(suite, part) for suite, part in parts if part.schema != "audit"]
    over_suspects = [(suite, part) for suite, part in parts if part.schema == "audit"]
    from chiso.gate.expectation import RULE_OF_QUERY

    RULE_OF_QUERY.clear()  # this run's queries only, however long the process lives
    opened = context if context is not None else open_context_in_background(context_dir, conn_url)
    raw_checks = _in_background(_run_parts, opened, over_raw, rules, run_id, months)
    try:
        for suite in {suite.name: suite for suite, _ in over_suspects}.values():
            _fill_suspects(conn, suite, months)
    except BaseException:
        wait([raw_checks])  # the thread done with GX and its connection before this goes up
        raise
    findings = raw_checks.result()
    findings.update(_run_parts(opened, over_suspects, rules, run_id, months))
    return findings


def _in_background(function: Any, *args: Any) -> Future:
    """`function(*args)` on a thread of its own, which ends with it."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chiso-gate")
    try:
        return executor.submit(function, *args)
    finally:
        executor.shutdown(wait=False)


def _run_parts(
    opened: Future, parts: list[tuple[Suite, _Part]], rules: dict[str, Rule], run_id: str,
    months: set[str],
) -> dict[tuple[str, str], Finding]:
    """One GX checkpoint per part (a suite's checks over one table); the failing batches
    each expectation found."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    waited = time.perf_counter()
    context = opened.result()
    log.debug("gate: waited %.2f s for the GX context", time.perf_counter() - waited)
    datasource = _datasource(context, [part for _, part in parts])
    findings: dict[tuple[str, str], Finding] = {}
    for suite, part in parts:
        started = time.perf_counter()
        batch_definition = datasource.get_asset(part.name).get_batch_definition(BATCH_DEFINITION)
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"gate_{part.name}", data=batch_definition,
                                    suite=context.suites.add_or_update(gx_suite(suite, part, months)))
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"gate_{part.name}",
                validation_definitions=[validation],
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
                    findings[(rule.qualified_name, row["batch_id"])] = Finding(
                        int(row["unexpected_count"]), list(row["examples"] or [])
                    )
        log.info("gate suite %s: %d expectations over %s.%s in %.2f s", suite.name,
                 len(part.rules), part.schema, part.table, time.perf_counter() - started)
    return findings


def _raise_on_exception(rule: Rule, outcome: Any) -> None:
    info = outcome.exception_info or {}
    infos = [info] if "raised_exception" in info else list(info.values())
    for item in infos:
        if isinstance(item, dict) and item.get("raised_exception"):
            raise GateError(
                f"rule {rule.qualified_name} could not be evaluated: {item.get('exception_message')}"
            )


