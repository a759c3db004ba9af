"""The gate's fast timestamp test agrees with the exact one, on the embedded server (PG 16+)."""

from __future__ import annotations

import pytest

from chiso.gate.suites import plainly_valid_timestamp, valid_timestamp
from tests.conftest import rows

VALUES = [
    "2025-09-03 08:15:00", "2025-09-30 23:59:59", "2024-02-29 01:00:00", "1999-12-31 00:00:00",
    "2025-09-31 08:15:00", "2025-02-29 01:00:00", "2025-09-03 24:00:00", "2025-09-03 23:60:00",
    "2025-09-03 23:59:60", "3025-09-03 08:15:00", "0925-09-03 08:15:00", "2025-13-03 08:15:00",
    "2025-00-03 08:15:00", "2025-09-00 08:15:00", "2025-9-03 08:15:00", "2025-09-03T08:15:00",
    " 2025-09-03 08:15:00", "2025-09-03 08:15:00 ", "2025-09-03 08:15:00 +07", "2025-09-03 08:15:0a",
    "2025-09-03 08:15", "2025-09-03", "03/09/2025 08:15:00", "2025/09/03 08:15:00", "", "abc",
]


def test_fast_path_only_vouches_for_valid_values(fresh_dsn: str) -> None:
    if rows(fresh_dsn, "select current_setting('server_version_num')::int")[0][0] < 160000:
        pytest.skip("the fast path needs PostgreSQL 16+")
    result = rows(
        fresh_dsn,
        f"""select v, {plainly_valid_timestamp('v')}, {valid_timestamp('v')}
            from unnest(%s::text[]) v""",
        (VALUES,),
    )
    vouched = {v for v, fast, _ in result if fast}
    assert all(exact for v, fast, exact in result if fast), "fast path accepted an invalid value"
    # It is a fast path for the common shape, not a second opinion: the usual values use it.
    assert {"2025-09-03 08:15:00", "2024-02-29 01:00:00", "2025-09-30 23:59:59"} <= vouched
    assert "2025-09-31 08:15:00" not in vouched
