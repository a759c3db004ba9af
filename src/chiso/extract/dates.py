"""Reporting period: month label, start/end dates, and contradictions between stated dates.

Sources, strongest first: month mentions ('tháng 02 năm 2026', 'tháng 03/2025') outside
comparisons ('so với tháng 02/2025'); then an as-of date ('tính đến ngày 11/8/2025'); then the
end of a stated date range; then the letter date ('ngày 11 tháng 8 năm 2025'). Ranges
('từ ngày 15/01/2026 đến hết ngày 14/02/2026') give start and end; ranges that disagree with
the majority, or that cannot belong to the month, become `date_contradiction` findings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from .model import Finding
from .text import Document

_DATE = r"(\d{1,2})\s?[/.-]\s?(\d{1,2})\s?[/.-]\s?(\d{4})"
DATE_RE = re.compile(rf"(?<![\d/]){_DATE}(?![\d/])")
# 'từ ngày 15/8 đến ngày 14/9/2025': a start without its year, just before a full end date
YEARLESS_START_RE = re.compile(
    r"(?<![\d/])(\d{1,2})\s?[/.-]\s?(\d{1,2})(?![\d/])[\s,]*(?:(?:den|toi)\s*(?:het\s*)?(?:ngay)?|[-–])[\s,]*$"
)
RANGE_GAP_RE = re.compile(r"^[\s,]*(?:(?:den|toi)\s*(?:het\s*)?(?:ngay)?|[-–])[\s,]*$")
# 'tháng 8 năm 2025', OCR 'thang 8 ndam 2025', 'tháng 03/2025', 'tháng 3-2025'
MONTH_RE = re.compile(r"\bthang\s*(\d{1,2})\s*(?:[/.-]|\s[^\W\d_]{2,4}\s)\s*(\d{4})\b")
COMPARISON_RE = re.compile(r"(so voi|cung ky|ky truoc|thang truoc|so sanh)\W*$")
# 'Nhiệm vụ trọng tâm tháng 10/2025', 'kế hoạch tháng 10': the next month, not this one
FORWARD_RE = re.compile(r"(nhiem vu|phuong huong|ke hoach|trong tam)[^.;\n]{0,20}$")
LETTER_DAY_RE = re.compile(r"ngay\s*\d{0,2}\W*$")
ASOF_RE = re.compile(r"(tinh den|den ngay|tai thoi diem|cap nhat den)\W*(?:ngay\s*)?$")
LETTER_DATE_RE = re.compile(r"\bngay\s*\d{0,2}\s*thang\s*(\d{1,2})\s*(?:\s[^\W\d_]{2,4}\s)\s*(\d{4})")


@dataclass(frozen=True)
class StatedDate:
    day: date
    start: int  # offset in the document
    line_no: int
    raw: str


@dataclass
class PeriodInfo:
    period: str | None = None
    start: date | None = None
    end: date | None = None
    findings: list[Finding] = field(default_factory=list)
    date_spans: list[tuple[int, int]] = field(default_factory=list)  # not figures


def _to_date(d: str, m: str, y: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _fmt(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _yearless_start(doc: Document, end: StatedDate, info: PeriodInfo) -> StatedDate | None:
    """The start of '15/8 đến 14/9/2025', dated in the end's year (or the year before)."""
    lo = max(0, end.start - 40)
    m = YEARLESS_START_RE.search(doc.folded[lo : end.start])
    if not m:
        return None
    day, month = int(m.group(1)), int(m.group(2))
    year = end.day.year - (1 if month > end.day.month else 0)
    start = _to_date(str(day), str(month), str(year))
    if start is None or start > end.day:
        return None
    offset = lo + m.start()
    info.date_spans.append((offset, lo + m.start() + len(m.group(0))))
    raw = doc.text[offset : lo + m.end(2)]
    return StatedDate(start, offset, doc.line_no(offset), raw)


