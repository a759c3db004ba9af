"""Great Expectations gate between landing and dbt (DESIGN §4).

`run_gate(conn_url, run_id, batch_ids)` validates the batches landed in a run, once per
source table, and returns a `Verdict` per batch; `build_data_docs()` renders the GX Data
Docs. Suites are declared in `expectations/suites/*.yml`.
"""

from chiso.gate.runner import GateError, Verdict, build_data_docs, run_gate
from chiso.gate.suites import Rule, Suite, SuiteError, load_suites

__all__ = [
    "GateError",
    "Rule",
    "Suite",
    "SuiteError",
    "Verdict",
    "build_data_docs",
    "load_suites",
    "run_gate",
]
