"""Which administrative unit a document is about, matched against the 2025 unit lists.

Names are compared folded (no diacritics), so 'Hoà'/'Hòa' and OCR output without diacritics
match; OCR-damaged names ('Khac Thira Du') match by a small edit distance. A unit is only
taken from a capitalised name right after its type word ('xã Khúc Thừa Dụ', 'x& Hung Thing',
'THÀNH PHỐ HÀ NỘI'), which keeps ordinary words ('xã hội', 'cấp xã') out. The issuer in the
letterhead outweighs units merely mentioned in the body.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from chiso.config import DATA_DIR
from chiso.sources import fold

from .lexicon import levenshtein
from .text import Document, Token

log = logging.getLogger(__name__)

HEADER_LINES = 12  # letterhead: the first non-blank lines name the issuing body


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    type: str
    province_code: str
    level: str  # commune | province


_TONE_PLACEMENT = {
    first + mark: tone + glide
    for first, glide, marks, tones in (
        ("o", "a", "àáảãạ", "òóỏõọ"),
        ("o", "e", "èéẻẽẹ", "òóỏõọ"),
        ("u", "y", "ỳýỷỹỵ", "ùúủũụ"),
    )
    for mark, tone in zip(marks, tones, strict=True)
}


def normalize_tone(name: str) -> str:
    """Old-style tone placement, as in the official list: 'Hoà' → 'Hòa', 'Thuỷ' → 'Thủy'."""
    text = unicodedata.normalize("NFC", name)

    def swap(m: re.Match[str]) -> str:
        return _TONE_PLACEMENT.get(m.group(2).lower(), m.group(2)) if not m.group(1) else m.group()

    return re.sub(r"(?i)(q)?([ou][àáảãạèéẻẽẹỳýỷỹỵ])(?!\w)", swap, text)


@dataclass(frozen=True)
class Resolution:
    unit: Unit | None
    province_code: str | None


class Gazetteer:
    """The 34 provinces and 3,321 commune-level units of 1 July 2025."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        self.provinces = [
            Unit(r["code"], r["name"], r["type"], r["code"], "province")
            for r in _rows(data_dir / "provinces_2025.csv")
        ]
        self.communes = [
            Unit(r["code"], r["name"], r["type"], r["province_code"], "commune")
            for r in _rows(data_dir / "communes_2025.csv")
        ]
        self.province_by_code = {u.code: u for u in self.provinces}
        self._communes = _index(self.communes)
        self._provinces = _index(self.provinces)
        self._domains = {fold(u.name).replace(" ", ""): u for u in self.provinces}

    def province(self, hint: str | None) -> Unit | None:
        """A province from a code ('31') or a name in any spelling ('Hai Phong', 'TP Hà Nội')."""
        if not hint:
            return None
        hint = hint.strip()
        if hint.isdigit():
            return self.province_by_code.get(hint.zfill(2))
        words = tuple(fold(hint).replace(".", " ").split())
        for cut in range(len(words)):
            found = self._provinces.get(words[cut:])
            if found:
                return found[0]
        return None

    def resolve(self, doc: Document, province_hint: str | None = None) -> Resolution:
        header_end = _header_end(doc)
        tokens = [t for t in doc.tokens if t.kind == "word"]
        communes: dict[str, float] = defaultdict(float)
        commune_in_header: set[str] = set()
        provinces: dict[str, float] = defaultdict(float)
        province_in_header: set[str] = set()
        for i, tok in enumerate(tokens):
            kind = _prefix(tokens, i)
            if not kind:
                continue
            skip = 2 if kind in ("dac khu", "thanh pho") else 1
            names = _capitalised_run(doc, tokens, i + skip)
            if not names:
                continue
            index, fuzzy_pool = (
                (self._communes, self.communes)
                if kind in ("xa", "phuong", "dac khu")
                else (self._provinces, self.provinces)
            )
            # one short word is a name only for a province ('THÀNH PHỐ HUẾ'), not after 'xã'
            units, exact = _lookup(names, index, fuzzy_pool, 2 if index is self._provinces else 3)
            if not units:
                continue
            weight = 1.0 if exact else 0.6
            in_header = tok.start < header_end
            if in_header:
                weight *= 3
            if i >= 3 and " ".join(t.text for t in tokens[i - 3 : i]) == "uy ban nhan":
                weight *= 2
            original = doc.text[tokens[i + skip].start : tokens[i + skip + len(names) - 1].end]
            for unit in _prefer_spelling(units, original):
                bucket = communes if unit.level == "commune" else provinces
                bucket[unit.code] += weight / len(units)
                if in_header:
                    (commune_in_header if unit.level == "commune" else province_in_header).add(unit.code)
        for m in re.finditer(r"([a-z]+)\.gov\.vn", doc.folded):
            unit = self._domains.get(m.group(1))
            if unit:
                provinces[unit.code] += 0.5
        hinted = self.province(province_hint)
        province_code = hinted.code if hinted else _best(provinces)
        by_code = {u.code: u for u in self.communes}
        if province_code:
            in_province = {c: s for c, s in communes.items() if by_code[c].province_code == province_code}
            communes = defaultdict(float, in_province or communes)
        commune_code = _best(communes)
        if commune_code and _tied(communes, commune_code):
            log.warning(
                "%s: commune name matches several units %s; pass province_hint",
                doc.path,
                sorted(c for c, s in communes.items() if abs(s - communes[commune_code]) < 1e-9),
            )
            commune_code = None
        log.debug("unit candidates: communes=%s provinces=%s", dict(communes), dict(provinces))
        issuer_is_province = bool(province_in_header) and not commune_in_header
        if commune_code and not issuer_is_province:
            unit = by_code[commune_code]
            return Resolution(unit, unit.province_code)
        if province_code:
            return Resolution(self.province_by_code[province_code], province_code)
        return Resolution(None, None)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _index(units: list[Unit]) -> dict[tuple[str, ...], list[Unit]]:
    index: dict[tuple[str, ...], list[Unit]] = defaultdict(list)
    for unit in units:
        index[tuple(re.findall(r"\w+", fold(unit.name)))].append(unit)
    return dict(index)


