"""The fixed figure vocabulary: name → (unit, meaning). Documented in `chiso.extract`."""

from __future__ import annotations

from .lexicon import GROUPS

_COUNTS = {
    "dossiers_total": "dossiers handled in the period (carried over + received)",
    "dossiers_carried_over": "dossiers carried over from the previous period",
    "dossiers_received": "dossiers newly received in the period",
    "dossiers_received_online": "dossiers received online",
    "dossiers_received_direct": "dossiers received in person (one-stop desk)",
    "dossiers_received_postal": "dossiers received by public postal service",
    "dossiers_received_system_city": "dossiers received on the city/province TTHC system",
    "dossiers_received_system_ministry": "dossiers received on ministries' own systems",
    "dossiers_resolved": "dossiers resolved (completed) in the period",
    "dossiers_resolved_on_time": "dossiers resolved early or on time (early + on time)",
    "dossiers_resolved_early": "dossiers resolved before the deadline",
    "dossiers_resolved_exactly_on_time": "dossiers resolved on the deadline (not early)",
    "dossiers_resolved_late": "dossiers resolved after the deadline",
    "dossiers_in_progress": "dossiers still being processed at the end of the period",
    "dossiers_in_progress_on_time": "dossiers in progress, still within the deadline",
    "dossiers_in_progress_overdue": "dossiers in progress, past the deadline",
    "dossiers_withdrawn": "dossiers withdrawn or cancelled",
    "dossiers_digitised": "dossiers digitised",
    "dossiers_fee_bearing": "dossiers of procedures with a fee or charge",
    "dossiers_paid_online": "dossiers whose fee was paid online",
    "procedures_total": "administrative procedures (TTHC) under the unit's authority",
    "procedures_online_full": "procedures offered as full online public services",
    "procedures_online_partial": "procedures offered as partial online public services",
    "procedures_no_online": "procedures with no online public service",
    "feedback_received": "citizen feedback/petitions (PAKN) received",
    "feedback_resolved": "citizen feedback/petitions (PAKN) handled",
    "feedback_in_progress": "citizen feedback/petitions (PAKN) still being handled",
    "visits": "visits (portal hits or citizens served)",
}
_RATES = {
    "rate_online": "share of dossiers received online (%)",
    "rate_on_time": "share of dossiers resolved early or on time (%)",
    "rate_late": "share of dossiers resolved or pending past the deadline (%)",
    "rate_digitised_input": "share of dossiers/results digitised (%)",
    "rate_digitised_output": "share of dossiers with an electronic result (%)",
    "rate_reuse": "share of dossiers reusing digitised data (%)",
    "rate_paid_online": "share of fee-bearing dossiers paid online (%)",
    "rate_satisfaction": "citizen satisfaction rate (%)",
}
_GROUP_NAMES = {
    "CKMB": "public disclosure and transparency",
    "TDGQ": "processing progress",
    "DVCTT": "online public services",
    "TTTT": "online payment",
    "MDHL": "satisfaction",
    "SHHS": "digitisation of dossiers",
}
_LETTERS = {
    "score_total": "Decision 766 total score (max_value 100)",
    **{f"score_{g}": f"score of group {g}, {_GROUP_NAMES[g]} (max_value {GROUPS[g][0]:g})" for g in GROUPS},
    "rank": "overall rank (max_value = number of units ranked)",
    "units_ranked": "number of units in the ranking",
    **{f"rank_{g}": f"rank in group {g} (max_value = units ranked)" for g in GROUPS},
    "score_change": "change of the total score versus the previous period (points)",
}

UNIT_OF: dict[str, str] = {
    **dict.fromkeys(_COUNTS, "count"),
    **dict.fromkeys(_RATES, "percent"),
    **{k: ("rank" if k.startswith("rank") else "points") for k in _LETTERS},
    "units_ranked": "count",
}
VOCABULARY: dict[str, str] = {**_COUNTS, **_RATES, **_LETTERS}

# rate implied by a bare 'đạt tỷ lệ 100%' after a count
RATE_OF_COUNT = {
    "dossiers_received_online": "rate_online",
    "dossiers_resolved_on_time": "rate_on_time",
    "dossiers_resolved_late": "rate_late",
    "dossiers_in_progress_overdue": "rate_late",
    "dossiers_digitised": "rate_digitised_input",
    "dossiers_paid_online": "rate_paid_online",
}
