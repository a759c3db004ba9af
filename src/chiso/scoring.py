"""The scoring rules as the dbt seeds state them, for Python readers (the report extractor,
reports): group names and maxima, criteria, rating bands. The seeds under
`dbt_project/seeds/` are the one place these are written; the models read the same files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from chiso import config


@dataclass(frozen=True)
class Group:
    code: str
    name_vi: str
    name_en: str
    portal_field: str
    max_points: float
    display_order: int


@dataclass(frozen=True)
class Criterion:
    code: str
    group_code: str
    name_vi: str
    name_en: str
    max_points: float


def _rows(seed: str) -> list[dict[str, str]]:
    with (config.dbt_dir() / "seeds" / f"{seed}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _current(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows of the newest rule version (versions sort by their label, v2026.1 < v2027.1)."""
    latest = max(r["rule_version"] for r in rows)
    return [r for r in rows if r["rule_version"] == latest]


def check_rules_in_force(period: str) -> None:
    """Refuse a period no rule version scores (ScopeError, before anything lands): its
    batches would pass the gate and then leave every later build of its year without rules,
    in every province. A period is scored by the rules in force on the first day of the
    month it is labelled with, whatever the cycle (the 15th cycle's 2025-07 starts 15 June)."""
    from chiso.inventory import ScopeError

    first_day = date.fromisoformat(f"{period}-01")
    rows = _rows("scoring_rules")
    if not any(date.fromisoformat(r["effective_from"]) <= first_day
               and (not r["effective_to"] or first_day < date.fromisoformat(r["effective_to"]))
               for r in rows):
        start = min(r["effective_from"] for r in rows)
        raise ScopeError(f"period {period}: no scoring rules are in force for it (the index's rules "
                         f"apply from {start}, dbt_project/seeds/scoring_rules.csv); nothing was loaded")


@lru_cache(maxsize=1)
def groups() -> dict[str, Group]:
    """Group code → group, in display order, under the newest rule version."""
    rows = sorted(_current(_rows("scoring_groups")), key=lambda r: int(r["display_order"]))
    return {r["group_code"]: Group(r["group_code"], r["group_name_vi"], r["group_name_en"],
                                   r["portal_field"], float(r["max_points"]), int(r["display_order"]))
            for r in rows}


@lru_cache(maxsize=1)
def criteria() -> dict[str, Criterion]:
    """Criterion code → criterion, under the newest rule version in force (no effective_to)."""
    rows = [r for r in _current(_rows("scoring_rules")) if not r["effective_to"]]
    return {r["criterion_code"]: Criterion(r["criterion_code"], r["group_code"], r["criterion_name_vi"],
                                           r["criterion_name_en"], float(r["max_points"]))
            for r in rows}


@lru_cache(maxsize=1)
def rating_bands() -> tuple[tuple[float, str], ...]:
    """(minimum points, rating), highest first."""
    rows = _current(_rows("rating_bands"))
    return tuple(sorted(((float(r["min_points"]), r["rating"]) for r in rows), reverse=True))


def rating_for(total: float) -> str:
    return next(rating for floor, rating in rating_bands() if total >= floor)


def total_max() -> float:
    return sum(g.max_points for g in groups().values())
