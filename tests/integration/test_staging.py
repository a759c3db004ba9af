"""CSV landing in PostgreSQL (chiso.staging) lands exactly what the Python path lands.

The fast path COPYs a CSV body as delivered and maps, trims, pseudonymises and numbers its
rows in SQL; the Python path (chiso.readers into Arrow, chiso.landing.copy_table) is the
reference. Generated files of every shape both paths meet are landed both ways and the
raw rows, counts, notes and errors compared.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from pathlib import Path

import psycopg2
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chiso import config, landing, readers, staging, warehouse
from chiso.sources import HO_SO, THANH_TOAN
from tests.conftest import rows

PERIOD = "2025-09"
# Cells offices really send into enum and boolean columns, and text with every CSV hazard.
ENUM_WORDS = ["online", "Trực tuyến", "TRỰC TIẾP", " Bưu chính ", "Có", "không", "KHÔNG", "co",
              "true", "False", "1", "completed", "Đã trả kết quả", "đang  xử lý", "Hoàn thành",
              "x", "", " ", "\u00a0Có\u2003", "Ｃó", "İ", "ǅ", "n/a", "Tiền mặt", "chuyển khoản"]
SAFE = st.sampled_from(["D1", "1.001234", "2025-09-02 08:00:00", "", " ", " padded ", "a,b", 'say "hi"',
                        "semi;colon", "tab\there", "\u3000wide\u3000", "Đăng ký khai sinh", "012345678901",
                        "'", '"'])
# Cells only the Python path reads right (a quoted line break, PostgreSQL's end-of-data line).
HAZARDS = st.sampled_from(["line\nbreak", "cr\rhere", "crlf\r\nhere", "\\."])
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
TEXT = {False: SAFE | ANY_TEXT.filter(lambda t: not any(c in t for c in "\r\n\\")),
        True: SAFE | HAZARDS | ANY_TEXT}  # by whether the file may hold hazards


@pytest.fixture(scope="module")
def warehouse_dsn(server_dsn):
    name = "t_staging"
    admin = server_dsn.replace("/chiso?", "/postgres?")
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        conn.cursor().execute(f"drop database if exists {name} with (force)")
        warehouse.create_database(conn.cursor(), name)
    dsn = server_dsn.replace("/chiso?", f"/{name}?")
    warehouse.bootstrap(dsn)
    with warehouse.cursor(dsn) as cur:
        cur.execute("select raw.ensure_period_partitions(%s)", (PERIOD,))
    yield dsn
    with contextlib.closing(psycopg2.connect(admin)) as conn:
        conn.autocommit = True
        conn.cursor().execute(f"drop database if exists {name} with (force)")


@pytest.fixture(scope="module")
def session(warehouse_dsn):
    conn = warehouse.connect(warehouse_dsn)
    stager = staging.Stager.open(conn, config.pseudonym_key())
    assert stager is not None
    yield conn, stager
    conn.close()


def land_both(conn, stager, path: Path, source: str) -> tuple[tuple, tuple, bool]:
    """Each path's outcome (counts, note, error, raw rows) and whether the fast one held."""
    outcomes = []
    fast = []
    original = stager.land

    def land(*args, **kwargs):
        result = original(*args, **kwargs)
        fast.append(True)
        return result

    for batch, which in (("fast", stager), ("python", None)):
        with conn.cursor() as cur:
            if which is not None:
                which.land = land
            try:
                outcome = landing._land_file(cur, batch, path, f"31/u/{PERIOD}/{path.name}", "0" * 64,
                                             source, _Submission(), which)
            finally:
                if which is not None:
                    del which.land
            cur.execute(f"select * from raw.{source} where batch_id = %s order by source_row", (batch,))
            landed = [r[:1] + r[2:] for r in cur.fetchall()]  # all but batch_id
        outcomes.append((outcome, landed))
    conn.rollback()
    return outcomes[0], outcomes[1], bool(fast)


class _Submission:
    class period:  # noqa: N801 — what _land_file reads of a Submission
        label = PERIOD


