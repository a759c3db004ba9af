"""Forward-looking sections: figures under 'NHIỆM VỤ THÁNG TỚI' are targets, not results.

Monthly reports end with tasks, directions, proposals ('III. NHIỆM VỤ TRỌNG TÂM THÁNG
10/2025', '## Phương hướng tháng tới', 'IV. KIẾN NGHỊ, ĐỀ XUẤT'). Their numbers ('phấn đấu
đạt 95%') and months ('tháng 10/2025') are not the period's, whether or not the sentence
carries a modal word. A section runs from its heading to the next heading of the same or a
higher level.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .lexicon import repair_words, vocab_form
from .text import Document

# heading kinds → level (smaller is higher); Markdown headings use their number of '#'
_ROMAN = re.compile(r"^(?:\*\*)?\s*(?=[IVX1l]*[IVX])[IVX1l]{1,4}\s*[.)/]\s")
_DIGIT = re.compile(r"^(?:\*\*)?\s*\d{1,2}\s*[.)]\s+\D")
_MARKDOWN = re.compile(r"^(#{1,6})\s")
_FORWARD = re.compile(
    r"nhiem vu|phuong huong|ke hoach|de xuat|kien nghi|giai phap|thang toi|thoi gian toi|"
    r"ky toi|tiep theo"
)
# a heading about results or about citizens' petitions ('phản ánh, kiến nghị') looks back
_BACKWARD = re.compile(r"ket qua|tinh hinh|phan anh|danh gia")


def heading_level(line: str) -> int | None:
    """Level of a heading line, or None for body text."""
    text = line.strip()
    if not text or len(text) > 120:
        return None
    m = _MARKDOWN.match(text)
    if m:
        return len(m.group(1))
    if _ROMAN.match(text):
        return 1
    if _DIGIT.match(text):
        return 2
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 8 and all(c.isupper() for c in letters) and " " in text:
        return 1
    return None


_GLUED_DIGIT = re.compile(r"(?<=[a-z])[01346]|[01346](?=[a-z])")
_DIGIT_AS = {"0": "o", "1": "l", "3": "a", "4": "a", "6": "o"}


def _readable(folded: str) -> str:
    """A heading as OCR should have read it: 'Phan 3nh kien nghi' = 'phan anh kien nghi',
    'PliAN ANH' = 'phan anh', 'C6NG K HAI' = 'cong khai' (what the patterns are matched on)."""
    text = _GLUED_DIGIT.sub(lambda m: _DIGIT_AS[m.group()], folded)
    words = [vocab_form(w) or w for w in re.findall(r"[a-z]+", text)]
    return " ".join(repair_words(words))


def forward_lines(doc: Document) -> set[int]:
    """1-based numbers of the lines inside forward-looking sections (headings included)."""
    def forward(no: int, line: str) -> bool:
        folded = _readable(doc.folded[doc.line_starts[no - 1] : doc.line_starts[no - 1] + len(line)])
        return bool(_FORWARD.search(folded)) and not _BACKWARD.search(folded)

    return section_lines(doc, forward)


def section_lines(doc: Document, opens: Callable[[int, str], bool]) -> set[int]:
    """1-based numbers of the lines inside the sections whose heading `opens` (line number,
    line) accepts, headings included: a section runs to the next heading of the same or a
    higher level that `opens` does not accept."""
    lines: set[int] = set()
    open_level: int | None = None
    for no, line in enumerate(doc.lines, start=1):
        level = heading_level(line)
        if level is not None:
            opening = opens(no, line)
            if open_level is not None and level <= open_level and not opening:
                open_level = None
            elif open_level is None and opening:
                open_level = level
        if open_level is not None:
            lines.add(no)
    return lines
