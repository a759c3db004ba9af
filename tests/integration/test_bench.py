"""The small, honest version of `make bench`: same code, a few units, every ratio computed."""

from __future__ import annotations

import json

import pytest

from chiso import bench

pytestmark = pytest.mark.bench


def test_small_bench_measures_every_stage_against_raw_copy(tmp_path, fresh_dsn):
    # The first 140 units by code are Hà Nội's 126 and units of the next provinces, so the
    # per-province comparison is a real split; scale 0.2 keeps it to ~30k dossiers.
    result = bench.main(out=tmp_path, units=140, incremental=False, compare_split=True,
                        dsn=fresh_dsn, scale=0.2)
    payload = json.loads((tmp_path / "results.json").read_text())
    stages = {s["name"]: s for s in payload["stages"]}
    assert set(stages) == {"raw_copy", "landing", "gate", "dbt_build"}
    assert stages["raw_copy"]["rows"] == result.dossiers + result.payments > 0
    # The same dossier and payment files, all landed (the gate counts exactly those); landing
    # also counts the catalogue and feedback rows it loaded in the same time.
    assert stages["gate"]["rows"] == stages["raw_copy"]["rows"]
    assert stages["landing"]["rows"] > stages["raw_copy"]["rows"]
    ratios = payload["ratios"]
    assert ratios["landing_rows_per_s_vs_copy"] > 0 and ratios["pipeline_seconds_vs_copy"] > 0
    assert result.split_by_province_identical is True
    assert "| raw_copy |" in (tmp_path / "results.md").read_text()


def test_growth_names_the_nodes_whose_time_grew_most_since_the_first_month():
    first = {"model.a": 2.0, "model.b": 3.3, "model.c": 10.0}
    later = {"model.a": 4.9, "model.b": 3.1, "model.c": 10.5, "model.new": 1.2}
    # a grew 2.9 s, new appeared (1.2), c grew 0.5, b shrank 0.2: in that order
    assert list(bench.growth(first, later, count=3).items()) == [
        ("model.a", [2.0, 4.9]), ("model.new", [0.0, 1.2]), ("model.c", [10.0, 10.5])]