def csv_bytes(header: list[str], body: list[list[str]], delimiter: str, quote_all: bool,
              newline: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


@st.composite
def csv_files(draw):
    source = draw(st.sampled_from([HO_SO, THANH_TOAN]))
    columns = draw(st.lists(st.sampled_from(source.columns), min_size=2, max_size=len(source.columns),
                            unique=True))
    header = [draw(st.sampled_from([c.name, c.vietnamese, c.name.upper()])) for c in columns]
    if draw(st.booleans()):
        header.insert(draw(st.integers(0, len(header))), "Ghi chú")
    kinds = ["text" if h == "Ghi chú" else
             next(c.kind for c in columns if h in (c.name, c.vietnamese, c.name.upper())) for h in header]
    text = TEXT[draw(st.booleans())]
    cell = {kind: (st.sampled_from(ENUM_WORDS) | text if kind in ("enum", "boolean") else text)
            for kind in set(kinds)}
    body = draw(st.lists(st.tuples(*[cell[k] for k in kinds]).map(list), max_size=12))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = csv_bytes(header, body, delimiter, draw(st.booleans()), newline)
    titles = draw(st.lists(st.sampled_from(["BÁO CÁO HỒ SƠ", "Đơn vị: UBND xã", ""]), max_size=2))
    text = "".join(t + newline for t in titles) + text
    lines = text.split(newline)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):  # blank lines anywhere
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "   "])))
    text = newline.join(lines)
    data = text.encode()
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    corruption = draw(st.sampled_from(["none"] * 9 + ["extra_field", "bad_utf8", "nul", "short_row"]))
    if corruption != "none" and body:
        at = data.rfind(newline.encode()) if data.endswith(newline.encode()) else len(data)
        extra = {"extra_field": (delimiter + "x").encode(), "bad_utf8": b"\xff", "nul": b"\x00",
                 "short_row": (newline + "only").encode()}[corruption]
        data = data[:at] + extra + data[at:]
    return source.name, data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(csv_files())
def test_fast_path_lands_what_the_python_path_lands(session, tmp_path_factory, example):
    conn, stager = session
    source, data = example
    path = tmp_path_factory.mktemp("csv") / f"{source}.csv"
    path.write_bytes(data)
    fast, python, took_fast = land_both(conn, stager, path, source)
    event("fast path" if took_fast else "python path")
    assert fast == python


def test_the_fast_path_takes_regular_files_and_leaves_irregular_ones(session, tmp_path):
    conn, stager = session
    header = "dossier_id;channel;status;applicant_ref;Ghi chú\r\n"
    regular = [
        "D1;Trực tuyến;Hoàn thành;012345678901;x\r\nD2;;in_progress;; \r\n",
        'D1;"Trực; tuyến";"say ""hi""";"012";\r\nD2;direct;x;;\r\n',
        "D1; Có ;Có;\u00a0012\u00a0;x\r\n",  # cells to trim
    ]
    irregular = [
        "D1;online;completed;1;x\r\n\r\nD2;direct;x;2;y\r\n",  # a blank line
        'D1;"on\r\nline";completed;1;x\r\n',  # a quoted line break
        'D1;on"line;completed;1;x\r\n',  # a quote inside an unquoted field
        "D1;online;completed;1;x;extra\r\n",  # one field too many: refused as before
        "D1;online;compl\xffeted;1;x\r\n",  # not UTF-8: refused as before
    ]
    for index, body in enumerate(regular + irregular):
        path = tmp_path / f"{index}" / "ho_so.csv"
        path.parent.mkdir()
        path.write_bytes(("Danh sách hồ sơ\r\n" + header + body).encode("utf-8", "surrogateescape")
                         .replace("\xff".encode(), b"\xff"))
        fast, python, took_fast = land_both(conn, stager, path, "ho_so")
        assert fast == python
        assert took_fast == (index < len(regular)), body
    # what the irregular ones gave: the Python path's own errors
    errors = [land_both(conn, stager, tmp_path / f"{len(regular) + i}" / "ho_so.csv", "ho_so")[0][0][3]
              for i in (3, 4)]
    assert errors[0].endswith("row 3: expected 5 fields as in the header, found 6")
    assert "row 3: not valid UTF-8" in errors[1]


