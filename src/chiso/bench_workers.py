"""How much a second worker speeds up the DAG's mapped landing and its one gate, on this machine.

The DAG lands each province as its own mapped task (`land`), then one task (`gate`) gates
the batches of every province that landed; a CeleryExecutor with N workers of one slot each
lands N provinces at a time. This measures that part the way the workers run it, without the
scheduler's polling: `pipeline.start_run`, then N worker processes taking provinces in the
DAG's order from one queue (as Celery workers with prefetch 1 take them from Redis), each
landing serially (a Celery pool process cannot start landing processes), then, once every
province has landed, one fresh process running the gate over them all
(`pipeline.gate_landed`, GX's start-up included, as in the DAG's task). Each worker count
gets a fresh warehouse database on the same server, dropped afterwards.

    from chiso.bench_workers import measure_worker_speedup
    result = measure_worker_speedup(Path("/tmp/subs"), "2025-09")        # workers (1, 2)
    result["speedup"]["2"]  # wall time with 1 worker / with 2

`landing_seconds` and `gate_seconds` split each wall time (the latter from the last landing
to the gate's end, its process's start-up included; `runs[n]["gate"]["seconds"]` is the gate
call alone). The gate does not depend on the worker count: its work is SQL run by
PostgreSQL. Gate runs on one warehouse serialise (an advisory lock: they share
audit.gate_scope); with one gate per run, nothing should wait for it:
`gate_lock_wait_seconds` is the time, polled every 0.2 s in pg_locks, during which a session
waited for that lock (expected 0). `gate_wait_seconds` is how much longer the gate took than
with the first worker count.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue as queue_module
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2

from chiso import pipeline, warehouse

log = logging.getLogger(__name__)

SOURCES = ("ho_so", "thanh_toan", "pakn", "danh_muc_tthc")


def measure_worker_speedup(data_root: Path, period: str, workers: tuple[int, ...] = (1, 2), *,
                           cycle: str = "calendar", server_dsn: str | None = None,
                           province: str | None = None) -> dict:
    """Land and gate `period` of `data_root` once per worker count, each in a fresh database
    on the server of `server_dsn` (default: the warehouse's, WAREHOUSE_URL or the embedded
    server); return the wall times, per-province times and the speed-up over the first count.
    The role passwords come from the server's bootstrap (a superuser or the warehouse owner
    must be able to create databases there)."""
    data_root = Path(data_root).resolve()
    server_dsn = server_dsn or warehouse.url()
    runs: dict[str, dict] = {}
    for count in workers:
        runs[str(count)] = _measure(data_root, period, cycle, province, count, server_dsn)
        log.info("%d worker(s): landing + gate in %.1f s", count, runs[str(count)]["seconds"])
    base = runs[str(workers[0])]
    return {
        "period": period,
        "submissions": str(data_root),
        "provinces": base["provinces"],
        "units": base["units"],
        "rows": base["rows"],
        "cpus": os.cpu_count(),
        "runs": runs,
        "speedup": {n: round(base["seconds"] / run["seconds"], 2) for n, run in runs.items()},
        "landing_seconds": {n: run["landing_seconds"] for n, run in runs.items()},
        "gate_seconds": {n: run["gate_seconds"] for n, run in runs.items()},
        "gate_lock_wait_seconds": {n: run["gate_lock_wait_seconds"] for n, run in runs.items()},
        "gate_wait_seconds": {n: round(run["gate_seconds"] - base["gate_seconds"], 1)
                              for n, run in runs.items()},
    }


def _database_dsn(dsn: str, name: str) -> str:
    parsed = urlparse(dsn)
    return urlunparse(parsed._replace(path=f"/{name}"))


@contextlib.contextmanager
def _scratch_database(server_dsn: str):
    name = f"chiso_bench_workers_{uuid.uuid4().hex[:8]}"
    admin = _database_dsn(server_dsn, "postgres")
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        warehouse.create_database(conn.cursor(), name)
    try:
        yield _database_dsn(server_dsn, name)
    finally:
        with contextlib.closing(psycopg2.connect(admin)) as conn:
            conn.autocommit = True
            conn.cursor().execute(f"drop database if exists {name} with (force)")


def _measure(root: Path, period: str, cycle: str, province: str | None, count: int,
             server_dsn: str) -> dict:
    job = pipeline.Job.from_params({"submissions": str(root), "period": period, "cycle": cycle,
                                    "province": province})
    run_id = f"bench-workers-{count}"
    saved = os.environ.get("WAREHOUSE_URL")
    with _scratch_database(server_dsn) as dsn:
        os.environ["WAREHOUSE_URL"] = dsn
        try:
            warehouse.bootstrap(dsn)  # not timed: a warehouse exists before any run
            started, wall = time.perf_counter(), time.time()
            provinces = pipeline.start_run(job, run_id)
            context = multiprocessing.get_context("spawn")
            todo, done = context.Queue(), context.Queue()
            for code in provinces:
                todo.put(code)
            for _ in range(count):
                todo.put(None)
            procs = [context.Process(target=_worker, args=(dsn, job, run_id, todo, done), daemon=False)
                     for _ in range(count)]
            for proc in procs:
                proc.start()
            stop = threading.Event()
            waits: list[float] = []
            watcher = threading.Thread(target=_watch_gate_lock, args=(dsn, stop, waits), daemon=True)
            watcher.start()
            per_province: dict[str, dict] = {}
            landed: dict[str, dict] = {}
            while len(per_province) < len(provinces):
                result = _next(done, procs)
                if "error" in result:
                    raise RuntimeError(f"province {result['province']}: {result['error']}")
                code = result.pop("province")
                landed[code] = result.pop("job")
                per_province[code] = {**result, "start": round(result["start"] - wall, 1),
                                      "end": round(result["end"] - wall, 1)}
            for proc in procs:
                proc.join()
            landing_seconds = time.perf_counter() - started
            # Once every province has landed (the DAG's gate waits for all): one gate, one process.
            gater = context.Process(target=_gate, args=(dsn, [landed[c] for c in provinces], run_id, done),
                                    daemon=False)
            gater.start()
            result = _next(done, [gater])
            gater.join()
            seconds = time.perf_counter() - started
            stop.set()
            watcher.join()
            if "error" in result:
                raise RuntimeError(f"gate: {result['error']}")
            for gated in result["gated"]:
                per_province[gated["province_code"]]["verdicts"] = gated["verdicts"]
            gate_run = {"seconds": round(result["end"] - result["start"], 2), "batches": result["batches"],
                        "start": round(result["start"] - wall, 1), "end": round(result["end"] - wall, 1)}
            with warehouse.cursor(dsn) as cur:
                counts = {}
                for source in SOURCES:
                    cur.execute(f"select count(*) from raw.{source} where period = %s", (period,))
                    counts[source] = cur.fetchone()[0]
                cur.execute("select count(distinct unit_code) from raw.batches where period = %s", (period,))
                units = cur.fetchone()[0]
        finally:
            if saved is None:
                os.environ.pop("WAREHOUSE_URL", None)
            else:
                os.environ["WAREHOUSE_URL"] = saved
    return {"workers": count, "seconds": round(seconds, 1), "landing_seconds": round(landing_seconds, 1),
            "gate_seconds": round(seconds - landing_seconds, 1), "provinces": provinces, "units": units,
            "rows": counts, "gate_lock_wait_seconds": round(sum(waits), 1), "per_province": per_province,
            "gate": gate_run}


def _next(done, procs) -> dict:
    """The next result a bench process reports; fails if they all died without one."""
    while True:
        try:
            return done.get(timeout=5)
        except queue_module.Empty:
            if not any(proc.is_alive() for proc in procs):
                raise RuntimeError("a bench process died; see the log above") from None


def _watch_gate_lock(dsn: str, stop: threading.Event, waits: list[float], every: float = 0.2) -> None:
    """Seconds during which a session of this database waited for the gate's lock."""
    from chiso.gate import runner

    key = getattr(runner, "LOCK_KEY", None)
    if key is None:
        return
    with contextlib.closing(psycopg2.connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            while not stop.wait(every):
                cur.execute("""select count(*) from pg_locks
                               where locktype = 'advisory' and not granted and objsubid = 1
                                 and (classid::bigint << 32 | objid::bigint) = %s
                                 and database = (select oid from pg_database
                                                 where datname = current_database())""", (key,))
                if cur.fetchone()[0]:
                    waits.append(every)


def _worker(dsn: str, job: dict, run_id: str, todo, done) -> None:
    """One worker slot: provinces from the queue until the sentinel, as the mapped `land`
    runs them."""
    logging.basicConfig(level=logging.WARNING)
    os.environ["WAREHOUSE_URL"] = dsn
    os.environ["CHISO_LANDING_WORKERS"] = "1"  # a Celery pool process lands serially
    while (code := todo.get()) is not None:
        try:
            t0 = time.time()
            batches = pipeline.land_province(job, run_id, code)
            t1 = time.time()
        except Exception as err:  # reported to the parent, which stops the measurement
            done.put({"province": code, "error": f"{type(err).__name__}: {err}"})
            continue
        done.put({"province": code, "worker": os.getpid(), "land_s": round(t1 - t0, 2),
                  "batches": len(batches), "job": {**pipeline.Job.with_batches(job, batches),
                                                   "province_code": code},
                  "start": t0, "end": t1})  # seconds since the epoch: the parent makes them relative


def _gate(dsn: str, landed: list[dict], run_id: str, done) -> None:
    """The DAG's one `gate` task, in a fresh process (GX imported and opened there)."""
    logging.basicConfig(level=logging.WARNING)
    os.environ["WAREHOUSE_URL"] = dsn
    try:
        t0 = time.time()
        gated = pipeline.gate_landed(landed, run_id)
        t1 = time.time()
    except Exception as err:  # reported to the parent, which stops the measurement
        done.put({"error": f"{type(err).__name__}: {err}"})
        return
    done.put({"gated": gated, "batches": sum(len(job["batch_ids"]) for job in landed),
              "start": t0, "end": t1})
