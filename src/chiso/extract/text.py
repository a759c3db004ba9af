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
        pass
    from chiso.readers import _from_windows_1258  # the data files' one test of that code page

    converted = _from_windows_1258(raw)
    if converted is None:
        # TCVN3/ABC or VNI read as Windows-1258 is letters of no language: no figure would be
        # found, and the report would pass for one without figures
        raise ExtractionError(
            f"{path}: not UTF-8, and not Windows-1258 either (characters that are no Vietnamese "
            "letters): a legacy encoding such as TCVN3/ABC or VNI; save it as UTF-8"
        )
    log.warning("%s is not UTF-8; read as Windows-1258 (Vietnamese)", path)
    return converted.decode("utf-8")


def _read_docx(path: Path) -> str:
    """Paragraphs and tables in document order, read from the XML as Word lays it out:
    content controls (w:sdt), tracked insertions, smart tags and fields are read through,
    nested tables come out as lines of their own, and merged table cells are emitted once
    a row (a vertically merged cell's text in each row it spans, a horizontally merged one
    followed by an empty cell for each other grid column it spans)."""
    try:
        import docx  # python-docx
    except ImportError as exc:  # pragma: no cover - python-docx is a dependency
        raise ExtractionError(f"{path}: reading .docx needs python-docx") from exc
    _check_docx_package(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for bad files
        raise ExtractionError(f"{path}: not a readable .docx file ({exc})") from exc
    lines: list[str] = []
    _block_lines(document.element.body, lines)
    return "\n".join(lines)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# wrappers whose content Word shows in place: content controls, custom XML, tracked
# insertions and moves, smart tags, fields, hyperlinks
_TRANSPARENT = {_W + name for name in ("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag",
                                       "fldSimple", "hyperlink")}
_SKIPPED = {_W + name for name in ("sdtPr", "sdtEndPr", "del", "moveFrom", "customXmlPr")}
MAX_DOCX_XML_BYTES = 32 * 1024 * 1024  # a monthly report's document.xml is well under 1 MB


def _check_docx_package(path: Path) -> None:
    """The document part's unpacked size, before any XML is parsed (a small zip can hold a
    huge part)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            sizes = [i.file_size for i in archive.infolist() if i.filename.startswith("word/")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError(f"{path}: not a readable .docx file ({exc})") from exc
    if sum(sizes) > MAX_DOCX_XML_BYTES:
        raise ExtractionError(
            f"{path}: the document unpacks to {sum(sizes) // 2**20} MB of XML, over the "
            f"{MAX_DOCX_XML_BYTES // 2**20} MB a report can take"
        )


def _children(element):
    """Child elements, with transparent wrappers replaced by their content."""
    for child in element:
        if child.tag in _TRANSPARENT:
            yield from _children(child)
        elif child.tag not in _SKIPPED:
            yield child


def _block_lines(container, lines: list[str]) -> None:
    for child in _children(container):
        if child.tag == _W + "p":
            lines.append(_paragraph_text(child))
        elif child.tag == _W + "tbl":
            lines.extend(_table_lines(child))
            lines.append("")


def _paragraph_text(paragraph) -> str:
    parts: list[str] = []
    for node in paragraph.iter():
        if node.tag == _W + "t" and not _deleted(node, paragraph):
            parts.append(node.text or "")
        elif node.tag == _W + "tab" and node.getparent().tag == _W + "r":
            parts.append("\t")
        elif node.tag in (_W + "br", _W + "cr"):
            parts.append("\n")
    return "".join(parts)


def _deleted(node, stop) -> bool:
    parent = node.getparent()
    while parent is not None and parent is not stop:
        if parent.tag in _SKIPPED:
            return True
        parent = parent.getparent()
    return False


def _table_lines(table) -> list[str]:
    """One line a row, cells tab-separated; a table nested in a cell follows its row."""
    lines: list[str] = []
    # The row above: the text and laid-out width of the cell starting at each grid column, and
    # the text of the cell covering each grid column.
    above: dict[int, tuple[str, int]] = {}
    covered: dict[int, str] = {}
    for row in (c for c in _children(table) if c.tag == _W + "tr"):
        cells, nested, starts, covering = [], [], {}, {}
        column = _grid_value(row.find(f"{_W}trPr/{_W}gridBefore"), 0)
        for cell in (c for c in _children(row) if c.tag == _W + "tc"):
            properties = cell.find(_W + "tcPr")
            span = max(1, _grid_value(None if properties is None else properties.find(_W + "gridSpan"), 1))
            merge = None if properties is None else properties.find(_W + "vMerge")
            continued = merge is not None and merge.get(_W + "val") in (None, "continue")
            if continued and column in above:
                # the merged cell above, laid out as python-docx does: that cell, its width
                # included, even where this one claims another
                text, width = above[column]
            elif continued and column in covered:
                text, width = covered[column], span  # no cell starts here above: its text
            else:
                paragraphs: list[str] = []
                for child in _children(cell):
                    if child.tag == _W + "p":
                        paragraphs.append(_paragraph_text(child))
                    elif child.tag == _W + "tbl":
                        nested.extend(_table_lines(child))
                text, width = " ".join(" ".join(paragraphs).split()), span
            # a cell spanning several grid columns, then empty ones for the rest of its span,
            # so that every row's cells line up with the grid (and the header's with its values)
            cells.extend([text] + [""] * (width - 1))
            starts[column] = (text, width)
            for k in range(column, column + span):
                covering[k] = text
            column += span
        above, covered = starts, covering
        lines.append("\t".join(cells))
        lines.extend(nested)
    return lines


def _grid_value(element, default: int) -> int:
    try:
        return int(element.get(_W + "val")) if element is not None else default
    except (TypeError, ValueError):
        return default


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
        """Original text of a span, whitespace collapsed (spans may cross line breaks); each
        figure of a clause quotes the same span, so it is cut once."""
        key = (start, end)
        if key not in self._spans:
            self._spans[key] = " ".join(self.text[start:end].split())
        return self._spans[key]

    @cached_property
    def _spans(self) -> dict[tuple[int, int], str]:
        return {}
