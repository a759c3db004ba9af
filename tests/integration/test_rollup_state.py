"""Quarters and years kept up to date month by month equal their dossiers recomputed one by one.

The rollup state (int_dossiers_rollup_parts, int_dossiers_rollup_open) is built a month at a
time; every build in the suite also runs the audit (CHISO_AUDIT_ROLLUPS=1, conftest) that
recounts each quarter and year from its items (int_dossier_rollup_items), so a build whose
state drifts fails. The months here are made to reach every branch of that state: a dossier
finished in July delivered again in September with its result returned (a settled dossier
taken back two months later), one open in July that no later file carries (judged at each
rollup's end), one finished in August delivered again in October (across quarters: Q4 never
saw August), and a resubmitted August once September and October are in (a rebuild of an
earlier month recomputes the year). Last, a January 2026 scored on 2025's totals (the
'prior_year' policy) is scored again when October 2025 is backfilled.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from chiso import bench, cli
from chiso.periods import period_window
from tests.conftest import rows

pytestmark = pytest.mark.slow

UNIT = "00004"


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], records: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(records)


def _keep_dossiers(path: Path, header: list[str], records: list[dict[str, str]]) -> None:
    """Write these dossiers to a month's ho_so.csv, and its payments and feedback of them only
    (the gate quarantines a payment of a dossier the month does not deliver)."""
    _write(path, header, records)
    kept = {r["dossier_id"] for r in records}
    for linked in ("thanh_toan.csv", "pakn.csv"):
        linked_header, linked_records = _read(path.with_name(linked))
        _write(path.with_name(linked), linked_header, [r for r in linked_records if r["dossier_id"] in kept])


def _finished(record: dict[str, str], month: str) -> bool:
    return record["completed_at"].startswith(month) and record["received_at"].startswith(month)


def _shape_months(root: Path) -> dict[str, str]:
    """Edit one unit's files so the months reach every branch of the rollup state."""
    unit = next(root.glob(f"*/{UNIT}"))
    files = {m: unit / m / "ho_so.csv" for m in ("2025-07", "2025-08", "2025-09", "2025-10")}
    header, july = _read(files["2025-07"])
    _, august = _read(files["2025-08"])
    _, september = _read(files["2025-09"])
    _, october = _read(files["2025-10"])
    later_ids = {r["dossier_id"] for r in august + september + october}

    # finished in July, delivered again in September with its result returned then
    settled = next(r for r in july if _finished(r, "2025-07") and r["dossier_id"] not in later_ids)
    september.append(settled | {"result_returned_at": "2025-09-03 09:00:00", "status": "returned"})
    # open at the end of July, then in no file: the July row is its latest state
    carried = [r for r in july if not r["completed_at"] and not r["result_returned_at"]
               and r["status"] == "in_progress" and r["dossier_id"] in later_ids]
    abandoned = carried[0]["dossier_id"]
    august = [r for r in august if r["dossier_id"] != abandoned]
    september = [r for r in september if r["dossier_id"] != abandoned]
    october = [r for r in october if r["dossier_id"] != abandoned]
    # finished in August, delivered again in October (another quarter, the same year)
    after_august = {r["dossier_id"] for r in september + october}
    across = next(r for r in august if _finished(r, "2025-08") and r["dossier_id"] not in after_august)
    october.append(across | {"result_returned_at": "2025-10-02 10:00:00", "status": "returned"})

    for month, records in (("2025-08", august), ("2025-09", september), ("2025-10", october)):
        _write(files[month], header, records)
    return {"settled": settled["dossier_id"], "abandoned": abandoned, "across": across["dossier_id"]}


def _run(dsn: str, submissions: Path, month: str) -> None:
    """Land, gate and build one month (what a DAG run does, without Airflow's overhead); a
    failed dbt test, the rollup audit included, raises."""
    bench.run_month(dsn, submissions, period_window(month, "calendar"), None, f"rollup-state-{month}")


def _rollup_catalogue_differences(dsn: str) -> int:
    """Procedures of each quarter's and year's catalogue (int_procedures_rolled) that are not
    those of the rollup's latest month with a catalogue, or missing: zero when every rollup
    took its latest month's, whether the build read that month's partition (the month built
    is the latest) or probed an earlier or later one (a rebuild of an earlier month)."""
    (count,) = rows(dsn, """
        with rolled as (
            select unit_code, period, procedure_code, batch_id from intermediate.int_procedures_rolled
        ),
        latest as (
            select r.unit_code, r.period, max(c.period) as month
            from (select distinct unit_code, period from rolled) r
            join intermediate.int_procedures_classified c
              on c.unit_code = r.unit_code
             and left(c.period, 4) = left(r.period, 4)
             and (r.period not like '%%-Q%%'
                  or left(c.period, 4) || '-Q' || ((substr(c.period, 6, 2)::int + 2) / 3) = r.period)
            group by r.unit_code, r.period
        ),
        expected as (
            select l.unit_code, l.period, c.procedure_code, c.batch_id
            from latest l
            join intermediate.int_procedures_classified c
              on c.unit_code = l.unit_code and c.period = l.month
        )
        select count(*) from (
            (select * from rolled except all select * from expected)
            union all
            (select * from expected except all select * from rolled)
        ) d""")
    return count[0]


