"""chiso_monthly: land → gate → dbt build → publish, for one period (and province).

Scheduled runs score the month of their data interval from CHISO_SUBMISSIONS_DIR;
`chiso run` passes submissions, period, province and cycle in the run's conf.
"""

import pendulum
from airflow.sdk import dag, task


def _mark_run_failed(context):
    """A failed task marks the run failed in audit.runs (a killed run is found by the next)."""
    from chiso import pipeline

    pipeline.mark_failed(context["run_id"], f"task {context['ti'].task_id}: {context.get('exception')}")


default_args = {"retries": 1, "retry_delay": pendulum.duration(seconds=30),
                "on_failure_callback": _mark_run_failed}


@dag(
    schedule="@monthly",
    start_date=pendulum.datetime(2025, 7, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={"submissions": "", "period": "", "province": "", "cycle": ""},
    tags=["chiso"],
)
def chiso_monthly():
    @task
    def land(params=None, run_id=None, data_interval_start=None):
        from chiso import pipeline

        job = pipeline.Job.from_params(params, data_interval_start)
        return pipeline.Job.with_batches(job, pipeline.land_submissions(job, run_id))

    @task
    def gate(job, run_id=None):
        from chiso import pipeline

        return pipeline.run_gate(job, run_id)

    @task
    def build_marts(job):
        from chiso import pipeline

        return pipeline.build_marts(job)

    @task
    def publish(job, run_id=None):
        from chiso import pipeline

        return pipeline.publish_reports(job, run_id)

    publish(build_marts(gate(land())))


chiso_monthly()
