"""
### chiso_monthly: land → gate → re-extract reports → build marts → publish, for one period (and province)

Scores the Decision 766 service-quality index of every commune for one reporting month, and
the quarter and year to date that contain it.

| task | does | connects as |
|---|---|---|
| `provinces` | records the run in `audit.runs`; lists the provinces to land | `chiso_loader` |
| `land` | mapped per province: each unit's folder into `raw`; paths in `audit.inventory` | `chiso_loader` |
| `gate` | one GX run over every landed province: `error` quarantines, `warn` reports | `chiso_loader` |
| `reextract_reports` | provinces' outcome in `audit.runs`; re-extracts outdated reports | `chiso_loader` |
| `build_marts` | `dbt build` of the month, quarter, year; restatements; publication | `chiso_transformer` |
| `publish` | ranking CSV and chart, DQ summary, Data Docs | `chiso_auditor` (read-only) |
| `finish` | fails the run when a province did not land or pass the gate | `chiso_loader` |

Landing does client-side work (reading files, hashing, extracting reports): Celery workers
land provinces side by side. The gate's work is SQL run by PostgreSQL, and gate runs on one
warehouse take turns (an advisory lock): one gate task judges every landed province's
batches, paying GX's start-up once.

**Schedule**: 06:00 on the 5th of each month, Vietnam time; a scheduled run scores the
month before its logical date read in Vietnam time (`chiso.periods.reporting_month`).

**Params** (trigger with a conf, or `chiso run`): `period` (`YYYY-MM`; default: derived as
above), `province` (2-digit code; default: all), `submissions` (default:
`CHISO_SUBMISSIONS_DIR`), `cycle` (`calendar` or `15th`; default: `CHISO_PERIOD_CYCLE`),
`publish` (freeze the period's scores after the build; default: false).
Re-running a period replaces its output.

**Warehouse**: the Airflow connection `chiso_warehouse` (the bootstrap account; each task
logs in as its own role on the same server), else `WAREHOUSE_URL`, else the embedded
server.
"""

import logging

import pendulum
from airflow.sdk import Param, TriggerRule, dag, task

PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
PROVINCE_PATTERN = r"^[0-9]{2}$"


def _mark_run_failed(context):
    """A failed task marks the run failed in audit.runs (a killed run is found by the next)."""
    from chiso import pipeline

    pipeline.use_airflow_connection()
    pipeline.mark_failed(context["run_id"], f"task {context['ti'].task_id}: {context.get('exception')}")


default_args = {"owner": "chiso", "retries": 1, "retry_delay": pendulum.duration(seconds=30),
                "on_failure_callback": _mark_run_failed}