def test_month_by_month_rollups_equal_their_items(tmp_path, fresh_dsn, monkeypatch):
    # a warehouse of its own: no later month loaded by another test sends a build down the
    # recompute-everything path
    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    server_dsn = fresh_dsn
    submissions = tmp_path / "submissions"
    assert cli.main(["generate", "--out", str(submissions), "--national", "--periods",
                     "2025-07:2025-10", "--units", "3", "--seed", "5"]) == 0
    chosen = _shape_months(submissions)
    # One month after another: each build adds its month to the state and the audit
    # recounts the quarter and year from their items (a failed audit fails the run).
    for month in ("2025-07", "2025-08", "2025-09", "2025-10"):
        _run(fresh_dsn, submissions, month)

    state = "intermediate.int_dossiers_rollup_open"
    # the abandoned dossier is the one open July row awaiting no later delivery in 2025
    assert rows(server_dsn, f"select month, superseded_in from {state} "
                            "where period = '2025' and dossier_id = %s", (chosen["abandoned"],)) \
        == [("2025-07", None)]
    # July's other open dossiers of the unit were all delivered again in August
    assert rows(server_dsn, f"select count(*) from {state} where period = '2025' and month = '2025-07' "
                            "and unit_code = %s and superseded_in is null and dossier_id <> %s",
                (UNIT, chosen["abandoned"])) == [(0,)]
    # the settled dossiers delivered again are counted once, in their latest month's state
    items = "intermediate.int_dossier_rollup_items"
    assert rows(server_dsn, f"select period, month from {items} where dossier_id = %s order by 1",
                (chosen["settled"],)) == [("2025", "2025-09"), ("2025-Q3", "2025-09")]
    assert rows(server_dsn, f"select period, month from {items} where dossier_id = %s order by 1",
                (chosen["across"],)) == [("2025", "2025-10"), ("2025-Q3", "2025-08"), ("2025-Q4", "2025-10")]
    # what the ranking reads equals the items, for every unit, rollup and dossier criterion
    # (the audit checked it at each build; here once more, as BI sees it)
    assert rows(server_dsn, f"""
        select count(*) from marts.criterion_scores s
        join (select unit_code, period, count(*) filter (where crit_2_1_num) as n,
                     count(*) filter (where crit_2_1_den) as d
              from {items} group by 1, 2) i using (unit_code, period)
        where s.criterion_code = '2.1' and (s.numerator <> i.n or s.counted_denominator <> i.d)""") \
        == [(0,)]

    assert _rollup_catalogue_differences(server_dsn) == 0

    # August resubmitted without the dossier finished then: a rebuild of a month whose year
    # has later months recomputes the quarter and year from every month (audited again).
    august = next(submissions.glob(f"*/{UNIT}/2025-08/ho_so.csv"))
    header, records = _read(august)
    _write(august, header, [r for r in records if r["dossier_id"] != chosen["across"]])
    _run(fresh_dsn, submissions, "2025-08")
    assert rows(server_dsn, f"select period, month from {items} where dossier_id = %s order by 1",
                (chosen["across"],)) == [("2025", "2025-10"), ("2025-Q4", "2025-10")]
    # Q3's catalogue is September's and the year's October's, not the rebuilt August's
    assert rows(server_dsn, "select distinct period, batch_id like '%%-2025-09-%%', "
                            "batch_id like '%%-2025-10-%%' from intermediate.int_procedures_rolled "
                            "where unit_code = %s order by 1",
                (UNIT,)) == [("2025", False, True), ("2025-Q3", True, False), ("2025-Q4", False, True)]
    assert _rollup_catalogue_differences(server_dsn) == 0

    # A year's totals feed the next year: criterion 1.4's 'prior_year' policy scores a month
    # with nothing received on the prior year's received dossiers / 12. January 2026 of the
    # unit delivers only dossiers carried over from 2025 (none received in it), so its
    # denominator is 2025's; a backfill of October 2025 must score January again.
    assert cli.main(["generate", "--out", str(submissions), "--national", "--periods", "2026-01",
                     "--units", "3", "--seed", "5"]) == 0
    january = next(submissions.glob(f"*/{UNIT}/2026-01/ho_so.csv"))
    header, records = _read(january)
    carried = [r for r in records if r["received_at"] and r["received_at"] < "2026-01"]
    assert carried, "the generator carries open dossiers over into January"
    _keep_dossiers(january, header, carried)
    _run(fresh_dsn, submissions, "2026-01")

    def prior_year() -> tuple[tuple, tuple]:
        scores = "select numerator, counted_denominator, denominator from marts.criterion_scores " \
                 "where unit_code = %s and criterion_code = '1.4' and period = %s"
        (year,) = rows(server_dsn, scores, (UNIT, "2025"))
        (month,) = rows(server_dsn, scores, (UNIT, "2026-01"))
        return year, month

    year, month = prior_year()
    assert year[1] > 0 and month[:2] == (0, 0)
    assert float(month[2]) == pytest.approx(year[1] / 12, abs=0.005)
    october = next(submissions.glob(f"*/{UNIT}/2025-10/ho_so.csv"))
    header, records = _read(october)
    received = [r for r in records if r["received_at"].startswith("2025-10")]
    _keep_dossiers(october, header, [r for r in records if r not in received[: len(received) // 2]])
    _run(fresh_dsn, submissions, "2025-10")
    backfilled_year, backfilled_month = prior_year()
    assert backfilled_year[1] < year[1]  # the year lost October's dropped dossiers …
    # … and January's score knows it
    assert float(backfilled_month[2]) == pytest.approx(backfilled_year[1] / 12, abs=0.005)
