"""The bench's ratios, from figures worked out by hand."""

from __future__ import annotations

import pytest

from chiso.bench import BenchResult, Stage


def test_ratios_against_the_copy_and_the_first_month() -> None:
    result = BenchResult(units=2, dossiers=1000, payments=200)
    result.stages = [Stage("raw_copy", 10.0, 1200), Stage("landing", 20.0, 1500),
                     Stage("gate", 5.0, 1200), Stage("dbt_build", 15.0, 1200)]
    result.incremental = {"month_1": 100.0, "month_6": 120.0, "month_12": 105.0}
    result.incremental_dossiers = {"month_1": 1000, "month_6": 1200, "month_12": 1050}
    ratios = result.ratios()
    # landing 1500 rows / 20 s = 75 rows/s against the COPY's 1200 / 10 = 120: 0.625
    assert ratios["landing_rows_per_s_vs_copy"] == pytest.approx(0.625)
    assert ratios["pipeline_seconds_vs_copy"] == pytest.approx(4.0)  # (20 + 5 + 15) / 10
    assert ratios["sixth_month_vs_first"] == pytest.approx(1.2)
    assert ratios["twelfth_month_vs_first"] == pytest.approx(1.05)
    # 120 s for 1,200 dossiers costs what 100 s cost for 1,000: flat per dossier
    assert ratios["sixth_month_vs_first_per_dossier"] == pytest.approx(1.0)
    assert ratios["twelfth_month_vs_first_per_dossier"] == pytest.approx(1.0)


def test_no_per_dossier_ratio_without_the_counts() -> None:
    result = BenchResult(units=1, dossiers=1, payments=0)
    result.stages = [Stage("raw_copy", 1.0, 10), Stage("landing", 1.0, 10)]
    result.incremental = {"month_1": 10.0, "month_6": 11.0}
    assert "sixth_month_vs_first_per_dossier" not in result.ratios()
    assert result.ratios()["sixth_month_vs_first"] == pytest.approx(1.1)


def test_series_read_against_a_copy_timed_beside_each_month() -> None:
    result = BenchResult(units=1, dossiers=1, payments=0)
    result.stages = [Stage("raw_copy", 1.0, 10), Stage("landing", 1.0, 10)]
    result.incremental = {"month_1": 60.0, "month_6": 78.0, "month_12": 66.0}
    # the machine was 30 % slower for month 6 (COPY 2.6 s against 2.0 s): month 6 cost what
    # month 1 did once that is taken out; month 12 ran at month 1's speed, 1.1 ×
    result.incremental_copy = {"month_1": 2.0, "month_6": 2.6, "month_12": 2.0}
    ratios = result.ratios()
    assert ratios["sixth_month_vs_first"] == pytest.approx(1.3)
    assert ratios["sixth_month_vs_first_per_copy"] == pytest.approx(1.0)
    assert ratios["twelfth_month_vs_first_per_copy"] == pytest.approx(1.1)
