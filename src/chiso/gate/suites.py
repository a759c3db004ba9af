"""Suites as code: `expectations/suites/<source>.yml` → unexpected-rows SQL per expectation.

Every check compiles to one query over the whole raw table of its source, restricted to the
batches of the current gate run (table `audit.gate_scope`), that returns one row per failing
batch: `batch_id`, `unexpected_count` and `examples` (the first rows that break the rule, with
file, row, field and value). One query per expectation per run, never one per batch, is what
keeps the gate cheap at national scale (DESIGN §4).

A check is either a declarative `kind` (required, timestamp, integer, numeric, boolean, enum,
min, date_order, in_period, unique, pattern, exists_in, cross_batch_duplicate, volume,
figure_sum, unit_code, has_source, files_readable, files_complete) or `kind: sql`, a
hand-written query that selects the failing rows as
`batch_id, source_file, source_row, field, value, detail` from `{batch}` (the source table)
joined to `{scope}` (the run's batches).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chiso.sources import SOURCES

SCOPE_TABLE = "audit.gate_scope"
SEVERITIES = ("error", "warn")
# Rows kept per expectation and batch: enough for an auditor to see the pattern; the
# count in audit.expectation_results stays exact.
EXAMPLES_PER_BATCH = 20

_BATCH = "\x00batch\x00"  # placeholder that survives brace escaping
_RUN_PERIODS = "\x00periods\x00"  # where a scoped query may restrict the source to the run's months
# Raw tables partitioned by period (sql/010_raw.sql): reading them, a query names the
# months it needs so PostgreSQL skips the other partitions.
PERIOD_PARTITIONED = frozenset({"ho_so", "thanh_toan", "pakn", "danh_muc_tthc"})


def run_periods(alias: str, months_around: int = 0) -> str:
    """`alias`.period among the months of the gate run (± `months_around`): a placeholder
    that `resolve_periods` turns into literals once the run's months are known. Literals,
    not subqueries on the scope table, let the planner prune the other partitions and
    estimate the rows kept; with a subquery it guessed a handful and chose nested loops."""
    return f"\x00periods {alias} {months_around}\x00"


_RUN_PERIODS_TOKEN = re.compile("\x00periods ([a-z_]+) ([0-9]+)\x00")


def resolve_periods(sql: str, months: Iterable[str]) -> str:
    """Fill `run_periods` placeholders with the run's months (YYYY-MM)."""
    months = sorted(set(months))

    def months_in(match: re.Match) -> str:
        alias, around = match.group(1), int(match.group(2))
        wanted = sorted({_shift(month, k) for month in months for k in range(-around, around + 1)})
        return f"{alias}.period in ({', '.join(_lit(w) for w in wanted)})" if wanted else "false"

    return _RUN_PERIODS_TOKEN.sub(months_in, sql)


def _shift(month: str, months: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# The one definition of a readable value (sql/005_values.sql), by contract column kind; dbt's
# casting macros call the same functions.
READERS = {
    "timestamp": "util.try_timestamp",
    "date": "util.try_date",
    "integer": "util.try_integer",
    "numeric": "util.try_numeric",
    "amount": "util.try_amount",
    "boolean": "util.try_boolean",
}


class SuiteError(ValueError):
    """A suite file that cannot be compiled; the message names the file and expectation."""


@dataclass(frozen=True)
class Rule:
    suite: str
    name: str
    severity: str  # error | warn
    meaning_en: str
    meaning_vi: str
    kind: str
    sql: str  # GX-ready: `{batch}` placeholder, literal braces doubled
    row_label: str = "row"
    # Row-local checks only: a predicate over one row `t` and its batch's scope `s` that
    # holds for every row the check can fail (see Suite.suspects_sql).
    row_filter: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.suite}.{self.name}"


@dataclass(frozen=True)
class Suite:
    name: str
    schema: str
    table: str
    description: str
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    path: Path | None = None

    @property
    def source(self) -> str:
        """Value of raw.files.source for the files of this suite (None for batch-level)."""
        return self.name

    @property
    def row_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.row_filter)

    @property
    def set_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not r.row_filter)

    def suspects_sql(self) -> str:
        """The run's rows that may fail one of the row-local checks, found in one pass.

        Each row check is a scan of the whole raw table; their disjunction is one scan
        whose result (a handful of rows in a clean month) the row checks then read. Every
        row check's own query is unchanged and, being row-local, finds exactly the rows
        it would find in the raw table.
        """
        filters = "\n   or ".join(f"({r.row_filter})" for r in self.row_rules)
        periods = f"\n  and {run_periods('t')}" if self.name in PERIOD_PARTITIONED else ""
        return f"""select t.*
from {self.schema}.{self.table} t
join {SCOPE_TABLE} s on s.batch_id = t.batch_id{periods}
where {filters}"""


