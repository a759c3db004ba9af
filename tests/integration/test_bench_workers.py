"""The 1 → 2 worker measurement of the mapped landing and the one gate (chiso.bench_workers), small."""

from __future__ import annotations

import pytest

from tests.conftest import rows

pytestmark = pytest.mark.bench


def test_worker_speedup_is_measured_on_scratch_databases(tmp_path, server_dsn, monkeypatch):
    from chiso import cli
    from chiso.bench_workers import measure_worker_speedup

    for code in ("01", "31"):
        assert cli.main(["generate", "--out", str(tmp_path), "--province", code,
                         "--periods", "2025-09", "--units", "2", "--seed", "5"]) == 0
    monkeypatch.setenv("WAREHOUSE_URL", server_dsn)
    before = rows(server_dsn, "select count(*) from pg_database")
    result = measure_worker_speedup(tmp_path, "2025-09", (1, 2), server_dsn=server_dsn)
    assert result["provinces"] == ["01", "31"] and result["units"] == 4
    assert result["rows"]["ho_so"] > 0
    for n in ("1", "2"):
        run = result["runs"][n]
        assert run["seconds"] > 0 and set(run["per_province"]) == {"01", "31"}
        assert all(p["verdicts"] == {"passed": 2} and p["batches"] == 2 for p in run["per_province"].values())
        # one gate, once every province has landed
        assert run["gate"]["batches"] == 4 and run["gate"]["seconds"] > 0
        assert run["gate"]["start"] >= max(p["end"] for p in run["per_province"].values())
        assert run["landing_seconds"] + run["gate_seconds"] == pytest.approx(run["seconds"], abs=0.15)
    assert len({p["worker"] for p in result["runs"]["2"]["per_province"].values()}) in (1, 2)
    assert result["speedup"]["1"] == 1.0 and result["speedup"]["2"] > 0
    assert set(result["landing_seconds"]) == set(result["gate_seconds"]) == {"1", "2"}
    assert result["gate_wait_seconds"]["1"] == 0
    assert result["gate_lock_wait_seconds"] == {"1": 0, "2": 0}  # one gate per run: nothing waits
    assert rows(server_dsn, "select count(*) from pg_database") == before  # scratch databases dropped
