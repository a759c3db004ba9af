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
    if not (reachable(5432) and reachable(6379)):
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379")
    names = [f"chiso_celery_{kind}_{uuid.uuid4().hex[:6]}" for kind in ("airflow", "wh")]
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


def test_dag_runs_on_celery_workers(tmp_path, server_databases):
    from chiso import cli

    airflow_db, warehouse_db = server_databases
    submissions = tmp_path / "submissions"
    assert cli.main(["generate", "--out", str(submissions), "--province", "31",
                     "--periods", "2025-09", "--units", "3", "--seed", "5"]) == 0
    port = free_port()
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=airflow_db.replace("postgresql://", "postgresql+psycopg2://"),
        AIRFLOW__CELERY__BROKER_URL="redis://127.0.0.1:6379/7",
        AIRFLOW__CELERY__RESULT_BACKEND="db+" + airflow_db,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__API_AUTH__JWT_SECRET="chiso-celery-test",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        WAREHOUSE_URL=warehouse_db,
        # The run the scheduler creates on unpause scores its own month from here.
        CHISO_SUBMISSIONS_DIR=str(submissions),
        CHISO_HOME=str(REPO),
        CHISO_STATE_DIR=str(tmp_path / "state"),
    )

    def airflow(*args: str) -> str:
        return subprocess.run([AIRFLOW, *args], env=env, check=True, capture_output=True, text=True).stdout

    airflow("db", "migrate")
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [
        subprocess.Popen([AIRFLOW, *cmd.split()], env=env, stdout=(logs / f"{cmd.split()[0]}.log").open("w"),
                         stderr=subprocess.STDOUT)
        for cmd in ("api-server", "scheduler", "dag-processor", "celery worker --concurrency 2")
    ]
    try:
        deadline = time.monotonic() + 240
        while "chiso_monthly" not in airflow("dags", "list", "-o", "plain"):
            assert time.monotonic() < deadline, "DAG never parsed"
            time.sleep(3)
        airflow("dags", "unpause", "chiso_monthly")
        conf = {"submissions": str(submissions), "period": "2025-09", "province": "31",
                "cycle": "calendar"}
        airflow("dags", "trigger", "chiso_monthly", "--conf", json.dumps(conf))
        state = "queued"
        deadline = time.monotonic() + 420
        while state not in ("success", "failed"):
            assert time.monotonic() < deadline, f"DAG run still {state}"
            time.sleep(5)
            states = rows(airflow_db, "select state from dag_run where dag_id = 'chiso_monthly' "
                                      "and run_type = 'manual'")
            state = states[0][0] if states else "queued"
        worker_log = (logs / "celery.log").read_text()
        assert state == "success", worker_log[-3000:]
        assert "chiso_monthly" in worker_log  # the tasks really went through Celery
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(20)
    assert rows(warehouse_db, "select count(*) from marts.unit_ranking where period = '2025-09'") == [(3,)]