def load_suites(suites_dir: Path) -> list[Suite]:
    paths = sorted(suites_dir.glob("*.yml"))
    if not paths:
        raise SuiteError(f"no suite files (*.yml) in {suites_dir}")
    return [load_suite(path) for path in paths]


def load_suite(path: Path) -> Suite:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = doc.get("suite") or path.stem
    schema, _, table = str(doc.get("table", f"raw.{name}")).rpartition(".")
    rules: list[Rule] = []
    seen: set[str] = set()
    for item in doc.get("expectations") or []:
        where = f"{path.name}: expectation {item.get('name')!r}"
        try:
            rule = _compile(name, schema or "raw", table, item)
        except (KeyError, TypeError, ValueError) as exc:
            raise SuiteError(f"{where}: {exc}") from exc
        if rule.name in seen:
            raise SuiteError(f"{where}: duplicate name")
        seen.add(rule.name)
        rules.append(rule)
    return Suite(
        name=name,
        schema=schema or "raw",
        table=table,
        description=str(doc.get("description", "")).strip(),
        rules=tuple(rules),
        path=path,
    )


def _compile(suite: str, schema: str, table: str, item: dict[str, Any]) -> Rule:
    name = str(item["name"])
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError("name must be snake_case")
    severity = str(item["severity"])
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
    check = dict(item["check"])
    kind = str(check.pop("kind"))
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"unknown check kind {kind!r}; known: {sorted(_BUILDERS)}")
    built = builder(suite, check)
    bad_rows, row_filter = built if isinstance(built, tuple) else (built, None)
    periods = f"\n      and {run_periods('t')}" if suite in PERIOD_PARTITIONED else ""
    bad_rows = bad_rows.replace(_RUN_PERIODS, periods)
    return Rule(
        suite=suite,
        name=name,
        severity=severity,
        meaning_en=str(item["meaning_en"]).strip(),
        meaning_vi=str(item["meaning_vi"]).strip(),
        kind=kind,
        sql=_gx_query(_aggregate(bad_rows)),
        row_label=str(item.get("row_label", "row")),
        row_filter=row_filter,
    )


def _gx_query(sql: str) -> str:
    """GX formats the query with str.format: double literal braces, keep `{batch}`."""
    return sql.replace("{", "{{").replace("}", "}}").replace(_BATCH, "{batch}")


def _aggregate(bad_rows: str) -> str:
    return f"""with bad as (
{bad_rows}
),
ranked as (
    select
        bad.*,
        row_number() over (
            partition by bad.batch_id order by bad.source_file, bad.source_row, bad.field
        ) as rn,
        count(*) over (partition by bad.batch_id) as n
    from bad
)
select
    batch_id,
    max(n) as unexpected_count,
    jsonb_agg(
        jsonb_build_object(
            'source_file', source_file,
            'source_row', source_row,
            'field', field,
            'value', value,
            'detail', detail
        ) order by rn
    ) as examples
from ranked
where rn <= {EXAMPLES_PER_BATCH}
group by batch_id
order by batch_id"""


# --- SQL fragments -------------------------------------------------------------------------


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a plain column name: {name!r}")
    return name


def _blank(expr: str) -> str:
    return f"util.is_blank({expr})"


def read_as(kind: str, expr: str) -> str:
    """`expr` typed as a contract `kind` (NULL when it cannot be read)."""
    return f"{READERS[kind]}({expr})"


# Contract kinds read by util.read_number or util.try_integer, for which plain digits
# are always readable as their own value.
_DIGIT_KINDS = frozenset({"integer", "numeric", "amount"})


def _digits_only(expr: str, at_most: int) -> str:
    """1 to `at_most` ASCII digits, nothing else."""
    return f"(length({expr}) between 1 and {at_most} and ltrim({expr}, '0123456789') = '')"


