"""The gate: GX checkpoints per source over all batches of a run, verdicts per batch.

Flow: the run's batches go into `audit.gate_scope`; each suite (expectations/suites/*.yml)
becomes GX suites of ExpectNoFailingBatches (an UnexpectedRowsExpectation whose query runs
once, see gate/expectation.py). Every query joins its table to that scope and returns one
row per failing batch. Set checks (duplicates, lookups, volumes) read the raw table; the
row checks of a source read `audit.gate_suspects_<source>`, the rows of the run that may
fail one of them, found in a single pass over the raw table (while a thread runs the
checkpoints of the set checks: gx_adapter.validate). The failing rows are then
attributed back to their batches, written to `audit.expectation_results` (one row per
expectation × batch) and `audit.rule_violations` (the first rows per expectation and
batch), and `raw.batches.status` becomes passed, warned or quarantined. Quarantine is a
status: the batch's rows stay in raw.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extras

from chiso.gate import gx_adapter
from chiso.gate.gx_adapter import default_context_dir
from chiso.gate.record import record
from chiso.gate.suites import (
    PERIOD_PARTITIONED,
    SCOPE_TABLE,
    Suite,
    load_suites,
    resolve_periods,
    run_periods,
)
from chiso.gate.verdicts import Batch, Verdict, judge

log = logging.getLogger(__name__)

# Serialises gate runs on one warehouse: they share audit.gate_scope.
LOCK_KEY = 766_0001


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
    context = None
    conn = psycopg2.connect(_libpq_url(conn_url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            batches = _load_batches(conn, batch_ids)
            if not batches:
                return {}
            context = gx_adapter.open_context_in_background(context_dir, conn_url)
            _fill_scope(conn, batches)
            months = {batch.period for batch in batches}
            # Counts and files first: they run while GX is still loading.
            row_counts = _timed("row counts", _row_counts, conn, suites, months)
            files = _timed("source files", _source_files, conn)
            findings = gx_adapter.validate(conn, conn_url, context_dir, suites, run_id, months,
                                           context=context)
            verdicts, results, violations = judge(run_id, suites, batches, findings, row_counts, files)
            _timed("recording", record, conn, run_id, batches, verdicts, results, violations)
        finally:
            if context is not None:
                # Whatever happened, the context is left opened or failed, never half written
                # when the next run (or Data Docs) opens it.
                context.exception()
            with conn.cursor() as cur:
                cur.execute(f"delete from {SCOPE_TABLE}")
                for suite in suites:
                    cur.execute(f"drop table if exists audit.{gx_adapter.suspects_table(suite)}")
                cur.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()
    counts = Counter(verdict.status for verdict in verdicts.values())
    log.info(
        "gate %s: %d batches in %.1f s (%s)",
        run_id,
        len(verdicts),
        time.perf_counter() - started,
        ", ".join(f"{n} {status}" for status, n in sorted(counts.items())),
    )
    return verdicts


def _timed(what: str, step: Any, *args: Any) -> Any:
    started = time.perf_counter()
    result = step(*args)
    log.debug("gate: %s in %.2f s", what, time.perf_counter() - started)
    return result


def _libpq_url(url: str) -> str:
    """SQLAlchemy spells the driver into the scheme (postgresql+psycopg2://); libpq does not."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+")[0]))


def _load_batches(conn: Any, batch_ids: list[str]) -> list[Batch]:
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
        batches.append(Batch(batch_id, unit, province, period, start, end))
    return batches


def _fill_scope(conn: Any, batches: list[Batch]) -> None:
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


