"""Tables: score tables of 766 letters, and delimited tables (Markdown pipes, tabs, .docx).

Score tables are recognised row by row ('2 Tiến độ giải quyết 20 12,53 96', with or without
delimiters, OCR-damaged or not): a group label followed only by numbers. Which column is the
maximum, the score and the rank is decided for the whole table from the values (the maximum
column equals the group's known maximum, scores do not exceed it, ranks are whole numbers),
because OCR scrambles multi-line headers. Other delimited tables are read cell by cell: each
number takes the tags of its column header and of its row label, then the prose rules apply.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from .grammar import GARBLE_PENALTY, NEIGHBOUR_PENALTY, garbled
from .lexicon import GROUPS, TOTAL_MAX, TOTAL_ROW_PHRASES, _phrase, find_phrases, match_tags, repair_words
from .model import Figure
from .numbers import Number
from .rules import TOPICS, _decimals, decide
from .text import Document, Token, fold_stream, tokenize
from .vocabulary import UNIT_OF

log = logging.getLogger(__name__)

_LABELS: list[tuple[str, tuple[str, ...]]] = [
    (g, _phrase(p)) for g, (_, phrases) in GROUPS.items() for p in phrases
] + [("TOTAL", _phrase(p)) for p in TOTAL_ROW_PHRASES]
_MAX = {**{g: float(m) for g, (m, _) in GROUPS.items()}, "TOTAL": TOTAL_MAX}
ROLES = ("max", "score", "rank")
# a score table whose values fit two layouts equally well: its readings become candidates
AMBIGUOUS_COLUMNS = 0.35


@dataclass
class ScoreRow:
    line_no: int
    group: str
    numbers: list[Number]


def _line_tokens(doc: Document, tokens: list[Token]) -> dict[int, list[int]]:
    by_line: dict[int, list[int]] = {}
    for i, tok in enumerate(tokens):
        if tok.kind != "nl":
            by_line.setdefault(doc.line_no(tok.start), []).append(i)
    return by_line


def score_rows(doc: Document, tokens: list[Token], numbers: dict[int, Number]) -> list[ScoreRow]:
    rows = []
    for line_no, idxs in _line_tokens(doc, tokens).items():
        words = [(k, tokens[k].text) for k in idxs if tokens[k].kind == "word"]
        if not words or len(words) > 8:
            continue
        label = _row_label([w for _, w in words])
        if label is None:
            continue
        group, end = label
        last_label_tok = words[end - 1][0]
        after = [k for k in idxs if k > last_label_tok]
        if any(tokens[k].kind == "word" for k in after):
            continue
        nums = [numbers[k] for k in after if k in numbers and not numbers[k].percent]
        if any(_decimals(n.raw) > 2 for n in nums) or any(n.value > 1000 for n in nums):
            continue  # '8,0919', '2012,53': a score and its neighbour merged by OCR
        if len(nums) >= 2:
            rows.append(ScoreRow(line_no, group, nums))
    if rows:
        # a row with fewer numbers than the others lost one to OCR ('truc tuyen10 8,99 2'):
        # which column is which is unknown there
        widths = [len(r.numbers) for r in rows]
        usual = max(set(widths), key=widths.count)
        rows = [r for r in rows if len(r.numbers) >= usual]
    return rows if len({r.group for r in rows}) >= 2 else []


def _row_label(words: list[str]) -> tuple[str, int] | None:
    """The group whose label starts the row (two stray OCR words allowed); longest wins."""
    best: tuple[tuple[int, int], str, int] | None = None
    for group, phrase in _LABELS:
        for m in find_phrases(words, [phrase]):
            key = (m.end - m.start, -m.cost)
            if m.start <= 2 and (best is None or key > best[0]):
                best = (key, group, m.end)
    return (best[1], best[2]) if best else None


def assign_roles(rows: list[ScoreRow], header: str) -> tuple[str, ...]:
    """Column roles (max/score/rank/other) that best fit every row's values."""
    return _fitted_roles(rows, header)[0]