def surely_readable(kind: str, expr: str) -> str | None:
    """A cheap test that holds only for values `read_as(kind, expr)` reads (never for one
    it cannot): the usual clean spellings, settled without the full reader, so a row check
    can pass them over in the suspects pass. It may fail for readable values too; those go
    to the reader. None when the kind has no such test.
    """
    if kind in ("timestamp", "date"):
        # The reader's own fast path (util.is_plain_timestamp): PostgreSQL's ISO spelling
        # 'YYYY-MM-DD HH:MM:SS' of a year 1900-2099 (what landing writes), or the same cut
        # after the minutes or the day, reading back to itself. Any other spelling goes to
        # the reader. Two such values compare as their text (a cut value is the full one
        # less trailing zeros).
        return f"util.is_plain_timestamp({expr})"
    if kind == "integer":
        return _digits_only(expr, 9)  # below 2^31
    if kind in ("numeric", "amount"):
        return _digits_only(expr, 15)  # util.read_number's plain path
    if kind == "boolean":
        return f"({expr} in ('true', '1', 'co', 'false', '0', 'khong'))"  # util.try_boolean's first test
    return None


def _kind_of(suite: str, column: str) -> str:
    source = SOURCES.get(suite)
    found = [c.kind for c in source.columns if c.name == column] if source else []
    if not found or found[0] not in READERS:
        raise ValueError(f"{column!r} is not a typed column of the {suite} contract")
    return found[0]


def _scoped() -> str:
    return f"{_BATCH} t\n    join {SCOPE_TABLE} s on s.batch_id = t.batch_id{_RUN_PERIODS}"


def _contract_columns(suite: str, check: dict[str, Any], kinds: tuple[str, ...]) -> list[str]:
    columns = check.get("columns", "contract")
    if columns == "contract":
        source = SOURCES[suite]
        if kinds == ("required",):
            return [c.name for c in source.columns if c.required]
        return [c.name for c in source.columns if c.kind in kinds]
    return [_ident(c) for c in columns]


def _unpivot(columns: list[str], bad: Any, detail: str = "null::text",
             fast_bad: Any = None) -> tuple[str, str]:
    """Failing (row, field) pairs for a per-value predicate `bad(expr, column)`.

    The OR over the row's columns filters first, so the (field, value) pairs are only
    generated for the few failing rows: half the cost of unpivoting every row. The row
    filter returned (for the suspects pass) is `fast_bad` when given: the same predicate
    that settles the usual clean spellings without the full reader.
    """
    if not columns:
        raise ValueError("no columns to check")
    values = ",\n        ".join(
        f"({_lit(c)}, t.{_ident(c)}, {bad('t.' + _ident(c), c)})" for c in columns
    )
    any_bad = "\n       or ".join(bad(f"t.{_ident(c)}", c) for c in columns)
    return f"""    select t.batch_id, t.source_file, t.source_row, v.field, v.value, {detail} as detail
    from {_scoped()}
    cross join lateral (values
        {values}
    ) as v (field, value, bad)
    where ({any_bad})
      and v.bad""", _any(columns, fast_bad) if fast_bad else any_bad


def _any(columns: list[str], predicate: Any) -> str:
    return "\n       or ".join(predicate(f"t.{_ident(c)}", c) for c in columns)


# --- check kinds ---------------------------------------------------------------------------


def _required(suite: str, check: dict[str, Any]) -> tuple[str, str]:
    # Blank = NULL or spaces only (btrim's default): only a value that starts with a space
    # needs the trim.
    def fast_blank(e: str, column: str) -> str:
        return f"(case when {e} is null then true when {e} like ' %' then {_blank(e)} else {e} = '' end)"

    return _unpivot(_contract_columns(suite, check, ("required",)), lambda e, c: _blank(e),
                    fast_bad=fast_blank)


def _typed(*kinds: str) -> Any:
    """Values present but unreadable as their column's kind."""

    def build(suite: str, check: dict[str, Any]) -> tuple[str, str]:
        def bad(e: str, column: str) -> str:
            return f"(not {_blank(e)} and {read_as(_kind_of(suite, column), e)} is null)"

        def fast_bad(e: str, column: str) -> str:
            surely = surely_readable(_kind_of(suite, column), e)
            if surely is None:
                return bad(e, column)
            return f"(case when {e} is null or {surely} then false else {bad(e, column)} end)"

        return _unpivot(_contract_columns(suite, check, kinds), bad, fast_bad=fast_bad)

    return build


