"""The monthly job, one function per DAG task. Each is idempotent for its period.

Tasks pass a small `Job` dict along (via XCom): what to run and, after landing, which
batches the gate must judge.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from chiso import gate, landing, publish, transform, warehouse
from chiso.periods import default_cycle, period_window

log = logging.getLogger(__name__)


@dataclass
class Job:
    submissions: str
    period: str
    province: str | None
    cycle: str
    batch_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: dict, data_interval_start: datetime | None = None) -> dict:
        """Run conf/params, with defaults for scheduled runs (the data interval's month)."""
        period = params.get("period") or (data_interval_start or datetime.now()).strftime("%Y-%m")
        job = cls(
            submissions=params.get("submissions") or os.environ.get("CHISO_SUBMISSIONS_DIR", "submissions"),
            period=period,
            province=params.get("province") or None,
            cycle=params.get("cycle") or default_cycle(),
        )
        return asdict(job)

    @staticmethod
    def with_batches(job: dict, batch_ids: list[str]) -> dict:
        return {**job, "batch_ids": batch_ids}


def land_submissions(job: dict, run_id: str) -> list[str]:
    """Discover and land a period's submissions; return the batches to gate."""
    dsn = warehouse.url()
    warehouse.bootstrap(dsn)
    window = period_window(job["period"], job["cycle"])
    root = Path(job["submissions"])
    found = landing.discover(root, window, job["province"])
    log.info("period %s (%s..%s): %d submission folders under %s", window.label, window.start,
             window.end, len(found), root)
    with warehouse.cursor(dsn) as cur:
        cur.execute(
            """insert into audit.runs (run_id, period, province_code) values (%s, %s, %s)
               on conflict (run_id) do nothing""",
            (run_id, window.label, job["province"]),
        )
    landed = landing.land(found, root, run_id, dsn)
    new = [b for b in landed if b.new]
    log.info("landed %d new batches, %d already landed (skipped)", len(new), len(landed) - len(new))
    return _batches_to_gate(dsn, window.label, job["province"])


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


def run_gate(job: dict, run_id: str) -> dict:
    verdicts = gate.run_gate(warehouse.url(), run_id, job["batch_ids"])
    counts: dict[str, int] = {}
    for verdict in verdicts.values():
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
        if verdict.status == "quarantined":
            log.warning("quarantined %s: %s", verdict.batch_id, "; ".join(verdict.reasons[:3]))
    log.info("gate verdicts: %s", counts or "no new batches")
    return {**job, "batch_ids": [], "verdicts": counts}


def build_marts(job: dict) -> dict:
    transform.build(job["period"])
    return job


def publish_reports(job: dict, run_id: str) -> str:
    paths = publish.publish(job["period"], job["province"], run_id)
    with warehouse.cursor() as cur:
        cur.execute(
            "update audit.runs set finished_at = now(), status = 'success' where run_id = %s",
            (run_id,),
        )
    return str(paths)
