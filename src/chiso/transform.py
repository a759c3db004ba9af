"""Run dbt (in-process, dbtRunner) against the warehouse."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from chiso import config, warehouse

log = logging.getLogger(__name__)


class TransformError(RuntimeError):
    pass


def target_dir() -> Path:
    """dbt's target/ (manifest, catalog, docs): under the state dir, not the checkout."""
    return config.state_dir() / "dbt" / "target"


def dbt(args: list[str], dsn: str | None = None) -> None:
    """Run a dbt command; raise TransformError naming each failed node."""
    from dbt.cli.main import dbtRunner

    os.environ.update(warehouse.dbt_env(dsn))
    # Plain text in Airflow's task logs and dbt's own log file: no ANSI colour codes.
    os.environ.update(DBT_USE_COLORS="false", DBT_USE_COLORS_FILE="false")
    project = str(config.dbt_dir())
    full_args = [
        *args,
        "--project-dir", project,
        "--profiles-dir", project,
        "--target-path", str(target_dir()),
        "--log-path", str(config.logs_dir() / "dbt"),
    ]
    log.info("dbt %s", " ".join(args))
    result = dbtRunner().invoke(full_args)
    if result.success:
        return
    failures = []
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in ("error", "fail"):
            failures.append(f"{node.node.unique_id}: {node.message}")
    detail = "; ".join(failures) or str(result.exception)
    raise TransformError(f"dbt {args[0]} failed: {detail}")


def build(period: str | None = None, dsn: str | None = None) -> None:
    # dbt's unit tests check the models' logic on fixed inputs, not the month's data: they
    # run in `make test` (tests/integration/test_dbt_project.py), not in every month's build
    args = ["build", "--exclude-resource-type", "unit_test"]
    variables = {"period": period} if period else {}
    if config.audit_rollups():
        variables["audit_rollups"] = True
    if variables:
        args += ["--vars", json.dumps(variables)]
    dbt(args, dsn)
