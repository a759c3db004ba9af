"""Reading documents into lines of text, and the folded token stream the grammar works on.

The folded stream has exactly one character per character of the original text, so a token's
offsets point straight back into the original (for `line_no` and `source_text`). That is why
this module folds char by char instead of calling `chiso.sources.fold` on whole strings.
"""

from __future__ import annotations

import bisect
import logging
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from .lexicon import is_syllable

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf")


class ExtractionError(Exception):
    """A document could not be read; the message names the file and says why."""


# --------------------------------------------------------------------------- reading


def read_lines(path: Path) -> list[str]:
    """The document's text as NFC lines (tables: one row per line, cells tab-separated)."""
    path = Path(path)
    if not path.is_file():
        raise ExtractionError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md", ".text", ""):
        text = _read_plain(path)
    elif suffix == ".docx":
        text = _read_docx(path)
    elif suffix == ".pdf":
        text = _read_pdf(path)
    else:
        raise ExtractionError(
            f"{path}: unsupported file type {suffix!r} (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        )
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\f", "\n")
    if not text.strip():
        raise ExtractionError(f"{path}: the document is empty (no text could be extracted)")
    return text.split("\n")


def _read_plain(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ExtractionError(
                f"{path}: starts with a UTF-16 byte-order mark but is not valid UTF-16 "
                f"(byte {exc.start}); save it as UTF-8"
            ) from exc
    if b"\x00" in raw[:4096]:
        raise ExtractionError(f"{path}: looks like a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.warning("%s is not UTF-8; decoding as Windows-1258 (Vietnamese)", path)
        return raw.decode("cp1258", errors="replace")


def _read_docx(path: Path) -> str:
    """Paragraphs and tables in document order; merged table cells are emitted once."""
    try:
        import docx  # python-docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - python-docx is a dependency
        raise ExtractionError(f"{path}: reading .docx needs python-docx") from exc
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for bad files
        raise ExtractionError(f"{path}: not a readable .docx file ({exc})") from exc
    lines: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            lines.extend(_table_lines(Table(child, document)))
            lines.append("")
    return "\n".join(lines)


def _table_lines(table) -> list[str]:
    lines = []
    for row in table.rows:
        try:
            row_cells = row.cells  # resolves merged cells, so a merge's text comes once
        except Exception:  # noqa: BLE001 - a malformed merge (vMerge with nothing above)
            row_cells = None
        if row_cells is None:
            # python-docx cannot lay the grid out; each cell as written is still text
            cells = [" ".join(_cell_text(tc).split()) for tc in row._tr.tc_lst]
        else:
            cells, seen = [], set()
            for cell in row_cells:
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                cells.append(" ".join(cell.text.split()))
        lines.append("\t".join(cells))
    return lines


def _cell_text(tc) -> str:
    return "\n".join("".join(t.text or "" for t in p.iter(_W_T)) for p in tc.iter(_W_P))


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_P, _W_T = _W + "p", _W + "t"


def _read_pdf(path: Path) -> str:
    """Text layer only (no OCR), with whichever PDF library happens to be installed."""
    try:
        import pypdf  # type: ignore[import-not-found]

        reader = pypdf.PdfReader(str(path))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except ImportError:
        pass
    except Exception as exc:
        raise ExtractionError(f"{path}: could not read the PDF ({exc})") from exc
    try:
        from pdfminer.high_level import extract_text  # type: ignore[import-not-found]

        return extract_text(str(path))
    except ImportError:
        pass
    except Exception as exc:
        raise ExtractionError(f"{path}: could not read the PDF ({exc})") from exc
    tool = shutil.which("pdftotext")
    if tool:
        done = subprocess.run(
            [tool, "-layout", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            check=False,
        )
        if done.returncode == 0:
            return done.stdout.decode("utf-8", errors="replace")
        raise ExtractionError(f"{path}: pdftotext failed: {done.stderr.decode(errors='replace')}")
    raise ExtractionError(
        f"{path}: PDF text extraction needs a PDF library (pypdf or pdfminer.six) or the "
        "pdftotext tool, and none is installed; convert the file to .txt or .docx first"
    )


# --------------------------------------------------------------------------- folding

# Symbols OCR puts in place of Vietnamese letters ("B§" = "Bộ", "c¢" = "có", "x&" = "xã").
OCR_LETTERS = {"§": "o", "¢": "c", "€": "e", "&": "a", "@": "a", "|": "l"}
# Digits OCR puts in place of letters inside words ("s6" = "số", "d9" = "độ", "x3" = "xã").
OCR_DIGITS = {"0": "o", "1": "l", "3": "a", "4": "a", "6": "o", "9": "o"}


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """One character in, one character out: lower case, no diacritics, đ → d."""
    if ch in "đĐÐð":  # Đ, and the look-alike Ð OCR gives for it
        return "d"
    if ch in "\t\n":
        return ch
    if ch.isspace():
        return " "
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
    base = base.lower()
    return base[0] if base else " "


class _Folding(dict):
    """str.translate's table for fold_char, filled as characters are met."""

    def __missing__(self, code: int) -> str:
        self[code] = folded = fold_char(chr(code))
        return folded


_FOLDING = _Folding()


def fold_stream(text: str) -> str:
    """The folded text, one character for each character (offsets are shared)."""
    return text.translate(_FOLDING)


@lru_cache(maxsize=100_000)
def ocr_word(word: str) -> str:
    """Undo letter-for-digit/symbol OCR confusions inside a folded word token."""
    if not (word.isalpha() and word.isascii()):
        word = "".join(OCR_DIGITS.get(ch, OCR_LETTERS.get(ch, ch)) for ch in word)
    return _ocr_syllable(word)


def _ocr_syllable(word: str) -> str:
    """Letter-level OCR misreadings that leave a non-word: 'ư' read as 'ir' ('xir ly' = 'xử
    lý', 'chirc' = 'chức'), and 'Đ' read as 'P' ('Pang giai quyét' = 'Đang giải quyết'; a
    Vietnamese syllable never starts with a bare 'p', only with 'ph')."""
    if "ir" in word and not is_syllable(word):
        fixed = word.replace("ir", "u")
        if is_syllable(fixed):
            return fixed
    if word.startswith("p") and not word.startswith("ph") and is_syllable("d" + word[1:]):
        return "d" + word[1:]
    return word


# --------------------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*)"
    r"|(?P<word>(?:[§¢€@]|\|(?=[^\W\d_]{2}))?[^\W\d_](?:[^\W_]|[§¢€&@])*)"  # '¢hính', '|iệu'
    r"|(?P<nl>\n)"
    r"|(?P<tab>\t)"
    r"|(?P<punct>[^\s\w])"
)


@dataclass(frozen=True)
class Token:
    kind: str  # num | word | nl | tab | punct
    text: str  # folded text; for words, OCR-repaired
    start: int
    end: int


def tokenize(folded: str, offset: int = 0) -> list[Token]:
    tokens = []
    for m in _TOKEN_RE.finditer(folded):
        kind = m.lastgroup or "punct"
        text = m.group()
        if kind == "word":
            text = ocr_word(text)
        tokens.append(Token(kind, text, m.start() + offset, m.end() + offset))
    return tokens


@dataclass
class Document:
    """Original lines plus the folded stream of the whole text (same offsets)."""

    path: Path
    lines: list[str]

    def __post_init__(self) -> None:
        self.text = "\n".join(self.lines)
        self.folded = fold_stream(self.text)
        self.line_starts = [0]
        for line in self.lines[:-1]:
            self.line_starts.append(self.line_starts[-1] + len(line) + 1)

    @cached_property
    def tokens(self) -> list[Token]:
        """The folded text's tokens (read by several passes: never modify)."""
        return tokenize(self.folded)

    def line_no(self, offset: int) -> int:
        """1-based line number of a character offset."""
        return max(1, bisect.bisect_right(self.line_starts, offset))

    def span(self, start: int, end: int) -> str:
        """Original text of a span, whitespace collapsed (spans may cross line breaks)."""
        return " ".join(self.text[start:end].split())
