"""The monthly job, one function per DAG task. Each is idempotent for its period."""

from __future__ import annotations

import logging
from pathlib import Path

from chiso import gate, landing, publish, transform, warehouse
from chiso.periods import period_window

log = logging.getLogger(__name__)


def land_submissions(submissions: str, period: str, province: str | None, run_id: str,
                     cycle: str | None = None) -> list[str]:
    """Discover and land a period's submissions; return the batches to gate."""
    dsn = warehouse.url()
    warehouse.bootstrap(dsn)
    window = period_window(period, cycle)
    root = Path(submissions)
    found = landing.discover(root, window, province or None)
    log.info("period %s (%s..%s): %d submission folders under %s", period, window.start,
             window.end, len(found), root)
    with warehouse.cursor(dsn) as cur:
        cur.execute(
            """insert into audit.runs (run_id, period, province_code) values (%s, %s, %s)
               on conflict (run_id) do nothing""",
            (run_id, period, province),
        )
    landed = landing.land(found, root, run_id, dsn)
    new = [b for b in landed if b.new]
    log.info("landed %d new batches, %d already landed (skipped)", len(new), len(landed) - len(new))
    return _batches_to_gate(dsn, period, province)


def _batches_to_gate(dsn: str, period: str, province: str | None) -> list[str]:
    # Gate every current batch not yet judged, including ones a failed run left behind.
    with warehouse.cursor(dsn) as cur:
        cur.execute(
            """select batch_id from raw.batches
               where period = %s and status = 'landed' and (%s::text is null or province_code = %s)
               order by batch_id""",
            (period, province, province),
        )
        return [row[0] for row in cur.fetchall()]


def run_gate(batch_ids: list[str], run_id: str) -> dict[str, int]:
    verdicts = gate.run_gate(warehouse.url(), run_id, batch_ids)
    counts: dict[str, int] = {}
    for verdict in verdicts.values():
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
        if verdict.status == "quarantined":
            log.warning("quarantined %s: %s", verdict.batch_id, "; ".join(verdict.reasons[:3]))
    log.info("gate verdicts: %s", counts or "no new batches")
    return counts


def build_marts(period: str) -> None:
    transform.build(period)


def publish_reports(period: str, province: str | None, run_id: str) -> str:
    paths = publish.publish(period, province, run_id)
    with warehouse.cursor() as cur:
        cur.execute(
            "update audit.runs set finished_at = now(), status = 'success' where run_id = %s",
            (run_id,),
        )
    return str(paths)
