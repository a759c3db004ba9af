"""From the concept tags of a clause and one number to figure names.

The rules are ordered from specific to general ('đang giải quyết trong hạn' is in progress
within the deadline, not resolved on time), and read tags as a set, so 'giải quyết đúng hạn
919 hồ sơ' and '919 hồ sơ được giải quyết đúng hạn' give the same figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .lexicon import GROUPS, TOTAL_MAX
from .numbers import Number
from .vocabulary import RATE_OF_COUNT

TOPICS = frozenset(
    "TOTAL CARRIED RECEIVED RESOLVED IN_PROGRESS WITHDRAWN PROCEDURE FEEDBACK VISITS SCORE RANK "
    "PAYMENT FEE DIGITISED ERESULT REUSE".split()
) | {f"G_{g}" for g in GROUPS}


# 'đạt 88,51%', 'chiếm 93,44%' right after a count: the share that count makes up
_RATE_VERBS = {"dat", "chiem", "bang"}
# clause tags that make its numbers someone else's, a target, or a year-to-date sum
BLOCKING = frozenset({"OTHER_AGENCY", "MODAL", "CUMULATIVE"})

_ORDINAL = {"thu", "thir", "thur", "thiu", "thuu", "thi"}  # 'thứ' and its OCR readings


@dataclass(frozen=True)
class Reading:
    name: str
    value: float
    max_value: float | None = None
    via: str = ""  # 'previous_count': a bare rate named after the count before it


def groups_in(tags: set[str]) -> list[str]:
    return [g for g in GROUPS if f"G_{g}" in tags]


def _decimals(raw: str) -> int:
    digits = raw.split("/")[0].rstrip("% ").replace(" ", "")
    if "," in digits:
        return len(digits.rsplit(",", 1)[1])
    if "." in digits and not re.fullmatch(r"\d{1,3}(?:\.\d{3})+", digits):
        return len(digits.rsplit(".", 1)[1])
    return 0


def _rate_verb(word: str) -> bool:
    """'đạt', 'chiếm', 'bằng', also as OCR reads 'đạt' ('dal', 'dai', 'đạl')."""
    return word in _RATE_VERBS or (len(word) == 3 and word[:2] == "da" and word[2] in "lit")


# Written with English-style separators (a report pasted from an English-locale sheet): a
# share of '42.857%' cannot be 42,857 %, and '1,245 hồ sơ' cannot be 1.245 dossiers
_ENGLISH_DECIMAL = re.compile(r"\d{1,3}\.\d{3}")
_ENGLISH_THOUSANDS = re.compile(r"[1-9]\d{0,2},\d{3}")  # not "0,125"

# More dossiers or items than a whole country handles in a month (about 3.6 million): a
# misread number, not a count.
MAX_COUNT = 10_000_000


def decide(
    tags: set[str],
    number: Number,
    before: tuple[str, ...] = (),
    last_name: str | None = None,
    early_seen: bool = False,
) -> list[Reading]:
    """Figures for `number` in a clause carrying `tags`; `before` = the words just before it."""
    if tags & BLOCKING:
        return []  # another agency's figures, a target/instruction, or a year-to-date sum
    if number.percent and before and _rate_verb(before[-1]):
        tags = tags | {"RATE"}
    if number.denominator and before and before[-1] in _ORDINAL:
        tags = tags | {"RANK"}  # 'đứng thứ 38/114'
    if not number.percent and _ENGLISH_THOUSANDS.fullmatch(number.raw):
        # '1,245 hồ sơ' (English-style): three decimals are never published, so thousands
        number = replace(number, value=float(number.raw.replace(",", "")))
    elif _decimals(number.raw) > 2:
        return []  # published with two decimals at most: '8,0919' is '8,09' and '19' merged
    if number.percent:
        if number.value > 100 and _ENGLISH_DECIMAL.fullmatch(number.raw.rstrip("% ")):
            number = replace(number, value=float(number.raw.rstrip("% ")))  # a decimal point
        return _rate(tags, number, last_name)
    if "RATE" in tags and before and _rate_verb(before[-1]) and number.denominator is None:
        return []  # 'tỷ lệ … đạt 96': a rate whose '%' OCR lost, not a count
    if "RANK" in tags:
        return _rank(tags, number, before)
    group_max = [GROUPS[g][0] for g in groups_in(tags)]
    if "SCORE" in tags and "DOSSIER" in tags and not group_max:
        return []  # '… 01 hồ sơ … điểm': points are not counted in dossiers
    if "SCORE" in tags or (number.denominator is not None and number.denominator in group_max):
        return _score(tags, number)
    name = _count(tags, early_seen)
    if not name or not number.is_integer or number.value > MAX_COUNT:
        return []  # a count is a whole number ('8,99' is a score or a rate), and a plausible one
    return [Reading(name, number.value, number.denominator)]


def zero_by_negation(tags: set[str]) -> list[str]:
    """'không có phản ánh kiến nghị' → feedback_received 0; 'không có hồ sơ quá hạn' → …"""
    if tags & BLOCKING:
        return []
    if "FEEDBACK" in tags:
        if "LATE" in tags or "RESOLVED" in tags:
            return []  # 'không có phản ánh, kiến nghị quá hạn' says nothing of the count
        return ["feedback_in_progress"] if "IN_PROGRESS" in tags else ["feedback_received"]
    if "LATE" in tags:
        if "DOSSIER" not in tags:
            return []  # 'không để xảy ra tình trạng chậm trễ': no dossiers denied
        if "IN_PROGRESS" in tags:
            return ["dossiers_in_progress_overdue"]
        return ["dossiers_resolved_late", "dossiers_in_progress_overdue"]
    if "WITHDRAWN" in tags:
        return ["dossiers_withdrawn"]
    return []


def _rate(tags: set[str], number: Number, last_name: str | None) -> list[Reading]:
    if "MODAL" in tags or "RATE" not in tags:
        return []
    if number.value > 100:
        return []  # no share exceeds 100 %: '42.857%' is an English-locale 42.857, not 42,857
    if {"ELECTRONIC", "RESULT"} <= tags:
        tags = tags | {"ERESULT_APART"}  # 'cấp kết quả giải quyết TTHC điện tử'
    for tag, name in (
        ("REUSE", "rate_reuse"),
        ("ERESULT", "rate_digitised_output"),
        ("DIGITISED", "rate_digitised_input"),
        ("ERESULT_APART", "rate_digitised_output"),
        ("PAYMENT", "rate_paid_online"),
        ("SATISFIED", "rate_satisfaction"),
        ("LATE", "rate_late"),
        ("ON_TIME", "rate_on_time"),
        ("EARLY", "rate_on_time"),
        ("ONLINE", "rate_online"),
    ):
        if tag in tags:
            return [Reading(name, number.value, 100.0)]
    if last_name in RATE_OF_COUNT:
        return [Reading(RATE_OF_COUNT[last_name], number.value, 100.0, "previous_count")]
    return []


def _rank(tags: set[str], number: Number, before: tuple[str, ...]) -> list[Reading]:
    if {"INCREASE", "DECREASE"} & tags or not number.is_integer:
        return []
    groups = groups_in(tags)
    name = f"rank_{groups[0]}" if len(groups) == 1 else "rank"
    if number.denominator:
        return [
            Reading(name, number.value, number.denominator),
            Reading("units_ranked", number.denominator),
        ]
    if "tren" in before:  # 'xếp hạng trên 114 xã', 'thứ 5 trên tổng số 126'
        return [Reading("units_ranked", number.value)]
    return [Reading(name, number.value)]


def _score(tags: set[str], number: Number) -> list[Reading]:
    if {"INCREASE", "DECREASE"} & tags:
        sign = -1 if "DECREASE" in tags else 1
        return [Reading("score_change", sign * number.value)]
    groups = groups_in(tags)
    if len(groups) == 1 and "TOTAL" not in tags:
        g = groups[0]
        cap = number.denominator or GROUPS[g][0]
        if number.value > cap or (number.denominator and number.denominator != GROUPS[g][0]):
            return []  # no score exceeds its maximum: a misread ('l6,50/18' → 50/18)
        return [Reading(f"score_{g}", number.value, cap)]
    if number.value > TOTAL_MAX or (number.denominator and number.denominator != TOTAL_MAX):
        return []
    return [Reading("score_total", number.value, number.denominator or TOTAL_MAX)]


def _count(tags: set[str], early_seen: bool) -> str | None:
    has = tags.__contains__
    if has("INCREASE") or has("DECREASE"):
        return None  # 'tăng 85 hồ sơ so với kỳ trước' is a difference, not a count
    if has("FEEDBACK"):
        if has("IN_PROGRESS"):
            return "feedback_in_progress"
        return "feedback_resolved" if has("RESOLVED") else "feedback_received"
    if has("VISITS"):
        return "visits"
    if has("WITHDRAWN"):
        return "dossiers_withdrawn"
    if has("IN_PROGRESS"):
        if has("LATE"):
            return "dossiers_in_progress_overdue"
        if has("ON_TIME") or has("EARLY"):
            return "dossiers_in_progress_on_time"
        return "dossiers_in_progress"
    if not has("DOSSIER") and (has("PROCEDURE") or has("FULL") or has("PARTIAL")):
        return _procedure_count(tags)
    if has("FULL") or has("PARTIAL"):
        return None  # dossiers by service level ('hồ sơ DVCTT toàn trình') have no figure
    if has("PAYMENT"):
        return "dossiers_paid_online" if has("ONLINE") or has("G_DVCTT") else None
    if has("FEE"):
        return "dossiers_fee_bearing"
    timeliness = _timeliness(tags, early_seen)
    if timeliness:
        return timeliness
    if tags & _CHANNELS and "RESOLVED" in tags and "RECEIVED" not in tags:
        return None  # 'đã giải quyết 1.198, trong đó trực tuyến 1.050': no such figure
    return _channel(tags) or _stage(tags)


def _procedure_count(tags: set[str]) -> str | None:
    for tag, name in (
        ("FULL", "procedures_online_full"),
        ("PARTIAL", "procedures_online_partial"),
        ("NO_ONLINE", "procedures_no_online"),
        ("TOTAL", "procedures_total"),
        ("AUTHORITY", "procedures_total"),
    ):
        if tag in tags:
            return name
    return None


def _timeliness(tags: set[str], early_seen: bool) -> str | None:
    if "LATE" in tags:
        return "dossiers_resolved_late"
    if "EARLY" in tags:
        return "dossiers_resolved_on_time" if "ON_TIME" in tags else "dossiers_resolved_early"
    if "ON_TIME" in tags:
        return "dossiers_resolved_exactly_on_time" if early_seen else "dossiers_resolved_on_time"
    return None


_CHANNELS = frozenset({"ONLINE", "DIRECT", "POSTAL"})


def _channel(tags: set[str]) -> str | None:
    """How dossiers came in."""
    if "RECEIVED" in tags and "MINISTRY" in tags:
        return "dossiers_received_system_ministry"
    if "RECEIVED" in tags and "SYSTEM" in tags:
        return "dossiers_received_system_city"
    # 'hồ sơ tiếp nhận qua dịch vụ công trực tuyến': ONLINE is cancelled inside the DVCTT name
    if "ONLINE" in tags or ("G_DVCTT" in tags and "DOSSIER" in tags):
        return "dossiers_received_online"
    if "DIRECT" in tags:
        return "dossiers_received_direct"
    if "POSTAL" in tags:
        return "dossiers_received_postal"
    return None


def _stage(tags: set[str]) -> str | None:
    has = tags.__contains__
    if has("DIGITISED"):
        return "dossiers_digitised"
    if has("CARRIED"):
        return "dossiers_carried_over"
    if has("TOTAL"):
        if has("RECEIVED") and has("NEW"):
            return "dossiers_received"
        if (has("RESOLVED") or (has("RESULT") and not has("ELECTRONIC"))) and not has("RECEIVED"):
            return "dossiers_resolved"  # 'Kết quả giải quyết | Tổng số': the results, counted
        return "dossiers_total"
    if has("RECEIVED"):
        return "dossiers_received"
    if has("RESOLVED"):
        return "dossiers_resolved"
    return None
