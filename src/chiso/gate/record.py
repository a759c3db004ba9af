"""Recording a gate run: results, violations and batch statuses in one transaction, so a
re-run replaces the previous results atomically."""

from __future__ import annotations

import io
from typing import Any

import psycopg2.extras

from chiso.gate.verdicts import Batch, Verdict


def record(conn: Any, run_id: str, batches: list[Batch], verdicts: dict[str, Verdict],
           results: io.StringIO, violations: list[tuple[Any, ...]]) -> None:
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
    with conn.cursor() as cur:
        cur.execute("select raw.analyze_batches()")  # sql/010_raw.sql says why


