"""The arithmetic a report's figures obey: one definition of each rule, with one tolerance.

Reports state totals and their parts (total = carried over + received; received = online +
in person + postal; resolved = on time + late) and rates (part ÷ whole). The same rules serve
three readers, so they cannot drift apart:

- extraction (`chiso.extract.resolve`) uses them to choose between readings of a sentence
  and to give each figure its confidence, and (`checks`) to warn about a report that does
  not add up;
- the Great Expectations suite `report_figures` (`figure_sum` checks, `gate_checks()`);
- dbt's reconciliation (`var('report_tolerance')`, the same `TOLERANCE`).

`hard` rules are definitions: a report that breaks one is inconsistent (a warning) and the
figures involved lose confidence. Soft rules usually hold (handled = resolved + in progress
fails when the carried-over dossiers are counted apart); they only ever confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .lexicon import GROUPS

# Points and percentage points: half a unit in the first decimal, the coarsest precision
# scores and rates are published with. Counts are whole numbers and must add up exactly.
TOLERANCE = 0.05


def tolerance(value: float, kind: str = "sum") -> float:
    """Allowed difference for a stated `value`: TOLERANCE, or the rounding of a rate stated
    to fewer decimals ('đạt 86%' for 86,4%)."""
    if kind != "ratio":
        return TOLERANCE
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return max(TOLERANCE, 0.5 * 10.0**-decimals)


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # sum: total = Σ parts | ratio: total (a rate) = 100 × parts[0] ÷ a denominator
    total: str
    parts: tuple[str, ...]
    optional: tuple[str, ...] = ()  # sum parts a report may leave out (then Σ ≤ total)
    bases: tuple[str, ...] = ()  # ratio: denominators to try, in order; sum: other totals
    hard: bool = True
    meaning: str = ""


GROUP_SCORES = tuple(f"score_{g}" for g in GROUPS)

RULES: tuple[Rule, ...] = (
    Rule("total_equals_carried_plus_received", "sum", "dossiers_total",
         ("dossiers_carried_over", "dossiers_received"),
         meaning="total = carried over + received"),
    Rule("channels_sum_to_received", "sum", "dossiers_received",
         ("dossiers_received_online", "dossiers_received_direct"), ("dossiers_received_postal",),
         meaning="received = online + in person (+ postal)"),
    Rule("resolved_equals_on_time_plus_late", "sum", "dossiers_resolved",
         ("dossiers_resolved_on_time", "dossiers_resolved_late"),
         meaning="resolved = on time + late"),
    Rule("on_time_equals_early_plus_exact", "sum", "dossiers_resolved_on_time",
         ("dossiers_resolved_early", "dossiers_resolved_exactly_on_time"),
         meaning="on time = early + exactly on time"),
    Rule("in_progress_equals_on_time_plus_overdue", "sum", "dossiers_in_progress",
         ("dossiers_in_progress_on_time", "dossiers_in_progress_overdue"),
         meaning="in progress = within the deadline + overdue"),
    Rule("group_scores_sum_to_total", "sum", "score_total", GROUP_SCORES,
         meaning="total score = sum of the six group scores"),
    Rule("systems_sum_to_received", "sum", "dossiers_received",
         ("dossiers_received_system_city", "dossiers_received_system_ministry"), hard=False,
         meaning="received = on the city system + on ministries' systems"),
    Rule("handled_equals_resolved_plus_in_progress", "sum", "dossiers_total",
         ("dossiers_resolved", "dossiers_in_progress"), ("dossiers_withdrawn",), hard=False,
         meaning="total = resolved + in progress (+ withdrawn)"),
    Rule("handled_equals_outcomes", "sum", "dossiers_total",
         ("dossiers_resolved_on_time", "dossiers_resolved_late", "dossiers_in_progress"),
         ("dossiers_withdrawn",), hard=False,
         meaning="total = on time + late + in progress (+ withdrawn)"),
    Rule("procedures_sum_to_total", "sum", "procedures_total",
         ("procedures_online_full", "procedures_online_partial"), ("procedures_no_online",), hard=False,
         meaning="procedures = full online + partial online (+ none)"),
    Rule("feedback_received_equals_handled_plus_open", "sum", "feedback_received",
         ("feedback_resolved", "feedback_in_progress"), hard=False,
         meaning="feedback received = handled + in progress"),
    Rule("rate_online_matches_counts", "ratio", "rate_online", ("dossiers_received_online",),
         bases=("dossiers_received", "dossiers_total"), meaning="online rate = online ÷ received"),
    Rule("rate_on_time_matches_counts", "ratio", "rate_on_time", ("dossiers_resolved_on_time",),
         bases=("dossiers_resolved",), meaning="on-time rate = on time ÷ resolved"),
    Rule("rate_late_matches_counts", "ratio", "rate_late", ("dossiers_resolved_late",),
         bases=("dossiers_resolved",), hard=False, meaning="late rate = late ÷ resolved"),
    Rule("rate_paid_online_matches_counts", "ratio", "rate_paid_online", ("dossiers_paid_online",),
         bases=("dossiers_fee_bearing",), meaning="paid online rate = paid online ÷ fee-bearing"),
    Rule("rate_digitised_matches_counts", "ratio", "rate_digitised_input", ("dossiers_digitised",),
         bases=("dossiers_received", "dossiers_resolved", "dossiers_total"), hard=False,
         meaning="digitised rate = digitised ÷ dossiers"),
)
RULE_NAMES = {r.name for r in RULES}

# Totals a report may state only as their parts, derived by extraction (total ← parts). Not
# resolved ← on time + late: a 'không có hồ sơ quá hạn' zero would then turn every on-time
# count into a resolved count the document never states.
DERIVATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dossiers_resolved_on_time", ("dossiers_resolved_early", "dossiers_resolved_exactly_on_time")),
    ("dossiers_in_progress", ("dossiers_in_progress_on_time", "dossiers_in_progress_overdue")),
    ("dossiers_total", ("dossiers_carried_over", "dossiers_received")),
)
# a count stated as a fraction ('921/921 hồ sơ') names its base: one of these totals
FRACTION_BASES = ("dossiers_total", "dossiers_received", "dossiers_resolved", "dossiers_fee_bearing")


def with_derived(values: Mapping[str, float]) -> tuple[dict[str, float], set[str]]:
    """`values` plus the totals derivable from them, and the names derived."""
    out = dict(values)
    derived = set()
    for total, parts in DERIVATIONS:
        if total not in out and all(p in out for p in parts):
            out[total] = sum(out[p] for p in parts)
            derived.add(total)
    return out, derived


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    holds: bool
    members: tuple[str, ...]  # the figures the verdict is about
    stated: float  # the total (or rate) as stated
    computed: float  # what its parts give
    base: str | None = None  # ratio: the denominator used (a name, or "<part>'s stated base")
    base_value: float | None = None
    complete: bool = True  # sum: every part, optional ones included, was stated


def evaluate(values: Mapping[str, float], maxima: Mapping[str, float | None] | None = None,
             rules: tuple[Rule, ...] = RULES) -> list[Outcome]:
    """Every rule that the stated `values` let us check, with its verdict."""
    maxima = maxima or {}
    out = []
    for rule in rules:
        outcome = _sum(rule, values) if rule.kind == "sum" else _ratio(rule, values, maxima)
        if outcome is not None:
            out.append(outcome)
    return out


def _sum(rule: Rule, values: Mapping[str, float]) -> Outcome | None:
    if rule.total not in values or not all(p in values for p in rule.parts):
        return None
    present = [p for p in rule.optional if p in values]
    members = (rule.total, *rule.parts, *present)
    total = values[rule.total]
    summed = sum(values[p] for p in (*rule.parts, *present))
    complete = len(present) == len(rule.optional)
    tol = tolerance(total)
    holds = abs(total - summed) <= tol if complete else summed <= total + tol
    if not complete and summed < total - tol:
        return None  # a part the report leaves out may make up the rest: no verdict
    return Outcome(rule, holds, members, total, summed, complete=complete)


def _ratio(rule: Rule, values: Mapping[str, float], maxima: Mapping[str, float | None]) -> Outcome | None:
    part = rule.parts[0]
    if rule.total not in values or part not in values:
        return None
    rate, count = values[rule.total], values[part]
    candidates: list[tuple[str, float]] = []
    if maxima.get(part):
        candidates.append((f"{part}'s stated base", float(maxima[part])))  # '921/921 hồ sơ'
    candidates += [(b, values[b]) for b in rule.bases if b in values]
    first: Outcome | None = None
    for base, den in candidates:
        if not den:
            continue
        computed = 100.0 * count / den
        members = (rule.total, part) + ((base,) if base in values else ())
        outcome = Outcome(rule, abs(computed - rate) <= tolerance(rate, "ratio"), members, rate,
                          computed, base, den)
        if outcome.holds:
            return outcome
        first = first or outcome
    return first


def gate_checks() -> list[dict]:
    """The sum rules as the GX suite's `figure_sum` checks (hard rules only; names lower case)."""
    out = []
    for rule in RULES:
        if rule.kind != "sum" or not rule.hard:
            continue
        out.append({
            "kind": "figure_sum",
            "total": rule.total.lower(),
            "parts": [p.lower() for p in rule.parts],
            "optional_parts": [p.lower() for p in rule.optional],
            "tolerance": TOLERANCE,
        })
    return out