def _enum(suite: str, check: dict[str, Any]) -> tuple[str, str]:
    columns = check.get("columns", "contract")
    if columns == "contract":
        allowed = {c.name: list(c.enum) for c in SOURCES[suite].columns if c.kind == "enum"}
    else:
        allowed = {_ident(k): list(v) for k, v in columns.items()}
    values = ",\n        ".join(
        f"({_lit(c)}, t.{_ident(c)}, array[{', '.join(_lit(x) for x in vals)}])"
        for c, vals in allowed.items()
    )
    # The row filter: a value spelled exactly as allowed (ASCII lower case, no spaces) cannot
    # fail, and is settled without lower() and btrim().
    def as_allowed(vals: list[str]) -> str:
        return ", ".join(_lit(x) for x in vals if x.isascii() and x == x.lower().strip()) or "null"

    any_bad = " or ".join(
        f"(case when t.{_ident(c)} is null or t.{_ident(c)} in ({as_allowed(vals)})"
        f" then false else (not {_blank('t.' + _ident(c))}"
        f" and lower(btrim(t.{_ident(c)})) <> all (array[{', '.join(_lit(x) for x in vals)}])) end)"
        for c, vals in allowed.items()
    )
    return f"""    select t.batch_id, t.source_file, t.source_row, v.field, v.value,
        'allowed: ' || array_to_string(v.allowed, ', ') as detail
    from {_scoped()}
    cross join lateral (values
        {values}
    ) as v (field, value, allowed)
    where not {_blank("v.value")} and lower(btrim(v.value)) <> all (v.allowed)""", any_bad


def _bound(op: str, label: str) -> Any:
    """Readable values beyond a limit (`min`: below it; `max`: above it, a plausibility ceiling).
    An unreadable value is left to its type rule."""

    def build(suite: str, check: dict[str, Any]) -> tuple[str, str]:
        limit = float(check[label])

        def bad(e: str, column: str) -> str:
            value = read_as(_kind_of(suite, column), e)
            if label == "min" and limit == 0:
                # Below zero needs a minus sign: a cheap test that spares most rows the parse.
                return f"(case when strpos({e}, '-') = 0 then false else {value} < 0 end)"
            return f"coalesce({value} {op} {limit!r}, false)"

        def fast_bad(e: str, column: str) -> str:
            # A readable value of at most as many digits as the limit has, less one, is
            # below it (the usual count or fee): settled without the reader.
            digits = len(str(int(limit))) - 1 if limit >= 1 else 0
            if label != "max" or digits < 1 or _kind_of(suite, column) not in _DIGIT_KINDS:
                return bad(e, column)
            return (f"(case when {e} is null or {_digits_only(e, digits)} then false"
                    f" else {bad(e, column)} end)")

        columns = [_ident(c) for c in check["columns"]]
        return _unpivot(columns, bad, detail=_lit(f"must be {'≥' if label == 'min' else '≤'} {limit:,.0f}"),
                        fast_bad=fast_bad)

    return build


def _iso_prefix(expr: str) -> str:
    """The day of an ISO-looking value as sortable text, for cheap necessary conditions."""
    return f"left({expr}, 10) collate \"C\""


def _date_order(suite: str, check: dict[str, Any]) -> tuple[str, str]:
    first, then = _ident(check["before"]), _ident(check["after"])
    a, b = f"t.{first}", f"t.{then}"
    ta, tb = read_as("timestamp", a), read_as("timestamp", b)
    # A value without a time of day is compared by day, so '2025-09-05' is not before
    # '2025-09-05 10:00'. Unreadable values are left to the timestamp rule. Two ISO values
    # whose days are in order cannot fail: that test, on the text, spares most rows the
    # parse (CASE, not AND, fixes the order of evaluation).
    # Two values in PostgreSQL's own spelling of a timestamp compare as their text, so in
    # order they cannot fail: the row filter (the suspects pass) settles the usual same-day
    # rows so, without parsing either value.
    in_order = (f" when {surely_readable('timestamp', a)} and {surely_readable('timestamp', b)}"
                f" and {a} collate \"C\" <= {b} collate \"C\" then false")

    def later_first(fast: bool) -> str:
        return (
            f"(case when {a} is null or {b} is null then false"
            f" when {a} like '____-__-__%' and {b} like '____-__-__%'"
            f" and {_iso_prefix(a)} < {_iso_prefix(b)} then false{in_order if fast else ''}"
            f" when {ta} = date_trunc('day', {ta}) or {tb} = date_trunc('day', {tb})"
            f" then cast({ta} as date) > cast({tb} as date)"
            f" else coalesce({ta} > {tb}, false) end)"
        )

    return f"""    select t.batch_id, t.source_file, t.source_row, {_lit(then)} as field, {b} as value,
        {_lit(first + " = ")} || {a} as detail
    from {_scoped()}
    where coalesce({later_first(False)}, false)""", f"coalesce({later_first(True)}, false)"