@dag(
    description="Decision 766 index: land, gate, build marts and publish one month's submissions",
    doc_md=__doc__,
    schedule="0 6 5 * *",
    start_date=pendulum.datetime(2025, 7, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={
        "period": Param(None, type=["null", "string"], pattern=PERIOD_PATTERN,
                        title="Reporting month",
                        description="YYYY-MM, e.g. 2025-09; empty: the month before the logical date"),
        "province": Param(None, type=["null", "string"], pattern=PROVINCE_PATTERN,
                          title="Province code",
                          description="2-digit 2025 province code, e.g. 31 (Hải Phòng); empty: all"),
        "submissions": Param(None, type=["null", "string"], minLength=1,
                             title="Submissions folder",
                             description="root of <province>/<unit>/<YYYY-MM>/; empty: "
                                         "CHISO_SUBMISSIONS_DIR"),
        "publish": Param(False, type="boolean", title="Publish",
                         description="freeze the period's scores after the build (a publication: "
                                     "later changes become restatements)"),
        "cycle": Param(None, type=["null", "string"], enum=[None, "calendar", "15th"],
                       title="Period cycle",
                       description="calendar month or 15th-14th; empty: CHISO_PERIOD_CYCLE"),
    },
    tags=["chiso", "decision-766"],
)
def chiso_monthly():
    @task(doc_md="""Start the run as `chiso_loader`: record it in `audit.runs`, account for the
    paths at the top of the submissions root, and list the provinces to land (the `province`
    param, else every province folder). Returns one job per province: `land` is mapped over
    them.""")
    def provinces(params=None, run_id=None, logical_date=None):
        from chiso import pipeline

        source = pipeline.use_airflow_connection()
        job = pipeline.Job.from_params(params, logical_date)
        logging.getLogger("chiso").info("run %s: period %s, province %s, warehouse from %s",
                                        run_id, job["period"], job["province"] or "all", source)
        return [{**job, "province_code": code} for code in pipeline.start_run(job, run_id)]

    @task(doc_md="""Survey and land one province's submissions into `raw` as `chiso_loader`
    (one mapped instance per province: Celery workers land provinces in parallel); every path
    is recorded in `audit.inventory`. Returns the job and the province's batches to gate.""")
    def land(job, run_id=None):
        from chiso import pipeline

        pipeline.use_airflow_connection()
        return pipeline.Job.with_batches(job, pipeline.land_province(job, run_id, job["province_code"]))

    @task(trigger_rule=TriggerRule.ALL_DONE,
          doc_md="""Once every province's landing is done (whatever became of it), one Great
    Expectations gate as `chiso_loader` over the batches of every province that landed:
    verdicts in `raw.batches`, results in `audit.expectation_results`. Returns one result per
    landed province. Should that one gate run raise, each province is gated on its own: a
    province whose own gate fails gets no result and is reported failed, the others keep
    their verdicts (`chiso.pipeline.gate_landed`).""")
    def gate(landed, run_id=None):
        from chiso import pipeline

        pipeline.use_airflow_connection()
        return pipeline.gate_landed(landed, run_id)

    @task(trigger_rule=TriggerRule.ALL_DONE,
          doc_md="""Once the gate is done (a province that failed to land or pass it is recorded
    in `audit.runs`, the others go on), extract again, as `chiso_loader`, the landed reports
    (`bao_cao`) whose figures an older extractor wrote (`chiso.extract.store`: raw keeps each
    report as delivered).""")
    def reextract_reports(planned, gated, params=None, run_id=None, logical_date=None):
        from airflow.sdk.exceptions import AirflowSkipException

        from chiso import pipeline
        from chiso.extract import store

        if planned is None:  # the run never started (`provinces` failed): nothing to build
            raise AirflowSkipException("the run did not start")
        pipeline.use_airflow_connection()
        job = {k: v for k, v in planned[0].items() if k != "province_code"} if planned else \
            pipeline.Job.from_params(params, logical_date)
        job = pipeline.close_landing(job, run_id, [p["province_code"] for p in planned], gated)
        store.reextract_warehouse()
        return job

    @task(doc_md="""`dbt build` for the period as `chiso_transformer` (one build at a time); a
    published figure it changes is written to the restatement ledger with its cause, and with
    the `publish` param the period's scores are frozen as a publication.""")
    def build_marts(job):
        from chiso import pipeline

        pipeline.use_airflow_connection()
        return pipeline.build_marts(job)

    @task(doc_md="""Reports for the period under the reports folder, read as `chiso_auditor`.""")
    def publish(job, run_id=None):
        from chiso import pipeline

        pipeline.use_airflow_connection()
        return pipeline.publish_reports(job, run_id)

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0,
          doc_md="""The run's verdict from `audit.runs`: fails the DAG run when a province did not
    land or pass the gate (the others were built and published), or any task failed.""")
    def finish(run_id=None):
        from chiso import pipeline

        pipeline.use_airflow_connection()
        return pipeline.check_run(run_id)

    planned = provinces()
    gated = gate(land.expand(job=planned))
    published = publish(build_marts(reextract_reports(planned, gated)))
    published >> finish()


chiso_monthly()