def _header_end(doc: Document) -> int:
    seen = 0
    for no, line in enumerate(doc.lines):
        if line.strip():
            seen += 1
            if seen > HEADER_LINES:
                return doc.line_starts[no]
    return len(doc.text)


def _prefix(tokens: list[Token], i: int) -> str | None:
    word = tokens[i].text
    nxt = tokens[i + 1].text if i + 1 < len(tokens) else ""
    if re.fullmatch(r"x[ao]", word) and nxt not in ("hoi", "hqi"):
        return "xa"
    if _close(word, "phuong"):
        return "phuong"
    if word == "dac" and nxt == "khu":
        return "dac khu"
    if word == "tinh":
        return "tinh"
    if _close(word, "thanh") and _close(nxt, "pho", 1) and len(nxt) <= 4:
        return "thanh pho"
    return None


@lru_cache(maxsize=100_000)
def _close(word: str, target: str, limit: int = 1) -> bool:
    return word == target or (
        abs(len(word) - len(target)) <= limit and levenshtein(word, target, limit) <= limit
    )


def _capitalised_run(doc: Document, tokens: list[Token], start: int) -> tuple[str, ...]:
    """Up to four consecutive capitalised words on the same line, starting at `start`."""
    run: list[str] = []
    for tok in tokens[start : start + 4]:
        original = doc.text[tok.start]
        if not original.isupper():
            break
        if run and "\n" in doc.text[tokens[start + len(run) - 1].end : tok.start]:
            break
        run.append(tok.text)
    return tuple(run)


def _lookup(
    words: tuple[str, ...],
    index: dict[tuple[str, ...], list[Unit]],
    pool: list[Unit],
    shortest: int = 3,
) -> tuple[list[Unit], bool]:
    """Longest exact name at the start of `words`, else the closest OCR-damaged one; a
    one-word name must be longer than `shortest` letters."""
    for n in range(len(words), 0, -1):
        if words[:n] in index and (n > 1 or len(words[0]) > shortest):
            return index[words[:n]], True
    best: list[Unit] = []
    best_cost = 99
    for n in range(len(words), 1, -1):
        head = " ".join(words[:n])
        for key, units in index.items():
            if len(key) != n:
                continue
            name = " ".join(key)
            limit = max(1, len(name) // 5)
            if abs(len(name) - len(head)) > limit:
                continue
            if sum(a == b for a, b in zip(key, words[:n], strict=True)) == 0 and n < 3:
                continue
            cost = levenshtein(head, name, limit)
            if cost <= limit and cost < best_cost:
                best, best_cost = units, cost
        if best:
            return best, False
    return [], False


def _prefer_spelling(units: list[Unit], original: str) -> list[Unit]:
    """Among same-folded names ('Hòa' vs 'Hóa'), keep those spelt as in the document."""
    if len(units) < 2:
        return units
    wanted = normalize_tone(original).lower()
    same = [u for u in units if normalize_tone(u.name).lower() == wanted]
    return same or units


def _tied(scores: dict[str, float], best: str) -> bool:
    return any(c != best and abs(s - scores[best]) < 1e-9 for c, s in scores.items())


def _best(scores: dict[str, float]) -> str | None:
    if not scores:
        return None
    return max(scores.items(), key=lambda kv: kv[1])[0]
