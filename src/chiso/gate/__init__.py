"""Great Expectations gate between landing and dbt (DESIGN §4).

`run_gate(conn_url, run_id, batch_ids)` validates the batches landed in a run, once per
source table, and returns a `Verdict` per batch; `build_data_docs()` renders the GX Data
Docs. One module per purpose:

- `suites`: the rules, from `expectations/suites/*.yml`, compiled to SQL by check family;
- `gx_adapter`: those rules as GX suites and checkpoints, run over the warehouse;
- `verdicts`: what the findings mean for each batch (pure functions);
- `record`: results, violations and statuses written in one transaction;
- `docs`: GX Data Docs;
- `runner`: the story: scope the run's batches, validate, judge, record.
"""

from chiso.gate.docs import build_data_docs
from chiso.gate.gx_adapter import GateError
from chiso.gate.runner import run_gate
from chiso.gate.suites import Rule, Suite, SuiteError, load_suites
from chiso.gate.verdicts import Verdict

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
