"""docker-compose.yml, checked statically (no Docker engine here): it must run the same DAG."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_and_images():
    services = compose()["services"]
    assert {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-worker"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    airflow = [s for name, s in services.items() if name.startswith("airflow-")]
    assert all(s["image"] == "chiso-airflow:0.1.0" and s["build"] == "." for s in airflow)


def test_celery_executor_env_agrees_with_services():
    services = compose()["services"]
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379")
    assert "@postgres:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@postgres:5432/chiso" in env["WAREHOUSE_URL"]
    assert services["airflow-worker"]["command"] == "celery worker"
    # Scheduled runs read the mounted submissions folder.
    assert env["CHISO_SUBMISSIONS_DIR"] == "/opt/chiso/submissions"
    assert "./submissions:/opt/chiso/submissions:ro" in services["airflow-worker"]["volumes"]


def test_mounted_paths_exist_and_dag_is_there():
    services = compose()["services"]
    mounts = services["airflow-scheduler"]["volumes"] + services["postgres"]["volumes"]
    for mount in mounts:
        host = mount.split(":")[0]
        if host.startswith("./") and host not in ("./submissions", "./reports"):
            assert (REPO / host).exists(), f"{host} is mounted but missing"
    dags = services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__DAGS_FOLDER"]
    assert dags == "/opt/chiso/dags" and (REPO / "dags" / "chiso_monthly.py").exists()
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "apache/airflow:3.3.2" in dockerfile and "requirements.lock" in dockerfile
    lock = (REPO / "requirements.lock").read_text()
    assert "apache-airflow==3.3.2" in lock


def test_no_secret_in_the_file_every_one_from_the_env_file():
    """Secrets come from .env (git-ignored); .env.example names each one the file needs."""
    text = (REPO / "docker-compose.yml").read_text()
    for default in ("airflow:airflow", "chiso:chiso", "POSTGRES_PASSWORD: airflow"):
        assert default not in text
    required = set(re.findall(r"\$\{(\w+):\?", text))
    used = set(re.findall(r"\$\{(\w+)", text))
    example = dict(line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert {"POSTGRES_PASSWORD", "CHISO_DB_PASSWORD", "CHISO_PSEUDONYM_KEY",
            "CHISO_BI_READER_PASSWORD"} <= required
    assert used <= set(example), f"not in .env.example: {used - set(example)}"
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    # the init script reads every password it sets from the environment
    init = (REPO / "docker" / "init-warehouse.sh").read_text()
    for role in ("airflow", "chiso", "chiso_loader", "chiso_transformer", "chiso_auditor", "bi_reader"):
        assert f"alter role {role} login nosuperuser nocreatedb nocreaterole password :'" in init


def test_postgres_and_the_ui_listen_on_localhost_only():
    services = compose()["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"


def test_roles_are_created_by_the_server_init_not_by_the_bootstrap_account():
    services = compose()["services"]
    init_mounts = services["postgres"]["volumes"]
    assert "./docker/init-warehouse.sh:/docker-entrypoint-initdb.d/10-warehouse.sh:ro" in init_mounts
    env = services["airflow-init"]["environment"]
    assert env["WAREHOUSE_URL"].startswith("postgresql://chiso:${CHISO_DB_PASSWORD")
    assert env["AIRFLOW_CONN_CHISO_WAREHOUSE"] == env["WAREHOUSE_URL"].replace(
        "${CHISO_DB_PASSWORD}", "${CHISO_DB_PASSWORD:?set CHISO_DB_PASSWORD in .env (see .env.example)}")
    assert "chiso db init" in " ".join(services["airflow-init"]["command"])
    for variable in ("CHISO_LOADER_PASSWORD", "CHISO_TRANSFORMER_PASSWORD", "CHISO_AUDITOR_PASSWORD",
                     "CHISO_PSEUDONYM_KEY"):
        assert variable in services["airflow-worker"]["environment"]


def test_reports_and_state_on_volumes():
    services = compose()["services"]
    volumes = services["airflow-worker"]["volumes"]
    env = services["airflow-worker"]["environment"]
    assert f"./reports:{env['CHISO_REPORTS_DIR']}" in volumes
    assert f"chiso-state:{env['CHISO_STATE_DIR']}" in volumes
    assert "./expectations:/opt/chiso/expectations" in volumes  # Data Docs: expectations/uncommitted
    assert "chiso-state" in compose()["volumes"]


def test_build_context_leaves_out_state_submissions_and_secrets():
    """COPY . must never bake the virtualenv, the embedded warehouse, raw citizen data or .env."""
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    for entry in (".venv", ".chiso", "submissions", "reports", ".env", ".git",
                  "expectations/uncommitted"):
        assert entry in ignored, entry
    assert "!.env.example" in ignored
