"""Number grammar for Vietnamese administrative prose.

Vietnamese writes `1.069` (thousands dot) and `94,78` (decimal comma); OCR and hurried typing
also give `3.2` for 3,2. Rule: a dot followed by exactly three digits groups thousands,
any other dot or comma is the decimal mark. Leading zeros (`02`) are plain integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_THOUSANDS_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(?:,\d{3}){2,}$")  # 1,234,567 (English style)


def parse_number(raw: str) -> float:
    """'1.069' → 1069, '94,78' → 94.78, '02' → 2, '3.2' → 3.2, '1.234,5' → 1234.5."""
    raw = raw.strip()
    if _THOUSANDS_DOT.match(raw):
        return float(raw.replace(".", "").replace(",", "."))
    if _THOUSANDS_COMMA.match(raw):
        return float(raw.replace(",", ""))
    if raw.count(",") + raw.count(".") > 1:
        raise ValueError(f"not a number: {raw!r}")
    return float(raw.replace(",", "."))


def format_number(value: float) -> str:
    """Compact display for messages: 921 not 921.0, 12.53 stays."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Number:
    """A figure candidate: value, optional denominator ('921/921', '38/114'), offsets."""

    value: float
    raw: str
    start: int  # offsets in the document stream
    end: int
    percent: bool = False
    denominator: float | None = None
    token_index: int = 0  # index of the numerator token in its clause's token list

    @property
    def is_integer(self) -> bool:
        return float(self.value).is_integer()
