"""One province failing in the mapped DAG: the others land, are gated (the one gate runs for
the provinces that landed), built and published; the failed one is recorded in audit.runs and
the DAG run fails (not a silent success)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, rows

pytestmark = pytest.mark.slow

# dag.test() in one process, province 79's landing broken (after the DAG is parsed, the
# tasks import chiso.pipeline and find the broken function), no retries.
SCRIPT = """
import json, sys
from chiso import pipeline
real = pipeline.land_province
def broken(job, run_id, province):
    if province == "79":
        raise RuntimeError("province 79: disk on fire")
    return real(job, run_id, province)
pipeline.land_province = broken
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["chiso_monthly"]
for task in dag.tasks:
    task.retries = 0
run = dag.test(run_conf=json.loads(sys.argv[2]))
states = {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in run.get_task_instances()}
print("RESULT " + json.dumps({"run": str(run.state), "run_id": run.run_id, "tasks": states}))
"""


def test_a_failed_province_is_recorded_and_fails_the_run(tmp_path, fresh_dsn, monkeypatch):
    from chiso import cli, orchestrator

    submissions = tmp_path / "submissions"
    for code in ("31", "79"):
        assert cli.main(["generate", "--out", str(submissions), "--province", code,
                         "--periods", "2025-09", "--units", "2", "--seed", "5"]) == 0
    monkeypatch.setenv("WAREHOUSE_URL", fresh_dsn)
    env = orchestrator.airflow_env(fresh_dsn)
    orchestrator.ensure_airflow_db(env)
    conf = {"submissions": str(submissions), "period": "2025-09", "cycle": "calendar"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(REPO / "dags"), json.dumps(conf)],
                          env=env, capture_output=True, text=True, timeout=600)
    [line] = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")] or [proc.stderr[-3000:]]
    result = json.loads(line.removeprefix("RESULT "))
    tasks = {k: v.rsplit(".", 1)[-1].lower() for k, v in result["tasks"].items()}
    assert result["run"].rsplit(".", 1)[-1].lower() == "failed"
    # provinces are mapped largest first; here both have two units: 31 then 79
    assert tasks["land[0]"] == "success" and tasks["land[1]"] == "failed"
    assert not any(name.startswith("province.") for name in tasks)  # no task group any more
    for name in ("gate[-1]", "reextract_reports[-1]", "build_marts[-1]", "publish[-1]"):
        assert tasks[name] == "success", name
    assert tasks["finish[-1]"] == "failed"
    # the others were built; the run says which province is missing, and why it failed
    assert rows(fresh_dsn, "select province_code, count(*) from marts.unit_ranking "
                           "where period = '2025-09' group by 1") == [("31", 2)]
    assert rows(fresh_dsn, "select province_code, status, count(*) from raw.batches "
                           "group by 1, 2") == [("31", "passed", 2)]
    assert rows(fresh_dsn, "select detail->'provinces' from audit.runs") == [({"31": {"passed": 2}},)]
    [(status, failed, reason)] = rows(fresh_dsn, "select status, detail->'failed_provinces', "
                                                 "detail->>'reason' from audit.runs")
    assert (status, failed) == ("failed", ["79"])
    assert "79" in reason
