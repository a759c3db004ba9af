"""Reporting periods: a month label YYYY-MM with explicit start and end dates.

Two cycles are in use: the calendar month, and the 15th-14th cycle that commune
reports use (seed 002: "tháng 02 năm 2026" runs 15/01/2026 to 14/02/2026).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

CYCLES = ("calendar", "15th")


@dataclass(frozen=True)
class Period:
    label: str  # YYYY-MM
    start: date
    end: date  # inclusive

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def previous_label(self) -> str:
        year, month = map(int, self.label.split("-"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return f"{year:04d}-{month:02d}"


def default_cycle() -> str:
    return os.environ.get("CHISO_PERIOD_CYCLE", "calendar")


def period_window(label: str, cycle: str | None = None) -> Period:
    cycle = cycle or default_cycle()
    match = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"period must look like YYYY-MM, got {label!r}")
    if cycle not in CYCLES:
        raise ValueError(f"period cycle must be one of {CYCLES}, got {cycle!r}")
    year, month = int(match[1]), int(match[2])
    first = date(year, month, 1)
    next_first = date(year + month // 12, month % 12 + 1, 1)
    if cycle == "calendar":
        return Period(label, first, next_first - timedelta(days=1))
    prev_first = (first - timedelta(days=1)).replace(day=1)
    return Period(label, prev_first.replace(day=15), first.replace(day=14))


def period_range(spec: str, cycle: str | None = None) -> list[Period]:
    """'2025-07:2025-09' → three periods; a single 'YYYY-MM' → one."""
    first, _, last = spec.partition(":")
    last = last or first
    periods = [period_window(first, cycle)]
    while periods[-1].label < last:
        year, month = map(int, periods[-1].label.split("-"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        periods.append(period_window(f"{year:04d}-{month:02d}", cycle))
    if periods[-1].label != last:
        raise ValueError(f"period range {spec!r} ends before it starts")
    return periods


VIETNAM = "Asia/Ho_Chi_Minh"


def reporting_month(logical_date: datetime | None) -> str:
    """The month a scheduled run scores: the month before its logical date, read in Vietnam
    time. The monthly schedule fires on the 5th (Vietnam) for the month just ended, and an
    Airflow 3 cron run's logical date is the instant it fires: at 00:30 on the 1st in
    Hà Nội it is still the previous month in UTC, so the zone is explicit, never the
    server's. A manual run without a logical date scores the month before today's."""
    from zoneinfo import ZoneInfo

    local = (logical_date or datetime.now(UTC)).astimezone(ZoneInfo(VIETNAM))
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    return f"{year:04d}-{month:02d}"
