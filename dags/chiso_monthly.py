"""chiso_monthly: land → gate → dbt build → publish, for one period (and province)."""

import pendulum
from airflow.sdk import dag, task

default_args = {"retries": 1, "retry_delay": pendulum.duration(seconds=30)}


@dag(
    schedule="@monthly",
    start_date=pendulum.datetime(2025, 7, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={"submissions": "submissions", "period": "2025-09", "province": "31", "cycle": "calendar"},
    tags=["chiso"],
)
def chiso_monthly():
    @task
    def land(params=None, run_id=None):
        from chiso import pipeline

        return pipeline.land_submissions(
            params["submissions"], params["period"], params["province"], run_id, params["cycle"]
        )

    @task
    def gate(batch_ids, run_id=None):
        from chiso import pipeline

        return pipeline.run_gate(batch_ids, run_id)

    @task
    def build_marts(verdicts, params=None):
        from chiso import pipeline

        pipeline.build_marts(params["period"])

    @task
    def publish(params=None, run_id=None):
        from chiso import pipeline

        return pipeline.publish_reports(params["period"], params["province"], run_id)

    build_marts(gate(land())) >> publish()


chiso_monthly()
