"""Land a CSV file's records without Python touching them: COPY the body as delivered into
a staging table, then one `insert … select` into raw (issue 15).

Python reads the head of the file (chiso.readers.plan_csv: encoding, delimiter, header row)
and decides which delivered column is which contract column; PostgreSQL does the rest in
one statement: trimming, empty as missing, Vietnamese enum words onto contract values,
pseudonymising applicant references (HMAC-SHA256, as chiso.landing.pseudonymise) and
provenance. The rows in raw are those chiso.readers.read_table and chiso.landing.copy_table
would have written; whenever PostgreSQL refuses the body, the caller reads the file that
way instead (Fallback), so its reading or its error are exactly as before.

Each landing connection has its own staging table: a temporary table (private to the
session, so parallel workers never collide, and never written to the WAL), emptied at
every commit. Its identity column numbers the records in file order, which gives each
one its line (a body planned here has one record a line).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging

import psycopg2

from chiso.readers import CsvBody, contract_values, trimmed_whitespace
from chiso.sources import SOURCES, VIETNAMESE_VALUES, Source

log = logging.getLogger(__name__)

STAGE = "pg_temp.chiso_landing_stage"  # temporary tables: created bare, named under pg_temp
KEY_TABLE = "pg_temp.chiso_landing_key"
STAGE_WIDTH = 32  # wider files (real ones have about 20 columns) take the Python path; every
# column of the stage costs COPY a little, used or not
UNMAPPED = "CH001"  # SQLSTATE of raw.landing_unmapped (sql/010_raw.sql)
MAX_NEW_SPELLINGS = 1000  # more unknown enum spellings in one file: the Python path maps them
KNOWN_SPELLINGS_LIMIT = 5000  # spellings remembered per connection (each statement carries them)
COPY_BLOCK = 1 << 20
HMAC_BLOCK = 64  # SHA-256's block size
# The three delimiters chiso.readers detects, as SQL literals (never from a file's bytes).
DELIMITERS = {",": "','", ";": "';'", "\t": "E'\\t'"}


class Fallback(Exception):
    """PostgreSQL did not take the body as planned: read the file with chiso.readers."""


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer HMAC-SHA256 keys (RFC 2104): HMAC(k, m) = sha256(opad ||
    sha256(ipad || m)), which PostgreSQL's built-in sha256() computes without pgcrypto."""
    if len(key) > HMAC_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(HMAC_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def pseudonym_sql(value: str, keys: str = KEY_TABLE) -> str:
    """SQL giving chiso.landing.pseudonymise's pseudonym of a text expression (null stays
    null), under the keys in the one row of `keys` (read once per statement)."""
    return (f"left(encode(sha256((select opad from {keys}) || sha256((select ipad from {keys}) "
            f"|| convert_to({value}, 'UTF8'))), 'hex'), 24)")


def _seed_spellings() -> dict[str, str | None]:
    """Spellings landing meets most, with their contract values, so that most files never
    need a look at their distinct values."""
    words: set[str] = {"", "true", "false", "1", "0", *VIETNAMESE_VALUES, *VIETNAMESE_VALUES.values()}
    for source in SOURCES.values():
        words.update(v for c in source.columns for v in c.enum)
    variants = sorted({w2 for w in words for w2 in (w, w.upper(), w.capitalize(), w.title())})
    return dict(zip(variants, contract_values(variants), strict=True))


class Stager:
    """One landing connection's staging table and pseudonymisation keys."""

    def __init__(self, sequence: str) -> None:
        self.sequence = sequence  # the stage's identity, numbering records in file order
        self.spellings = _seed_spellings()  # spelling as delivered → contract value (or None)
        self._spellings_json = json.dumps(self.spellings)
        self.whitespace = trimmed_whitespace()

    @classmethod
    def open(cls, conn, key: bytes) -> Stager | None:
        """Staging for this connection, or None (landing then reads every file in Python)
        when the server cannot do it: a database that is not UTF-8 (COPY would not check
        the bytes), or a role without the TEMP privilege."""
        try:
            with conn.cursor() as cur:
                cur.execute("select current_setting('server_encoding')")
                if cur.fetchone()[0] != "UTF8" or conn.encoding != "UTF8":
                    conn.rollback()
                    log.info("landing reads files in Python: the database is not UTF-8")
                    return None
                columns = ", ".join(f"c{i} text" for i in range(STAGE_WIDTH))
                cur.execute(f"create temporary table {STAGE.removeprefix('pg_temp.')} "
                            f"(n bigint generated always as identity, {columns}) on commit delete rows")
                # The keys travel as COPY data, never in a statement's text: psycopg2 binds
                # parameters on the client, into the SQL it sends, so a key passed as a
                # parameter would be in the server log of any statement logged (log_statement,
                # or log_min_error_statement when a statement fails). COPY data is not logged.
                # The table lives as long as this session and only this session reads it.
                cur.execute(f"create temporary table {KEY_TABLE.removeprefix('pg_temp.')} "
                            "(ipad bytea not null, opad bytea not null)")
                ipad, opad = hmac_pads(key)
                cur.copy_expert(f"copy {KEY_TABLE} (ipad, opad) from stdin with (format csv)",
                                io.BytesIO(f"\\x{ipad.hex()},\\x{opad.hex()}\n".encode()))
                cur.execute("select pg_get_serial_sequence(%s, 'n')", (STAGE,))
                sequence = cur.fetchone()[0]
            conn.commit()
        except psycopg2.Error as err:
            conn.rollback()
            log.warning("landing reads files in Python: no staging table (%s)", str(err).strip())
            return None
        return cls(sequence)

    def land(self, cur, body: CsvBody, source: Source, columns: dict[int, str], provenance: dict,
             savepoint: str) -> tuple[int, int]:
        """Rows delivered and rows landed in raw.<source>. `columns` maps delivered column
        positions onto contract columns; `provenance` holds period, batch_id, source_file.
        On Fallback the work is rolled back to `savepoint` (set by the caller for this file)."""
        if not body.records:
            return 0, 0
        if body.width > STAGE_WIDTH:
            raise Fallback(f"{body.width} columns")
        enums = [i for i, c in columns.items() if source.column(c).kind in ("enum", "boolean")]
        insert = self._insert_sql(source, columns, body)
        copied = self._copy(cur, body, savepoint)
        try:
            cur.execute(insert, self._params(body, copied, provenance, self._spellings_json))
        except psycopg2.Error as err:
            cur.execute(f"rollback to savepoint {savepoint}")
            if err.pgcode != UNMAPPED:
                raise Fallback(str(err).strip()) from None
            # A spelling not met before: Python maps this file's new spellings, then the
            # statement runs again.
            copied = self._copy(cur, body, savepoint)
            spellings = json.dumps({**self.spellings, **self._new_spellings(cur, enums, copied, savepoint)})
            try:
                cur.execute(insert, self._params(body, copied, provenance, spellings))
            except psycopg2.Error as again:
                cur.execute(f"rollback to savepoint {savepoint}")
                raise Fallback(str(again).strip()) from None
        return copied, cur.rowcount

    def _copy(self, cur, body: CsvBody, savepoint: str) -> int:
        columns = ", ".join(f"c{i}" for i in range(body.width))
        sql = (f"copy {STAGE} ({columns}) from stdin "
               f"with (format csv, delimiter {DELIMITERS[body.delimiter]})")
        try:
            cur.copy_expert(sql, io.BytesIO(memoryview(body.data)[body.start:body.end]), COPY_BLOCK)
        except psycopg2.Error as err:  # not UTF-8, a NUL, a row of another width…
            cur.execute(f"rollback to savepoint {savepoint}")
            raise Fallback(str(err).strip()) from None
        if cur.rowcount != body.records:  # cannot happen for a planned body; never guess lines
            cur.execute(f"rollback to savepoint {savepoint}")
            raise Fallback(f"{cur.rowcount} records copied, {body.records} planned")
        return cur.rowcount

    # The rows of the file just copied: the stage keeps earlier files of the batch until
    # the commit, and the identity goes on counting across them (the rows before this
    # file's are numbered up to OFFSET). Constants come in a subquery the planner folds in;
    # the sequence, like the keys, is read once per statement.
    _FROM = (f"from {STAGE} s cross join "
             "(select %(whitespace)s::text as ws, %(spellings)s::jsonb as spellings) p")
    _OFFSET = "((select last_value from {sequence}) - %(copied)s)"

    def _insert_sql(self, source: Source, columns: dict[int, str], body: CsvBody) -> str:
        # Table and column names come from the contract (chiso.sources), never from a file.
        names = ["period", "batch_id", "source_file", "source_row"]
        offset = self._OFFSET.format(sequence=self.sequence)
        values = ["%(period)s", "%(batch_id)s", "%(source_file)s",
                  f"(%(first_line)s + s.n - {offset} - 1)::int"]
        for index, column in columns.items():
            cell = f"s.c{index}"
            kind = source.column(column).kind
            if kind in ("enum", "boolean"):
                # Known spellings map in SQL; an unknown one stops the statement (land()).
                value = (f"coalesce(p.spellings ->> {cell}, case when {cell} is not null "
                         f"then raw.landing_unmapped({cell}, p.ws) end)")
            else:
                # An empty text is missing: a COPY of an empty unquoted field gives null, and
                # only a quoted one ("") or trimming gives an empty text.
                value = (f"nullif(btrim({cell}, p.ws), '')" if body.needs_trim
                         else f"nullif({cell}, '')" if body.empty_texts else cell)
                if column == "applicant_ref":
                    value = pseudonym_sql(value)
            names.append(column)
            values.append(value)
        return (f"insert into raw.{source.name} ({', '.join(names)}) select {', '.join(values)} "
                f"{self._FROM} where s.n > {offset}")

    def _params(self, body: CsvBody, copied: int, provenance: dict, spellings: str) -> dict:
        return {**provenance, "first_line": body.first_line, "copied": copied,
                "whitespace": self.whitespace, "spellings": spellings}

    def _new_spellings(self, cur, enums: list[int], copied: int, savepoint: str) -> dict[str, str | None]:
        cells = ", ".join(f"(s.c{i})" for i in enums)
        cur.execute(
            f"select distinct x.v {self._FROM} cross join lateral (values {cells}) x(v) "
            f"where s.n > {self._OFFSET.format(sequence=self.sequence)} "
            "and x.v is not null and not (p.spellings ? x.v) limit %(limit)s",
            {"whitespace": self.whitespace, "spellings": self._spellings_json,
             "copied": copied, "limit": MAX_NEW_SPELLINGS + 1})
        spellings = [v for (v,) in cur.fetchall()]
        if len(spellings) > MAX_NEW_SPELLINGS:
            cur.execute(f"rollback to savepoint {savepoint}")
            raise Fallback(f"over {MAX_NEW_SPELLINGS} distinct unknown enum values")
        new = dict(zip(spellings, contract_values(spellings), strict=True))
        if len(self.spellings) + len(new) <= KNOWN_SPELLINGS_LIMIT:
            self.spellings.update(new)
            self._spellings_json = json.dumps(self.spellings)
        return new
