"""From all readings of a document to figures and candidates, using the report's own arithmetic.

A reading carries a base confidence from how its name was found (`grammar.BASE_CONFIDENCE`).
Then, in order:

1. One value per name: a name read twice with different values keeps the value that
   satisfies more rules (`arithmetic.RULES`); if the rules cannot tell, the first one, with
   less confidence (`-conflict`).
2. Assignments: within a sentence or table row, two readings of the same unit may have
   been given each other's labels ('tiếp nhận 45 hồ sơ trực tuyến và 120 trực tiếp' read the
   wrong way round). Of the alternative assignments that swap two values, the one that
   satisfies the most rules wins, if it satisfies more than the reading as is.
3. Confidence: each hard rule a figure breaks takes `BREAK_PENALTY` off; each rule it
   satisfies (hard or soft) removes `CONFIRM_SHARE` of its remaining doubt. The rules used
   are listed in `Figure.support` ('+channels_sum_to_received', '-…').
4. A reading below `CONFIDENT` is a candidate: reported apart, never reconciled.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from .arithmetic import DERIVATIONS, FRACTION_BASES, evaluate, with_derived
from .model import CONFIDENT, Figure

BREAK_PENALTY = 0.2
CONFIRM_SHARE = 0.6
CONFLICT_PENALTY = 0.35  # a name stated with two values the rules cannot choose between
REASSIGNED = 0.45  # before the rules it now satisfies confirm it


def _outcomes(values: dict[str, float], maxima: dict[str, float | None]):
    """Rule verdicts on the stated values and the totals derived from them (a derived total
    is not checked against the parts it was derived from; elsewhere it stands for them)."""
    full, derived = with_derived(values)
    parts = dict(DERIVATIONS)
    out = []
    for o in evaluate(full, maxima):
        if o.rule.total in derived:
            continue
        members = tuple(m for name in o.members for m in (parts[name] if name in derived else (name,)))
        out.append(replace(o, members=members))
    return out


def _objective(values: dict[str, float], maxima: dict[str, float | None]) -> tuple[float, int]:
    score, broken = 0.0, 0
    for outcome in _outcomes(values, maxima):
        if outcome.holds:
            score += 1.0 if outcome.rule.hard else 0.5
        elif outcome.rule.hard:
            score -= 1.0
            broken += 1
    return score, broken


def resolve(
    readings: list[Figure], numbers: dict[int, list[tuple[float, bool]]] | None = None
) -> tuple[list[Figure], list[Figure], list[tuple[Figure, Figure]]]:
    """(figures, candidates, conflicts): conflicts are (kept, other) pairs of one name.
    `numbers`: every number of each sentence (value, is a percentage), for reassignments."""
    kept, conflicts = _one_value_per_name(readings)
    _denominators(kept)
    kept = _best_assignment(kept, numbers or {})
    _confidence(kept)
    figures = [f for f in kept if f.confidence >= CONFIDENT]
    candidates = [f for f in kept if f.confidence < CONFIDENT]
    return figures, candidates, conflicts


def _one_value_per_name(readings: list[Figure]) -> tuple[list[Figure], list[tuple[Figure, Figure]]]:
    by_name: dict[str, list[Figure]] = {}
    for fig in readings:
        by_name.setdefault(fig.name, []).append(fig)
    first = {name: figs[0] for name, figs in by_name.items()}
    values = {n: f.value for n, f in first.items()}
    maxima = {n: f.max_value for n, f in first.items()}
    conflicts: list[tuple[Figure, Figure]] = []
    for name, figs in by_name.items():
        distinct = list({f.value: f for f in reversed(figs)}.values())[::-1]  # first of each value
        chosen = figs[0]
        if len(distinct) > 1:
            scored = []
            for k, fig in enumerate(distinct):
                trial = {**values, name: fig.value}
                scored.append((_objective(trial, maxima)[0], -k, fig))
            scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
            best, runner_up = scored[0], scored[1]
            chosen = best[2]
            chosen = replace(chosen, support=[*chosen.support])
            if best[0] == runner_up[0]:
                chosen.confidence = round(chosen.confidence - CONFLICT_PENALTY, 3)
                chosen.support.append("-conflict")
            else:
                chosen.support.append("+conflict_resolved_by_arithmetic")
            values[name] = chosen.value
            conflicts += [(chosen, f) for f in distinct if f is not best[2]]
        else:
            chosen = replace(chosen, support=[*chosen.support])
            restated = [f for f in figs[1:] if f.max_value is not None]
            if chosen.max_value is None and restated:
                chosen.max_value = restated[0].max_value
            # stated again elsewhere, and surely read at least once: as sure as the surest
            # reading, and a little more
            best = max(figs, key=lambda f: f.confidence)
            if best.confidence >= CONFIDENT and any(f.line_no != best.line_no for f in figs):
                chosen.confidence = round(1 - (1 - best.confidence) * 0.7, 3)
                chosen.support.append("+restated")
        first[name] = chosen
    order = {id(f): k for k, f in enumerate(readings)}
    out = sorted(first.values(), key=lambda f: min(order.get(id(g), 10**9) for g in by_name[f.name]))
    return out, conflicts


def _alternatives(figures: list[Figure], numbers: dict[int, list[tuple[float, bool]]]):
    """Other assignments of a sentence's numbers: two figures swap values, or a figure takes
    a number of its sentence that no figure took ('Số hồ sơ … thanh toán trực tuyến: 81'
    after OCR turned 'Số' into '56')."""
    for i, j in itertools.combinations(range(len(figures)), 2):
        a, b = figures[i], figures[j]
        if (
            a.sentence is None
            or a.sentence != b.sentence
            or a.unit != b.unit
            or a.value == b.value
            or a.derived
            or b.derived
        ):
            continue
        if _own_words(a) and _own_words(b):
            continue  # each named by its own words: the report may be wrong, not the reading
        yield {i: b.value, j: a.value}, f"swapped_with:{b.name}", f"swapped_with:{a.name}"
    for i, fig in enumerate(figures):
        if fig.sentence is None or fig.derived or fig.sentence not in numbers:
            continue
        taken = {f.value for f in figures if f.sentence == fig.sentence}
        for value, percent in numbers[fig.sentence]:
            if value in taken or percent != (fig.unit == "percent"):
                continue
            if fig.unit == "count" and not float(value).is_integer():
                continue
            yield {i: value}, f"reassigned_from:{fig.value:g}", ""


def _denominators(figures: list[Figure]) -> None:
    """'38/114': the number of units ranked is as sure as the rank it was read with."""
    ranked = next((f for f in figures if f.name == "units_ranked"), None)
    if ranked is None:
        return
    for fig in figures:
        if fig.unit == "rank" and fig.max_value == ranked.value and fig.line_no == ranked.line_no:
            if fig.confidence > ranked.confidence:
                ranked.confidence = fig.confidence
                ranked.support.append(f"+denominator_of:{fig.name}")
            return


def _own_words(fig: Figure) -> bool:
    return bool(fig.support) and fig.support[0] in ("keyword", "table_cell", "score_table")


def _best_assignment(figures: list[Figure], numbers: dict[int, list[tuple[float, bool]]]) -> list[Figure]:
    for _ in range(3):
        # only sure readings may vouch for a new assignment ('8o, 05%' read as 5% must not
        # move 42 into the online count)
        values = {f.name: f.value for f in figures if f.confidence >= CONFIDENT}
        maxima = {f.name: f.max_value for f in figures}
        base_score, base_broken = _objective(values, maxima)
        if base_broken == 0:
            return figures
        best = None
        for change, note_a, note_b in _alternatives(figures, numbers):
            if any(figures[k].confidence < CONFIDENT for k in change):
                continue
            trial = {**values, **{figures[k].name: v for k, v in change.items()}}
            score, broken = _objective(trial, maxima)
            if broken < base_broken and score >= base_score + 2 and (best is None or score > best[0]):
                best = (score, change, note_a, note_b)
        if best is None:
            return figures
        _, change, note_a, note_b = best
        figures = list(figures)
        for (k, value), note in zip(change.items(), (note_a, note_b), strict=False):
            fig = figures[k]
            # an assignment the words did not make: only the arithmetic vouches for it
            figures[k] = replace(fig, value=value, support=[*fig.support, note],
                                 confidence=min(fig.confidence, REASSIGNED))
    return figures


def _confidence(figures: list[Figure]) -> None:
    by = {f.name: f for f in figures}
    values = {f.name: f.value for f in figures}
    maxima = {f.name: f.max_value for f in figures}
    outcomes = _outcomes(values, maxima)
    for outcome in outcomes:
        if outcome.holds or not outcome.rule.hard:
            continue
        for name in outcome.members:
            fig = by.get(name)
            if fig is not None:
                fig.confidence -= BREAK_PENALTY
                fig.support.append(f"-{outcome.rule.name}")
    # a rule vouches for a figure only through figures already sure: in rounds, so that a
    # figure one rule makes sure may vouch for another
    applied: set[tuple[str, str]] = set()
    changed = True
    while changed:
        changed = False
        for outcome in outcomes:
            if not outcome.holds:
                continue
            for name in outcome.members:
                fig = by.get(name)
                if fig is None or (outcome.rule.name, name) in applied:
                    continue
                others = [by[m] for m in outcome.members if m != name and m in by]
                if any(o.confidence < CONFIDENT for o in others):
                    continue
                fig.confidence = 1 - (1 - fig.confidence) * (1 - CONFIRM_SHARE)
                fig.support.append(f"+{outcome.rule.name}")
                applied.add((outcome.rule.name, name))
                changed = True
    for fig in figures:
        # a value the words did not give it needs two rules to vouch for it
        if any(n.startswith("reassigned_from:") for n in fig.support):
            confirmations = sum(1 for n in fig.support if n.startswith("+"))
            if confirmations < 2:
                fig.confidence = min(fig.confidence, REASSIGNED)
    for fig in figures:
        # '921/921 hồ sơ': the denominator is a total the report states too
        if fig.unit == "count" and fig.max_value and fig.name not in FRACTION_BASES:
            for base in FRACTION_BASES:
                other = by.get(base)
                if other is not None and abs(other.value - fig.max_value) < 1e-9:
                    for f in (fig, other):
                        f.confidence = 1 - (1 - f.confidence) * (1 - CONFIRM_SHARE)
                        f.support.append(f"+fraction_of:{base}")
                    break
    for fig in figures:
        fig.confidence = round(min(1.0, max(0.0, fig.confidence)), 3)
