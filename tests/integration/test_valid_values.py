"""One definition of a valid value: the gate's row checks and dbt's casts agree on every value.

The same sample values go through the gate's type rule (as compiled from the suites) and
through dbt's casting macros (rendered from dbt_project/macros/casting.sql); a value the
gate lets through must type to a non-NULL value, and a value it flags must type to NULL.
Expected readings are written out by hand for the spellings offices use.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiso.gate.suites import _kind_of, _typed, read_as
from tests.conftest import rows

REPO = Path(__file__).resolve().parents[2]
MACROS = (REPO / "dbt_project/macros/casting.sql").read_text(encoding="utf-8")
DBT_MACRO = {"timestamp": "to_timestamp", "integer": "to_integer", "amount": "to_amount",
             "numeric": "to_numeric", "boolean": "to_bool"}

T = dt.datetime
EXPECTED = {
    "timestamp": {
        "2025-09-03 08:15:00": T(2025, 9, 3, 8, 15), "2025-09-03": T(2025, 9, 3),
        "2025-09-03T08:15": T(2025, 9, 3, 8, 15), "2025/09/03 08:15:30": T(2025, 9, 3, 8, 15, 30),
        "03/09/2025": T(2025, 9, 3), "3/9/2025 8:05": T(2025, 9, 3, 8, 5),
        "13-09-2025": T(2025, 9, 13), "05.09.2025 16:30:00": T(2025, 9, 5, 16, 30),
        " 2025-09-03 08:15:00 ": T(2025, 9, 3, 8, 15), "2024-02-29 01:00:00": T(2024, 2, 29, 1),
        "2025-09-03 08:15:00.5": T(2025, 9, 3, 8, 15, 0, 500000),
        "31/09/2025": None, "2025-09-31 08:15:00": None, "2025-02-29": None, "29/02/2025": None,
        "2025-09-03 24:00:00": None, "2025-09-03 23:60:00": None, "2025-09-03 23:59:60": None,
        "3025-09-03 08:15:00": None, "0925-09-03": None, "2025-13-03": None, "2025-00-03": None,
        "2025-09-00": None, "09/13/2025": None, "45903": None, "abc": None, "2025-09-03 +07": None,
        "2025-09-03 08:15:0a": None, "2025-9-3": T(2025, 9, 3),
        # a 12-hour clock as Excel on a Vietnamese Windows shows it (SA sáng, CH chiều), or AM/PM
        "03/09/2025 08:05:00 SA": T(2025, 9, 3, 8, 5), "03/09/2025 02:30 ch": T(2025, 9, 3, 14, 30),
        "3/9/2025 12:10:00 SA": T(2025, 9, 3, 0, 10), "3/9/2025 12:10 CH": T(2025, 9, 3, 12, 10),
        "2025-09-03 2:30:00 PM": T(2025, 9, 3, 14, 30), "3/9/2025 13:30 CH": None, "3/9/2025 0:30 SA": None,
        # a time zone, as APIs write it: the same instant on Vietnam's clock (UTC+7)
        "2025-09-03T08:05:00+07:00": T(2025, 9, 3, 8, 5), "2025-09-03T01:05:00Z": T(2025, 9, 3, 8, 5),
        "2025-09-03T10:05:00+0900": T(2025, 9, 3, 8, 5), "2025-09-02T23:30:00-02:00": T(2025, 9, 3, 8, 30),
        "2025-09-03T08:05:00+15:00": None, "2025-09-03T08:05:00+07:60": None,
        # in the fast path's shape, read by PostgreSQL's lenient parser (a zone, a one-digit
        # field) but not by the definition: never through the fast path
        "2025-09-03 +8:15": None, "2025-09-03 08:1 ": None, "1999-12-31 23:59:5 ": None,
        "2025-09-03 08:15:0.": None, "2025-09-03  8:15": T(2025, 9, 3, 8, 15),
    },
    "integer": {
        "0": 0, "2": 2, "2.0": 2, "2,0": 2, "+3": 3, "-1": -1, " 7 ": 7, "2147483647": 2147483647,
        "12345678901": None, "2147483648": None, "2.5": None, ".5": None, "x": None, "1e3": None,
    },
    "amount": {
        "50000": Decimal(50000), "50.000": Decimal(50000), "50,000": Decimal(50000),
        "1.234.567": Decimal(1234567), "1,234,567": Decimal(1234567), "1.234,5": Decimal("1234.5"),
        "1,234.5": Decimal("1234.5"), "12,5": Decimal("12.5"), "12.5": Decimal("12.5"),
        ".5": Decimal("0.5"), "-100": Decimal(-100), "1 234 567": Decimal(1234567),
        "50.00.0": None, "1,2,3": None, "abc": None, "12.345.67": None, "1.5e3": None,
        # a currency around the amount, and an accounting format's dash for zero
        "50.000 đ": Decimal(50000), "50,000 VNĐ": Decimal(50000), "₫50.000": Decimal(50000),
        "50000 VND": Decimal(50000), "50.000 đồng": Decimal(50000), " - ": Decimal(0),
        "--": None, "đ": None, "50.000 USD": None,
    },
    "numeric": {
        "1.234": None, "1,234": None, "1.2345": Decimal("1.2345"), "1234.5": Decimal("1234.5"),
        "0.123": Decimal("0.123"), "1.234.567": Decimal(1234567), "12,5": Decimal("12.5"),
    },
    "boolean": {
        "true": True, "Có": True, "CÓ": True, "co": True, "x": True, "Yes": True, "1": True,
        "Đúng": True, "false": False, "Không": False, "KHÔNG": False, "0": False, "no": False,
        "sai": False, "maybe": None, "2": None, "có không": None,
        "Đã đồng bộ": True, "Đã số hóa": True, "Chưa": False, "chưa đồng bộ": False, "đãi": None,
    },
}


def _dbt_cast(kind: str, expr: str) -> str:
    template = jinja2.Environment().from_string(MACROS + f"{{{{ {DBT_MACRO[kind]}({expr!r}) }}}}")
    return template.render().strip()


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_gate_and_dbt_read_every_value_alike(fresh_dsn: str, kind: str) -> None:
    column = {"timestamp": ("ho_so", "received_at"), "integer": ("ho_so", "supplement_count"),
              "amount": ("ho_so", "fee_amount"), "boolean": ("ho_so", "digitised")}.get(kind)
    values = list(EXPECTED[kind])
    if column:  # the gate's own compiled predicate for a contract column of this kind
        suite, name = column
        assert _kind_of(suite, name) == kind
        _, gate_bad = _typed(kind)(suite, {"columns": [name]})
        gate_bad = gate_bad.replace(f"t.{name}", "v")
    else:
        gate_bad = f"(not util.is_blank(v) and {read_as(kind, 'v')} is null)"
    result = rows(fresh_dsn, f"select v, {gate_bad}, {_dbt_cast(kind, 'v')} from unnest(%s::text[]) v",
                  (values,))
    for value, flagged, typed in result:
        assert flagged == (typed is None), f"gate and dbt disagree on {value!r}"
        assert typed == EXPECTED[kind][value], f"{kind} {value!r} read as {typed!r}"


def test_databases_sort_text_by_code_point_and_fold_vietnamese(fresh_dsn: str) -> None:
    """A database chiso creates (chiso.warehouse.create_database) compares text byte by byte,
    the code-point order of UTF-8, and still folds Vietnamese letters for enum words."""
    names = ["Đồng Xoài", "Zơ Ngài", "An Bình", "Ân Thi", "Ấp Bắc", "an Phú"]
    result = rows(fresh_dsn, "select datcollate, lower('ĐỒNG THÁP'), upper('đã số hóa'), "
                             "array(select n from unnest(%s::text[]) n order by n) "
                             "from pg_database where datname = current_database()", (names,))
    assert result == [("C", "đồng tháp", "ĐÃ SỐ HÓA", sorted(names))]


def test_blank_is_missing_not_invalid(fresh_dsn: str) -> None:
    result = rows(fresh_dsn, "select util.is_blank(v), util.try_timestamp(v), util.try_amount(v), "
                             "util.try_boolean(v) from unnest(array['', '  ', null]) v")
    assert result == [(True, None, None, None)] * 3


def test_plain_fast_path_only_vouches_for_valid_values(fresh_dsn: str) -> None:
    values = [v for v in EXPECTED["timestamp"] if v.strip()]
    result = rows(fresh_dsn, "select v, util.is_plain_timestamp(v), util.parse_timestamp(v) "
                             "from unnest(%s::text[]) v", (values,))
    assert all(parsed is not None for v, fast, parsed in result if fast), result
    assert {v for v, fast, _ in result if fast} >= {"2025-09-03 08:15:00", "2024-02-29 01:00:00"}


def test_fast_path_before_postgresql_16_agrees(fresh_dsn: str) -> None:
    """The regex variant (servers before 16) vouches for the same values, bar 29-31 Feb."""
    sql = (REPO / "sql/005_values.sql").read_text(encoding="utf-8")
    marker = "create or replace function util.is_plain_timestamp"
    older = marker + sql.split(marker)[2].split("    end if;", 1)[0]
    older = older.replace("util.is_plain_timestamp", "public.is_plain_timestamp_pg15")
    values = [v for v in EXPECTED["timestamp"] if v.strip()] + ["2024-02-29 01:00", "2025-04-30"]
    import psycopg2

    with psycopg2.connect(fresh_dsn) as conn, conn.cursor() as cur:
        cur.execute(older)
        cur.execute("select v, util.is_plain_timestamp(v), public.is_plain_timestamp_pg15(v) "
                    "from unnest(%s::text[]) v", (values,))
        result = cur.fetchall()
    conn.close()
    for value, newer, old in result:
        assert old == newer or (newer and value[5:7] == "02" and value[8:10] == "29"), value


# Spellings near the gate's shortcuts: PostgreSQL's own, cut after the minutes or the day,
# and their near misses.
SHORTCUT_EDGES = {
    "timestamp": ["2025-09-03 08:15:00", "2025-09-03 08:15", "2025-09-03", "1900-01-01 00:00:00",
                  "2099-12-31 23:59:59", "1899-12-31 23:59:59", "2100-01-01 00:00:00", "infinity",
                  "2025-09-03 08:15:00+07", "2025-09-03 +8:15:30", "2025-09-03 8:15:30", "20250903",
                  "2025-09-03 23:59:60", "2024-02-29", "2025-02-29 00:00", "2025-09-03 08:15:00.000"],
    "integer": ["123456789", "1234567890", "0000000001", "007", "1 2", "٣"],
    "amount": ["123456789012345", "1234567890123456", "00", "5 000", "٣"],
    "numeric": ["42", "0042", "1.5"],
    "boolean": ["true ", "True", "1.0"],
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_gate_shortcuts_vouch_only_for_readable_values(fresh_dsn: str, kind: str) -> None:
    """What the suspects pass lets through without a reader reads as the kind."""
    from chiso.gate.suites import surely_readable

    values = list(EXPECTED[kind]) + SHORTCUT_EDGES.get(kind, []) + ["", " ", None]
    surely = surely_readable(kind, "v")
    result = rows(fresh_dsn, f"select v, {surely}, {read_as(kind, 'v')} is not null"
                             " from unnest(%s::text[]) v", (values,))
    assert [v for v, sure, readable in result if sure and not readable] == []
    assert any(sure for _, sure, _ in result), "the shortcut never applies"


def test_gate_date_order_shortcut_agrees_with_the_rule(fresh_dsn: str) -> None:
    """The row filter of a date-order rule (with its text shortcut) flags exactly the pairs the
    rule means: the later first, by day when either has no time of day."""
    from chiso.gate.suites import _date_order

    _, row_filter = _date_order("ho_so", {"before": "received_at", "after": "completed_at"})
    row_filter = row_filter.replace("t.received_at", "a").replace("t.completed_at", "b").replace("%", "%%")
    values = ["2025-09-03 08:15:00", "2025-09-03 08:15", "2025-09-03", "2025-09-03 08:14:59",
              "2025-09-03 08:15:01", "2025-09-03 00:00:00", "2025-09-02 23:59", "2025-09-04",
              "03/09/2025 08:15", "2025-09-03T08:15", "2025-09-03 24:00:00", "abc", None]
    ta, tb = read_as("timestamp", "a"), read_as("timestamp", "b")
    meant = (f"coalesce(case when {ta} = date_trunc('day', {ta}) or {tb} = date_trunc('day', {tb})"
             f" then {ta}::date > {tb}::date else {ta} > {tb} end, false)")
    result = rows(fresh_dsn, f"select a, b, {row_filter}, {meant} from unnest(%s::text[]) a,"
                             " unnest(%s::text[]) b", (values, values))
    assert [(a, b) for a, b, flagged, later in result if flagged != later] == []
    assert any(later for *_, later in result)


# The fields of a date and time at and around their bounds, and the cuts and separators of
# the usual spellings: every combination is a value near the fast paths' shapes.
_EDGES = {"year": [1899, 1900, 2024, 2099, 2100], "month": [0, 2, 12, 13], "day": [0, 28, 29, 30, 31],
          "hour": [0, 23, 24], "minute": [0, 59, 60], "second": [0, 59, 60]}


def _spelled(y: int, mo: int, d: int, h: int, mi: int, s: int, cut: int, sep: str) -> str:
    return f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}"[:cut]


def _field(name: str, low: int, high: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(_EDGES[name]), st.integers(low, high))


_SHAPED = st.builds(
    _spelled, _field("year", 0, 2200), _field("month", 0, 13), _field("day", 0, 32),
    _field("hour", 0, 25), _field("minute", 0, 61), _field("second", 0, 61),
    st.sampled_from([10, 16, 19, 13, 18]), st.sampled_from([" ", "T", "  "]),
)
_NEAR = st.text(alphabet="0123456789-/:. T+,", max_size=21)
# The fast path's own shapes ('____-__-__', then ' __:__' and ':__'), filled with any of
# the characters a date is written with, so PostgreSQL's lenient reading meets the parser's.
_CHARS = st.sampled_from(list("0123456789 +-.:T"))


def _filled(*sizes: int) -> st.SearchStrategy[str]:
    return st.tuples(*(st.text(_CHARS, min_size=n, max_size=n) for n in sizes))


# A valid ISO value with one character changed or dropped: the near misses a lenient
# reader takes for a valid value.
_ISO = st.builds(lambda t, cut: t.strftime("%Y-%m-%d %H:%M:%S")[:cut],
                 st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2099, 12, 31)),
                 st.sampled_from([10, 16, 19]))
_ONE_OFF = st.builds(lambda v, i, c: v[:i % len(v)] + c + v[i % len(v) + 1:], _ISO, st.integers(0, 18),
                     st.sampled_from([" ", "+", "-", ".", ":", "T", "Z", "/", ""]))
_IN_SHAPE = st.one_of(_ONE_OFF, 
    _filled(4, 2, 2).map("{0[0]}-{0[1]}-{0[2]}".format),
    _filled(4, 2, 2, 2, 2).map("{0[0]}-{0[1]}-{0[2]} {0[3]}:{0[4]}".format),
    _filled(4, 2, 2, 2, 2, 2).map("{0[0]}-{0[1]}-{0[2]} {0[3]}:{0[4]}:{0[5]}".format),
)
_DIGITS = st.from_regex(r"\A[0-9]{1,17}\Z")
# PostgreSQL text holds no NUL, and UTF-8 no lone surrogate ('\ud800' cannot even be sent)
_ANY = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)


def _assert_fast_paths_agree(dsn: str, values: list[str]) -> None:
    """Each reader's shortcut for the usual spelling (util.is_plain_timestamp, the digits-only
    branches of util.read_number and util.try_integer) gives what its general parser gives
    for the same text, and nothing raises."""
    result = rows(dsn, """
        select v,
               util.is_plain_timestamp(v), util.try_timestamp(v), util.parse_timestamp(v),
               btrim(v, '0123456789') = '' and length(v) between 1 and 15,
               util.read_number(v, true), util.parse_numeric(v, true),
               util.read_number(v, false), util.parse_numeric(v, false),
               util.try_integer(v),
               case when btrim(v) ~ '^[+-]?\\d{1,10}([.,]0+)?$'
                         and abs(cast(substring(btrim(v) from '^[+-]?\\d+') as bigint)) <= 2147483647
                    then cast(substring(btrim(v) from '^[+-]?\\d+') as integer) end
        from unnest(%s::text[]) v""", (values,))
    for (value, plain, typed, parsed, digits, amount, amount_parsed, number, number_parsed,
         integer, integer_by_regex) in result:
        if plain:
            assert typed == parsed, f"{value!r}: fast path {typed!r}, parser {parsed!r}"
        if digits:
            assert (amount, number) == (amount_parsed, number_parsed), value
        assert integer == integer_by_regex, f"{value!r}: {integer!r} against {integer_by_regex!r}"


def test_fast_paths_agree_on_every_edge(fresh_dsn: str) -> None:
    values = [_spelled(*fields, cut, sep)
              for fields in itertools.product(*_EDGES.values())
              for cut in (10, 16, 19) for sep in (" ", "T")]
    values += [str(10 ** n + k) for n in range(20) for k in (-1, 0)]
    _assert_fast_paths_agree(fresh_dsn, sorted(set(values)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(_SHAPED, _IN_SHAPE, _NEAR, _DIGITS, _ANY), min_size=1, max_size=40))
def test_fast_paths_agree_on_near_misses(fresh_dsn: str, values: list[str]) -> None:
    _assert_fast_paths_agree(fresh_dsn, values)
