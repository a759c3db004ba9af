"""Prose grammar: tokens → sentences → clauses → figures.

A clause is a stretch between commas, semicolons, colons, brackets, tabs or 'và <number>'. Line
breaks join wrapped lines (next line starts in lower case) and otherwise end a sentence. Each
clause carries the tags of its words; a clause without a topic inherits the topic of the
previous clause in its sentence ('đã giải quyết 930, trong đó: trước hạn 500'), and a clause
that is only a label lends its tags to the number clause that follows ('Tổng điểm: 58,3').
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .lexicon import BIGRAMS, VOCAB, is_syllable, levenshtein, match_tags, ocr_syllable, vocab_form
from .model import Figure
from .numbers import Number, parse_number
from .rules import BLOCKING, TOPICS, Reading, decide, zero_by_negation
from .sections import heading_level, section_lines
from .text import Document, Token, fold_stream
from .units import gazetteer
from .vocabulary import UNIT_OF

log = logging.getLogger(__name__)

_NOT_BEFORE = {"thang", "nam", "ngay", "quy", "lan", "dieu", "khoan", "chuong", "tuan", "khoa", "mau"}
_NOT_BEFORE_2 = {
    ("muc", "do"),
    ("de", "an"),
    ("phu", "luc"),
    ("giai", "doan"),
    ("lan", "thu"),
    ("mau", "so"),  # 'Biểu mẫu số 06'
    ("bieu", "so"),
}
_NOT_AFTER = {"gio", "phut", "ngay", "thang", "nam", "tuan", "cap", "h", "km", "trieu", "dong",
              # what else a report counts: meetings, classes, documents, villages, money …
              "cuoc", "buoi", "lop", "dot", "bai", "thon", "ty", "nghin", "ha", "m2", "tuoi", "lan"}
# … and in two words: '12 cán bộ', '05 máy tính', '3 văn bản', '4 đơn vị', '2 cơ quan'
_NOT_AFTER_2 = {("can", "bo"), ("cong", "chuc"), ("may", "tinh"), ("may", "in"), ("van", "ban"),
                ("don", "vi"), ("co", "quan"), ("vien", "chuc"), ("thiet", "bi"), ("hoi", "nghi"),
                ("nguoi", "dan"), ("ho", "gia"), ("ho", "dan"), ("to", "chuc"), ("doanh", "nghiep")}
_CLAUSE_PUNCT = set(",;()[]|•")
_SENTENCE_PUNCT = set(".!?")


def repair_tokens(tokens: list[Token]) -> list[Token]:
    """Undo OCR that turned letters into digits: 'ty 16'/'Ty 1&' = 'tỷ lệ', '1€ phí' = 'lệ
    phí', '80 hoa'/'86 liệu' = 'số hóa'/'số liệu'."""
    tokens = split_merged(tokens)
    out: list[Token] = []
    drop: set[int] = set()
    for i, tok in enumerate(tokens):
        if i in drop:
            continue
        prev = out[-1] if out else None
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.kind == "num" and len(tok.text) == 1 and nxt is not None and nxt.kind == "word":
            # '9 iai quyet' = 'giải quyết': a letter read as a digit, then split off
            letter = _DIGIT_LETTER.get(tok.text)
            # '1y' = 'lý' after 'xử', '5o' = 'sơ' after 'hồ': a keyword's next word; not
            # '8o' after 'tỷ lệ', where a number is due
            glued = bool(letter) and nxt.start == tok.end and prev is not None and (
                (prev.text, f"{letter}{nxt.text}") in BIGRAMS
            )
            if letter and (glued or not is_syllable(nxt.text)) and letter + nxt.text in VOCAB:
                out.append(Token("word", letter + nxt.text, tok.start, nxt.end))
                drop.add(i + 1)
                continue
        if tok.kind == "num" and tok.text in _OCR_SO and prev is not None and prev.text in ("ho", "hd"):
            out.append(Token("word", "so", tok.start, tok.end))  # 'hồ 56' is 'hồ sơ'
            continue
        if (
            tok.kind == "num"
            and tok.text in _OCR_SO
            and nxt is not None
            and nxt.kind == "word"
            and (nxt.text in ("ho", "hd") or (prev is not None and prev.text == "tong"))
            and (prev is None or prev.kind != "word" or prev.text in ("tong", "cac", "la"))
            and _number_later_in_clause(tokens, i + 1)
        ):
            # 'Tóng 56 hô sơ có nghĩa vụ tài chính 312', '56 hồ sơ thanh toán trực tuyến: 81':
            # 'số' read as digits, with the count itself further on
            out.append(Token("word", "so", tok.start, tok.end))
            continue
        if tok.kind == "num" and len(tok.text) <= 2:
            glued_symbol = nxt is not None and nxt.start == tok.end and nxt.text in "&¢€@"
            before_prev = out[-2].text if len(out) >= 2 else ""
            after_ty = (
                prev is not None
                and prev.kind == "word"
                and (
                    prev.text in ("ty", "ti", "fy", "tv")
                    or (prev.text == "ly" and before_prev not in _LY_WORDS)
                )
            )
            if tok.text.startswith("1") and (after_ty or (tok.text == "1" and glued_symbol)):
                out.append(Token("word", "le", tok.start, tok.end))
                if glued_symbol:
                    drop.add(i + 1)
                continue
            if nxt is not None and nxt.kind == "word" and nxt.text in ("hoa", "lieu"):
                out.append(Token("word", "so", tok.start, tok.end))
                continue
        out.append(tok)
    return out


_LY_WORDS = {"xu", "quan", "ly", "tam", "dia", "ho", "nguyen"}  # 'xử lý', 'quản lý': 'lý', not 'tỷ'


