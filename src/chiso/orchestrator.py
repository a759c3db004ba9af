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


# What the stock `airflow` CLI needs to find and run the project's DAG with
# AIRFLOW_HOME=.chiso/airflow (written into its airflow.cfg; the rest stays Airflow's).
def airflow_settings(home: Path) -> dict[tuple[str, str], str]:
    return {
        ("core", "dags_folder"): str(config.dags_dir()),
        ("core", "load_examples"): "False",
        ("core", "executor"): "LocalExecutor",
        ("database", "sql_alchemy_conn"): f"sqlite:///{home / 'airflow.db'}",
        ("logging", "base_log_folder"): str(home / "logs"),
    }


def write_airflow_cfg(home: Path) -> Path:
    """Create or update `<state>/airflow/airflow.cfg` so that, with AIRFLOW_HOME pointing
    there, `airflow tasks list chiso_monthly` and the rest of the stock CLI work on this
    project. Keys already set to something else by hand are corrected only where the
    project depends on them (the settings above)."""
    import configparser

    home.mkdir(parents=True, exist_ok=True)
    path = home / "airflow.cfg"
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    if path.exists():
        parser.read(path, encoding="utf-8")
    changed = not path.exists()
    for (section, key), value in airflow_settings(home).items():
        if not parser.has_section(section):
            parser.add_section(section)
        if parser.get(section, key, fallback=None) != value:
            parser.set(section, key, value)
            changed = True
    if changed:
        with path.open("w", encoding="utf-8") as handle:
            handle.write("# Written by chiso (orchestrator.write_airflow_cfg): export "
                         f"AIRFLOW_HOME={home} to use the stock airflow CLI on this project.\n")
            parser.write(handle)
    return path


def airflow_env(dsn: str) -> dict[str, str]:
    home = config.state_dir() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    write_airflow_cfg(home)
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(config.dags_dir()),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL=os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
        # The warehouse as an Airflow connection (the tasks look it up first) and, for
        # anything outside Airflow, as WAREHOUSE_URL.
        AIRFLOW_CONN_CHISO_WAREHOUSE=warehouse.connection_from_dsn(dsn),
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


# `airflow dags test DAG -c CONF`, then the run's note names its period: `dags test` names
# runs after the moment they start (manual__<now>), and a task cannot write its run's note.
DAGS_TEST_WITH_NOTE = """
import json, sys
from airflow.__main__ import main
dag_id, conf, note = sys.argv[1:4]
sys.argv = ["airflow", "dags", "test", dag_id, "-c", conf]
code = 0
try:
    main()
except SystemExit as stop:
    code = stop.code if isinstance(stop.code, int) else int(bool(stop.code))
    if stop.code and not isinstance(stop.code, int):
        print(stop.code, file=sys.stderr)
from sqlalchemy import select
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
with create_session() as session:
    for run in session.scalars(select(DagRun).where(DagRun.dag_id == dag_id)
                               .order_by(DagRun.id.desc()).limit(20)):
        if run.conf == json.loads(conf):
            run.note = note
            print(f"run {run.run_id}: {note}")
            break
sys.exit(code)
"""


def prepare_airflow_home(dsn: str) -> Path:
    """airflow.cfg and a migrated metadata database under the state dir: the stock CLI works."""
    env = airflow_env(dsn)
    ensure_airflow_db(env)
    return Path(env["AIRFLOW_HOME"])


def run_period(submissions: Path, period: str, province: str | None, cycle: str,
               publish: bool = False) -> RunResult:
    dsn = warehouse.url()
    warehouse.bootstrap(dsn)
    env = airflow_env(dsn)
    ensure_airflow_db(env)
    conf = {
        "submissions": str(submissions.resolve()),
        "period": period,
        "province": province or None,
        "cycle": cycle,
        "publish": publish,
    }
    note = f"period {period}, province {province or 'all'}, {cycle} cycle (chiso run)"
    # One log per run: concurrent or repeated runs of a period never share a file.
    stamp = time.strftime("%Y%m%dT%H%M%S")
    log_file = config.logs_dir() / f"run-{period}-{province or 'all'}-{stamp}-{os.getpid()}.log"
    started = time.monotonic()
    with log_file.open("w", encoding="utf-8") as handle:
        proc = subprocess.run(
            [sys.executable, "-c", DAGS_TEST_WITH_NOTE, DAG_ID, json.dumps(conf), note],
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