def _in_period(suite: str, check: dict[str, Any]) -> tuple[str, str]:
    column = f"t.{_ident(check['column'])}"
    day = f"cast({read_as('timestamp', column)} as date)"
    # bound 'end': only a date after the period is outside (an item carried over from
    # an earlier period belongs in the file); 'both' (default): either side
    if check.get("bound", "both") == "end":
        inside, beyond = f"{_iso_prefix(column)} <= s.day_to", f"{day} > s.period_end"
    else:
        inside = f"{_iso_prefix(column)} between s.day_from and s.day_to"
        beyond = f"{day} < s.period_start or {day} > s.period_end"
    outside = (
        f"coalesce(case when {column} is null then false when {column} like '____-__-__%'"
        f" and {inside} then false else {beyond} end, false)"
    )
    return f"""    select t.batch_id, t.source_file, t.source_row, {_lit(check["column"])} as field,
        {column} as value, null::text as detail
    from {_scoped()}
    where {outside}""", outside


def _unique(suite: str, check: dict[str, Any]) -> str:
    key = _ident(check["column"])
    # A window count beats group-by-and-join-back here: raw rows arrive grouped by batch.
    return f"""    select d.batch_id, d.source_file, d.source_row, {_lit(key)} as field, d.value,
        'appears ' || d.times || ' times in the batch' as detail
    from (
        select
            t.batch_id, t.source_file, t.source_row, t.{key} as value,
            count(*) over (partition by t.batch_id, btrim(t.{key})) as times
        from {_scoped()}
        where not {_blank("t." + key)}
    ) d
    where d.times > 1"""


def _pattern(suite: str, check: dict[str, Any]) -> tuple[str, str]:
    column = _ident(check["column"])
    regex = str(check["regex"])
    allow = check.get("unless_in")
    exemption = ""
    if allow:
        ref = f"raw.{_ident(allow['source'])}"
        ref_col = _ident(allow["column"])
        exemption = f"""
      and not exists (
        select 1 from {ref} r
        where r.batch_id = t.batch_id and r.period = t.period
          and btrim(r.{ref_col}) = btrim(t.{column})
      )"""
    malformed = f"not {_blank('t.' + column)} and btrim(t.{column}) !~ {_lit(regex)}"
    # The exemption looks up another table, so the suspects pass tests the format alone.
    return f"""    select t.batch_id, t.source_file, t.source_row, {_lit(column)} as field,
        t.{column} as value, {_lit("expected format " + regex)} as detail
    from {_scoped()}
    where {malformed}{exemption}""", malformed


