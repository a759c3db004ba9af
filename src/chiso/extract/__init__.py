"""chiso.extract: prose documents (monthly reports, 766 score and ranking letters) → figures.

    from chiso.extract import extract_report, render
    report = extract_report(Path("bao_cao_thang_02.docx"), province_hint="31")
    print(render(report, "csv"))

Reads .txt, .md, .docx (paragraphs and tables) and .pdf (text layer, only when a PDF library or
`pdftotext` is installed). Works on diacritic-folded, OCR-repaired text with a keyword lexicon
(`lexicon`), a number grammar (`numbers`), clause rules (`grammar`, `rules`), table readers
(`tables`), admin-unit matching (`units`), period detection (`dates`) and consistency checks
(`checks`). Forward-looking sections ('NHIỆM VỤ THÁNG TỚI', 'KIẾN NGHỊ, ĐỀ XUẤT') hold targets,
so `sections` keeps them out of both figures and period. Every figure keeps the line number
and the source text it was read from.

Vocabulary (`VOCABULARY`; `derived` figures are sums of stated ones, e.g. early + on time):

| name | unit | meaning |
| --- | --- | --- |
| `dossiers_total` | count | dossiers handled in the period (carried over + received) |
| `dossiers_carried_over` | count | dossiers carried over from the previous period |
| `dossiers_received` | count | dossiers newly received in the period |
| `dossiers_received_online` | count | dossiers received online |
| `dossiers_received_direct` | count | dossiers received in person (one-stop desk) |
| `dossiers_received_postal` | count | dossiers received by public postal service |
| `dossiers_received_system_city` | count | dossiers received on the city/province TTHC system |
| `dossiers_received_system_ministry` | count | dossiers received on ministries' own systems |
| `dossiers_resolved` | count | dossiers resolved (completed) in the period |
| `dossiers_resolved_on_time` | count | dossiers resolved early or on time (early + on time) |
| `dossiers_resolved_early` | count | dossiers resolved before the deadline |
| `dossiers_resolved_exactly_on_time` | count | dossiers resolved on the deadline (not early) |
| `dossiers_resolved_late` | count | dossiers resolved after the deadline |
| `dossiers_in_progress` | count | dossiers still being processed at the end of the period |
| `dossiers_in_progress_on_time` | count | dossiers in progress, still within the deadline |
| `dossiers_in_progress_overdue` | count | dossiers in progress, past the deadline |
| `dossiers_withdrawn` | count | dossiers withdrawn or cancelled |
| `dossiers_digitised` | count | dossiers digitised |
| `dossiers_fee_bearing` | count | dossiers of procedures with a fee or charge |
| `dossiers_paid_online` | count | dossiers whose fee was paid online |
| `procedures_total` | count | administrative procedures (TTHC) under the unit's authority |
| `procedures_online_full` | count | procedures offered as full online public services |
| `procedures_online_partial` | count | procedures offered as partial online public services |
| `procedures_no_online` | count | procedures with no online public service |
| `feedback_received` | count | citizen feedback/petitions (PAKN) received |
| `feedback_resolved` | count | citizen feedback/petitions (PAKN) handled |
| `feedback_in_progress` | count | citizen feedback/petitions (PAKN) still being handled |
| `visits` | count | visits (portal hits or citizens served) |
| `rate_online` | percent | share of dossiers received online (%) |
| `rate_on_time` | percent | share of dossiers resolved early or on time (%) |
| `rate_late` | percent | share of dossiers resolved or pending past the deadline (%) |
| `rate_digitised_input` | percent | share of dossiers/results digitised (%) |
| `rate_digitised_output` | percent | share of dossiers with an electronic result (%) |
| `rate_reuse` | percent | share of dossiers reusing digitised data (%) |
| `rate_paid_online` | percent | share of fee-bearing dossiers paid online (%) |
| `rate_satisfaction` | percent | citizen satisfaction rate (%) |
| `score_total` | points | Decision 766 total score (max_value 100) |
| `score_CKMB` | points | score of group CKMB, public disclosure and transparency (max_value 18) |
| `score_TDGQ` | points | score of group TDGQ, processing progress (max_value 20) |
| `score_DVCTT` | points | score of group DVCTT, online public services (max_value 12) |
| `score_TTTT` | points | score of group TTTT, online payment (max_value 10) |
| `score_MDHL` | points | score of group MDHL, satisfaction (max_value 18) |
| `score_SHHS` | points | score of group SHHS, digitisation of dossiers (max_value 22) |
| `rank` | rank | overall rank (max_value = number of units ranked) |
| `units_ranked` | count | number of units in the ranking |
| `rank_CKMB` | rank | rank in group CKMB (max_value = units ranked) |
| `rank_TDGQ` | rank | rank in group TDGQ (max_value = units ranked) |
| `rank_DVCTT` | rank | rank in group DVCTT (max_value = units ranked) |
| `rank_TTTT` | rank | rank in group TTTT (max_value = units ranked) |
| `rank_MDHL` | rank | rank in group MDHL (max_value = units ranked) |
| `rank_SHHS` | rank | rank in group SHHS (max_value = units ranked) |
| `score_change` | points | change of the total score versus the previous period (points) |

Confidence: every figure has `confidence` (0–1) and `support` (how its name was read, and
the arithmetic rules of `arithmetic.RULES` it satisfies '+rule' or breaks '-rule'); `resolve`
chooses between readings with the report's own arithmetic. Readings below `CONFIDENT` (0.55)
are `Report.candidates`, never figures. `ocr` is the OCR confusion model, `evaluate` the
measured noisy-corpus evaluation, `store` the warehouse side (re-extraction).

Warnings (`Report.warnings`, severity 'warn'): the hard rules of `arithmetic.RULES`
(total_equals_carried_plus_received, channels_sum_to_received,
resolved_equals_on_time_plus_late, on_time_equals_early_plus_exact,
in_progress_equals_on_time_plus_overdue, group_scores_sum_to_total (also a score above its
maximum), rate_online_matches_counts, rate_on_time_matches_counts,
rate_paid_online_matches_counts), date_contradiction, conflicting_values (one figure stated
twice with different values; the arithmetic chooses, else the first is kept, unsure).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

from .arithmetic import DERIVATIONS
from .checks import check
from .dates import find_period
from .grammar import extract_prose, find_numbers, repair_tokens, split_sentences
from .model import CONFIDENT, Figure, Finding, Report, render
from .numbers import format_number
from .resolve import resolve
from .sections import forward_lines
from .tables import delimited_tables, other_period, other_period_aligned, score_rows, score_table_figures
from .text import Document, ExtractionError, read_lines
from .units import gazetteer
from .vocabulary import UNIT_OF, VOCABULARY

__all__ = [
    "VOCABULARY",
    "ExtractionError",
    "Figure",
    "Finding",
    "Report",
    "EXTRACTOR_VERSION",
    "extract_report",
    "render",
]

log = logging.getLogger(__name__)

# Stamped on every extraction stored in the warehouse; landed reports are re-extracted when
# it changes (`chiso extract --reprocess`). Bump it with any change to what is extracted.
EXTRACTOR_VERSION = "2.1.0"


def extract_report(path: Path, province_hint: str | None = None) -> Report:
    """Read one document and return its figures, unit, period and warnings.

    `province_hint` (code '31' or a name) disambiguates commune names that occur in several
    provinces when the text does not say which. Raises ExtractionError for unreadable,
    empty or unsupported files.
    """
    path = Path(path)
    doc = Document(path, read_lines(path))
    forward = forward_lines(doc)  # targets and next month's tasks, not results
    period = find_period(doc, forward)
    tokens = repair_tokens(doc.tokens)
    numbers = find_numbers(doc, tokens, period.date_spans)
    for key in other_period_aligned(doc, numbers, period.period):
        del numbers[key]  # another month's column of a table laid out with spaces

    rows = score_rows(doc, tokens, numbers)
    figures = score_table_figures(doc, rows, period.period)
    row_lines = {r.line_no for r in rows}
    table_figures, table_lines = delimited_tables(doc, tokens, numbers, row_lines | forward, period.period)
    figures += table_figures
    sentences = split_sentences(doc, tokens, numbers, row_lines | table_lines | forward)
    resolution = gazetteer().resolve(doc, province_hint)
    figures += extract_prose(doc, sentences, resolution.unit.name if resolution.unit else None)
    figures.sort(key=lambda f: f.line_no)
    spare = {
        k: [(n.value, n.percent) for c in sentence for n in c.numbers] for k, sentence in enumerate(sentences)
    }
    figures, elsewhere = _own_period(doc, sentences, figures, period.period)
    figures, candidates, conflicts = resolve(figures, spare)
    named = {f.name for f in figures} | {c.name for c in candidates}
    candidates += [f for f in elsewhere if f.name not in named]
    _later_months(doc, figures, candidates, period.end, period.period)
    damaged = {k for k, sentence in enumerate(sentences) if any(c.damaged for c in sentence)}
    derived = _derived(figures, {c.name for c in candidates}, damaged)
    figures += [f for f in derived if f.confidence >= CONFIDENT]
    candidates += [f for f in derived if f.confidence < CONFIDENT]
    _fill_rank_maxima(figures)

    unit = resolution.unit
    report = Report(
        source_file=str(path),
        unit_name=unit.name if unit else None,
        unit_code=unit.code if unit else None,
        unit_level=unit.level if unit else None,
        province_code=resolution.province_code,
        period=period.period,
        period_start=period.start,
        period_end=period.end,
        figures=figures,
        candidates=candidates,
        extractor_version=EXTRACTOR_VERSION,
    )
    report.document_kind = _kind(figures, report.unit_level)
    report.warnings = [
        *period.findings,
        *check([*figures, *(c for c in candidates if not c.derived)]),
        *(
            Finding(
                "conflicting_values",
                f"{a.name} {format_number(a.value)} (line {a.line_no}) ≠ {b.name} "
                f"{format_number(b.value)} (line {b.line_no}); kept the first",
                b.line_no,
            )
            for a, b in conflicts
        ),
    ]
    if not figures:
        log.warning("%s: no figures recognised", path)
    log.debug("%s: %d figures, %d warnings", path, len(figures), len(report.warnings))
    return report




# a derived total is not read off the page: the page may state another one we could not read
DERIVED_DOUBT = 0.15


def _derived(
    figures: list[Figure], unsure: set[str] = frozenset(), damaged: set[int] = frozenset()
) -> list[Figure]:
    """Totals a document states only as parts (trước hạn + đúng hạn; trong hạn + quá hạn;
    kỳ trước chuyển sang + tiếp nhận mới); none where the total was read, if unsurely, or
    where a part's sentence holds a number OCR made unreadable (it may be the total)."""
    by = {f.name: f for f in figures}
    out = []
    for total, parts in DERIVATIONS:
        if total in by or total in unsure or not all(p in by for p in parts):
            continue
        if any(by[p].sentence in damaged for p in parts if by[p].sentence is not None):
            continue
        first = by[parts[0]]
        source = " … ".join(dict.fromkeys(by[p].source_text for p in parts))
        out.append(
            Figure(
                total,
                sum(by[p].value for p in parts),
                UNIT_OF[total],
                None,
                first.line_no,
                source,
                derived=True,
                confidence=round(min(by[p].confidence for p in parts) - DERIVED_DOUBT, 3),
                support=["derived"],
            )
        )
        by[total] = out[-1]
    return out


