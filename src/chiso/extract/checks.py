"""Internal consistency checks on extracted figures → warnings (never errors).

The rules and their tolerance are `arithmetic.RULES` and `arithmetic.TOLERANCE`; only hard
rules (definitions) warn. A score above its group's maximum warns too.
"""

from __future__ import annotations

from .arithmetic import GROUP_SCORES, Outcome, evaluate, tolerance
from .model import Figure, Finding
from .numbers import format_number as fmt


def check(figures: list[Figure]) -> list[Finding]:
    by = {f.name: f for f in figures}
    values = {f.name: f.value for f in figures}
    maxima = {f.name: f.max_value for f in figures}
    out: list[Finding] = []
    for outcome in evaluate(values, maxima):
        if outcome.holds or not outcome.rule.hard:
            continue
        out.append(Finding(outcome.rule.name, message(outcome, values), by[outcome.rule.total].line_no))
    for g in [*GROUP_SCORES, "score_total"]:
        fig = by.get(g)
        if fig and fig.max_value is not None and fig.value > fig.max_value + tolerance(fig.value):
            out.append(
                Finding(
                    "group_scores_sum_to_total",
                    f"{g} {fmt(fig.value)} exceeds its maximum {fmt(fig.max_value)}",
                    fig.line_no,
                )
            )
    return out


def message(outcome: Outcome, values: dict[str, float]) -> str:
    rule = outcome.rule
    if rule.kind == "ratio":
        part = rule.parts[0]
        return (
            f"{rule.total} {fmt(outcome.stated)}% ≠ {part} {fmt(values[part])} / {outcome.base} "
            f"{fmt(outcome.base_value or 0)} = {outcome.computed:.2f}%"
        )
    parts = [m for m in outcome.members if m != rule.total]
    summed = " + ".join(f"{p} {fmt(values[p])}" for p in parts)
    computed = fmt(outcome.computed) if float(outcome.computed).is_integer() else f"{outcome.computed:.2f}"
    if outcome.complete:
        return f"{rule.total} {fmt(outcome.stated)} ≠ {summed} = {computed}"
    return f"{summed} = {computed} > {rule.total} {fmt(outcome.stated)}"