def _fitted_roles(rows: list[ScoreRow], header: str) -> tuple[tuple[str, ...], bool]:
    """assign_roles' layout, and whether another layout fits the values as well but reads
    other scores or ranks (two months side by side whose headings OCR made unreadable: only
    the headings' hints, worth less than any value, told them apart)."""
    width = min(len(r.numbers) for r in rows)
    hinted = _header_order(header)
    best, best_score = ("score",), float("-inf")
    fits: list[tuple[float, tuple[str, ...]]] = []
    for roles in _role_layouts(width):
        total = -0.3 * roles.count("other")
        for row in rows:
            cap = _MAX[row.group]
            vals = dict(zip(roles, (n.value for n in row.numbers), strict=False))
            if "max" in vals:
                total += 2 if abs(vals["max"] - cap) < 1e-9 else -3
            total += 1 if 0 <= vals["score"] <= cap else -5
            if "max" in vals and vals["score"] > vals["max"]:
                total -= 2
            if "rank" in vals:
                total += 1 if float(vals["rank"]).is_integer() and vals["rank"] >= 1 else -5
        used = tuple(r for r in roles if r != "other")
        if used == hinted:
            total += 0.1
        if used == tuple(r for r in ROLES if r in used):
            total += 0.05
        fits.append((total, roles))
        if total > best_score:
            best, best_score = roles, total

    def read(roles: tuple[str, ...]) -> list[tuple]:
        return [tuple((role, n.value) for role, n in zip(roles, row.numbers, strict=False)
                      if role in ("score", "rank")) for row in rows]

    rivals = [roles for total, roles in fits if total > best_score - 0.2 and roles != best]
    ambiguous = any(read(roles) != read(best) and set(roles) >= set(best) - {"other"} for roles in rivals)
    return best, ambiguous


def _role_layouts(width: int) -> list[tuple[str, ...]]:
    """Every way to give `width` columns one score, at most one max and one rank (the rest
    'other'), in the lexicographic order of (max, score, rank, other) so ties go as before.
    Built position by position: enumerating all 4**width tuples took seconds at 12 columns."""
    slots = (None, *range(width))
    layouts = []
    for score in range(width):
        for cap in slots:
            for rank in slots:
                if cap == score or rank == score or (cap is not None and cap == rank):
                    continue
                roles = ["other"] * width
                roles[score] = "score"
                if cap is not None:
                    roles[cap] = "max"
                if rank is not None:
                    roles[rank] = "rank"
                layouts.append(tuple(roles))
    order = {role: i for i, role in enumerate((*ROLES, "other"))}
    return sorted(layouts, key=lambda roles: [order[r] for r in roles])


def _header_order(header: str) -> tuple[str, ...]:
    spots = {}
    for role, pattern in (
        ("max", r"toi da"),
        ("score", r"ket qua|diem dat|dat duoc|diem so"),
        ("rank", r"xep hang|thu hang|xep thu"),
    ):
        m = re.search(pattern, header)
        if m:
            spots[role] = m.start()
    return tuple(sorted(spots, key=spots.get))


def _own_period_columns(doc: Document, rows: list[ScoreRow], period: str | None) -> list[ScoreRow]:
    """A delimited score table comparing months ('Tháng 9/2025 | Tháng 10/2025', each over
    'Điểm | Xếp hạng'): each row keeps the numbers of the report's own month's columns and
    of the columns naming no month. The header is the delimited lines right above the rows."""
    first = rows[0].line_no
    header_rows: list[list[str]] = []
    for no in range(first - 1, max(0, first - 12), -1):
        cells = _cells(doc.lines[no - 1])
        if cells is None:
            break
        if any(_is_value(c) for c in cells):
            if header_rows:
                break
            continue  # a row of the table OCR made no score row of: the header is above it
        header_rows.insert(0, cells)
    if not header_rows:
        return rows
    header = merged_header(header_rows)
    other = {j for j, head in enumerate(header) if other_period(head, period)}
    own = {j for j, head in enumerate(header) if own_period(head, period)}
    if own:
        # the own month's columns are known: every other column of values but the maximum
        # is another month's, whether or not OCR left its heading readable
        other |= {j for j, head in enumerate(header)
                  if j not in own and "toi da" not in " ".join(_phrase(head))}
    if not other:
        return rows
    kept = []
    for row in rows:
        line = doc.lines[row.line_no - 1]
        cells = _cells(line)
        if cells is None:
            return rows  # not laid out in the header's columns: nothing to align
        offsets = _column_offsets(line, cells)
        start = doc.line_starts[row.line_no - 1]
        numbers = [n for n in row.numbers if _column_at(offsets, n.start - start) not in other]
        kept.append(replace(row, numbers=numbers))
    return [row for row in kept if len(row.numbers) >= 2]