def split_merged(tokens: list[Token]) -> list[Token]:
    """Undo OCR's split and merged words: 'ha n' → 'han', 'ti ép' → 'tiep' (a fragment and its
    neighbour make a keyword word), 'sơthanh' → 'so' + 'thanh' (two keyword words)."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if (
            tok.kind == "word"
            and nxt is not None
            and nxt.kind == "word"
            and nxt.start == tok.end + 1
            and vocab_form(tok.text + nxt.text)
            and not (tok.text in VOCAB and (nxt.text in VOCAB or len(nxt.text) == 1))
        ):
            out.append(Token("word", vocab_form(tok.text + nxt.text) or "", tok.start, nxt.end))
            i += 2
            continue
        moved = _moved_space(tok, nxt)
        if moved:
            out += moved  # 'quyett rong' = 'quyet trong'
            i += 2
            continue
        if (
            tok.kind == "word"
            and len(tok.text) >= 5
            and len(tok.text) == tok.end - tok.start
            and not ocr_syllable(tok.text)
            and not vocab_form(tok.text)
        ):
            for k in range(2, len(tok.text) - 1):
                left, right = vocab_form(tok.text[:k]), vocab_form(tok.text[k:])
                if left and right:
                    out.append(Token("word", left, tok.start, tok.start + k))
                    out.append(Token("word", right, tok.start + k, tok.end))
                    break
            else:
                out.append(tok)
            i += 1
            continue
        out.append(tok)
        i += 1
    return out


def _moved_space(tok: Token, nxt: Token | None) -> list[Token] | None:
    """Two words whose space OCR put one letter off: 'quyett rong' = 'quyet trong'."""
    if (
        nxt is None
        or tok.kind != "word"
        or nxt.kind != "word"
        or nxt.start != tok.end + 1
        or len(tok.text) != tok.end - tok.start
        or len(nxt.text) != nxt.end - nxt.start
        or (vocab_form(tok.text) and vocab_form(nxt.text))
    ):
        return None
    a, b = tok.text, nxt.text
    for left, right in ((a[:-1], a[-1] + b), (a + b[0], b[1:])):
        if len(left) >= 2 and len(right) >= 2 and left in VOCAB and right in VOCAB:
            cut = tok.start + len(left)
            return [Token("word", left, tok.start, cut), Token("word", right, cut, nxt.end)]
    return None


_DIGIT_LETTER = {"9": "g", "0": "o", "1": "l", "5": "s", "6": "b", "8": "b", "4": "a", "3": "a"}
_OCR_SO = {"56", "50", "86", "80", "36", "30", "s6", "5o"}


def _number_later_in_clause(tokens: list[Token], start: int) -> bool:
    for tok in tokens[start : start + 14]:
        if tok.kind == "nl" or (tok.kind == "punct" and tok.text in ",;.()"):
            return False
        if tok.kind == "num":
            return True
    return False


def find_numbers(doc: Document, tokens: list[Token], excluded: list[tuple[int, int]]) -> dict[int, Number]:
    """Figure candidates by token index: no dates, references, times, list indices or years."""
    starts = sorted(excluded)
    found: dict[int, Number] = {}
    consumed: set[int] = set()

    def in_excluded(tok: Token) -> bool:
        k = bisect.bisect_right(starts, (tok.start, 10**12)) - 1
        return k >= 0 and starts[k][0] <= tok.start < starts[k][1]

    def at(j: int) -> Token | None:
        return tokens[j] if 0 <= j < len(tokens) else None

    for i, tok in enumerate(tokens):
        if tok.kind != "num" or i in consumed or in_excluded(tok):
            continue
        nxt, nxt2, nxt3 = at(i + 1), at(i + 2), at(i + 3)
        prev, prev2 = at(i - 1), at(i - 2)
        if nxt and nxt.kind == "word" and nxt.start == tok.end and not _lost_space(doc, tok, nxt):
            continue  # 11h00, 22T15
        if prev and prev.end == tok.start and (prev.kind == "word" or prev.text in "$§&@€¢"):
            continue  # glued to a word or symbol: OCR ('ho $0' is 'hồ sơ')
        if prev and prev.text == "/" and prev.end == tok.start and prev2 and prev2.end == prev.start:
            continue  # the denominator of a fraction whose numerator was cut ('l6,50/18')
        if _glued_fragment(doc, tok):
            continue  # 'l.069', '1.O50', '8B,84%': digits read as letters cut the number
        denominator = None
        last = i
        if nxt and nxt.text == "/" and nxt2:
            if nxt2.kind == "word":
                continue  # 214/UBND-TTPVHCC, 766/QĐ-TTg
            if nxt2.kind == "num":
                if nxt3 and nxt3.text in "/-" and nxt3.start == nxt2.end:
                    consumed.add(i + 2)
                    continue  # 45/2020/NĐ-CP
                consumed.add(i + 2)
                if len(nxt2.text) == 4 and nxt2.text[:2] in ("19", "20"):
                    continue  # 03/2025
                try:
                    denominator = parse_number(nxt2.text)
                except ValueError:
                    continue
                last = i + 2
        if prev and prev.kind == "word":
            if prev.text in _NOT_BEFORE or (
                len(prev.text) <= 4 and levenshtein(prev.text, "nam", 1) <= 1 and len(tok.text) == 4
            ):
                continue
            if prev2 and prev2.kind == "word" and (prev2.text, prev.text) in _NOT_BEFORE_2:
                continue
        after = at(last + 1)
        if after and after.kind == "word" and after.text in _NOT_AFTER:
            continue
        after2 = at(last + 2)
        if after and after2 and after2.kind == "word" and (after.text, after2.text) in _NOT_AFTER_2:
            continue
        if _is_list_index(doc, tokens, i):
            continue
        percent = bool(after and after.text == "%")
        try:
            value = parse_number(tok.text)
        except ValueError:
            continue
        end = after.end if percent and after else tokens[last].end
        found[i] = Number(value, doc.text[tok.start : end], tok.start, end, percent, denominator, i)
    return found


_AFTER_NUMBER = {"ho", "hd", "diem", "tthc", "luot", "phan", "thu", "tren", "dat"}


def _lost_space(doc: Document, tok: Token, nxt: Token) -> bool:
    """'18,95diem', '58ho sơ': OCR lost the space after a number, the word is whole."""
    word = doc.text[nxt.start : nxt.end]
    return (
        len(tok.text) >= 2
        and word.isalpha()
        and len(word) >= 2
        and word[0].islower()
        and nxt.text in _AFTER_NUMBER
    )


def _glued_fragment(doc: Document, tok: Token) -> bool:
    """A number that is only part of an OCR-damaged one: a thousands/decimal mark joins it
    to letters ('l.069' = 1.069, '8B,84' = 88,84, 'dat75,46%')."""
    text = doc.text
    i = tok.start
    if i >= 2 and text[i - 1] in ".,":
        k = i - 2
        while k >= 0 and text[k].isalnum():
            if not text[k].isdigit():
                return True
            k -= 1
    j = tok.end
    return j + 1 < len(text) and text[j] in ".," and text[j + 1].isalpha()


def _is_list_index(doc: Document, tokens: list[Token], i: int) -> bool:
    """'1. Kết quả', '2 | Tiến độ', '1 Thời điểm lấy số liệu' at the start of a line."""
    j = i - 1
    while j >= 0 and tokens[j].kind == "punct" and tokens[j].text in "-+*•#":
        j -= 1
    if j >= 0 and tokens[j].kind != "nl":
        return False
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None:
        return False
    if nxt.kind == "tab" or (nxt.kind == "punct" and nxt.text in ".)|"):
        return True
    return nxt.kind == "word" and doc.text[nxt.start].isupper()


@dataclass
class Clause:
    tokens: list[Token]
    numbers: list[Number]
    colon: bool = False  # ended with ':'
    first_in_sentence: bool = False
    tags: set[str] = field(default_factory=set)
    fuzzy: bool = False  # a keyword was read through OCR damage
    sentence: int = 0

    # holds a number OCR damaged beyond reading ('S25', '19B', '1b0', '58ho'): it cannot
    # label the next clause, and its readable numbers may have taken the lost one's label
    damaged: bool = False
    # its tokens' start offsets, worked out when first needed (_words_after)
    token_starts: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def words(self) -> list[str]:
        return [t.text for t in self.tokens if t.kind == "word"]

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end


def split_sentences(
    doc: Document, tokens: list[Token], numbers: dict[int, Number], skip_lines: set[int]
) -> list[list[Clause]]:
    sentences: list[list[Clause]] = []
    clauses: list[Clause] = []
    current: list[Token] = []
    current_numbers: list[Number] = []

    def close_clause(colon: bool = False) -> None:
        nonlocal current, current_numbers
        if current:
            clause = Clause(current, current_numbers, colon, not clauses, sentence=len(sentences))
            clause.damaged = _damaged(doc, current, current_numbers)
            clauses.append(clause)
        current, current_numbers = [], []

    def close_sentence() -> None:
        nonlocal clauses
        close_clause()
        if clauses:
            sentences.append(clauses)
        clauses = []

    line_of = [doc.line_no(t.start) for t in tokens]
    for i, tok in enumerate(tokens):
        if line_of[i] in skip_lines:
            close_sentence()
            continue
        if tok.kind == "nl":
            if not _soft_break(doc, tokens, i):
                close_sentence()
        elif tok.kind == "tab":
            close_clause()
        elif tok.kind == "punct" and tok.text in _SENTENCE_PUNCT and not _inside_word(tokens, i):
            close_sentence()
        elif tok.kind == "punct" and tok.text in _CLAUSE_PUNCT:
            close_clause()
        elif tok.kind == "punct" and tok.text == ":":
            close_clause(colon=True)
        elif tok.kind == "word" and tok.text == "va" and i + 1 < len(tokens) and i + 1 in numbers:
            close_clause()
        else:
            current.append(tok)
            if i in numbers:
                current_numbers.append(numbers[i])
    close_sentence()
    return sentences


_RUN = re.compile(r"\w+(?:[.,]\w+)*")
_DIGIT_LOOKALIKE = re.compile(r"\d[oOlISBZ]|[oOlISBZ]\d")
_TIME = re.compile(r"^\d{1,2}h\d{0,2}$")
_NUMBER_THEN_WORD = re.compile(r"^\d{2,}(?:[.,]\d+)*(?:ho|hd|diem|tthc|luot|phan|thu|tren|dat)$")


def _damaged(doc: Document, tokens: list[Token], numbers: list[Number]) -> bool:
    """A run of letters and digits with two or more digits that gave no number."""
    starts = {n.start for n in numbers}
    for k, t in enumerate(tokens):
        if t.kind == "word" and t.text in VOCAB:
            continue  # repaired ('5o' = 'sơ', '1y' = 'lý')
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if (
            t.kind == "word"
            and t.end - t.start == 1
            and doc.text[t.start] in "SOlIBZg"
            and nxt is not None
            and nxt.text in ("ho", "hd")
        ):
            return True  # 'trực tiếp S hồ sơ': the count 5 read as a letter
        if t.kind not in ("num", "word") or t.start in starts:
            continue
        m = _RUN.match(doc.text, t.start)
        run = m.group() if m else ""
        if _TIME.match(run) or _NUMBER_THEN_WORD.match(fold_stream(run)):
            continue  # '58ho': a space lost, nothing unreadable  # '11h00'
        if sum(c.isdigit() for c in run) >= 2 and any(c.isalpha() for c in run):
            return True
        digits = sum(c.isdigit() for c in run)
        if _DIGIT_LOOKALIKE.search(run) and digits >= sum(c.isalpha() for c in run):
            return True  # '8o, 05%', '6I1': a number with a digit OCR read as a letter
    return False


def _inside_word(tokens: list[Token], i: int) -> bool:
    """A '.' with no space on either side ('I.201', 'TP.HCM') ends no sentence."""
    prev = tokens[i - 1] if i > 0 else None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return bool(
        prev and nxt and prev.end == tokens[i].start and nxt.start == tokens[i].end
        and "num" in (prev.kind, nxt.kind) and {prev.kind, nxt.kind} <= {"word", "num"}
    )  # but 'quyet.Khong': a sentence whose space OCR lost


def _soft_break(doc: Document, tokens: list[Token], i: int) -> bool:
    """A wrapped line: the next line continues in lower case after no final punctuation."""
    j = i - 1
    while j >= 0 and tokens[j].kind == "nl":
        j -= 1
    k = i + 1
    while k < len(tokens) and tokens[k].kind == "nl":
        k += 1
    if j < 0 or k >= len(tokens):
        return False
    prev, nxt = tokens[j], tokens[k]
    if prev.kind == "punct" and prev.text in ".;:!?":
        return False
    if heading_level(doc.lines[doc.line_no(prev.start) - 1]) is not None:
        return False  # a heading ends at its line, whatever the next line starts with
    if nxt.kind == "word" and doc.text[nxt.start].islower():
        return True
    if k != i + 1 or prev.kind != "word":
        return False  # after a blank line, or after a number or a sign: a new sentence
    if nxt.kind == "punct" and nxt.text == "(":
        return True  # '… Đang giải quyết 75 hồ sơ' / '(trong hạn 73 …)'
    after = tokens[k + 1] if k + 1 < len(tokens) else None
    # '… phường tiếp nhận' / '1.532 hồ sơ …', not a numbered item ('2. Kết quả')
    return (
        nxt.kind == "num"
        and after is not None
        and ((after.kind == "word" and doc.text[after.start].islower()) or after.text in ",;%/")
    )


@dataclass
class _State:
    """What a sentence has said so far; `early_seen` is carried across the whole document."""

    topic: set[str] = field(default_factory=set)
    last_name: str | None = None
    early_seen: bool = False
    governing: set[str] = field(default_factory=set)
    commune_document: bool = False  # a commune's letterhead: a rank among provinces is not its own


# 'Phấn đấu …', 'Lũy kế từ đầu năm …' govern every later clause of their sentence
_SENTENCE_WIDE = frozenset({"MODAL", "CUMULATIVE"})
# what is counted; a clause naming none ('đã xử lý 02') counts what the sentence counts
_NOUNS = frozenset({"DOSSIER", "FEEDBACK", "PROCEDURE", "VISITS"})


def extract_prose(doc: Document, sentences: list[list[Clause]], own_unit: str | None = None) -> list[Figure]:
    figures: list[Figure] = []
    label: Clause | None = None
    early_seen = False
    foreign, own_mentions, commune_document = foreign_unit_offsets(doc, own_unit)
    foreign_lines = foreign_sections(doc, foreign)
    parent_topic: set[str] = set()  # the topic of a line that ended 'trong đó:'
    last_topic: set[str] = set()
    damaged_before = False
    for sentence in sentences:
        if _is_trong_do(sentence[-1]) and len(sentence) == 1:
            parent_topic = set(last_topic)  # a 'Trong đó:' line: its items share the topic above
            continue
        # 'trước hạn' once stated, a later bare 'đúng hạn' is the exact-deadline part
        state = _State(early_seen=early_seen, topic=set(parent_topic), commune_document=commune_document)
        label_here = False  # the pending label belongs to this sentence
        own_topic = False
        sentence_read = sentence_numbers = False
        unread_before = False  # an earlier clause of this sentence had a number nothing took
        other_subject = False  # a clause of this sentence named another unit
        for k, clause in enumerate(sentence):
            if not clause.numbers and not _may_matter(clause):
                label = None
                continue
            matches = match_tags(clause.words)
            clause.tags = {m.tag for m in matches}
            clause.fuzzy = any(m.cost for m in matches)
            own_topic |= bool(clause.tags & TOPICS)
            if any(clause.start <= k < clause.end for k in own_mentions):
                other_subject = False  # 'Cùng kỳ, xã Tiên Lãng đạt 72,4 điểm': the own unit again
            names_other = any(clause.start <= k < clause.end for k in foreign)
            if names_other or other_subject or doc.line_no(clause.start) in foreign_lines:
                # 'xã Gia Hưng đạt 61,2 điểm' in a province letter, and a section headed by
                # another unit
                clause.tags.add("OTHER_AGENCY")
            # another unit with figures of its own is the subject of the clauses after it in
            # the sentence, until the own unit is named ('thành phố Hải Phòng đạt 86,12 điểm,
            # xếp thứ 8/34 tỉnh'); one named without ('theo chỉ đạo của UBND thành phố Hải
            # Phòng, xã tiếp nhận …') is not
            other_subject |= names_other and bool(clause.numbers)
            state.governing |= clause.tags & _SENTENCE_WIDE
            clause.tags |= state.governing
            if not clause.words and clause.numbers and all(n.percent for n in clause.numbers):
                clause.tags.add("RATE")  # '(94,42%)' after a count is that count's share
            if not clause.numbers:
                if "NEG" in clause.tags:
                    # 'không có hồ sơ quá hạn' denies any overdue dossier, so no inherited topic
                    # 'không có phản ánh, kiến nghị quá hạn': the rest of the negated phrase
                    denied = _denied(matches) | (clause.tags & BLOCKING)
                    for after in sentence[k + 1 :]:
                        if after.numbers or not denied & {"FEEDBACK"}:
                            break
                        denied |= {m.tag for m in match_tags(after.words)}
                    for name in zero_by_negation(denied):
                        evidence = "negation_ocr" if clause.fuzzy else "negation"
                        figures.append(_figure(doc, Reading(name, 0.0), clause.start, clause,
                                               evidence=evidence))
                label, label_here = _next_label(label, label_here, clause)
                _remember_topic(state, clause.tags)
                unread_before |= clause.damaged
                continue
            adjacent = label is not None and (clause.first_in_sentence or label_here)
            read = _read_clause(doc, clause, state, label if adjacent else None)
            if k > 0 and sentence[k - 1].damaged and not clause.damaged and not clause.words:
                # '… đạt tỷ lệ 8o, 05%': a bare number right after one OCR garbled may be
                # its tail
                for fig in read:
                    fig.confidence = round(fig.confidence - GARBLE_PENALTY, 3)
                    fig.support.append("after_unreadable_number")
            if unread_before or damaged_before:
                # 'trước hạn 1.2O1; đúng hạn 290': after an item OCR left unread, a bare
                # 'đúng hạn' may be the exact-deadline part, not early + on time
                for fig in read:
                    if fig.name == "dossiers_resolved_on_time":
                        fig.confidence = round(fig.confidence - GARBLE_PENALTY, 3)
                        fig.support.append("on_time_after_unread_item")
            unread_before |= bool(clause.numbers or clause.damaged) and not read
            if damaged_before:
                # the item just above was unreadable ('Giái quyettrưoc hạn: 288'): this one's
                # meaning may depend on it ('đúng hạn' after 'trước hạn' is the exact part)
                for fig in read:
                    fig.confidence = round(fig.confidence - NEIGHBOUR_PENALTY, 3)
                    fig.support.append("unreadable_line_before")
            figures.extend(read)
            sentence_read |= bool(read)
            sentence_numbers |= bool(clause.numbers)
            label, label_here = None, False
        damaged_before = not sentence_read and (
            (sentence_numbers and any(garbled(c.words) for c in sentence))
            or any(c.damaged for c in sentence)
        )
        early_seen = state.early_seen
        last_topic = set(state.topic)
        if _is_trong_do(sentence[-1]):
            parent_topic = set(state.topic)
        elif own_topic:
            parent_topic = set()
    return figures


_NEGATION_REACH = 3  # 'không có hồ sơ nào quá hạn': what is denied follows the 'không' closely


def _denied(matches: list) -> set[str]:
    """The tags a 'không' denies: NEG and what starts within a few words after it."""
    negs = [m for m in matches if m.tag == "NEG"]
    if not negs:
        return set()
    out = {"NEG"}
    for m in matches:
        if any(n.end <= m.start <= n.end + _NEGATION_REACH for n in negs):
            out.add(m.tag)
    return out


def _is_trong_do(clause: Clause) -> bool:
    return clause.colon and not clause.numbers and clause.words[-2:] == ["trong", "do"]


# with or without their tone marks (a copy typed or OCR'd without them: 'xa Tien Lang')
_UNIT_MENTION = re.compile(
    r"\b(?:x[aàáảãạ]|ph[uư][oờ]ng|huy[eệ]n|qu[aậ]n|th[iị] x[aã]|th[iị] tr[aấ]n|[dđ][aặ]c khu)\s+"
    r"((?:[^\W\d_][\w]*)(?:\s+[^\W\d_][\w]*){0,3})",
    re.IGNORECASE,
)


LETTERHEAD_LINE = 100  # characters at most in a letterhead line

# 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA': society, no commune ('XA HQI' as OCR reads it)
_SOCIETY = {"hoi", "hqi", "h0i"}
_ISSUER = re.compile(r"(?i)\b(?:tỉnh|thành phố)\s+[A-ZĐÀ-Ỹ]")
# a province or city by name, tone marks or not: 'thành phố Hải Phòng', 'tinh Ninh Binh' (a
# capital after it, so 'tình hình' typed without its marks is none)
# (OCR may garble the title, 'th&nh phô': the name, checked against the 34, is what counts)
_PROVINCE_MENTION = re.compile(r"\b(?i:t\w{0,2}nh|\w{3,6}\s+ph\S{1,2}|tp\.?)\s+((?:[^\W\d_]+\s*){1,3})")


def _province_mentions(text: str, start: int = 0) -> list[int]:
    """Where `text` names one of the 34 provinces by name ('thành phố Hải Phòng', 'tinh Ninh
    Binh'), not 'TÌNH HÌNH' typed or read without its tone marks."""
    found = []
    for m in _PROVINCE_MENTION.finditer(text, start):
        words = m.group(1).split()
        if any(gazetteer().province(" ".join(words[:n])) for n in range(len(words), 0, -1)):
            found.append(m.start())
    return found


def foreign_unit_offsets(doc: Document, own_unit: str | None = None) -> tuple[list[int], list[int], bool]:
    """Where the text names a commune or district other than the document's own (a letter
    about a province that names its weakest communes; a report quoting a neighbour), and
    where it names its own. A commune's document naming its province or city ('thành phố Hải
    Phòng đạt 86,12 điểm, xếp thứ 8/34 tỉnh') names another unit too. Also whether the
    letterhead is a commune's."""
    mentions: list[tuple[int, str]] = []
    provinces: list[int] = []
    for m in _UNIT_MENTION.finditer(doc.text):
        words = []
        for w in m.group(1).split():
            if not w[0].isupper():
                break
            words.append(w)
        if words and fold_stream(words[0]) not in _SOCIETY:
            mentions.append((m.start(), fold_stream(" ".join(words))))
    if not mentions:
        return [], [], False
    # the document's own unit: named in its letterhead, or the unit the gazetteer found
    header_lines = max(1, min(12, len(doc.line_starts) // 3))
    header_end = doc.line_starts[header_lines] if header_lines < len(doc.line_starts) else len(doc.text)
    # the letterhead's lines are short: a long line there is the body's first paragraph
    # ('… xã Nguyễn Bỉnh Khiêm … trên cơ sở sáp nhập xã Vĩnh Hải và xã Vĩnh Hòa'), whose
    # first unit is the own one only when no short line names one (a one-line heading)
    in_header = [(at, name) for at, name in mentions if at < header_end]
    own = {name for at, name in in_header
           if len(" ".join(doc.lines[doc.line_no(at) - 1].split())) <= LETTERHEAD_LINE}
    if in_header and not own:
        own = {in_header[0][1]}
    if _ISSUER.search(doc.text[:header_end]) or _province_mentions(doc.text[:header_end]):
        own.add("")  # a province or city letter: every commune it names is another unit
    elif own:  # a commune's letterhead: its province or city, named with figures, is another
        provinces = _province_mentions(doc.text, header_end)
    own_unit_from_body = bool(own_unit and not own)
    if own_unit_from_body:
        own.add(fold_stream(own_unit))  # no letterhead (seed 002): the unit it reports on

    def is_own(name: str) -> bool:
        return any(
            o and (levenshtein(name, o, 2) <= 2 or o.startswith(name) or name.startswith(o)) for o in own
        )

    foreign = [at for at, name in mentions if not is_own(name)] + provinces
    return sorted(foreign), [at for at, name in mentions if is_own(name)], bool(provinces) or (
        bool(own) and "" not in own and not own_unit_from_body)


def foreign_sections(doc: Document, foreign: list[int]) -> set[int]:
    """Lines of the sections whose heading names another unit ('I. Tài khoản xã Vĩnh Hải
    (cũ)' in the merged commune's report, figures per former commune): from the heading to
    the next heading of the same or a higher level."""
    marks = sorted(foreign)

    def names_other(no: int, line: str) -> bool:
        start = doc.line_starts[no - 1]
        return bisect.bisect_left(marks, start) < bisect.bisect_left(marks, start + len(line))

    return section_lines(doc, names_other)


def _next_label(label: Clause | None, label_here: bool, clause: Clause) -> tuple[Clause | None, bool]:
    """A number-less clause with content labels the next number; consecutive ones add up
    ('Tỉ lệ số hoá hồ sơ, kết quả giải quyết TTHC: 99,1%')."""
    if not clause.tags - {"DOSSIER"} or clause.damaged:
        return None, False
    if label is None or not label_here:
        return clause, True
    merged = Clause(label.tokens + clause.tokens, [], clause.colon, label.first_in_sentence,
                    sentence=label.sentence)
    merged.tags = label.tags | clause.tags
    merged.fuzzy = label.fuzzy or clause.fuzzy
    return merged, True


def _read_clause(doc: Document, clause: Clause, state: _State, label: Clause | None) -> list[Figure]:
    """Figures of a clause with numbers: its own tags first, then with the label's help."""
    own = set(clause.tags) if clause.tags & TOPICS else clause.tags | state.topic
    if not any(t.startswith("G_") for t in own):
        own |= {t for t in state.topic if t.startswith("G_")}  # 'Tiến độ: 19/20, xếp thứ 5'
    if not own & _NOUNS:
        own |= state.topic & {"FEEDBACK"}  # 'tiếp nhận 03 phản ánh, đã xử lý 02'
    attempts: list[tuple[set[str], Clause | None]] = [(own, None)]
    if label is not None and _contradicts(clause.tags, label.tags):
        label = None  # 'trực tiếp [5 lost] hồ sơ, qua bưu chính 1': the label is another item's
    if label is not None:
        own |= label.tags & BLOCKING  # 'Chi nhánh … tiếp nhận: 45 hồ sơ'
        labelled = clause.tags | label.tags
        if not labelled & TOPICS:
            labelled |= state.topic  # '21 (trong hạn: 19; quá hạn: 02)'
        attempts = [(own, None), (own | label.tags, label)]
        if label.colon or not clause.tags & TOPICS:
            attempts.insert(0, (labelled, label))
    if label is not None and attempts[0][1] is label and clause.tags & TOPICS:
        # the clause names its figure itself ('a) Tiếp nhận:' / '- 12 hồ sơ kỳ trước chuyển
        # sang'): when the label reads it the same way, the clause's own words are the evidence
        alone = _copy(state)
        by_self = _bind(doc, clause, own, alone, None)
        by_label = _bind(doc, clause, attempts[0][0], _copy(state), label)
        if by_self and [(f.name, f.value) for f in by_self] == [(f.name, f.value) for f in by_label]:
            _adopt(state, alone)
            _remember_topic(state, own)
            return by_self
    for tags, used in attempts:
        produced = _bind(doc, clause, tags, state, used)
        if produced:
            _remember_topic(state, tags)
            return produced
    _remember_topic(state, own)
    return []


def _copy(state: _State) -> _State:
    return _State(set(state.topic), state.last_name, state.early_seen, set(state.governing),
                  state.commune_document)


def _adopt(state: _State, other: _State) -> None:
    state.topic, state.last_name = other.topic, other.last_name
    state.early_seen, state.governing = other.early_seen, other.governing


# qualifiers of which a figure has one: a label with another one names another figure
_FAMILIES = (
    frozenset({"ONLINE", "DIRECT", "POSTAL"}),
    frozenset({"EARLY", "ON_TIME", "LATE"}),
    frozenset({"FULL", "PARTIAL", "NO_ONLINE"}),
)


def _contradicts(own: set[str], label: set[str]) -> bool:
    return any((own & f) and (label & f) and not (own & f) <= (label & f) for f in _FAMILIES)


def _may_matter(clause: Clause) -> bool:
    words = clause.words
    return bool(words) and len(words) <= 40


def _remember_topic(state: _State, tags: set[str]) -> None:
    topic = tags & TOPICS
    if topic:
        if not any(t.startswith("G_") for t in topic):
            # 'Dịch vụ công trực tuyến: … điểm, xếp thứ 21': the group stays the sentence's
            topic |= {t for t in state.topic if t.startswith("G_")}
        state.topic = topic


def _bind(doc: Document, clause: Clause, tags: set[str], state: _State, label: Clause | None) -> list[Figure]:
    out: list[Figure] = []
    words_before: list[str] = label.words if label is not None else []
    windows: list[tuple[Number, list[str], list[str]]] = []
    positions = {n.token_index: n for n in clause.numbers}
    at_start: dict[int, Number] = {}
    for number in positions.values():  # the first number starting there, as a scan finds it
        at_start.setdefault(number.start, number)
    segment: list[str] = []
    # Each number looks at the 8 words before it (decide) only: keeping a copy of every word
    # so far for each number made a clause of thousands of numbers quadratic.
    for tok in clause.tokens:
        if tok.kind == "word":
            segment.append(tok.text)
            words_before.append(tok.text)
        number = at_start.get(tok.start)
        if number is not None:
            windows.append((number, segment, words_before[-8:]))
            segment = []
    tail = segment
    start = label.start if label is not None else clause.start
    garbled_clause = garbled_words(clause.words)
    word_tokens = [t for t in clause.tokens if t.kind == "word"]
    word_ends = [t.end for t in word_tokens]
    for k, (number, left, before) in enumerate(windows):
        if len(windows) == 1:
            window_tags = set(tags)
            own_window = set(clause.tags)
        else:
            own = {m.tag for m in match_tags(left)}
            window_tags = own | (tags & TOPICS if not own & TOPICS else set())
            window_tags |= tags & (BLOCKING | {"RATE", "NEG"})
            own_window = own | (clause.tags & _SENTENCE_WIDE)
        if number.percent and _word_after(clause, number) in _SHARE_OF:
            window_tags.add("RATE")  # '99,33% hồ sơ được giải quyết đúng hạn' is a share
        evidence = _evidence(window_tags, own_window, label, clause)
        garbled = _garbled_before(word_tokens, word_ends, number, label)
        # '… giải quyết 20 12,53 96': numbers side by side are a table row whose columns
        # are not known, not a sentence
        side_by_side = (k > 0 and not left) or (k + 1 < len(windows) and not windows[k + 1][1])
        readings = decide(window_tags, number, tuple(before[-8:]), state.last_name, state.early_seen)
        if not readings and len(windows) > 1:
            evidence = "right_window"
            right = windows[k + 1][1] if k + 1 < len(windows) else tail
            own = {m.tag for m in match_tags(right)}
            readings = decide(
                own | (tags & TOPICS if not own & TOPICS else set()),
                number,
                tuple(before[-8:]),
                state.last_name,
                state.early_seen,
            )
        ranked_provinces = number.denominator and _words_after(clause, number)[:1] == ["tinh"]
        if readings and state.commune_document and ranked_provinces:
            # 'xếp thứ 8/34 tỉnh' in a commune's letter: its province's rank among provinces
            readings = [r for r in readings if r.name not in ("rank", "units_ranked")]
        if readings and _counts_units(clause, number):
            # '… trên tổng số 114 xã, phường': a number of communes, not of dossiers
            readings = [r for r in readings if not r.name.startswith(("dossiers_", "feedback_"))]
        for reading in readings:
            how = "previous_count" if reading.via else evidence
            fig = _figure(doc, reading, number.start, clause, start, how, label)
            if garbled:
                fig.confidence = round(fig.confidence - GARBLE_PENALTY, 3)
                fig.support.append("garbled_words_before")
            elif garbled_clause:
                fig.confidence = round(fig.confidence - FAR_GARBLE_PENALTY, 3)
                fig.support.append("garbled_words_in_clause")
            if clause.damaged:
                fig.confidence = round(fig.confidence - GARBLE_PENALTY, 3)
                fig.support.append("unreadable_number_in_clause")
            if side_by_side:
                fig.confidence = round(fig.confidence - GARBLE_PENALTY, 3)
                fig.support.append("numbers_side_by_side")
            out.append(fig)
            state.last_name = reading.name
            if reading.name == "dossiers_resolved_early":
                state.early_seen = True
    return out


# '99,33% hồ sơ …', '98,5% người dân hài lòng': a share of what the word after it names
_SHARE_OF = {"ho", "hd", "nguoi", "luot"}


# what follows a number of administrative units ('114 xã', '34 tỉnh', '12 đơn vị')
_UNIT_NOUNS = {("xa",), ("phuong",), ("tinh",), ("huyen",), ("quan",), ("dac", "khu"), ("don", "vi"),
               ("thi", "tran"), ("thi", "xa")}


def _words_after(clause: Clause, number: Number, count: int = 2) -> list[str]:
    """The `count` words after `number` in its clause (found by bisection: a clause may hold
    thousands of numbers)."""
    if clause.token_starts is None:
        clause.token_starts = [t.start for t in clause.tokens]
    words = []
    for tok in clause.tokens[bisect.bisect_left(clause.token_starts, number.end):]:
        if tok.kind == "word":
            words.append(tok.text)
            if len(words) == count:
                break
        elif tok.kind == "num":
            break  # the next number's words are its own
    return words


def _counts_units(clause: Clause, number: Number) -> bool:
    after = _words_after(clause, number)
    return any(tuple(after[:len(noun)]) == noun for noun in _UNIT_NOUNS)


def _word_after(clause: Clause, number: Number) -> str | None:
    return next((t.text for t in clause.tokens if t.start >= number.end and t.kind == "word"), None)


# How sure a reading is before arithmetic has its say (see `resolve`): its name came from
# keywords next to the number, from the sentence's topic, from a label, or from less.
BASE_CONFIDENCE = {
    "keyword": 0.8,  # the number's own words name it
    "negation": 0.8,  # 'không có hồ sơ quá hạn'
    "inherited_topic": 0.7,  # own qualifier, topic of the sentence ('trong đó: quá hạn 3')
    "label": 0.7,  # 'Tổng điểm: 58,3' in one sentence
    "previous_count": 0.6,  # a bare 'đạt tỷ lệ 100%' right after a count
    "negation_ocr": 0.65,
    "right_window": 0.5,  # named by the words after it ('19 hồ sơ trong hạn')
    "label_previous_line": 0.45,  # a label line, then a number on the next
    "topic_only": 0.45,  # nothing of its own: everything from the sentence before
}
OCR_PENALTY = 0.1  # a keyword that matched only through OCR damage
# an unreadable word among the three before the number may be the qualifier that names it
# ('đang giải quyết trong hari 102' may be 'trong hạn')
GARBLE_PENALTY = 0.35
FAR_GARBLE_PENALTY = 0.2  # … elsewhere in its clause ('tiép uhari và giải quyết tổng số 2.213')
NEIGHBOUR_PENALTY = 0.25


def _garbled_before(word_tokens: list[Token], word_ends: list[int], number: Number,
                    label: Clause | None = None) -> bool:
    """An unreadable word among the two before the number (the label's, if the clause has
    none) or the one right after it. `word_ends`: the clause's word tokens' ends, in order;
    a keyword match covering the two words is looked for among the last ten."""
    cut = bisect.bisect_right(word_ends, number.start)
    before = [t.text for t in word_tokens[max(0, cut - 10):cut]]
    after = next(([t.text] for t in itertools.islice(word_tokens, cut, None) if t.start >= number.end), [])
    if after and not ocr_syllable(after[0]) and not _known_word(after[0]) and len(after[0]) >= 5:
        if not match_tags(after):
            return True
    if not before and label is not None:
        before = label.words[-1:]
    if not before:
        return False
    matched = {k for m in match_tags(before) for k in range(m.start, m.end)}
    return any(
        not ocr_syllable(w) and len(w) >= 2 and k not in matched and not _known_word(w)
        for k, w in enumerate(before)
        if k >= len(before) - 2
    )


def garbled_words(words: list[str]) -> bool:
    """A long unreadable word anywhere in the clause (a merged or mangled keyword, not a
    short fragment of OCR noise)."""
    return garbled(words, min_len=5)


def garbled(words: list[str], min_len: int = 2) -> bool:
    """Some word is neither a syllable, nor an abbreviation, nor part of a keyword match."""
    matched = {k for m in match_tags(words) for k in range(m.start, m.end)}
    return any(
        not ocr_syllable(w) and len(w) >= min_len and k not in matched and not _known_word(w)
        for k, w in enumerate(words)
    )


def _known_word(word: str) -> bool:
    """Abbreviations and words a clause may carry that are not syllables ('tthc', 'ubnd')."""
    return word in _ABBREVIATIONS


_ABBREVIATIONS = {"tthc", "ubnd", "dvctt", "pakn", "bcci", "hcc", "dvc", "tt", "ckmb", "tdgq", "shhs",
                  "mdhl", "tttt", "vnpt", "vneid", "hd"}


def _evidence(tags: set[str], own: set[str], label: Clause | None, clause: Clause) -> str:
    if label is not None:
        return "label" if label.sentence == clause.sentence else "label_previous_line"
    specific = own - {"DOSSIER", "NEG", "RATE"} - BLOCKING
    if not specific:
        return "topic_only"
    return "keyword" if tags <= own | {"RATE", "DOSSIER"} else "inherited_topic"


def _figure(
    doc: Document,
    reading: Reading,
    at: int,
    clause: Clause,
    span_start: int | None = None,
    evidence: str = "keyword",
    label: Clause | None = None,
) -> Figure:
    start = span_start if span_start is not None else clause.start
    confidence = BASE_CONFIDENCE[evidence]
    support = [evidence]
    if clause.fuzzy or (label is not None and label.fuzzy):
        confidence -= OCR_PENALTY
        support.append("ocr_keyword")
    return Figure(
        name=reading.name,
        value=reading.value,
        unit=UNIT_OF[reading.name],
        max_value=reading.max_value,
        line_no=doc.line_no(at),
        source_text=doc.span(start, clause.end),
        confidence=round(confidence, 3),
        support=support,
        sentence=clause.sentence,
    )


def dedupe(figures: Iterable[Figure]) -> tuple[list[Figure], list[tuple[Figure, Figure]]]:
    """First statement of a figure wins; later different values are returned as conflicts."""
    kept: dict[str, Figure] = {}
    conflicts = []
    for fig in figures:
        first = kept.get(fig.name)
        if first is None:
            kept[fig.name] = fig
        elif abs(first.value - fig.value) > 1e-9:
            conflicts.append((first, fig))
        elif first.max_value is None and fig.max_value is not None:
            first.max_value = fig.max_value
    return list(kept.values()), conflicts
