"""Internal consistency checks on extracted figures → warnings (never errors)."""

from __future__ import annotations

from .lexicon import GROUPS
from .model import Figure, Finding
from .numbers import format_number as fmt

SCORE_TOLERANCE = 0.05  # group scores are published to 2 decimals, the total to 1 or 2
RATE_TOLERANCE = 0.6  # percentage points; rates are published rounded


def check(figures: list[Figure]) -> list[Finding]:
    by = {f.name: f for f in figures}
    out: list[Finding] = []

    def val(name: str) -> float | None:
        return by[name].value if name in by else None

    total, carried, received = (
        val("dossiers_total"),
        val("dossiers_carried_over"),
        val("dossiers_received"),
    )
    if None not in (total, carried, received) and abs(total - carried - received) > 1e-9:
        out.append(
            Finding(
                "total_equals_carried_plus_received",
                f"dossiers_total {fmt(total)} ≠ dossiers_carried_over {fmt(carried)} + "
                f"dossiers_received {fmt(received)} = {fmt(carried + received)}",
                by["dossiers_total"].line_no,
            )
        )

    channels = [
        n
        for n in ("dossiers_received_online", "dossiers_received_direct", "dossiers_received_postal")
        if n in by
    ]
    base_name = "dossiers_received" if received is not None else None
    if base_name is None and total is not None and carried is None:
        base_name = "dossiers_total"
    if channels and base_name:
        base = by[base_name].value
        summed = sum(by[n].value for n in channels)
        complete = len(channels) == 3
        if summed > base + 1e-9 or (complete and abs(summed - base) > 1e-9):
            parts = " + ".join(f"{n} {fmt(by[n].value)}" for n in channels)
            if len(channels) > 1:
                parts += f" = {fmt(summed)}"
            relation = "≠" if complete else ">"
            out.append(
                Finding(
                    "channels_sum_to_received",
                    f"{parts} {relation} {base_name} {fmt(base)}",
                    by[channels[0]].line_no,
                )
            )

    resolved, on_time, late = (
        val("dossiers_resolved"),
        val("dossiers_resolved_on_time"),
        val("dossiers_resolved_late"),
    )
    if None not in (resolved, on_time, late) and abs(resolved - on_time - late) > 1e-9:
        out.append(
            Finding(
                "resolved_equals_on_time_plus_late",
                f"dossiers_resolved {fmt(resolved)} ≠ dossiers_resolved_on_time {fmt(on_time)} + "
                f"dossiers_resolved_late {fmt(late)} = {fmt(on_time + late)}",
                by["dossiers_resolved"].line_no,
            )
        )

    groups = [f"score_{g}" for g in GROUPS]
    if "score_total" in by and all(g in by for g in groups):
        summed = sum(by[g].value for g in groups)
        if abs(summed - by["score_total"].value) > SCORE_TOLERANCE:
            out.append(
                Finding(
                    "group_scores_sum_to_total",
                    f"score_total {fmt(by['score_total'].value)} ≠ sum of the six group scores "
                    f"{' + '.join(fmt(by[g].value) for g in groups)} = {summed:.2f}",
                    by["score_total"].line_no,
                )
            )
    for g in [*groups, "score_total"]:
        fig = by.get(g)
        if fig and fig.max_value is not None and fig.value > fig.max_value + 1e-9:
            out.append(
                Finding(
                    "group_scores_sum_to_total",
                    f"{g} {fmt(fig.value)} exceeds its maximum {fmt(fig.max_value)}",
                    fig.line_no,
                )
            )

    for rate, count, denominators in (
        ("rate_online", "dossiers_received_online", ("dossiers_received", "dossiers_total")),
        ("rate_on_time", "dossiers_resolved_on_time", ("dossiers_resolved",)),
        ("rate_paid_online", "dossiers_paid_online", ("dossiers_fee_bearing",)),
    ):
        if rate not in by or count not in by:
            continue
        num = by[count]
        if num.max_value:
            den_name, den = f"{count}'s stated base", num.max_value
        else:
            den_name = next((d for d in denominators if d in by), None)
            if den_name is None:
                continue
            den = by[den_name].value
        if not den:
            continue
        computed = 100 * num.value / den
        if abs(computed - by[rate].value) > RATE_TOLERANCE:
            out.append(
                Finding(
                    "rate_matches_counts",
                    f"{rate} {fmt(by[rate].value)}% ≠ {count} {fmt(num.value)} / {den_name} "
                    f"{fmt(den)} = {computed:.2f}%",
                    by[rate].line_no,
                )
            )
    return out
