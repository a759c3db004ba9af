"""Least privilege (DESIGN §6): each job's role can do its job and nothing more; `chiso sql`
refuses writes; bi_reader reads marts over TCP with a password."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from chiso import warehouse
from tests.conftest import rows


def can(dsn: str, sql: str) -> bool:
    try:
        with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
            cur.execute(sql)
            conn.rollback()  # a probe: nothing it did stays
        return True
    except psycopg2.errors.InsufficientPrivilege:
        return False


def test_each_role_can_do_its_job_and_no_more(fresh_dsn):
    # GIVEN a bootstrapped warehouse and a mart built by dbt's role
    transformer = warehouse.role_url("transformer", fresh_dsn)
    with contextlib.closing(psycopg2.connect(transformer)) as conn, conn, conn.cursor() as cur:
        cur.execute("create table marts.probe as select 1 as n")
    loader, reader, bi = (warehouse.role_url(r, fresh_dsn) for r in ("loader", "reader", "bi"))
    batch = ("insert into raw.batches (batch_id, province_code, unit_code, period, period_start, "
             "period_end, submission_dir, files) values ('b', '31', '11224', '2025-09', "
             "'2025-09-01', '2025-09-30', 'x', 0)")
    # THEN the loader writes raw and audit, makes partitions, but never touches the marts
    assert can(loader, batch) and can(loader, "delete from audit.inventory")
    assert can(loader, "select raw.ensure_period_partitions('2031-01')")
    assert not can(loader, "select * from marts.probe")
    assert not can(loader, "create table marts.x (n int)")
    assert not can(loader, "update audit.bootstrap set digest = ''")
    # the transformer reads raw and builds in its schemas, but never writes raw
    assert can(transformer, "select * from raw.ho_so") and can(transformer, "create table staging.x (n int)")
    assert not can(transformer, batch)
    # the auditor reads everything that explains a score, and writes nothing
    assert can(reader, "select * from marts.probe") and can(reader, "select * from audit.inventory")
    assert can(reader, "select * from raw.batches")
    assert not can(reader, batch) and not can(reader, "delete from audit.inventory")
    assert not can(reader, "select raw.ensure_period_partitions('2031-02')")
    # bi_reader sees the marts dbt builds (default privileges), nothing else
    assert can(bi, "select * from marts.probe")
    assert not can(bi, "select * from raw.batches") and not can(bi, "select * from audit.runs")
    assert not can(bi, "create table marts.y (n int)")


def test_roles_connect_as_themselves(fresh_dsn):
    for role, name in (("loader", "chiso_loader"), ("transformer", "chiso_transformer"),
                       ("reader", "chiso_auditor"), ("bi", "bi_reader")):
        assert rows(warehouse.role_url(role, fresh_dsn), "select current_user") == [(name,)]
        assert rows(warehouse.role_url(role, fresh_dsn), "select rolsuper from pg_roles "
                                                          "where rolname = current_user") == [(False,)]


def test_chiso_sql_refuses_a_write_and_admin_allows_it(fresh_dsn, monkeypatch, capsys):
    from chiso import cli

    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    assert cli.main(["sql", "select count(*) as n from ref.provinces"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "34"]
    # GIVEN the README's example of a destructive query: refused, nothing deleted
    assert cli.main(["sql", "delete from ref.provinces returning *"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert cli.main(["sql", "select 1) to stdout; set transaction read write; "
                            "delete from ref.provinces returning * --"]) == 1
    assert rows(fresh_dsn, "select count(*) from ref.provinces") == [(34,)]
    # the explicit flag is the bootstrap account
    assert cli.main(["sql", "--admin", "select current_user = 'chiso_auditor' as reader"]) == 0
    assert capsys.readouterr().out.splitlines() == ["reader", "f"]


def test_tasks_use_their_roles(fresh_dsn, monkeypatch, tmp_path):
    """Landing and the gate run as the loader end to end (partitions, statistics, verdicts)."""
    from chiso import pipeline

    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    from tests.integration.test_landing import make_submission

    make_submission(tmp_path)
    seen: list[str] = []
    real_connect = warehouse.connect

    def spy(dsn=None):
        seen.append(warehouse.role_of(dsn or warehouse.url()))
        return real_connect(dsn)

    monkeypatch.setattr(warehouse, "connect", spy)
    job = pipeline.Job.from_params({"submissions": str(tmp_path), "period": "2025-09",
                                    "province": "31", "cycle": "calendar"})
    batches = pipeline.land_submissions(job, "run-roles")
    assert len(batches) == 1 and set(seen) <= {"chiso_loader", "postgres"}
    assert seen.count("postgres") == 1  # the bootstrap check, nothing else
    verdicts = pipeline.run_gate({**job, "batch_ids": batches}, "run-roles")
    assert sum(verdicts["verdicts"].values()) == 1
    assert rows(fresh_dsn, "select count(*) from raw.ho_so") == [(2,)]
    assert rows(fresh_dsn, "select pseudonym_key from raw.batches") != [(None,)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_bi_reader_logs_in_over_tcp_with_its_password(tmp_path):
    """`chiso db serve` on a throwaway embedded server: bi_reader with the password from the
    environment reads marts on 127.0.0.1; a wrong password and other schemas are refused."""
    port = _free_port()
    env = {**os.environ, "CHISO_STATE_DIR": str(tmp_path / "state"),
           "CHISO_BI_READER_PASSWORD": "bi-secret-for-test"}
    env.pop("WAREHOUSE_URL", None)
    chiso = [sys.executable, "-m", "chiso.cli"]
    try:
        proc = subprocess.run([*chiso, "db", "serve", "--port", str(port)], env=env,
                              capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"postgresql://bi_reader@127.0.0.1:{port}/chiso"
        dsn = f"host=127.0.0.1 port={port} dbname=chiso user=bi_reader"
        with contextlib.closing(psycopg2.connect(dsn + " password=bi-secret-for-test")) as conn:
            cur = conn.cursor()
            cur.execute("select current_user, inet_server_addr()::text")
            assert cur.fetchone() == ("bi_reader", "127.0.0.1/32")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("select * from raw.batches")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(dsn + " password=wrong")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(f"host=127.0.0.1 port={port} dbname=chiso user=postgres password=x")
        # the socket still serves the jobs, on the new port
        proc = subprocess.run([*chiso, "sql", "select current_user"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == ["current_user", "chiso_auditor"]
    finally:
        subprocess.run([*chiso, "db", "stop"], env=env, capture_output=True, timeout=120)
    assert not (Path(env["CHISO_STATE_DIR"]) / "pgdata" / "postmaster.pid").exists()
