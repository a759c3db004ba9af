"""Shared fixtures: an embedded PostgreSQL for the whole session, one fresh database per use."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import psycopg2
import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# Tests land synthetic data: the public demo pseudonymisation key is enough (config.py).
os.environ.setdefault("CHISO_PSEUDONYM_DEMO", "1")
# Every build in the suite checks each quarter's and year's counts against its items
# recomputed one by one (the month-by-month rollup state must equal them).
os.environ.setdefault("CHISO_AUDIT_ROLLUPS", "1")

# `make test` is reproducible: the property-based tests draw the same examples in every run
# and on every machine, so a red CI names a change, not a lucky draw. HYPOTHESIS_PROFILE=explore
# draws new examples each run (and prints the seed of a failure) to look for what the fixed
# ones miss. A test's own @settings still sets its example count.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items) -> None:
    """The slow files first: `make test`'s workers take a file at a time, and a long
    end-to-end file started last keeps one worker busy while the other has nothing left."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory) -> Path:
    """Tests never touch the demo warehouse: their own state dir, their own server."""
    path = tmp_path_factory.mktemp("chiso-state")
    os.environ["CHISO_STATE_DIR"] = str(path)
    os.environ["CHISO_HOME"] = str(REPO)
    os.environ.pop("WAREHOUSE_URL", None)
    return path


@pytest.fixture(scope="session")
def server_dsn(state_dir) -> str:
    from chiso import warehouse

    yield warehouse.url()
    warehouse.stop_embedded()


@contextlib.contextmanager
def scratch_database(server_dsn: str):
    """A new, bootstrapped database on the session's embedded server, dropped on exit."""
    from chiso import warehouse

    name = f"t_{uuid.uuid4().hex[:10]}"
    admin = server_dsn.replace("/chiso?", "/postgres?")
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        warehouse.create_database(conn.cursor(), name)
    dsn = server_dsn.replace("/chiso?", f"/{name}?")
    warehouse.bootstrap(dsn)
    try:
        yield dsn
    finally:
        with contextlib.closing(psycopg2.connect(admin)) as conn:
            conn.autocommit = True
            conn.cursor().execute(f"drop database if exists {name} with (force)")


@pytest.fixture
def fresh_dsn(server_dsn) -> str:
    with scratch_database(server_dsn) as dsn:
        yield dsn


def rows(dsn: str, sql: str, params=()) -> list[tuple]:
    with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