def test_rows_number_records_after_title_rows_across_files_of_one_batch(session, tmp_path):
    conn, stager = session
    first, second = tmp_path / "a" / "ho_so.csv", tmp_path / "b" / "thanh_toan.csv"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_text("Báo cáo\n\nmã hồ sơ,Hình thức nộp\nD1,Trực tuyến\nD2,Bưu chính\n", encoding="utf-8")
    second.write_text("payment_id,dossier_id,amount\nP1,D1,5\n", encoding="utf-8")
    with conn.cursor() as cur:
        for path, source in ((first, "ho_so"), (second, "thanh_toan")):
            landing._land_file(cur, "b", path, path.name, "0" * 64, source, _Submission(), stager)
        cur.execute("select source_row, dossier_id, channel from raw.ho_so where batch_id = 'b' order by 1")
        assert cur.fetchall() == [(4, "D1", "online"), (5, "D2", "postal")]
        cur.execute("select source_row, payment_id from raw.thanh_toan where batch_id = 'b'")
        assert cur.fetchall() == [(2, "P1")]
    conn.rollback()


def test_a_file_of_too_many_new_spellings_is_mapped_in_python(session, tmp_path, monkeypatch):
    conn, stager = session
    monkeypatch.setattr(staging, "MAX_NEW_SPELLINGS", 2)
    path = tmp_path / "ho_so.csv"
    path.write_text("dossier_id,channel\n" + "".join(f"D{i},Kênh {i}\n" for i in range(5)), encoding="utf-8")
    fast, python, took_fast = land_both(conn, stager, path, "ho_so")
    assert fast == python and not took_fast


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                               min_size=1), min_size=1, max_size=20),
       key=st.binary(min_size=1, max_size=130))
def test_sql_hmac_is_the_python_pseudonym(session, values, key):
    conn, _ = session
    ipad, opad = staging.hmac_pads(key)
    with conn.cursor() as cur:
        cur.execute(f"with k as (select %s::bytea as ipad, %s::bytea as opad) "
                    f"select {staging.pseudonym_sql('v.value', keys='k')} "
                    "from unnest(%s::text[]) with ordinality v(value, i) order by v.i",
                    (ipad, opad, values))
        assert [r[0] for r in cur.fetchall()] == landing.pseudonymise(values, key)
    conn.rollback()


def test_the_loader_lands_through_staging(tmp_path, fresh_dsn, monkeypatch):
    """The loader role (not the bootstrap account) may create its staging tables."""
    taken = []
    original = staging.Stager.land

    def land(self, *args, **kwargs):
        taken.append(args[1].records)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(staging.Stager, "land", land)
    from tests.integration.test_landing import make_submission

    make_submission(tmp_path)
    from chiso.periods import period_window

    loader = warehouse.role_url("loader", fresh_dsn)
    found = landing.discover(tmp_path, period_window("2025-09", "calendar"), "31")
    [batch] = landing.land(found, tmp_path, "r1", loader, workers=1)
    assert batch.rows == {"ho_so": 2, "danh_muc_tthc": 1} and sorted(taken) == [1, 2]
    assert rows(fresh_dsn, "select count(*) from raw.ho_so where applicant_ref ~ '^[0-9a-f]{24}$'") == [(2,)]


def test_trimming_is_skipped_only_when_no_field_edge_is_whitespace():
    def needs(text: str, delimiter: str = ",") -> bool:
        data = text.encode()
        import numpy as np

        return readers._edges_need_trim(np.frombuffer(data, np.uint8), 0, len(data), delimiter)

    assert not needs('a,b\r\nc,"d;e",\r\n,ạ,Đ')
    for text in (" a,b", "a ,b", "a,b\r\nc, d", 'a,"b "', 'a," b"', "a,b\u00a0", "\u3000a", "a,\u2028",
                 "a,\t", "a\x1c"):
        assert needs(text), text
    assert needs("a\tb ", "\t") and not needs("a\tb", "\t")
    inside_lines = readers.trimmed_whitespace().replace("\r", "").replace("\n", "")
    for char, other in itertools.product(inside_lines, ("x", "ĩ")):
        assert needs(f"{other},{char}{other}") and needs(f"{other}{char},{other}"), repr(char)
