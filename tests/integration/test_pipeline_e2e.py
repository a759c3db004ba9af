"""End to end through the real Airflow DAG: generate → chiso run → marts.

A small Hải Phòng slice (12 units, 2 periods) keeps `make test` fast; `make demo` runs all
114 units over 3 periods through the same code.
"""

from __future__ import annotations

import pytest

from chiso import cli, warehouse
from tests.conftest import rows

pytestmark = pytest.mark.slow

PERIODS = "2025-08:2025-09"


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory, server_dsn):
    submissions = tmp_path_factory.mktemp("submissions")
    assert cli.main(["generate", "--out", str(submissions), "--province", "31",
                     "--periods", PERIODS, "--units", "12", "--seed", "3"]) == 0
    assert cli.main(["run", "--submissions", str(submissions), "--period", PERIODS,
                     "--province", "31"]) == 0
    return server_dsn, submissions


def test_every_unit_is_ranked_each_period(demo_warehouse):
    dsn, _ = demo_warehouse
    assert rows(dsn, "select period, count(*), count(rank_in_province), max(units_in_province) "
                     "from marts.unit_ranking group by 1 order by 1") == [
        ("2025", 12, 12, 12), ("2025-08", 12, 12, 12), ("2025-09", 12, 12, 12), ("2025-Q3", 12, 12, 12)]


def test_quarter_is_scored_from_its_own_dossiers(demo_warehouse):
    """A quarter counts each dossier once, in its latest state, judged at the quarter's end: a
    dossier carried over is processed in two months but counted once, one withdrawn after a
    month's end leaves the quarter, one still open at a month's end may be late by the
    quarter's. So the quarter's 2.1 and 5.4 counts are at most its months' sums. (Criteria
    over dossiers received can exceed them here: Q3 starts 1 July, and August's file carries
    July's open dossiers, received in no loaded month but in the quarter.)"""
    dsn, _ = demo_warehouse
    months = """select unit_code, criterion_code, sum(numerator) as n, sum(counted_denominator) as d
                from marts.criterion_scores where period_type = 'month' group by 1, 2"""
    assert rows(dsn, f"""
        select count(*) from marts.criterion_scores q join ({months}) m using (unit_code, criterion_code)
        where q.period = '2025-Q3' and q.criterion_code in ('2.1', '5.4')
          and (q.counted_denominator > m.d or q.numerator > m.n)""") == [(0,)]
    # carried-over dossiers are in both months' 2.1 but once in the quarter's
    [(fewer,)] = rows(dsn, f"""
        select count(*) from marts.criterion_scores q join ({months}) m using (unit_code, criterion_code)
        where q.period = '2025-Q3' and q.criterion_code = '2.1' and q.counted_denominator < m.d""")
    assert fewer > 0
    # the year to date spans the same two months here: the same scores as the quarter
    assert rows(dsn, """
        select count(*) from marts.unit_ranking y
        join marts.unit_ranking q using (unit_code)
        where y.period = '2025' and q.period = '2025-Q3' and y.total_points <> q.total_points""") == [(0,)]


def test_total_is_the_sum_of_six_groups_and_points_within_bounds(demo_warehouse):
    dsn, _ = demo_warehouse
    assert rows(dsn, """
        select count(*) from marts.unit_ranking r
        join (select unit_code, period, round(sum(points), 2) as total, count(*) as groups
              from marts.group_scores group by 1, 2) g using (unit_code, period)
        where r.total_points <> g.total or g.groups <> 6""") == [(0,)]
    assert rows(dsn, "select count(*) from marts.criterion_scores "
                     "where points < 0 or points > max_points") == [(0,)]
    assert rows(dsn, "select sum(max_points) from marts.group_scores "
                     "group by unit_code, period limit 1") == [(100,)]


def test_ranks_are_dense_and_ratings_match_totals(demo_warehouse):
    dsn, _ = demo_warehouse
    ranking = rows(dsn, "select period, total_points, rank_in_province, rating "
                        "from marts.unit_ranking order by period, total_points desc")
    for period in {r[0] for r in ranking}:
        ranked = [r for r in ranking if r[0] == period]
        distinct_totals = sorted({r[1] for r in ranked}, reverse=True)
        for _, total, rank, rating in ranked:
            assert rank == distinct_totals.index(total) + 1
            expected = ("Xuất sắc" if total >= 90 else "Tốt" if total >= 80 else "Khá"
                        if total >= 70 else "Trung bình" if total >= 50 else "Yếu")
            assert rating == expected


def test_previous_period_carried_into_ranking(demo_warehouse):
    dsn, _ = demo_warehouse
    assert rows(dsn, """
        select count(*) from marts.unit_ranking cur
        join marts.unit_ranking prev on prev.unit_code = cur.unit_code and prev.period = '2025-08'
        where cur.period = '2025-09'
          and (cur.prev_total_points is distinct from prev.total_points
               or cur.prev_rank is distinct from prev.rank_in_province)""") == [(0,)]


def test_running_the_same_period_again_leaves_marts_identical(demo_warehouse):
    dsn, submissions = demo_warehouse
    marts = ("criterion_scores", "group_scores", "unit_ranking", "province_summary")

    def snapshot():
        return {m: sorted(warehouse.query_csv(f"select * from marts.{m}", dsn).splitlines()) for m in marts}

    before = snapshot()
    assert cli.main(["run", "--submissions", str(submissions), "--period", "2025-09",
                     "--province", "31"]) == 0
    assert snapshot() == before
    assert rows(dsn, "select count(*) from raw.batches where status = 'superseded'") == [(0,)]


def test_lineage_counts_equal_the_scores(demo_warehouse):
    dsn, _ = demo_warehouse
    assert rows(dsn, """
        select count(*) from marts.criterion_scores s
        left join (select unit_code, period, criterion_code,
                          count(*) filter (where in_numerator) as n,
                          count(*) filter (where in_denominator) as d
                   from marts.criterion_lineage group by 1, 2, 3) l
          using (unit_code, period, criterion_code)
        where s.criterion_code <> '4.7'
          and (coalesce(l.n, 0) <> s.numerator or coalesce(l.d, 0) <> s.counted_denominator)""") == [(0,)]


def test_reports_are_published(demo_warehouse):
    from chiso import config

    out = config.reports_dir() / "2025-09"
    assert (out / "unit_ranking.csv").read_text().count("\n") == 13
    assert "Data quality, period 2025-09" in (out / "dq_summary.html").read_text()


def test_reconciliation_finds_exactly_the_planted_report_errors(demo_warehouse):
    import json

    dsn, submissions = demo_warehouse
    manifest = json.loads((submissions / "generation_manifest.json").read_text())
    planted = {(e["unit_code"], e["period"], e["figure"]): e["reported"] for e in manifest["report_errors"]}
    checked = ("dossiers_total", "dossiers_carried_over", "dossiers_received", "dossiers_received_online",
               "dossiers_resolved_on_time", "dossiers_resolved_late", "procedures_online_full")
    compared = rows(dsn, "select unit_code, period, figure, reported_value, status "
                         "from marts.reconciliation where figure = any(%s) and status <> 'not_reported'",
                    (list(checked),))
    assert compared, "the generated reports should give figures to reconcile"
    for unit, period, figure, reported, status in compared:
        if (unit, period, figure) in planted:
            assert status == "mismatch" and reported == planted[(unit, period, figure)]
        else:
            assert status == "match", (unit, period, figure)