def find_period(doc: Document, forward: Collection[int] = ()) -> PeriodInfo:
    """The report's period; months mentioned on `forward` lines (tasks ahead) do not count."""
    folded = doc.folded
    info = PeriodInfo()
    dates: list[StatedDate] = []
    for m in DATE_RE.finditer(folded):
        info.date_spans.append((m.start(), m.end()))
        day = _to_date(*m.groups())
        if day:
            dates.append(StatedDate(day, m.start(), doc.line_no(m.start()), doc.text[m.start() : m.end()]))

    ranges: list[tuple[StatedDate, StatedDate]] = []
    for a, b in zip(dates, dates[1:], strict=False):
        gap = folded[a.start + len(a.raw) : b.start]
        if RANGE_GAP_RE.match(gap) and a.day <= b.day:
            ranges.append((a, b))
    for b in dates:
        start = _yearless_start(doc, b, info)
        if start:
            ranges.append((start, b))
    ranges.sort(key=lambda r: r[0].start)

    months: Counter[tuple[int, int]] = Counter()
    first_seen: dict[tuple[int, int], int] = {}
    for m in MONTH_RE.finditer(folded):
        info.date_spans.append((m.start(), m.end()))
        month, year = int(m.group(1)), int(m.group(2))
        before = folded[max(0, m.start() - 20) : m.start()]
        if not 1 <= month <= 12 or COMPARISON_RE.search(before) or LETTER_DAY_RE.search(before):
            continue  # a comparison, or the letter's own date ('ngày 11 tháng 8 năm 2025')
        if doc.line_no(m.start()) in forward or FORWARD_RE.search(folded[max(0, m.start() - 40) : m.start()]):
            continue
        months[(year, month)] += 1
        first_seen.setdefault((year, month), m.start())
    if months:
        # a stated range votes for the month it ends in (15/8–14/9 is September's report)
        for _a, b in ranges:
            months[(b.day.year, b.day.month)] += 1
            first_seen.setdefault((b.day.year, b.day.month), b.start)

    label: tuple[int, int] | None = None
    if months:
        label = max(months, key=lambda k: (months[k], -first_seen[k]))
    if label is None:
        for d in dates:
            if ASOF_RE.search(folded[max(0, d.start - 25) : d.start]):
                label = (d.day.year, d.day.month)
                break
    if label is None and ranges:
        label = (ranges[0][1].day.year, ranges[0][1].day.month)
    if label is None:
        m = LETTER_DATE_RE.search(folded)
        if m and 1 <= int(m.group(1)) <= 12:
            label = (int(m.group(2)), int(m.group(1)))
    if label:
        info.period = f"{label[0]:04d}-{label[1]:02d}"

    if ranges:
        votes = Counter((a.day, b.day) for a, b in ranges)
        # a range ending in the report's month wins ties
        chosen = max(
            votes,
            key=lambda r: (votes[r], label is not None and (r[1].year, r[1].month) == label),
        )
        info.start, info.end = chosen
        for a, b in ranges:
            for got, want, what in ((a, chosen[0], "start"), (b, chosen[1], "end")):
                if got.day != want:
                    info.findings.append(
                        Finding(
                            "date_contradiction",
                            f"period {what} {got.raw} on line {got.line_no} contradicts "
                            f"{_fmt(want)} stated elsewhere"
                            + (f" for the report of {info.period}" if info.period else ""),
                            got.line_no,
                        )
                    )
        if (
            label
            and (chosen[1].year, chosen[1].month) != label
            and ((chosen[0].year, chosen[0].month) != label)
        ):
            info.findings.append(
                Finding(
                    "date_contradiction",
                    f"period {_fmt(chosen[0])}–{_fmt(chosen[1])} does not fall in the report "
                    f"month {info.period}",
                    next(a.line_no for a, b in ranges if (a.day, b.day) == chosen),
                )
            )
        elif (chosen[1] - chosen[0]).days > 62 and label:
            info.findings.append(
                Finding(
                    "date_contradiction",
                    f"period {_fmt(chosen[0])}–{_fmt(chosen[1])} spans "
                    f"{(chosen[1] - chosen[0]).days} days for the monthly report {info.period}",
                    next(a.line_no for a, b in ranges if (a.day, b.day) == chosen),
                )
            )
    return info
