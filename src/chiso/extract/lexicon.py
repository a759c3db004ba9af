"""Keyword lexicon: Vietnamese phrases → concept tags, matched on folded, OCR-repaired tokens.

Phrases are written with diacritics for readability and folded at import. Matching tolerates
OCR damage: a phrase matches a window of words when the summed edit distance stays within a
small budget and at least half of its words match exactly ('Tién d9 giai quyét' → 'tiến độ
giải quyết', 'tai st dung' → 'tái sử dụng'). Figure names are decided later, in `grammar`, from
the set of tags a clause carries, so word order does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from chiso import scoring
from chiso.sources import fold

# Scoring groups as shown on the national portal: code → (max points, label phrases). The
# codes, maxima, names and portal field come from the rule seeds (chiso.scoring); the other
# phrases are how reports and letters write them.
_GROUP_PHRASES: dict[str, tuple[str, ...]] = {
    "CKMB": ("công khai minh bạch", "công khai", "minh bạch"),
    "TDGQ": ("tiến độ giải quyết", "tiến độ kết quả giải quyết", "tiến độ"),
    "DVCTT": (
        "dịch vụ công trực tuyến",
        "cung cấp dịch vụ công trực tuyến",
        "cung cấp dịch vụ trực tuyến",
        "dvc trực tuyến",
    ),
    "TTTT": ("thanh toán trực tuyến",),
    "MDHL": ("mức độ hài lòng", "hài lòng"),
    "SHHS": ("số hóa hồ sơ", "số hoá hồ sơ", "số hóa"),
}
GROUPS: dict[str, tuple[float, tuple[str, ...]]] = {
    code: (group.max_points, tuple(dict.fromkeys(
        (fold(group.name_vi).replace(",", ""), *_GROUP_PHRASES.get(code, ()), code.lower(),
         group.portal_field.lower()))))
    for code, group in scoring.groups().items()
}
TOTAL_MAX = scoring.total_max()
TOTAL_ROW_PHRASES = (
    "tổng hợp",
    "tổng điểm",
    "tổng cộng",
    "tổng số điểm",
    "tổng",
    "chỉ số tổng hợp",
    "điểm tổng hợp",
)

TAG_PHRASES: dict[str, tuple[str, ...]] = {
    # topics of dossier counts
    "TOTAL": ("tổng số", "tổng cộng", "tổng"),
    "CARRIED": (
        "kỳ trước chuyển sang",
        "chuyển sang",
        "kỳ trước chuyển qua",
        "tồn kỳ trước",
        "kỳ trước",
        "tháng trước chuyển sang",
        "chuyển tiếp",
        "tồn đọng",
    ),
    "RECEIVED": ("tiếp nhận", "nhận mới", "tiếp nhận mới", "được nhận", "nộp"),
    "NEW": ("mới", "phát sinh"),
    "RESOLVED": (
        "giải quyết",
        "đã giải quyết",
        "hoàn thành",
        "trả kết quả",
        "xử lý xong",
        "đã xử lý",
        "giải quyết xong",
        "trả lời",  # feedback is 'answered'
        "gq",  # 'HS đã GQ'
    ),
    "IN_PROGRESS": (
        "đang giải quyết",
        "đang xử lý",
        "chưa giải quyết",
        "đang thụ lý",
        "chưa đến hạn",
        "đang trong quá trình giải quyết",
        "chưa hoàn thành",
        "đang trong thời hạn",
        "đang xem xét",
        "đang được xem xét",
        "đang được giải quyết",
        "chưa được giải quyết",
        "chưa xử lý",
        "chưa được xử lý",  # '06 hồ sơ quá hạn chưa được xử lý dứt điểm': still open
        "đang gq",
    ),
    "WITHDRAWN": ("rút hồ sơ", "xin rút", "rút", "hủy hồ sơ", "dừng xử lý"),
    # qualifiers
    "EARLY": ("trước hạn",),
    "ON_TIME": (
        "đúng hạn",
        "trong hạn",
        "đúng thời hạn",
        "đúng hẹn",
        "trong thời hạn",
        "đúng và trước hạn",
        "đúng trước hạn",
    ),
    "LATE": ("quá hạn", "trễ hạn", "trễ hẹn", "chậm trả", "chậm muộn", "quá hẹn"),
    "ONLINE": ("trực tuyến", "qua mạng", "môi trường mạng", "dvctt", "tttt"),
    "DIRECT": ("trực tiếp", "tại bộ phận một cửa", "nộp trực tiếp"),
    "POSTAL": ("bưu chính", "bưu điện", "bưu chính công ích", "bcci", "dịch vụ bcci"),
    "SYSTEM": ("hệ thống thông tin giải quyết", "hệ thống một cửa", "phần mềm một cửa", "hệ thống"),
    "MINISTRY": ("các bộ", "của bộ", "bộ ngành", "hệ thống của các bộ", "hệ thống chuyên ngành"),
    # nouns
    "DOSSIER": ("hồ sơ", "hs"),  # 'HS' in hurried reports
    "PROCEDURE": ("tthc", "thủ tục hành chính", "thủ tục", "dịch vụ công"),
    # 'TTHC thuộc thẩm quyền giải quyết' is the unit's procedure catalogue
    "AUTHORITY": ("thuộc thẩm quyền", "thẩm quyền giải quyết"),
    "FULL": ("toàn trình", "mức độ toàn trình", "toàn phần"),
    "PARTIAL": ("một phần", "mức độ một phần"),
    "NO_ONLINE": ("chưa cung cấp", "không cung cấp", "cung cấp thông tin trực tuyến"),
    "FEE": ("phí", "lệ phí", "nghĩa vụ tài chính", "thu phí"),
    "PAYMENT": ("thanh toán", "tttt"),  # 'TTTT': thanh toán trực tuyến
    "RATE": ("tỷ lệ", "tỉ lệ"),
    "DIGITISED": ("số hóa", "số hoá"),
    "ERESULT": (
        "kết quả điện tử",
        "kết quả điện",
        "cấp kết quả điện tử",
        "trả kết quả điện tử",
        "bản điện tử",
    ),
    # 'cấp kết quả giải quyết TTHC điện tử': the two halves of ERESULT, apart
    "ELECTRONIC": ("điện tử",),
    "RESULT": ("kết quả",),
    "REUSE": ("tái sử dụng", "sử dụng lại", "khai thác lại", "khai thác sử dụng lại"),
    "FEEDBACK": ("phản ánh", "kiến nghị", "pakn", "phản ánh kiến nghị"),
    "SATISFIED": ("hài lòng",),
    "VISITS": ("lượt truy cập", "truy cập", "lượt khách", "lượt công dân", "lượt người"),
    # letters
    "SCORE": ("điểm", "số điểm", "tổng điểm", "điểm số", "đạt điểm"),
    # not a bare 'hạng': OCR splits 'tháng', 'Thắng' into 't hang'
    "RANK": ("xếp hạng", "xếp thứ", "đứng thứ", "thứ hạng", "vị trí thứ", "xếp vị trí", "hạng thứ"),
    "INCREASE": ("tăng", "tăng lên"),
    "DECREASE": ("giảm", "giảm xuống", "sụt giảm"),
    "COMPARE": ("so với", "so cùng kỳ"),
    # year-to-date figures are not the month's
    "CUMULATIVE": ("lũy kế", "luỹ kế", "từ đầu năm", "cộng dồn"),
    # clause modifiers
    "NEG": ("không", "không có", "không phát sinh", "chưa phát sinh", "chưa có", "không ghi nhận"),
    "MODAL": (
        "phấn đấu",
        "yêu cầu",
        "đảm bảo",
        "bảo đảm",
        "mục tiêu",
        "kế hoạch",
        "phải được",
        "phải đạt",
        "để không",
        "không để",
        "chỉ tiêu giao",
    ),
    "OTHER_AGENCY": ("ngành dọc", "chi nhánh", "bảo hiểm xã hội", "công an", "đăng ký đất đai"),
}
for _code, (_max, _phrases) in GROUPS.items():
    TAG_PHRASES[f"G_{_code}"] = _phrases

# A match of the key tag inside one of these longer phrases is not that concept
# ('thời điểm' is not a score; 'hệ thống thông tin giải quyết' is not a resolution).
CANCELLED_BY: dict[str, tuple[str, ...]] = {
    "SCORE": ("thời điểm", "địa điểm", "điểm tiếp nhận", "điểm bưu chính", "dứt điểm", "trọng điểm",
              "thí điểm", "điểm nóng", "điểm mới"),
    "RESOLVED": (
        "hệ thống thông tin giải quyết",
        "thông tin giải quyết",
        "thẩm quyền giải quyết",
        "cơ quan giải quyết",
        "thời hạn giải quyết",
        "thời gian giải quyết",
        "tiến độ giải quyết",
        "kết quả giải quyết",
        "đang giải quyết",
        "chưa giải quyết",
        "tiếp nhận giải quyết",
        "phải giải quyết",
        "cần giải quyết",
    ),
    "RANK": ("hạng mục",),
    "CARRIED": ("so với kỳ trước", "so với tháng trước"),
    "ELECTRONIC": ("trang thông tin điện tử", "cổng thông tin điện tử", "chính phủ điện tử"),
    "TOTAL": ("tổng hợp", "tổng thời gian", "tổng kết"),
    "ONLINE": ("dịch vụ công trực tuyến",),
    "PROCEDURE": ("thanh toán dịch vụ công",),
    "RECEIVED": ("bộ phận tiếp nhận", "tiếp nhận và trả kết quả"),
    "NEW": ("mô hình mới", "ban hành mới"),
    "G_TDGQ": ("tiến độ xử lý",),
    # the data reused is 'dữ liệu (đã) số hóa': a reuse rate whose keyword OCR lost is not a
    # digitisation rate
    "DIGITISED": ("dữ liệu số hóa", "dữ liệu đã số hóa", "dữ liệu số hoá", "liệu số hóa"),
}


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", fold(text)))


@dataclass(frozen=True)
class Entry:
    tag: str
    words: tuple[str, ...]


ENTRIES: list[Entry] = list(
    dict.fromkeys(Entry(tag, _phrase(p)) for tag, phrases in TAG_PHRASES.items() for p in phrases)
)
_CANCEL: dict[str, list[tuple[str, ...]]] = {
    tag: [_phrase(p) for p in phrases] for tag, phrases in CANCELLED_BY.items()
}
VOCAB: frozenset[str] = frozenset(w for e in ENTRIES for w in e.words) | frozenset(
    w for ps in _CANCEL.values() for p in ps for w in p
)
_VOCAB_LONGEST = max(map(len, VOCAB))

# consecutive keyword words ('ho so', 'xu ly'): what may follow what
BIGRAMS: frozenset[tuple[str, str]] = frozenset(
    (a, b) for e in ENTRIES for a, b in zip(e.words, e.words[1:], strict=False)
) | frozenset((a, b) for ps in _CANCEL.values() for p in ps for a, b in zip(p, p[1:], strict=False))

_NUCLEI = (
    "a e i o u y ai ao au ay eo eu ia ie iu oa oe oi oo ua ue ui uo uu uy ye "
    "oai oay oeo uay uoi uou ieu yeu uye uya uyu"
).split()
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnprstvx])?"
    rf"(?:{'|'.join(sorted(_NUCLEI, key=len, reverse=True))})(?:ch|ng|nh|[cmnpt])?$"
)


def is_syllable(word: str) -> bool:
    """Could this folded word be a Vietnamese syllable? ('hd', 'mikc', 'gidi' cannot)."""
    return bool(_SYLLABLE.match(word))


@lru_cache(maxsize=50_000)
def ocr_syllable(word: str) -> bool:
    """A syllable, or one once a single OCR confusion is undone ('diioc' = 'được', 'curig' =
    'cung', 'kbai' = 'khai', 'triuh' = 'trình'): damaged, but not unreadable."""
    if is_syllable(word):
        return True
    for wrong, right in (*OCR_UNDO, ("u", "n"), ("n", "u"), ("e", "c"), ("c", "e"), ("l", "i"), ("i", "l")):
        k = word.find(wrong)
        while k >= 0:
            if is_syllable(word[:k] + right + word[k + len(wrong):]):
                return True
            k = word.find(wrong, k + 1)
    return False


# OCR's multi-letter confusions, undone before matching ('triic' = 'truc', 'hari' = 'han',
# 'narn' = 'nam', 'clang' = 'dang', 'tbu' = 'thu'): the confusion model of `ocr`, reversed
OCR_UNDO = (("ii", "u"), ("ir", "u"), ("ri", "n"), ("rn", "m"), ("cl", "d"), ("li", "h"), ("b", "h"),
            ("f", "t"), ("v", "u"), ("q", "g"), ("l", "i"), ("l", "t"), ("i", "l"), ("e", "c"),
            ("m", "in"), ("ck", "ch"), ("uh", "nh"))
# An undo shortens a word by at most this much, so a word longer than the longest keyword by
# more than that per undo can never become one: `vocab_form` refuses it without searching
# (a run of 400 OCR 'l's would otherwise take minutes).
_UNDO_SHRINK = max(len(wrong) - len(right) for wrong, right in OCR_UNDO)


@lru_cache(maxsize=200_000)
def word_distance(doc_word: str, lex_word: str) -> int:
    """Edit distance, capped: a large value means 'not a plausible OCR variant'. A word that
    becomes the lexicon word once one OCR confusion is undone costs 1."""
    if doc_word == lex_word:
        return 0
    if undoes_to(doc_word, lex_word) or (
        not is_syllable(doc_word) and len(doc_word) >= 4 and vocab_form(doc_word) == lex_word
    ):
        return 1
    return _plain_distance(doc_word, lex_word)


@lru_cache(maxsize=200_000)
def undoes_to(doc_word: str, lex_word: str) -> bool:
    """Undoing one OCR confusion of the model turns `doc_word` into `lex_word`."""
    for wrong, right in OCR_UNDO:
        if wrong in doc_word and wrong not in lex_word:
            k = doc_word.find(wrong)
            while k >= 0:
                if doc_word[:k] + right + doc_word[k + len(wrong):] == lex_word:
                    return True
                k = doc_word.find(wrong, k + 1)
    return False


def _plain_distance(doc_word: str, lex_word: str) -> int:
    n = len(lex_word)
    if n <= 3:
        # a real syllable is a different word; only OCR garbage ('hd', 'sb') may be a variant,
        # or OCR's 'é' for a lost vowel with a hat or horn ('mét phan' = 'một phần')
        if is_syllable(doc_word) and doc_word.isalpha():
            return 1 if _e_for_vowel(doc_word, lex_word) else 99
        limit = 1
    elif n <= 4:
        limit = 1
    else:
        limit = 2
    if limit == 0 or abs(len(doc_word) - n) > limit:
        return 99
    if is_syllable(doc_word) and doc_word.isalpha():
        # another real word ('huyện' is not 'chuyển', 'đang' is not 'dừng'): OCR loses the
        # marks on vowels, which folding removes anyway; what else it changes leaves a
        # non-word, a confusion the model undoes, or 'é' for a marked vowel ('cép' = 'cấp')
        return 1 if _e_for_vowel(doc_word, lex_word) else 99
    d = levenshtein(doc_word, lex_word, limit)
    return d if d <= limit else 99


# vowels OCR reads for others: 'é' for a marked vowel ('cép' = 'cấp'), 'y' for 'ư' ('Phyc vy'
# = 'Phục vụ'), 'o'/'u' for 'ơ'/'ư', 'i'/'y'; not 'a' for 'u' ('đang' is not 'dừng')
_VOWEL_FOR = {"e": "aiouy", "y": "ui", "u": "oy", "o": "u", "i": "y"}


def _e_for_vowel(doc_word: str, lex_word: str) -> bool:
    """Same letters except one vowel of the lexicon word read as another the way OCR does."""
    if len(doc_word) != len(lex_word):
        return False
    diffs = [(d, w) for d, w in zip(doc_word, lex_word, strict=True) if d != w]
    return len(diffs) == 1 and diffs[0][1] in _VOWEL_FOR.get(diffs[0][0], "")


def levenshtein(a: str, b: str, limit: int) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _budget(words: tuple[str, ...]) -> int:
    if len(words) == 1:
        return 1 if len(words[0]) >= 5 else 0
    return 1 if len(words) == 2 else 2


@dataclass(frozen=True)
class Match:
    tag: str
    start: int  # word index, inclusive
    end: int  # word index, exclusive
    words: tuple[str, ...]
    cost: int


_BY_FIRST: dict[str, list[Entry]] = {}
for _e in ENTRIES:
    _BY_FIRST.setdefault(_e.words[0], []).append(_e)


@lru_cache(maxsize=50_000)
def neighbours(doc_word: str) -> tuple[str, ...]:
    """Lexicon words this document word may stand for (itself included when known)."""
    return tuple(w for w in VOCAB if word_distance(doc_word, w) < 99)


# Reports repeat the same words and phrases, document after document: the window costs and a
# word list's matches are memoised (pure functions of their arguments).
@lru_cache(maxsize=500_000)
def _window_cost(window: tuple[str, ...], phrase: tuple[str, ...], budget: int) -> int:
    cost, spent, exact = 0, 0, 0
    for dw, lw in zip(window, phrase, strict=True):
        d = word_distance(dw, lw)
        known_confusion = d == 1 and undoes_to(dw, lw)
        if d == 0 or known_confusion:
            exact += 1  # a confusion the OCR model explains is as good as the word
        cost += d
        spent += 0 if known_confusion else d
        if spent > budget:
            return 99
    if len(phrase) == 1:
        # a lone word may only differ in its vowels (where OCR loses diacritics) or by a
        # confusion the OCR model explains: 'khéng' is 'không', 'g1am' is 'giảm', but
        # 'phong' is not 'không'
        explained = spent == 0 and not is_syllable(window[0])  # 'long' is a word, not 'tổng'
        ok = cost == 0 or explained or _skeleton(window[0]) == _skeleton(phrase[0])
        return cost if ok else 99
    return cost if exact * 2 >= len(phrase) else 99


def _skeleton(word: str) -> str:
    return re.sub(r"[aeiouy]", "", word)


def find_phrases(words: Sequence[str], phrases: Sequence[tuple[str, ...]]) -> list[Match]:
    """Fuzzy occurrences of arbitrary phrases (used for cancellations and table labels)."""
    found = []
    for phrase in phrases:
        n, budget = len(phrase), _budget(phrase)
        for i in range(len(words) - n + 1):
            cost = _window_cost(tuple(words[i : i + n]), phrase, budget)
            if cost < 99:
                found.append(Match("", i, i + n, phrase, cost))
    return found


def match_tags(words: Sequence[str]) -> list[Match]:
    """All tag matches in a word sequence, minus those cancelled by a longer phrase."""
    return list(_match_tags(tuple(words)))


@lru_cache(maxsize=50_000)
def _match_tags(words: tuple[str, ...]) -> tuple[Match, ...]:
    matches: list[Match] = []
    for i, word in enumerate(words):
        for first in neighbours(word):
            for entry in _BY_FIRST.get(first, ()):
                n = len(entry.words)
                if i + n > len(words):
                    continue
                cost = _window_cost(words[i : i + n], entry.words, _budget(entry.words))
                if cost < 99:
                    matches.append(Match(entry.tag, i, i + n, entry.words, cost))
    if not matches:
        return ()
    cancelled: list[Match] = []
    for tag, phrases in _CANCEL.items():
        if any(m.tag == tag for m in matches):
            for c in find_phrases(words, phrases):
                cancelled.append(Match(tag, c.start, c.end, c.words, c.cost))
    return tuple(
        m
        for m in matches
        if not any(
            c.tag == m.tag and c.start <= m.start and m.end <= c.end and c.words != m.words for c in cancelled
        )
    )


def repair_words(words: Sequence[str]) -> list[str]:
    """Undo OCR's split and merged words in a word list (table headers and labels): 'ti ep'
    → 'tiep' when the halves make a keyword word, 'sothanh' → 'so thanh'."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        joined = vocab_form(w + nxt) if nxt is not None else None
        if joined and not (w in VOCAB and (nxt in VOCAB or len(nxt) == 1)):
            out.append(joined)
            i += 2
            continue
        if len(w) >= 5 and not is_syllable(w) and w not in VOCAB:
            for k in range(2, len(w) - 1):
                left, right = vocab_form(w[:k]), vocab_form(w[k:])
                if left and right:
                    out += [left, right]
                    break
            else:
                out.append(w)
        else:
            out.append(w)
        i += 1
    return out


@lru_cache(maxsize=50_000)
def vocab_form(word: str, depth: int = 2) -> str | None:
    """The keyword word `word` is, as it stands or once one or two OCR confusions are undone
    ('frirc' = 'trirc' = 'truc')."""
    if word in VOCAB:
        return word
    if depth == 0 or len(word) < 3 or len(word) - depth * _UNDO_SHRINK > _VOCAB_LONGEST:
        return None
    for wrong, right in OCR_UNDO:
        k = word.find(wrong)
        while k >= 0:
            fixed = word[:k] + right + word[k + len(wrong):]
            if fixed in VOCAB:
                return fixed
            if depth > 1 and not is_syllable(fixed):
                deeper = vocab_form(fixed, depth - 1)
                if deeper:
                    return deeper
            k = word.find(wrong, k + 1)
    return None