def _exists_in(suite: str, check: dict[str, Any]) -> str:
    column = _ident(check["column"])
    ref_source = _ident(check["ref_source"])
    ref_col = _ident(check.get("ref_column", column))
    conditions = [f"not {_blank('t.' + column)}"]
    if check.get("skip_if_ref_empty"):
        # Without the reference file there is nothing to compare against; its absence is
        # reported by its own rule.
        conditions.append(
            f"exists (select 1 from raw.{ref_source} e where e.batch_id = t.batch_id"
            f" and e.period = t.period)"
        )
    # Only against a reference file that was delivered and read: a missing or refused file
    # is its own finding (batches suite), not one more per row that refers to it.
    conditions.append(
        f"exists (select 1 from raw.files rf where rf.batch_id = t.batch_id"
        f" and rf.source = {_lit(ref_source)} and rf.error is null)"
    )
    where = "\n      and ".join(conditions)
    # An anti join on (batch, value), not a DISTINCT of the reference first: PostgreSQL
    # then hashes the reference once (in parallel) or, when it is the larger side, the
    # rows looked up, instead of aggregating the whole reference before hashing it again.
    # The reference rows share the batch of the row, so they are in the run's months.
    not_in_batch = f"""not exists (
        select 1 from raw.{ref_source} r
        where r.batch_id = t.batch_id and {run_periods("r")}
          and btrim(r.{ref_col}) = btrim(t.{column})
      )
      and {where}"""
    detail = _lit("not found in " + ref_source + "." + ref_col)
    months = int(check.get("history_months", 0))
    if not months:
        missing = f"""    select t.batch_id, t.source_file, t.source_row, {_lit(column)} as field,
        t.{column} as value, {detail} as detail
    from {_scoped()}
    where {not_in_batch}"""
    else:
        # Also found when the same unit delivered it in one of its `history_months` earlier
        # months (a batch the gate accepted): a payment made in September for a dossier
        # received and finished in August refers to August's file, not to a dossier that
        # does not exist. Looked up only for the values not in the batch's own file, found
        # first: planned as one query, the earlier months were hashed whole before the
        # batch's own file was looked at (3.7 s in the twelfth month of 600 units, growing
        # with every month; none when every value is in its own file).
        missing = f"""    with not_in_batch as materialized (
        select t.batch_id, t.source_file, t.source_row, t.{column} as value, s.unit_code,
            s.period_start
        from {_scoped()}
        where {not_in_batch}
    )
    select m.batch_id, m.source_file, m.source_row, {_lit(column)} as field,
        m.value, {detail} as detail
    from not_in_batch m
    where not exists (
        select 1
        from raw.batches o
        join raw.{ref_source} h on h.batch_id = o.batch_id
        where o.unit_code = m.unit_code
          and o.status in ('passed', 'warned')
          and o.period_start < m.period_start
          and o.period_start >= m.period_start - interval '{months} months'
          and {run_periods("h", months)}
          and btrim(h.{ref_col}) = btrim(m.value)
      )"""
    if not check.get("only_matching"):
        return missing
    # Only values of a form are looked up: the form (a regular expression, dear per row)
    # is tested on the few values not found, not on every row (OFFSET 0 keeps the test
    # out of the scan).
    return f"""    select m.* from (
    {missing}
        offset 0
    ) m
    where btrim(m.value) ~ {_lit(check['only_matching'])}"""


def _cross_batch_duplicate(suite: str, check: dict[str, Any]) -> str:
    key = _ident(check["column"])
    months = int(check.get("history_months", 1))
    # other_units_only: the same unit delivering an item again for another period is a
    # carry-over (a dossier received in one month and processed in the next), not a
    # double count: months count only what was received in them, rollups keep the
    # latest delivery of an item.
    units_only = bool(check.get("other_units_only", False))
    distinct = "min(unit_code) <> max(unit_code)" if units_only else (
        "min(unit_code || '/' || period) <> max(unit_code || '/' || period)")
    other = "d.unit_code <> m.unit_code" if units_only else (
        "(d.unit_code <> m.unit_code or d.period <> m.period)")
    # Other deliveries = the current (passed/warned) batches and the other batches of this run,
    # of another unit or period in the same province: a dossier delivered twice would be
    # counted twice in the province's scores. Other periods are looked at `history_months`
    # either side only, so a month's check costs the same however long the history. Keys that
    # occur under more than one unit-period are found with one hash aggregate; only their
    # rows are then paired up for the detail. Keys are compared as delivered.
    return f"""    with mine as materialized (
        select
            t.batch_id, t.source_file, t.source_row, t.{key} as key,
            s.unit_code, s.period, s.province_code
        from {_scoped()}
        where not {_blank("t." + key)}
    ),
    history as materialized (
        select x.{key} as key, o.batch_id, o.unit_code, o.period, o.province_code
        from raw.batches o
        join {_BATCH} x on x.batch_id = o.batch_id
        where o.status in ('passed', 'warned')
          and o.province_code in (select province_code from {SCOPE_TABLE})
          and o.period_start >= (select min(period_start) from {SCOPE_TABLE})
                                - interval '{months} months'
          and o.period_start <= (select max(period_end) from {SCOPE_TABLE})
                                + interval '{months} months'
          and o.batch_id not in (select batch_id from {SCOPE_TABLE})
          and {run_periods("x", months)}
          and x.{key} in (select key from mine)
    ),
    shared as materialized (
        select key, province_code
        from (
            select key, unit_code, period, province_code from mine
            union all
            select key, unit_code, period, province_code from history
        ) d
        group by key, province_code
        having {distinct}
    ),
    -- the deliveries of the shared keys only (a handful): the run's rows and history's
    deliveries as materialized (
        select d.*
        from (
            select key, batch_id, unit_code, period, province_code, source_file, source_row,
                true as mine
            from mine
            union all
            select key, batch_id, unit_code, period, province_code, null, null, false
            from history
        ) d
        join shared c on c.key = d.key and c.province_code = d.province_code
    )
    select h.batch_id, h.source_file, h.source_row, {_lit(key)} as field, h.key as value,
        'also delivered by unit ' || h.other_unit || ' for ' || h.other_period
            || ' (batch ' || h.other_batch || ')' as detail
    from (
        select
            m.batch_id, m.source_file, m.source_row, m.key,
            d.unit_code as other_unit, d.period as other_period, d.batch_id as other_batch,
            row_number() over (
                partition by m.batch_id, m.source_file, m.source_row order by d.period desc
            ) as k
        from deliveries m
        join deliveries d
          on d.key = m.key
         and d.province_code = m.province_code
         and {other}
        where m.mine
    ) h
    where h.k = 1"""