def score_table_figures(doc: Document, rows: list[ScoreRow], period: str | None = None) -> list[Figure]:
    if not rows:
        return []
    rows = _own_period_columns(doc, rows, period)
    if not rows:
        return []
    first = rows[0].line_no
    header = doc.folded[doc.line_starts[max(0, first - 11)] : doc.line_starts[first - 1]]
    roles, ambiguous = _fitted_roles(rows, header)
    log.debug("score table columns: %s", roles)
    figures = []
    for row in rows:
        vals = dict(zip(roles, row.numbers, strict=False))
        cap = vals["max"].value if "max" in vals else _MAX[row.group]
        source = doc.span(
            doc.line_starts[row.line_no - 1],
            doc.line_starts[row.line_no - 1] + len(doc.lines[row.line_no - 1]),
        )
        suffix = "total" if row.group == "TOTAL" else row.group
        if vals["score"].value > cap + 1e-9:
            continue  # no score exceeds its maximum: the row was misread
        entries = [(f"score_{suffix}", vals["score"].value, cap)]
        if "rank" in vals:
            entries.append(
                ("rank" if row.group == "TOTAL" else f"rank_{row.group}", vals["rank"].value, None)
            )
        for name, value, max_value in entries:
            figures.append(Figure(name, value, UNIT_OF[name], max_value, row.line_no, source,
                                  confidence=0.8 - (AMBIGUOUS_COLUMNS if ambiguous else 0.0),
                                  support=["score_table"] + (["columns_ambiguous"] if ambiguous else []),
                                  sentence=-row.line_no))
    return figures


# --------------------------------------------------------------------------- delimited tables


def _cells(line: str) -> list[str] | None:
    if "\t" in line:
        cells = line.split("\t")
    elif line.count("|") >= 2:
        cells = line.strip().strip("|").split("|")
    else:
        return None
    cells = [c.strip() for c in cells]
    return cells if sum(1 for c in cells if c) >= 2 else None


# a value cell: a number, maybe a share or a fraction, maybe with a verb before it or a unit
# after it ('1.412 hồ sơ', 'Đạt 92,29%', '356 TTHC', '1 hd so') — matched on folded text
_VALUE_CELL = re.compile(
    r"^(?:(?:dat|chiem)(?:\s+ty\s+le)?\s*)?[\d.,]+\s*%?(?:\s*/\s*[\d.,]+)?"
    r"(?:\s+[^\W\d_]{1,5}){0,2}\s*\.?$"
)


def _is_value(cell: str) -> bool:
    return bool(_VALUE_CELL.match(fold_stream(cell).strip(" *_")))  # '**828**' in Markdown


def delimited_tables(
    doc: Document,
    tokens: list[Token],
    numbers: dict[int, Number],
    skip_lines: set[int],
    period: str | None = None,
) -> tuple[list[Figure], set[int]]:
    """Figures from pipe/tab tables, and the lines they occupy (kept out of the prose pass).
    `period` (YYYY-MM, the report's) tells its own month's column from another month's."""
    figures: list[Figure] = []
    used: set[int] = set()
    nums_by_line: dict[int, list[Number]] = {}
    for number in numbers.values():
        nums_by_line.setdefault(doc.line_no(number.start), []).append(number)
    block: list[tuple[int, list[str]]] = []
    for no, line in enumerate([*doc.lines, ""], start=1):
        cells = _cells(line) if no not in skip_lines else None
        if cells is not None:
            if not all(re.fullmatch(r"[-:= ]*", c) for c in cells):
                block.append((no, cells))
            used.add(no)
            continue
        if block:
            figures.extend(_read_block(doc, block, nums_by_line, period))
            block = []
    return figures, used


@dataclass
class _Row:
    line_no: int
    cells: list[str]
    values: list[bool]  # which cells are value cells
    label_tags: set[str]
    fuzzy: bool = False
    after_gap: bool = False  # a row above it had digits but no readable value ('6I1')


_INDEX_HEADS = {("stt",), ("tt",), ("so", "tt")}


