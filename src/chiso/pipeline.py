"""The monthly job, one function per DAG task. Each is idempotent for its period.

Tasks pass a small `Job` dict along (via XCom): what to run and, after landing, which
batches the gate must judge. Each task connects as its own role (chiso.warehouse.ROLES):
landing and the gate as the loader, dbt as the transformer, reports as the auditor; the
bootstrap account only checks that the warehouse's scripts are current.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg2.extras

from chiso import gate, inventory, landing, publication, publish, transform, warehouse
from chiso.periods import default_cycle, period_window, reporting_month

log = logging.getLogger(__name__)


@dataclass
class Job:
    submissions: str
    period: str
    province: str | None
    cycle: str
    publish: bool = False  # freeze the period's scores after the build (chiso.publication)
    batch_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: dict, logical_date: datetime | None = None) -> dict:
        """Run conf/params, with defaults for scheduled runs: the month before the run's
        logical date in Vietnam time (chiso.periods.reporting_month)."""
        period = params.get("period") or reporting_month(logical_date)
        job = cls(
            submissions=params.get("submissions") or os.environ.get("CHISO_SUBMISSIONS_DIR", "submissions"),
            period=period,
            province=params.get("province") or None,
            cycle=params.get("cycle") or default_cycle(),
            publish=bool(params.get("publish")),
        )
        return asdict(job)

    @staticmethod
    def with_batches(job: dict, batch_ids: list[str]) -> dict:
        return {**job, "batch_ids": batch_ids}


WAREHOUSE_CONN_ID = "chiso_warehouse"


def use_airflow_connection(conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """Inside a task: the warehouse is the Airflow connection `chiso_warehouse` when it is
    defined (UI, `airflow connections add`, AIRFLOW_CONN_CHISO_WAREHOUSE, a secrets
    backend), else WAREHOUSE_URL, else the embedded server. Returns where it came from."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return "WAREHOUSE_URL" if os.environ.get("WAREHOUSE_URL") else "embedded"
    os.environ["WAREHOUSE_URL"] = warehouse.dsn_from_connection(conn)
    return f"connection {conn_id}"


def land_submissions(job: dict, run_id: str) -> list[str]:
    """Survey and land a period's submissions; return the batches to gate."""
    warehouse.bootstrap(warehouse.url())
    dsn = warehouse.role_url("loader")
    window = period_window(job["period"], job["cycle"])
    province = inventory.check_province(job["province"])
    root = Path(job["submissions"])
    with warehouse.advisory_lock(f"chiso.land:{window.label}", dsn):
        with warehouse.cursor(dsn) as cur:
            # Runs of this period still 'running' cannot be: this run holds the period's lock.
            cur.execute(
                """update audit.runs set status = 'abandoned', finished_at = now(),
                          detail = jsonb_build_object('reason', 'did not finish (killed or failed); '
                                                      || 'found by run ' || %s)
                   where period = %s and status = 'running' and run_id <> %s""",
                (run_id, window.label, run_id),
            )
            cur.execute(
                """insert into audit.runs (run_id, period, province_code, submissions_root)
                   values (%s, %s, %s, %s)
                   on conflict (run_id) do update
                   set status = 'running', finished_at = null,
                       submissions_root = excluded.submissions_root""",
                (run_id, window.label, province, str(root.resolve())),
            )
            cur.execute("select province_code, array_agg(code) from ref.communes group by 1")
            units = {code: set(codes) for code, codes in cur.fetchall()}
        found = inventory.survey(root, window, province, units)
        log.info("period %s (%s..%s): %d submission folders under %s", window.label, window.start,
                 window.end, len(found.submissions), root)
        landed = landing.land(found.submissions, root, run_id, dsn)
        entries = found.entries + [e for batch in landed for e in batch.entries]
        _record_inventory(dsn, run_id, window.label, entries)
    new = [b for b in landed if b.new]
    log.info("landed %d new batches, %d already landed (skipped)", len(new), len(landed) - len(new))
    return _batches_to_gate(dsn, window.label, province)


def _record_inventory(dsn: str, run_id: str, period: str, entries: list[inventory.Entry]) -> None:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
        if entry.status in (inventory.REFUSED, inventory.NOT_A_SUBMISSION):
            log.warning("%s %s: %s", entry.status.replace("_", " "), entry.path, entry.reason)
    log.info("inventory: %s", ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing")
    with warehouse.cursor(dsn) as cur:
        cur.execute("delete from audit.inventory where run_id = %s", (run_id,))
        psycopg2.extras.execute_values(
            cur,
            """insert into audit.inventory (run_id, period, province_code, unit_code, path, status,
                   reason, batch_id) values %s on conflict (run_id, path) do nothing""",
            [(run_id, period, e.province_code, e.unit_code, e.path, e.status, e.reason, e.batch_id or None)
             for e in entries],
            page_size=5000,
        )


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
    verdicts = gate.run_gate(warehouse.role_url("loader"), run_id, job["batch_ids"])
    counts: dict[str, int] = {}
    for verdict in verdicts.values():
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
        if verdict.status == "quarantined":
            log.warning("quarantined %s: %s", verdict.batch_id, "; ".join(verdict.reasons[:3]))
    log.info("gate verdicts: %s", counts or "no new batches")
    return {**job, "batch_ids": [], "verdicts": counts}


def build_marts(job: dict) -> dict:
    dsn = warehouse.role_url("transformer")
    with warehouse.advisory_lock("chiso.dbt_build", dsn):  # dbt replaces shared tables
        transform.build(job["period"], dsn)
        # a published figure the build changed goes to the restatement ledger, with its cause
        restated = publication.record_restatements([job["period"], *publish.rollups_of(job["period"])], dsn)
        if job.get("publish"):
            job = {**job, "publication_id": publication.publish(job["period"], job["province"], dsn)}
    return {**job, "restated": restated}


def mark_failed(run_id: str, reason: str) -> None:
    """A task failed: the run says so (on_failure_callback of the DAG)."""
    with warehouse.cursor(warehouse.role_url("loader")) as cur:
        cur.execute(
            """update audit.runs set status = 'failed', finished_at = now(),
                      detail = coalesce(detail, '{}'::jsonb) || jsonb_build_object('reason', %s::text)
               where run_id = %s and status = 'running'""",
            (reason[:2000], run_id),
        )


def publish_reports(job: dict, run_id: str) -> str:
    paths = publish.publish(job["period"], job["province"], run_id, warehouse.role_url("reader"))
    with warehouse.cursor(warehouse.role_url("loader")) as cur:
        cur.execute(
            "update audit.runs set finished_at = now(), status = 'success' where run_id = %s",
            (run_id,),
        )
    return str(paths)