def _volume(suite: str, check: dict[str, Any]) -> str:
    factor = float(check.get("factor", 10))
    min_history = int(check.get("min_history", 3))
    months = int(check.get("history_months", 12))
    # History comes from raw.files.rows_landed so earlier periods are not rescanned.
    return f"""    select
        s.batch_id, null::text as source_file, null::integer as source_row,
        'dossiers' as field, coalesce(c.n, 0)::text as value,
        'median of ' || h.periods || ' earlier periods = ' || trim_scale(h.median::numeric)
            as detail
    from {SCOPE_TABLE} s
    left join (
        select t.batch_id, count(*) as n
        from {_scoped()}
        group by t.batch_id
    ) c on c.batch_id = s.batch_id
    join lateral (
        select
            count(*) as periods,
            percentile_cont(0.5) within group (order by p.rows_landed) as median
        from (
            select distinct on (b.period) b.period, coalesce(f.rows_landed, 0) as rows_landed
            from raw.batches b
            left join lateral (
                select sum(rf.rows_landed) as rows_landed
                from raw.files rf
                where rf.batch_id = b.batch_id and rf.source = {_lit(suite)}
            ) f on true
            where b.unit_code = s.unit_code
              and b.period < s.period
              and b.status in ('passed', 'warned')
            order by b.period desc, b.landed_at desc
            limit {months}
        ) p
    ) h on true
    where h.periods >= {min_history}
      and h.median > 0
      and (coalesce(c.n, 0) >= {factor} * h.median or coalesce(c.n, 0) <= h.median / {factor})"""


def _figure_sum(suite: str, check: dict[str, Any]) -> str:
    total = str(check["total"])
    parts = [str(p) for p in check.get("parts", [])]
    optional = [str(p) for p in check.get("optional_parts", [])]
    tolerance = float(check.get("tolerance", 0))
    figures = [total, *parts, *optional]
    if len(figures) < 2:
        raise ValueError("figure_sum needs a total and at least one part")
    cols = {f: f"f{i}" for i, f in enumerate(figures)}
    pivots = ",\n            ".join(
        # a figure before a candidate reading of it, then the first line
        f"(array_agg(t.value order by coalesce(t.status, 'figure') <> 'figure', t.line_no)"
        f" filter (where t.figure = {_lit(f)}))[1] as {c}"
        for f, c in cols.items()
    )
    addends = [cols[p] for p in parts] + [f"coalesce({cols[p]}, 0)" for p in optional]
    shown = ", ".join(f"trim_scale({cols[p]})::text" for p in parts + optional)
    present = [f"p.{cols[total]} is not null", *(f"p.{cols[p]} is not null" for p in parts)]
    if not parts:
        present.append(f"coalesce({', '.join('p.' + cols[p] for p in optional)}) is not null")
    figure_list = ", ".join(_lit(f) for f in figures)
    return f"""    select
        p.batch_id, p.source_file, p.line_no as source_row, {_lit(total)} as field,
        trim_scale(p.{cols[total]})::text as value,
        {_lit(total + " ")} || trim_scale(p.{cols[total]}) || ' ≠ '
            || concat_ws(' + ', {shown}) || ' = ' || trim_scale(p.computed) as detail
    from (
        select q.*, {" + ".join(addends)} as computed
        from (
            select
                t.batch_id, t.source_file,
                min(t.line_no) filter (where t.figure = {_lit(total)}) as line_no,
            {pivots}
            from {_scoped()}
            -- candidates count here: the check is about what the report states (the
            -- extractor demotes a stated number the arithmetic rejects); reconciliation
            -- compares confident figures only
            where t.figure in ({figure_list})
            group by t.batch_id, t.source_file
        ) q
    ) p
    where {" and ".join(present)}
      and abs(p.{cols[total]} - p.computed) > {tolerance}"""