def _read_block(
    doc: Document, block: list[tuple[int, list[str]]], nums_by_line: dict[int, list[Number]],
    period: str | None = None,
) -> list[Figure]:
    header_cells, rows = _split_header(block)
    header = _header_tags(header_cells)
    # rows by field or by agency ('Hộ tịch', 'Đất đai' …) with the topics in the header: only
    # the 'Tổng cộng' row is the unit's; a single untagged row is the unit's own
    untagged = [r for r in rows if not r.label_tags and _phrase(_label(r))]
    figures: list[Figure] = []
    topic: set[str] = set()
    last_name: str | None = None
    early_seen = False  # after a 'Trước hạn' row, 'Đúng hạn' is the exact-deadline part
    unreadable_before = False  # the row above had numbers but an unreadable label
    unread_row_before = False  # the row above had numbers and gave no figure
    for row in rows:
        produced = len(figures)
        unread_row_before |= row.after_gap
        if len(untagged) > 1 and row in untagged:
            continue
        label_tags = set(row.label_tags)
        if label_tags & TOPICS:
            topic = label_tags & TOPICS
        elif topic:
            label_tags |= topic  # '- Quá hạn' under 'Hồ sơ đang giải quyết'
        line_start = doc.line_starts[row.line_no - 1]
        col_of = _column_offsets(doc.lines[row.line_no - 1], row.cells)
        label_garbled = garbled(label_words(_label(row)))  # once a row: a long row has many numbers
        # 'Đơn vị tính' holding '%' for this row: its value is a share ('%' | '89,23')
        percent_unit = any(c.strip() == "%" for c, v in zip(row.cells, row.values, strict=True) if not v)
        for number in sorted(nums_by_line.get(row.line_no, []), key=lambda n: n.start):
            col = _column_at(col_of, number.start - line_start)
            head, head_tags = header[col] if col is not None and col < len(header) else ("", set())
            if _phrase(head) in _INDEX_HEADS or _comparison_column(head) or other_period(head, period):
                continue
            if not head_tags and label_tags & TOPICS == {"TOTAL"} and len(header) > 2:
                continue  # 'Tổng cộng' under a header OCR made unreadable: which total?
            tags = label_tags | head_tags
            if "TOTAL" in label_tags and head_tags & TOPICS - {"TOTAL"} and "TOTAL" not in head_tags:
                # the 'Tổng cộng' row of a 'Tiếp nhận' column is the received count summed
                # over the rows, not the total handled
                tags.discard("TOTAL")
            if "%" in head or "RATE" in head_tags or percent_unit:
                number = replace(number, percent=True)
                tags.add("RATE")  # 'Tỷ lệ (%)' column, or '%' in the row's unit column
            cell_start = line_start + col_of[col] if col is not None else line_start
            before = _words_before(doc, cell_start, number)
            evidence = "table_cell" if row.label_tags & TOPICS or not topic else "table_inherited_topic"
            confidence = 0.8 if evidence == "table_cell" else 0.7
            support = [evidence]
            if row.fuzzy:
                confidence -= 0.1
                support.append("ocr_keyword")
            line = doc.lines[row.line_no - 1]
            # a tab row may drop its empty trailing cells; a pipe row keeps every cell
            if header and (len(row.cells) > len(header) or ("|" in line and len(header) != len(row.cells))):
                confidence -= GARBLE_PENALTY  # OCR split or merged a column ('|' for 'l')
                support.append("columns_misaligned")
            if label_garbled:
                confidence -= GARBLE_PENALTY
                support.append("garbled_words_before")
            if unreadable_before:
                confidence -= NEIGHBOUR_PENALTY
                support.append("unreadable_line_before")
            for reading in decide(tags, number, before, last_name, early_seen):
                source = " ".join(doc.lines[row.line_no - 1].split())
                doubt = 0.0
                if reading.name == "dossiers_resolved_on_time" and unread_row_before:
                    doubt = GARBLE_PENALTY  # the row above ('Trước hạn'?) was not read
                figures.append(
                    Figure(
                        reading.name,
                        reading.value,
                        UNIT_OF[reading.name],
                        reading.max_value,
                        row.line_no,
                        source,
                        confidence=round(confidence - doubt, 3),
                        support=list(support) + (["on_time_after_unread_item"] if doubt else []),
                        sentence=-row.line_no,
                    )
                )
                last_name = reading.name
                early_seen |= reading.name == "dossiers_resolved_early"
        unread_row_before = len(figures) == produced and bool(nums_by_line.get(row.line_no))
        unreadable_before = unread_row_before and garbled(label_words(_label(row)))
    return figures