def _own_period(
    doc, sentences, readings: list[Figure], label: str | None
) -> tuple[list[Figure], list[Figure]]:
    """The prose's readings in a sentence naming another period and not the report's own
    month ('Tháng 8: tiếp nhận 1.576 hồ sơ' in September's report, 'Quý III: …', '9 tháng:
    …') are that period's: set aside before one value is chosen per name, as doubtful
    candidates (the carried-over count, 'từ tháng 8 chuyển sang', is this month's). Tables
    decide per column (tables.other_period)."""

    judged: dict[int, bool] = {}  # per sentence, once: a sentence may hold thousands of readings

    def names_other_period(k: int) -> bool:
        if k not in judged:
            tokens = [t for clause in sentences[k] for t in clause.tokens]
            judged[k] = bool(tokens) and other_period(doc.folded[tokens[0].start : tokens[-1].end], label)
        return judged[k]

    kept, elsewhere = [], []
    for fig in readings:
        if (fig.sentence is not None and 0 <= fig.sentence < len(sentences)
                and fig.name != "dossiers_carried_over" and names_other_period(fig.sentence)):
            elsewhere.append(replace(fig, confidence=round(fig.confidence - LATER_MONTH_DOUBT, 3),
                                     support=[*fig.support, "other_period_on_line"]))
        else:
            kept.append(fig)
    return kept, elsewhere


