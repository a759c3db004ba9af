"""Scale-out mode: the chiso_monthly DAG on CeleryExecutor with the local Redis and a server
PostgreSQL (what docker-compose.yml runs in containers), plus WAREHOUSE_URL server mode."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import REPO, rows

pytestmark = [pytest.mark.slow, pytest.mark.server]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def reachable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def server_databases():
    """Airflow's metadata, the warehouse the Celery run writes, and a reference warehouse."""
    if not (reachable(5432) and reachable(6379)):
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379")
    names = [f"chiso_celery_{kind}_{uuid.uuid4().hex[:6]}" for kind in ("airflow", "wh", "ref")]
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        for name in names:
            conn.cursor().execute(f"create database {name}")
    yield [f"postgresql://postgres@127.0.0.1:5432/{n}" for n in names]
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        for name in names:
            conn.cursor().execute(f"drop database if exists {name} with (force)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PROVINCES = ("01", "31", "79")
PERIOD = "2025-09"
MARTS = ("criterion_scores", "group_scores", "unit_ranking")
INVENTORY = """select period, province_code, unit_code, path, status, reason, batch_id
               from audit.inventory"""

# The same month in one process, without Airflow: one landing of the whole root, one gate,
# one build (what the DAG did before it was mapped per province).
REFERENCE = """
import sys
from chiso import pipeline
from chiso.extract import store
job = pipeline.Job.from_params({"submissions": sys.argv[1], "period": sys.argv[2], "cycle": "calendar"})
batches = pipeline.land_submissions(job, "reference")
pipeline.run_gate({**job, "batch_ids": batches}, "reference")
store.reextract_warehouse()
pipeline.build_marts(job)
"""


def task_errors(folder: Path) -> str:
    """The exceptions the tasks raised, from their Airflow logs (JSON lines)."""
    errors = []
    for path in sorted(folder.rglob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                for detail in event.get("error_detail") or []:
                    errors.append(f"{event.get('task_id')}[{event.get('map_index')}]: "
                                  f"{detail.get('exc_type')}: {detail.get('exc_value')}")
    return "\n".join(dict.fromkeys(errors))


def sorted_rows(dsn: str, sql: str) -> list[tuple]:
    return sorted(rows(dsn, sql), key=repr)


def test_dag_on_two_celery_workers_gives_the_marts_of_one_process(tmp_path, server_databases):
    """Landing is mapped per province: two Celery workers (one slot each) land provinces
    side by side, one gate and one dbt build follow; the marts equal a single-process run."""
    from chiso import cli

    airflow_db, warehouse_db, reference_db = server_databases
    submissions = tmp_path / "submissions"
    for code in PROVINCES:
        assert cli.main(["generate", "--out", str(submissions), "--province", code,
                         "--periods", PERIOD, "--units", "2", "--seed", "5"]) == 0
    port = free_port()
    queue = f"chiso_test_{uuid.uuid4().hex[:8]}"  # other Celery tests on this Redis keep to theirs
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=airflow_db.replace("postgresql://", "postgresql+psycopg2://"),
        AIRFLOW__CELERY__BROKER_URL="redis://127.0.0.1:6379/7",
        AIRFLOW__CELERY__RESULT_BACKEND="db+" + airflow_db,
        AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER="1",
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=queue,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__API_AUTH__JWT_SECRET="chiso-celery-test",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        # only the triggered run: no scheduled run of the current month on unpause
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        WAREHOUSE_URL=warehouse_db,
        CHISO_SUBMISSIONS_DIR=str(submissions),
        CHISO_HOME=str(REPO),
        CHISO_STATE_DIR=str(tmp_path / "state"),
        CHISO_PSEUDONYM_DEMO="1",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    # The reference month, in its own warehouse, while Airflow starts.
    reference = subprocess.Popen(
        [sys.executable, "-c", REFERENCE, str(submissions), PERIOD],
        env={**env, "WAREHOUSE_URL": reference_db, "CHISO_STATE_DIR": str(tmp_path / "state-ref")},
        stdout=(logs / "reference.log").open("w"), stderr=subprocess.STDOUT)

    def airflow(*args: str) -> str:
        return subprocess.run([AIRFLOW, *args], env=env, check=True, capture_output=True, text=True).stdout

    airflow("db", "migrate")
    commands = {"api-server": ["api-server"], "scheduler": ["scheduler"], "dag-processor": ["dag-processor"]}
    for worker in ("worker1", "worker2"):  # two workers, one slot each, as on two machines
        commands[worker] = ["celery", "worker", "--concurrency", "1", "--queues", queue,
                            "--celery-hostname", f"{worker}@{queue}",
                            "--pid", str(tmp_path / f"{worker}.pid"), "--skip-serve-logs"]
    processes = [subprocess.Popen([AIRFLOW, *cmd], env=env, stdout=(logs / f"{name}.log").open("w"),
                                  stderr=subprocess.STDOUT)
                 for name, cmd in commands.items()]
    try:
        deadline = time.monotonic() + 240
        while "chiso_monthly" not in airflow("dags", "list", "-o", "plain"):
            assert time.monotonic() < deadline, "DAG never parsed"
            time.sleep(3)
        airflow("dags", "unpause", "chiso_monthly")
        conf = {"submissions": str(submissions), "period": PERIOD, "cycle": "calendar"}
        airflow("dags", "trigger", "chiso_monthly", "--conf", json.dumps(conf))
        state = "queued"
        deadline = time.monotonic() + 420
        while state not in ("success", "failed"):
            assert time.monotonic() < deadline, f"DAG run still {state}"
            time.sleep(3)
            states = rows(airflow_db, "select state from dag_run where dag_id = 'chiso_monthly' "
                                      "and run_type = 'manual'")
            state = states[0][0] if states else "queued"
        worker_logs = {w: (logs / f"{w}.log").read_text() for w in ("worker1", "worker2")}
        assert state == "success", task_errors(tmp_path / "airflow" / "logs") or "\n".join(
            log[-3000:] for log in worker_logs.values())
        for name, text in worker_logs.items():  # the tasks really went through both workers
            assert "chiso_monthly" in text, f"{name} ran no task"
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(20)
    # one mapped instance of land per province, one gate for them all, all successful
    assert sorted_rows(airflow_db, """select task_id, map_index, state from task_instance
                                      where dag_id = 'chiso_monthly' and task_id in ('land', 'gate')""") == [
        ("gate", -1, "success"), *(("land", i, "success") for i in range(len(PROVINCES)))]
    assert reference.wait(300) == 0, (logs / "reference.log").read_text()[-3000:]

    assert rows(warehouse_db, f"select count(*) from marts.unit_ranking where period = '{PERIOD}'") == [
        (2 * len(PROVINCES),)]
    for mart in MARTS:
        sql = f"select * from marts.{mart}"
        assert sorted_rows(warehouse_db, sql) == sorted_rows(reference_db, sql), mart
    # landing per province accounted for every path once, as one landing of the root does
    assert sorted_rows(warehouse_db, INVENTORY) == sorted_rows(reference_db, INVENTORY)
    [(status, failed)] = rows(warehouse_db, "select status, detail->'failed_provinces' from audit.runs")
    assert (status, failed) == ("success", [])
