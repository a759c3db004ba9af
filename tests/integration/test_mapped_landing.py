"""Landing per province (the DAG's mapped `land`), then one gate over every landed province
(the DAG's `gate`), writes what one landing of the whole root writes: the same batches and
verdicts, every path of audit.inventory once, one audit.runs row; a province that fails
(to land, or its gate) is recorded, not dropped, and does not take the others with it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import rows, scratch_database

PROVINCES = ("01", "31", "79")
INVENTORY = """select period, province_code, unit_code, path, status, coalesce(reason, ''),
                      coalesce(batch_id, '')
               from audit.inventory order by path"""


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    from chiso import cli

    root = tmp_path_factory.mktemp("mapped-subs")
    for code in PROVINCES:
        assert cli.main(["generate", "--out", str(root), "--province", code,
                         "--periods", "2025-09", "--units", "2", "--seed", "5"]) == 0
    (root / "31 - Hai Phong").mkdir()          # not a province code: noted at the top
    (root / "notes.txt").write_text("x")       # a file at the top of the root
    (root / "31" / "readme.md").write_text("x")  # a file inside a province folder
    return root


@pytest.fixture
def second_dsn(server_dsn):
    with scratch_database(server_dsn) as dsn:
        yield dsn


def _job(root, province=None):
    from chiso import pipeline

    return pipeline.Job.from_params({"submissions": str(root), "period": "2025-09",
                                     "province": province, "cycle": "calendar"})


def _landed(job, run_id):
    """What the DAG's first tasks do: start the run, then land each province side by side."""
    from chiso import pipeline

    provinces = pipeline.start_run(job, run_id)

    def one(code):
        batches = pipeline.land_province(job, run_id, code)
        return {**pipeline.Job.with_batches(job, batches), "province_code": code}

    with ThreadPoolExecutor(len(provinces) or 1) as pool:
        return provinces, list(pool.map(one, provinces))


def _mapped(job, run_id):
    """What the DAG does: the mapped landings, then one gate over every landed province."""
    from chiso import pipeline

    provinces, landed = _landed(job, run_id)
    return provinces, pipeline.gate_landed(landed, run_id)


def test_mapped_landing_writes_what_one_landing_writes(submissions, fresh_dsn, second_dsn, monkeypatch):
    from chiso import pipeline

    monkeypatch.setenv("CHISO_LANDING_WORKERS", "1")
    job = _job(submissions)
    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    single = pipeline.land_submissions(job, "single")
    pipeline.run_gate({**job, "batch_ids": single}, "single")

    monkeypatch.setenv("WAREHOUSE_URL", second_dsn)
    provinces, gated = _mapped(job, "mapped")
    assert provinces == list(PROVINCES)
    assert sum(sum(g["verdicts"].values()) for g in gated) == len(single) == 6

    assert rows(second_dsn, INVENTORY) == rows(fresh_dsn, INVENTORY)
    statuses = dict(rows(second_dsn, "select status, count(*) from audit.inventory group by 1"))
    # manifest, notes.txt and "31 - Hai Phong" at the top, readme.md in 31: each once
    assert statuses["not_a_submission"] == 4 and statuses["landed"] >= 24
    batches = "select batch_id, province_code, status, verdict from raw.batches order by 1"
    assert rows(second_dsn, batches) == rows(fresh_dsn, batches)
    for table in ("raw.ho_so", "raw.thanh_toan", "audit.expectation_results"):
        count = f"select count(*) from {table}"
        assert rows(second_dsn, count) == rows(fresh_dsn, count)
    assert rows(second_dsn, "select run_id, period, province_code, status from audit.runs") == [
        ("mapped", "2025-09", None, "running")]

    # a retried province replaces its own rows (its files now "duplicate", as when a whole
    # landing is retried): every path still counted once, the other provinces untouched
    paths = "select province_code, path from audit.inventory order by path"
    before = rows(second_dsn, paths)
    pipeline.land_province(job, "mapped", "31")
    assert rows(second_dsn, paths) == before
    assert rows(second_dsn, "select count(*) from audit.inventory where status = 'duplicate' "
                            "and province_code <> '31'") == [(0,)]

    # the join: a province with no gate result is recorded and fails the run
    without_79 = [g for g in gated if g["province_code"] != "79"]
    job_after = pipeline.close_landing(job, "mapped", provinces, without_79)
    assert job_after["failed_provinces"] == ["79"] and job_after["verdicts"] == {"passed": 4}
    assert rows(second_dsn, "select detail->'failed_provinces', detail->'provinces'->'01' "
                            "from audit.runs") == [(["79"], {"passed": 2})]
    with pytest.raises(pipeline.RunIncomplete, match="running"):
        pipeline.check_run("mapped")
    pipeline.mark_failed("mapped", "task land: boom")
    with pytest.raises(pipeline.RunIncomplete, match="failed: task land: boom"):
        pipeline.check_run("mapped")