def _unit_code(suite: str, check: dict[str, Any]) -> str:
    return f"""    select
        t.batch_id, null::text as source_file, null::integer as source_row,
        'unit_code' as field, t.unit_code as value,
        case
            when c.code is null then 'not a 2025 commune code'
            else 'commune of province ' || c.province_code || ', batch filed under '
                || t.province_code
        end as detail
    from {_scoped()}
    left join ref.communes c on c.code = t.unit_code
    where c.code is null or c.province_code <> t.province_code"""


def _has_source(suite: str, check: dict[str, Any]) -> str:
    source = _ident(check["source"])
    return f"""    select
        t.batch_id, t.submission_dir as source_file, null::integer as source_row,
        'file' as field, {_lit(source)} as value,
        'no ' || {_lit(source)} || ' file in ' || t.submission_dir as detail
    from {_scoped()}
    where not exists (
        select 1 from raw.files f where f.batch_id = t.batch_id and f.source = {_lit(source)}
    )"""


def _files_readable(suite: str, check: dict[str, Any]) -> str:
    # `sources` / `except_sources` pick kinds of file (raw.files.source), so an unreadable
    # report (bao_cao) can warn while an unreadable data file quarantines.
    known = {*SOURCES, "bao_cao"}
    only = ""
    for key, op in (("sources", "in"), ("except_sources", "not in")):
        if key not in check:
            continue
        kinds = check[key]
        if isinstance(kinds, str) or not kinds or any(k not in known for k in kinds):
            raise ValueError(f"{key} must be a non-empty list of {sorted(known)}, got {kinds!r}")
        only += f"\n      and f.source {op} ({', '.join(_lit(k) for k in kinds)})"
    return f"""    select
        t.batch_id, f.source_file, null::integer as source_row,
        'file' as field, f.source as value, f.error as detail
    from {_scoped()}
    join raw.files f on f.batch_id = t.batch_id
    where f.error is not null{only}"""


def _files_complete(suite: str, check: dict[str, Any]) -> str:
    return f"""    select
        t.batch_id, f.source_file, null::integer as source_row,
        'rows_landed' as field, coalesce(f.rows_landed::text, 'null') as value,
        'file has ' || f.rows_delivered || ' data rows, '
            || coalesce(f.rows_landed, 0) || ' landed' as detail
    from {_scoped()}
    join raw.files f on f.batch_id = t.batch_id
    where f.error is null
      and f.rows_delivered is not null
      and f.rows_landed is distinct from f.rows_delivered"""


_PLACEHOLDERS = re.compile(r"\{(batch|scope)\}")


_SQL_WORDS = "join|left|right|full|inner|cross|natural|where|on|using|group|order|limit|union"
# `{batch} t` or `{batch} as t` in a hand-written check: the source table and its alias.
_ALIASED_BATCH = re.compile(rf"\{{batch\}}(\s+(?:as\s+)?)(?!(?:{_SQL_WORDS})\b)([a-z_][a-z0-9_]*)",
                            re.IGNORECASE)


def _custom_sql(suite: str, check: dict[str, Any]) -> str:
    sql = str(check["sql"]).strip().rstrip(";")
    if suite in PERIOD_PARTITIONED:
        # `{batch} t` of a partitioned source reads the run's months only, as the
        # declarative checks do: the batches of the run are in those months, so nothing
        # changes but the partitions PostgreSQL has to look at.
        sql = _ALIASED_BATCH.sub(
            lambda m: f"(select * from {{batch}} p where {run_periods('p')}){m.group(1)}{m.group(2)}", sql)
    parts = _PLACEHOLDERS.split(sql)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part)
        else:
            out.append(_BATCH if part == "batch" else SCOPE_TABLE)
    return "    " + "".join(out)


_BUILDERS = {
    "required": _required,
    "timestamp": _typed("timestamp", "date"),
    "integer": _typed("integer"),
    "numeric": _typed("numeric", "amount"),
    "boolean": _typed("boolean"),
    "enum": _enum,
    "min": _bound("<", "min"),
    "max": _bound(">", "max"),
    "date_order": _date_order,
    "in_period": _in_period,
    "unique": _unique,
    "pattern": _pattern,
    "exists_in": _exists_in,
    "cross_batch_duplicate": _cross_batch_duplicate,
    "volume": _volume,
    "figure_sum": _figure_sum,
    "unit_code": _unit_code,
    "has_source": _has_source,
    "files_readable": _files_readable,
    "files_complete": _files_complete,
    "sql": _custom_sql,
}
