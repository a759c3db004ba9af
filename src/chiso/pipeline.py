"""The monthly job, one function per DAG task. Each is idempotent for its period.

Tasks pass a small `Job` dict along (via XCom): what to run and, after landing, which
batches the gate must judge. Each task connects as its own role (chiso.warehouse.ROLES):
landing and the gate as the loader, dbt as the transformer, reports as the auditor; the
bootstrap account only checks that the warehouse's scripts are current.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg2.extras

from chiso import gate, inventory, landing, publication, publish, scoring, transform, warehouse
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
    """Survey and land a period's submissions in one go; return the batches to gate. (The
    DAG does the same per province, in parallel: start_run, then land_province each.)"""
    window = period_window(job["period"], job["cycle"])
    scoring.check_rules_in_force(window.label)
    warehouse.bootstrap(warehouse.url())
    dsn = warehouse.role_url("loader")
    province = inventory.check_province(job["province"])
    root = Path(job["submissions"])
    with advisory_locks(dsn, [PeriodLock(window.label)]):
        with warehouse.cursor(dsn) as cur:
            _open_run(cur, run_id, window.label, province, root)
            units = _units(cur)
        found = inventory.survey(root, window, province, units)
        log.info("period %s (%s..%s): %d submission folders under %s", window.label, window.start,
                 window.end, len(found.submissions), root)
        landed = landing.land(found.submissions, root, run_id, dsn)
        entries = found.entries + [e for batch in landed for e in batch.entries]
        _record_inventory(dsn, run_id, window.label, entries)
    new = [b for b in landed if b.new]
    log.info("landed %d new batches, %d already landed (skipped)", len(new), len(landed) - len(new))
    return _batches_to_gate(dsn, window.label, province)


@dataclass(frozen=True)
class PeriodLock:
    """Advisory locks of landing. A whole-period landing (land_submissions, start_run) holds
    `chiso.land:<period>` exclusively; a province's landing (land_province) holds it shared
    plus `chiso.land:<period>:<province>` exclusively: provinces land side by side, two runs
    never land the same province (or a run's start and another's landing) at once."""

    period: str
    province: str | None = None
    shared: bool = False

    def keys(self) -> list[tuple[str, bool]]:
        names = [(f"chiso.land:{self.period}", self.shared)]
        if self.province:
            names.append((f"chiso.land:{self.period}:{self.province}", False))
        return names


@contextlib.contextmanager
def advisory_locks(dsn: str, locks: list[PeriodLock]) -> Iterator[None]:
    """Hold session advisory locks for the block, in order (same key derivation as
    warehouse.advisory_lock); a killed process's session ends, and its locks with it."""
    with contextlib.closing(warehouse.connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            for lock in locks:
                for name, shared in lock.keys():
                    kind = "_shared" if shared else ""
                    cur.execute(f"select pg_try_advisory_lock{kind}(hashtext(%s))", (name,))
                    if not cur.fetchone()[0]:
                        log.info("waiting for %s (another run holds it)", name)
                        cur.execute(f"select pg_advisory_lock{kind}(hashtext(%s))", (name,))
        yield


def _open_run(cur, run_id: str, period: str, province: str | None, root: Path) -> None:
    # Runs of this period still 'running' cannot be: this run holds the period's lock.
    cur.execute(
        """update audit.runs set status = 'abandoned', finished_at = now(),
                  detail = jsonb_build_object('reason', 'did not finish (killed or failed); '
                                              || 'found by run ' || %s)
           where period = %s and status = 'running' and run_id <> %s""",
        (run_id, period, run_id),
    )
    cur.execute(
        """insert into audit.runs (run_id, period, province_code, submissions_root)
           values (%s, %s, %s, %s)
           on conflict (run_id) do update
           set status = 'running', finished_at = null,
               submissions_root = excluded.submissions_root""",
        (run_id, period, province, str(root.resolve())),
    )


def _units(cur) -> dict[str, set[str]]:
    cur.execute("select province_code, array_agg(code) from ref.communes group by 1")
    return {code: set(codes) for code, codes in cur.fetchall()}


def start_run(job: dict, run_id: str) -> list[str]:
    """The DAG's first task: record the run (audit.runs), account for the paths at the top of
    the submissions root that are not province folders (audit.inventory), create the period's
    partitions once, and return the provinces to land, one mapped task each: the `province`
    param alone, else every province folder (largest first) plus any province with batches
    of the period that a failed run left ungated."""
    window = period_window(job["period"], job["cycle"])
    scoring.check_rules_in_force(window.label)
    warehouse.bootstrap(warehouse.url())
    dsn = warehouse.role_url("loader")
    province = inventory.check_province(job["province"])
    root = Path(job["submissions"])
    if not root.is_dir():
        raise inventory.ScopeError(f"submissions folder {root} does not exist")
    with advisory_locks(dsn, [PeriodLock(window.label)]):
        with warehouse.cursor(dsn) as cur:
            _open_run(cur, run_id, window.label, province, root)
            units = _units(cur)
            # Before provinces land side by side: one creator per partition.
            cur.execute("select raw.ensure_period_partitions(%s)", (window.label,))
        if province:
            provinces, entries = [province], []
        else:
            provinces, entries = _top_level(root, window, units)
            _record_inventory(dsn, run_id, window.label, entries, scope=None)
            leftover = sorted(set(_provinces_to_gate(dsn, window.label)) - set(provinces))
            if leftover:
                log.info("provinces with ungated batches and no folder: %s", ", ".join(leftover))
            # Largest first (by unit folders): workers taking them in this order finish together.
            provinces = sorted(provinces + leftover, key=lambda code: (-_folders(root / code), code))
    log.info("run %s, period %s: %d province(s) to land: %s", run_id, window.label, len(provinces),
             " ".join(provinces) or "none")
    return provinces


def _folders(path: Path) -> int:
    if path.is_symlink() or not path.is_dir():
        return 0
    try:
        return sum(1 for unit in path.iterdir() if unit.is_dir())
    except OSError:
        return 0


def _top_level(root: Path, window, units: dict[str, set[str]]) -> tuple[list[str], list[inventory.Entry]]:
    """Province folders under the root, and an entry for everything else there (as
    inventory.survey records it when it walks the whole root)."""
    known = set(units)
    provinces: list[str] = []
    other = inventory.Survey([], [])
    walker = inventory._Walker(root, window, units, other)
    for child in sorted(root.iterdir()):
        if (child.is_dir() and not child.is_symlink() and inventory.PROVINCE_CODE.fullmatch(child.name)
                and (not known or child.name in known)):
            provinces.append(child.name)
        else:
            walker.top_level(child)  # not a province folder: noted, not walked
    return provinces, other.entries


def land_province(job: dict, run_id: str, province: str) -> list[str]:
    """One province of the run (a mapped DAG task): survey and land its submissions, record
    its paths in audit.inventory (replacing this run's rows of the province, so a retry
    counts once); return its batches to gate. Provinces land in parallel."""
    dsn = warehouse.role_url("loader")
    window = period_window(job["period"], job["cycle"])
    inventory.check_province(province)
    root = Path(job["submissions"])
    with advisory_locks(dsn, [PeriodLock(window.label, province, shared=True)]):
        with warehouse.cursor(dsn) as cur:
            units = _units(cur)
        folder = root / province
        if job["province"] is None and not (folder.is_dir() and not folder.is_symlink()):
            # no folder (start_run listed it for batches a failed run left): nothing to survey
            found = inventory.Survey([], [])
        else:
            found = inventory.survey(root, window, province, units)
        log.info("period %s, province %s: %d submission folders", window.label, province,
                 len(found.submissions))
        landed = landing.land(found.submissions, root, run_id, dsn)
        entries = found.entries + [e for batch in landed for e in batch.entries]
        _record_inventory(dsn, run_id, window.label, entries, scope=province)
    new = [b for b in landed if b.new]
    log.info("province %s: landed %d new batches, %d already landed (skipped)", province, len(new),
             len(landed) - len(new))
    return _batches_to_gate(dsn, window.label, province)


ALL = object()  # _record_inventory's scope: every row of the run


def _record_inventory(dsn: str, run_id: str, period: str, entries: list[inventory.Entry],
                      scope: object = ALL) -> None:
    """Replace the run's inventory rows in `scope`: ALL, a province code (its rows), or None
    (the paths at the top of the root, which belong to no province)."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
        if entry.status in (inventory.REFUSED, inventory.NOT_A_SUBMISSION):
            log.warning("%s %s: %s", entry.status.replace("_", " "), entry.path, entry.reason)
    log.info("inventory: %s", ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing")
    with warehouse.cursor(dsn) as cur:
        if scope is ALL:
            cur.execute("delete from audit.inventory where run_id = %s", (run_id,))
        else:
            cur.execute("delete from audit.inventory where run_id = %s "
                        "and province_code is not distinct from %s", (run_id, scope))
        psycopg2.extras.execute_values(
            cur,
            """insert into audit.inventory (run_id, period, province_code, unit_code, path, status,
                   reason, batch_id) values %s on conflict (run_id, path) do nothing""",
            [(run_id, period, e.province_code, e.unit_code, e.path, e.status, e.reason, e.batch_id or None)
             for e in entries],
            page_size=5000,
        )


def _provinces_to_gate(dsn: str, period: str) -> list[str]:
    with warehouse.cursor(dsn) as cur:
        cur.execute("select distinct province_code from raw.batches where period = %s and status = 'landed'",
                    (period,))
        return sorted(row[0] for row in cur.fetchall())


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
    counts = _count_verdicts(verdicts.values())
    log.info("gate verdicts: %s", counts or "no new batches")
    return {**job, "batch_ids": [], "verdicts": counts}


def _count_verdicts(verdicts) -> dict[str, int]:
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict.status] = counts.get(verdict.status, 0) + 1
        if verdict.status == "quarantined":
            log.warning("quarantined %s: %s", verdict.batch_id, "; ".join(verdict.reasons[:3]))
    return counts


def _gated(job: dict, verdicts: dict) -> dict:
    """A landed province's gate result: its verdicts counted by status (the gate judges each
    batch on its own, so a province's share of a larger gate run is the verdicts of its batches)."""
    counts = _count_verdicts(verdicts[b] for b in dict.fromkeys(job["batch_ids"]) if b in verdicts)
    log.info("province %s: gate verdicts: %s", job["province_code"], counts or "no new batches")
    return {**job, "batch_ids": [], "verdicts": counts}


def _mapped_results(results: list | dict | None) -> list[dict]:
    """The results of a mapped task, without the missing ones (a failed instance gives none).
    Airflow hands one mapped result over as itself, not as a list."""
    if isinstance(results, dict):
        results = [results]
    return [result for result in results or [] if isinstance(result, dict)]


def gate_landed(landed: list[dict] | dict | None, run_id: str) -> list[dict]:
    """The DAG's one gate after the mapped landings: the batches of every province that landed
    (each job carries province_code and batch_ids) in one gate run, since gate runs serialise
    on the warehouse anyway (gate.runner.LOCK_KEY) and each run pays for starting GX. Returns
    one result per landed province, as close_landing expects; a province whose landing
    failed has none. If that one run raises, each province is gated on its own, so a failure
    stays in its province: a province whose own gate raises gets no result (close_landing
    reports it failed); only when none of them could be gated does this raise."""
    jobs = _mapped_results(landed)
    if not jobs:
        log.info("no province landed: nothing to gate")
        return []
    dsn = warehouse.role_url("loader")
    try:
        verdicts = gate.run_gate(dsn, run_id, [b for job in jobs for b in job["batch_ids"]])
    except Exception:
        if len(jobs) == 1:
            raise
        log.exception("the gate of %d provinces' batches failed: gating each province on its own",
                      len(jobs))
    else:
        return [_gated(job, verdicts) for job in jobs]
    results, failed = [], []
    for job in jobs:
        try:
            results.append(_gated(job, gate.run_gate(dsn, run_id, job["batch_ids"])))
        except Exception:
            log.exception("province %s: the gate of its %d batches failed: no verdicts, the province "
                          "is reported failed", job["province_code"], len(job["batch_ids"]))
            failed.append(job["province_code"])
    if not results:
        raise RuntimeError(f"the gate failed for every province ({', '.join(failed)})")
    return results


def close_landing(job: dict, run_id: str, provinces: list[str], gated: list[dict] | dict | None) -> dict:
    """After the mapped landing of each province and the gate (whatever became of them): the
    job for the one build, with the verdicts summed. A province whose landing or gate failed (no
    result) is not dropped silently: audit.runs records it, the build goes on with the
    others, and the run ends failed (check_run)."""
    done = {result["province_code"]: result.get("verdicts") or {} for result in _mapped_results(gated)}
    failed = [p for p in provinces if p not in done]
    totals: dict[str, int] = {}
    for counts in done.values():
        for status, n in counts.items():
            totals[status] = totals.get(status, 0) + n
    if failed:
        log.error("province(s) %s did not land or pass the gate: the build goes on without their "
                  "new batches, and the run will end failed", ", ".join(failed))
    log.info("%d province(s) landed and gated; verdicts: %s", len(done), totals or "no new batches")
    with warehouse.cursor(warehouse.role_url("loader")) as cur:
        cur.execute(
            """update audit.runs
                  set detail = coalesce(detail, '{}'::jsonb)
                               || jsonb_build_object('provinces', %s::jsonb, 'failed_provinces', %s::jsonb)
                where run_id = %s""",
            (json.dumps(done), json.dumps(failed), run_id),
        )
    return {**job, "batch_ids": [], "verdicts": totals, "failed_provinces": failed}


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
    failed = job.get("failed_provinces") or []
    with warehouse.cursor(warehouse.role_url("loader")) as cur:
        if failed:  # reports of the others are out; the run itself did not cover its scope
            cur.execute(
                """update audit.runs set finished_at = now(), status = 'failed',
                          detail = coalesce(detail, '{}'::jsonb) || jsonb_build_object('reason', %s::text)
                   where run_id = %s""",
                (f"province(s) {', '.join(failed)} did not land or pass the gate", run_id),
            )
        else:
            cur.execute(
                "update audit.runs set finished_at = now(), status = 'success' where run_id = %s",
                (run_id,),
            )
    return str(paths)


class RunIncomplete(RuntimeError):
    """The run's record (audit.runs) does not say success."""


def check_run(run_id: str) -> str:
    """The DAG's last task: the run succeeded only if audit.runs says so (a province that
    failed while the others went on, a failed build, publish …)."""
    with warehouse.cursor(warehouse.role_url("loader")) as cur:
        cur.execute("select status, detail->>'reason' from audit.runs where run_id = %s", (run_id,))
        found = cur.fetchone()
    if not found:
        raise RunIncomplete(f"run {run_id} is not in audit.runs (it never started)")
    status, reason = found
    if status != "success":
        raise RunIncomplete(f"run {run_id} {status}: {reason or 'no reason recorded'}")
    return status