def test_a_province_run_maps_to_that_province_only(submissions, fresh_dsn, monkeypatch):
    from chiso import pipeline

    monkeypatch.setenv("CHISO_LANDING_WORKERS", "1")
    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    provinces, landed = _landed(_job(submissions, "31"), "p31")
    # one mapped landing reaches the gate as itself, not as a list of one
    gated = pipeline.gate_landed(landed[0], "p31")
    assert provinces == ["31"] and gated[0]["verdicts"] == {"passed": 2}
    assert gated[0]["province_code"] == "31" and gated[0]["batch_ids"] == []
    # one mapped result reaches the join as itself, not as a list of one
    joined = pipeline.close_landing(_job(submissions, "31"), "p31", provinces, gated[0])
    assert joined["failed_provinces"] == [] and joined["verdicts"] == {"passed": 2}
    # nothing outside the province is accounted for by its run
    assert rows(fresh_dsn, "select distinct province_code from audit.inventory") == [("31",)]
    # a run of the whole root finds 31 landed already and lands the others
    provinces, gated = _mapped(_job(submissions), "all")
    assert {g["province_code"]: g["verdicts"] for g in gated} == {
        "01": {"passed": 2}, "31": {}, "79": {"passed": 2}}
    assert rows(fresh_dsn, "select run_id, status from audit.runs order by 1") == [
        ("all", "running"), ("p31", "abandoned")]


def test_a_province_whose_gate_fails_does_not_take_the_others_with_it(submissions, fresh_dsn, monkeypatch):
    """The one gate run raises (province 79's batches break it): each province is then gated
    on its own; 01 and 31 get their verdicts, 79 none, and the join reports 79 failed."""
    from chiso import gate, pipeline

    monkeypatch.setenv("CHISO_LANDING_WORKERS", "1")
    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    job = _job(submissions)
    provinces, landed = _landed(job, "fallback")
    broken = set(next(j for j in landed if j["province_code"] == "79")["batch_ids"])
    assert provinces == list(PROVINCES) and len(broken) == 2
    real, calls = gate.run_gate, []

    def run_gate(dsn, run_id, batch_ids, **kwargs):
        calls.append(sorted(batch_ids))
        if broken & set(batch_ids):
            raise RuntimeError("province 79: a batch that breaks the gate")
        return real(dsn, run_id, batch_ids, **kwargs)

    monkeypatch.setattr("chiso.gate.run_gate", run_gate)
    gated = pipeline.gate_landed(landed, "fallback")
    assert {g["province_code"]: g["verdicts"] for g in gated} == {"01": {"passed": 2}, "31": {"passed": 2}}
    # the combined run first, then one per province
    assert calls[0] == sorted(b for j in landed for b in j["batch_ids"]) and len(calls) == 4
    assert rows(fresh_dsn, "select province_code, status, count(*) from raw.batches group by 1, 2 "
                           "order by 1") == [("01", "passed", 2), ("31", "passed", 2), ("79", "landed", 2)]
    assert rows(fresh_dsn, "select count(*) from audit.expectation_results where batch_id = any(%s)",
                (sorted(broken),)) == [(0,)]
    joined = pipeline.close_landing(job, "fallback", provinces, gated)
    assert joined["failed_provinces"] == ["79"] and joined["verdicts"] == {"passed": 4}

    # a gate that fails for every province fails the task (Airflow retries it; the join,
    # ALL_DONE, then reports them all failed)
    only_79 = [j for j in landed if j["province_code"] == "79"]
    with pytest.raises(RuntimeError, match="province 79"):
        pipeline.gate_landed(only_79[0], "fallback")
    with pytest.raises(RuntimeError, match="the gate failed for every province"):
        pipeline.gate_landed(only_79 * 2, "fallback")
    # nothing landed (every landing failed, or no province): nothing to gate
    assert pipeline.gate_landed(None, "fallback") == [] and pipeline.gate_landed([None], "fallback") == []