_MONTH = re.compile(r"thang\s+(\d{1,2})\s*(?:/|nam)\s*(\d{4})")
LATER_MONTH_DOUBT = 0.35


def _later_months(doc, figures: list[Figure], candidates: list[Figure], end, label: str | None) -> None:
    """A figure on a line that names a month after the report's period is a target or a
    plan ('Trong tháng 9/2025 phường phấn đấu giải quyết 100% …' in August's report), even
    when OCR hid the 'phấn đấu'."""
    if end is not None:
        last = (end.year, end.month)
    elif label:
        last = (int(label[:4]), int(label[5:7]))
    else:
        return
    for fig in list(figures):
        if fig.line_no < 1 or fig.line_no > len(doc.lines):
            continue
        start = doc.line_starts[fig.line_no - 1]
        line = doc.folded[start : start + len(doc.lines[fig.line_no - 1])]
        later = False
        for m in _MONTH.finditer(line):
            month, year = int(m.group(1)), int(m.group(2))
            later |= 1 <= month <= 12 and (year, month) > last
        if later:
            fig.confidence = round(fig.confidence - LATER_MONTH_DOUBT, 3)
            fig.support.append("later_month_on_line")
            if fig.confidence < CONFIDENT:
                figures.remove(fig)
                candidates.append(fig)


def _fill_rank_maxima(figures: list[Figure]) -> None:
    ranked = next((f.value for f in figures if f.name == "units_ranked"), None)
    if ranked is None:
        return
    for i, fig in enumerate(figures):
        if fig.unit == "rank" and fig.max_value is None:
            figures[i] = replace(fig, max_value=ranked)


def _kind(figures: list[Figure], level: str | None) -> str:
    letters = sum(1 for f in figures if f.name.startswith(("score_", "rank")))
    counts = sum(1 for f in figures if f.unit in ("count", "percent") and f.name != "units_ranked")
    if letters >= 2 and letters >= counts:
        return "ranking_letter" if level == "province" else "score_letter"
    if counts >= 2:
        return "monthly_report"
    if letters:
        return "ranking_letter" if level == "province" else "score_letter"
    return "unknown"
