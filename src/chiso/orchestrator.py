"""Run the chiso_monthly DAG for real with `airflow dags test` (no scheduler needed)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from chiso import config, warehouse

log = logging.getLogger(__name__)

DAG_ID = "chiso_monthly"


class RunFailed(RuntimeError):
    pass


@dataclass
class RunResult:
    period: str
    seconds: float
    log_file: Path


def airflow_env(dsn: str) -> dict[str, str]:
    home = config.state_dir() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(config.dags_dir()),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL=os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        WAREHOUSE_URL=dsn,
        CHISO_HOME=str(config.project_dir()),
        CHISO_STATE_DIR=str(config.state_dir()),
    )
    return env


def _airflow() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else (shutil.which("airflow") or "airflow")


def ensure_airflow_db(env: dict[str, str]) -> None:
    marker = Path(env["AIRFLOW_HOME"]) / ".migrated"
    if marker.exists():
        return
    log.info("initialising the Airflow metadata database in %s", env["AIRFLOW_HOME"])
    proc = subprocess.run([_airflow(), "db", "migrate"], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RunFailed(f"airflow db migrate failed:\n{proc.stderr[-2000:]}")
    marker.touch()


def run_period(submissions: Path, period: str, province: str | None, cycle: str) -> RunResult:
    dsn = warehouse.url()
    warehouse.bootstrap(dsn)
    env = airflow_env(dsn)
    ensure_airflow_db(env)
    conf = {
        "submissions": str(submissions.resolve()),
        "period": period,
        "province": province or "",
        "cycle": cycle,
    }
    # One log per run: concurrent or repeated runs of a period never share a file.
    stamp = time.strftime("%Y%m%dT%H%M%S")
    log_file = config.logs_dir() / f"run-{period}-{province or 'all'}-{stamp}-{os.getpid()}.log"
    started = time.monotonic()
    with log_file.open("w", encoding="utf-8") as handle:
        proc = subprocess.run(
            [_airflow(), "dags", "test", DAG_ID, "-c", json.dumps(conf)],
            env=env, stdout=handle, stderr=subprocess.STDOUT, text=True,
        )
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise RunFailed(f"period {period}: {failure_reason(log_file)} (full log: {log_file})")
    return RunResult(period, seconds, log_file)


def failure_reason(log_file: Path) -> str:
    """The last exception message a task raised, from the Airflow log."""
    text = log_file.read_text(encoding="utf-8", errors="replace")
    messages = re.findall(r"^(?:[\w.]+\.)?(\w*(?:Error|Exception|Failed)): (.+)$", text, re.MULTILINE)
    if messages:
        kind, message = messages[-1]
        return f"{kind}: {message}"
    return "the DAG run failed"