_COMPARISON = re.compile(
    r"cung ky|nam truoc|thang truoc|so sanh|tang giam|ke hoach|chi tieu giao|luy ke|tu dau nam"
)


def _comparison_column(head: str) -> bool:
    """'Cùng kỳ năm trước', 'Tháng trước', 'So sánh (%)', 'Kế hoạch', 'Lũy kế': another
    period's figures, a target or a difference ('Kỳ trước chuyển sang' is this period's)."""
    folded = " ".join(_phrase(head))
    if _COMPARISON.search(folded):
        return True
    return "ky truoc" in folded and "chuyen" not in folded and "ton" not in folded


_ALIGNED_GAP = re.compile(r"\S+(?: \S+)*")  # the cells of a line laid out with spaces


def other_period_aligned(doc: Document, numbers: dict[int, Number], period: str | None) -> set[int]:
    """Numbers under another period's column of a table laid out with spaces (a PDF's or a
    typed report's 'Nội dung   Tháng 10/2025   Tháng 9/2025'), found by where they stand on
    their line: the column whose heading's span (to the next heading) holds the number's
    last character. A row whose own month's cell is blank keeps no value of the other
    month ('Kỳ trước chuyển sang      35' was September's 35 read for October)."""
    if not period:
        return set()
    by_line: dict[int, list[tuple[int, Number]]] = {}
    for key, number in numbers.items():
        by_line.setdefault(doc.line_no(number.start), []).append((key, number))
    dropped: set[int] = set()
    spans: list[tuple[int, int, bool]] | None = None
    for no, line in enumerate(doc.lines, start=1):
        if not line.strip() or "\t" in line or "|" in line:
            spans = None
            continue
        cells = [(m.start(), m.group()) for m in _ALIGNED_GAP.finditer(line)]
        if len(cells) >= 3 and not any(_is_value(text) for _, text in cells):  # a heading line?
            heads = [(a, other_period(text, period)) for a, text in cells]
            if any(o for _, o in heads):
                spans = [(a, heads[k + 1][0] if k + 1 < len(heads) else len(line) + 1000, o)
                         for k, (a, o) in enumerate(heads)]
                continue
        if spans is None:
            continue
        start = doc.line_starts[no - 1]
        for key, number in by_line.get(no, []):
            last = number.end - 1 - start
            column = next((k for k, (a, b, _) in enumerate(spans) if a <= last < b), None)
            if column is not None and spans[column][2]:
                dropped.add(key)
    return dropped


_QUARTERS = {"i", "ii", "iii", "iv", "1", "2", "3", "4"}


def other_period(text: str, period: str | None) -> bool:
    """Whether `text` (a column header, a sentence) names a period other than the report's
    own month `period` (YYYY-MM) and not that month: 'Tháng 8' or 'Tháng 9/2024' in
    September 2025's report, '9 tháng', 'Quý III', 'Năm 2025' (sums over several months).
    Dates ('ngày 15 tháng 8', a cycle's first day) and what a figure is compared with ('so
    với tháng 8') name no period."""
    several, named, own = _periods_named(text, period)
    return several or (bool(named) and own not in named)


def own_period(text: str, period: str | None) -> bool:
    """Whether `text` names the report's own month ('Tháng 10/2025' in October's report)."""
    several, named, own = _periods_named(text, period)
    return own is not None and not several and own in named


def _periods_named(text: str, period: str | None) -> tuple[bool, list, tuple[int, int] | None]:
    """Whether `text` names a sum of months (a quarter, a year, '9 tháng'), the months it
    names as (year, month), and the own month (other_period)."""
    words = _phrase(text)
    own = (int(period[:4]), int(period[5:7])) if period else None

    def month_at(k: int) -> int | None:
        word = words[k] if 0 <= k < len(words) else ""
        return int(word) if word.isdigit() and 1 <= int(word) <= 12 else None

    def year_at(k: int) -> int | None:
        word = words[k] if 0 <= k < len(words) else ""
        return int(word) if re.fullmatch(r"\d{4}", word) else None

    named = []
    for k, word in enumerate(words):
        if word == "quy" and k + 1 < len(words) and words[k + 1] in _QUARTERS:
            return True, named, own
        if word == "nam" and year_at(k + 1) and month_at(k - 1) is None:
            return True, named, own  # 'Năm 2025', not the year of 'tháng 9 năm 2025'
        if word != "thang" or words[max(0, k - 2):k] == ("so", "voi") or (k > 1 and words[k - 2] == "ngay"):
            continue
        if (month_at(k - 1) or 0) > 1:
            return True, named, own  # '9 tháng (đầu năm)': months summed
        if month_at(k + 1):
            year = year_at(k + 2) or (year_at(k + 3) if words[k + 2 : k + 3] == ("nam",) else None)
            named.append((year or (own[0] if own else None), month_at(k + 1)))
    return False, named, own


