"""The gate's GX expectation: an UnexpectedRowsExpectation that runs its query once.

GX's stock UnexpectedRowsExpectation asks two metrics of the same query, the rows (at most
200) and their count, so PostgreSQL evaluates every rule twice over the raw table. The
gate's queries return one row per failing batch, already aggregated, so fetching all of
them gives the count too: one scan per rule instead of two, and no re-read when more than
200 batches fail.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metrics.query_table.query_table import (
    QueryTable,
)

FINDINGS_METRIC = "chiso_failing_batches.table"
# Rule name by query, for the debug log of each query's time.
RULE_OF_QUERY: dict[str, str] = {}
log = logging.getLogger(__name__)


class FailingBatchesTable(QueryTable):
    """Every row of the rule's query (one per failing batch), not GX's first 200."""

    metric_name = FINDINGS_METRIC
    value_keys = ("unexpected_rows_query",)
    query_param_name: ClassVar[str] = "unexpected_rows_query"

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict[str, Any],
        runtime_configuration: dict,
    ) -> list[dict]:
        batch_selectable, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        rule_query = cls._get_query_from_metric_value_kwargs(metric_value_kwargs)
        query = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
            query=rule_query,
            batch_selectable=batch_selectable,
            execution_engine=execution_engine,
        )
        started = time.perf_counter()
        rows = cls._get_sqlalchemy_records_from_substituted_batch_subquery(
            substituted_batch_subquery=query, execution_engine=execution_engine, fetch_all=True
        )
        log.debug("gate rule %s: %d failing batches in %.2f s",
                  RULE_OF_QUERY.get(rule_query, "?"), len(rows), time.perf_counter() - started)
        return rows


class ExpectNoFailingBatches(UnexpectedRowsExpectation):
    """Passes when the rule's query returns no batch; observed value = failing batches."""

    metric_dependencies: ClassVar[tuple[str, ...]] = (FINDINGS_METRIC,)

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict:
        rows = metrics[FINDINGS_METRIC]
        return {
            "success": not rows,
            "result": {"observed_value": len(rows), "details": {"unexpected_rows": rows}},
        }
