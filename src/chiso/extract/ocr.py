"""A character-confusion model of Vietnamese OCR, to make noisy copies of clean reports.

What scanners and OCR engines do to Vietnamese administrative text (seen in the seeds: 'Két
qua thure hién', 'x& Hung Thing', 'ty 1&', 'Pang giai quyét', 'tiép nhan méi'):

- tone marks lost, or read as another tone ('kết' → 'ket', 'két', 'kèt');
- vowels with hats and horns read as their bare or another vowel ('ô', 'ơ' → 'o', 'ö', 'ó';
  'ư' → 'u', 'ir', 'ü'; 'â', 'ă' → 'a', 'á');
- 'đ' read as 'd', 'Đ' as 'P', 'D' or 'Ð';
- letters read as digits or symbols ('o' → '0', '6', '§'; 'l' → '1'; 'a' → '&', '@', '3';
  'c' → '¢'; 'e' → '€'), and digits read as letters ('0' → 'o', '1' → 'l', '5' → 'S');
- letter pairs confused ('rn' ↔ 'm', 'cl' → 'd', 'h' → 'b', 'ii' → 'u', 'in' ↔ 'm');
- words split by a stray space, or two words merged by a lost one.

`confuse(text, level, seed)` applies the model at a named noise level (`LEVELS`); the result
is deterministic for a seed. `stripped` removes diacritics only (as some exports do).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Noise:
    tone_lost: float  # a toned vowel loses its tone mark
    tone_wrong: float  # … or gets another one
    hat_lost: float  # â ă ê ô ơ ư lose their hat or horn (or get a wrong one)
    d_bar_lost: float  # đ → d, Đ → P/D
    letter_digit: float  # a letter inside a word read as a digit or symbol
    letter_pair: float  # a letter or pair read as a look-alike ('rn' ↔ 'm', 'h' → 'b')
    digit_letter: float  # a digit read as a letter
    split: float  # a stray space inside a word
    merge: float  # the space between two words lost


LEVELS: dict[str, Noise] = {
    "clean": Noise(0, 0, 0, 0, 0, 0, 0, 0, 0),
    "stripped": Noise(1, 0, 1, 1, 0, 0, 0, 0, 0),
    "light": Noise(0.3, 0.05, 0.3, 0.3, 0.005, 0.005, 0.001, 0.003, 0.003),
    # calibrated on seeds 000 and 002 (OCR'd scans): most tones lost or wrong, about one
    # word in twenty with a letter read as another letter, digit or symbol
    "typical": Noise(0.7, 0.15, 0.7, 0.8, 0.015, 0.015, 0.003, 0.008, 0.008),
    "heavy": Noise(0.85, 0.15, 0.9, 0.9, 0.04, 0.04, 0.01, 0.02, 0.02),
}

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook, dot below
_HATS = {"\u0302", "\u0306", "\u031b"}  # circumflex, breve, horn
# what a vowel with a hat or horn becomes when the hat is misread (besides the bare vowel)
_HAT_AS = {"o": ["o", "ö", "ó", "6"], "u": ["u", "ir", "ü", "ii"], "a": ["a", "á", "ä"], "e": ["e", "é"]}
_LETTER_AS = {
    "o": ["0", "6", "§", "ó"],
    "l": ["1", "I", "|"],
    "i": ["1", "l", "í"],
    "a": ["&", "@", "3", "4"],
    "c": ["¢", "e"],
    "e": ["€", "c", "6"],
    "s": ["5", "$"],
    "g": ["9", "q"],
    "b": ["6", "h"],
    "t": ["f", "l"],
    "u": ["ii", "v"],
    "n": ["ri", "h"],
    "h": ["b", "li"],
}
_PAIRS = {"rn": "m", "m": "rn", "cl": "d", "in": "m", "ii": "u", "nh": "uh", "ch": "ck", "u": "n"}
_DIGIT_AS = {"0": ["o", "O"], "1": ["l", "I"], "5": ["S"], "8": ["B"], "2": ["Z"], "6": ["b"], "9": ["g"]}


def confuse(text: str, level: str | Noise, seed: int = 0) -> str:
    """A noisy copy of `text` at a noise level of `LEVELS` (or an explicit `Noise`)."""
    if level == "stripped":
        return _strip(text)
    noise = LEVELS[level] if isinstance(level, str) else level
    rng = random.Random(seed)
    out: list[str] = []
    words = _split_keep(text)
    for chunk in words:
        if chunk.isspace():
            if chunk == " " and rng.random() < noise.merge:
                continue  # two words merged
            out.append(chunk)
            continue
        out.append(_word(chunk, noise, rng))
    return unicodedata.normalize("NFC", "".join(out))


def strip_diacritics(text: str) -> str:
    """'Hồ sơ đúng hạn' → 'Ho so dung han' (what some exports and old fonts deliver)."""
    return confuse(text, "stripped")


def _strip(text: str) -> str:
    out = []
    for ch in text:
        if ch in "đĐ":
            out.append("d" if ch == "đ" else "D")
            continue
        out.append("".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn"))
    return "".join(out)


def _split_keep(text: str) -> list[str]:
    chunks: list[str] = []
    current = ""
    for ch in text:
        if (ch.isspace()) != (current[:1].isspace() if current else ch.isspace()):
            chunks.append(current)
            current = ""
        current += ch
    if current:
        chunks.append(current)
    return chunks


def _word(word: str, noise: Noise, rng: random.Random) -> str:
    digits = word.replace(".", "").replace(",", "").replace("%", "").replace("/", "")
    numeric = digits.isdigit()
    out: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        if ch.isdigit():
            if noise.digit_letter and rng.random() < noise.digit_letter and ch in _DIGIT_AS:
                out.append(rng.choice(_DIGIT_AS[ch]))
            else:
                out.append(ch)
            i += 1
            continue
        if not ch.isalpha():
            out.append(ch)
            i += 1
            continue
        pair = word[i : i + 2].lower()
        if noise.letter_pair and pair in _PAIRS and rng.random() < noise.letter_pair:
            out.append(_case(_PAIRS[pair], ch))
            i += 2
            continue
        out.append(_letter(ch, noise, rng))
        i += 1
    noisy = "".join(out)
    if not numeric and len(noisy) >= 4 and noise.split and rng.random() < noise.split:
        k = rng.randrange(1, len(noisy) - 1)
        noisy = noisy[:k] + " " + noisy[k:]
    return noisy


def _letter(ch: str, noise: Noise, rng: random.Random) -> str:
    if ch in "đĐ":
        if rng.random() < noise.d_bar_lost:
            return rng.choice(["d", "d", "đ"]) if ch == "đ" else rng.choice(["P", "D", "Ð", "Đ"])
        return ch
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    tone = "".join(m for m in marks if m in _TONES)
    hat = "".join(m for m in marks if m in _HATS)
    if tone:
        r = rng.random()
        if r < noise.tone_lost:
            tone = ""
        elif r < noise.tone_lost + noise.tone_wrong:
            tone = rng.choice(_TONES)
    base_out = base
    if hat and rng.random() < noise.hat_lost:
        hat = ""
        variants = _HAT_AS.get(base.lower())
        if variants and rng.random() < 0.3:
            return _case(rng.choice(variants), base)
    elif not hat and not tone and noise.letter_digit and rng.random() < noise.letter_digit:
        variants = _LETTER_AS.get(base.lower())
        if variants:
            return rng.choice(variants)
    return unicodedata.normalize("NFC", base_out + hat + tone)


def _case(text: str, like: str) -> str:
    return text.upper() if like.isupper() and text.isalpha() else text