def merged_header(header_rows: list[list[str]]) -> list[str]:
    """Header rows merged per column. A group heading written once over several columns
    ('Tháng 9/2025' over 'Điểm | Xếp hạng', the other cells of its span empty) heads each
    column of its span: carried right into the empty cells of its row that the next header
    row heads."""
    header: list[str] = []
    for i, cells in enumerate(header_rows):
        below = header_rows[i + 1] if i + 1 < len(header_rows) else []
        cells = list(cells)
        carried = ""
        for j, cell in enumerate(cells):
            if cell:
                carried = cell
            elif carried and j < len(below) and below[j]:
                cells[j] = carried
            else:
                carried = ""
        width = max(len(header), len(cells))
        header, cells = header + [""] * (width - len(header)), cells + [""] * (width - len(cells))
        header = [" ".join(x for x in (header[j], cells[j]) if x) for j in range(width)]
    return header


def _split_header(block: list[tuple[int, list[str]]]) -> tuple[list[str], list[_Row]]:
    """Header rows (before the first row with a value) merged per column, and data rows."""
    header_rows: list[list[str]] = []
    rows: list[_Row] = []
    gap = False
    for no, cells in block:
        values = [_is_value(c) for c in cells]
        if not any(values):
            gap = bool(rows) and any(ch.isdigit() for c in cells for ch in c)
            if not rows:
                header_rows.append(cells)
            continue
        # cell by cell: a fragment in one cell is no part of a word in the next
        words = [w for c, v in zip(cells, values, strict=True) if not v for w in label_words(c)]
        matches = match_tags(words)
        rows.append(_Row(no, cells, values, {m.tag for m in matches}, any(m.cost for m in matches), gap))
        gap = False
    return merged_header(header_rows), rows


def label_words(text: str) -> list[str]:
    """A cell's words as the prose reads them: folded, OCR-repaired ('Truớ¢ hạn' = 'truoc
    han'), split and merged words undone."""
    return repair_words([t.text for t in tokenize(fold_stream(text)) if t.kind == "word"])


def _label(row: _Row) -> str:
    return " ".join(c for c, v in zip(row.cells, row.values, strict=True) if not v)


def _header_tags(header: list[str]) -> list[tuple[str, set[str]]]:
    """Each column's header and tags; a column without a topic takes the nearest one on its
    left ('Đã giải quyết | Trước hạn | Đúng hạn | Quá hạn' under a merged header cell)."""
    out: list[tuple[str, set[str]]] = []
    topic: set[str] = set()
    for head in header:
        tags = {m.tag for m in match_tags(label_words(head))}
        if tags & TOPICS:
            topic = tags & TOPICS
        elif tags and topic:
            tags |= topic
        out.append((head, tags))
    return out


def _words_before(doc: Document, cell_start: int, number: Number) -> tuple[str, ...]:
    """Folded words of the number's own cell before it ('Đạt 92,29%' → ('dat',))."""
    return tuple(re.findall(r"[^\W\d_]+", doc.folded[cell_start : number.start]))


def _column_offsets(line: str, cells: list[str]) -> list[int]:
    """Start offset in `line` of each cell, in the same order as `cells`."""
    sep = "\t" if "\t" in line else "|"
    offsets, pos = [], 0
    parts = line.split(sep)
    if sep == "|" and line.strip().startswith("|"):
        pos = len(parts[0]) + 1
        parts = parts[1:]
    for part in parts[: len(cells)]:
        offsets.append(pos)
        pos += len(part) + 1
    return offsets


def _column_at(offsets: list[int], offset: int) -> int | None:
    col = None
    for j, start in enumerate(offsets):
        if offset >= start:
            col = j
    return col
