"""docker-compose.yml, checked statically (no Docker engine here): it must run the same DAG."""

from __future__ import annotations

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
    assert "./submissions:/opt/chiso/submissions" in services["airflow-worker"]["volumes"]


def test_mounted_paths_exist_and_dag_is_there():
    services = compose()["services"]
    mounts = services["airflow-scheduler"]["volumes"] + services["postgres"]["volumes"]
    for mount in mounts:
        host = mount.split(":")[0]
        if host.startswith("./") and host != "./submissions":
            assert (REPO / host).exists(), f"{host} is mounted but missing"
    dags = services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__DAGS_FOLDER"]
    assert dags == "/opt/chiso/dags" and (REPO / "dags" / "chiso_monthly.py").exists()
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "apache/airflow:3.3.2" in dockerfile and "requirements.lock" in dockerfile
    lock = (REPO / "requirements.lock").read_text()
    assert "apache-airflow==3.3.2" in lock
