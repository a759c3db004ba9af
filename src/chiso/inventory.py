"""What is under the submissions root for a run, every path accounted for (DESIGN §4).

A run's scope is one period and one province (or every province). Walking
`<root>/<province>/<unit>/<YYYY-MM>/` it finds the submission folders to land and gives
every other path in scope a status and a reason: a folder named `2025-9` is a near miss
of `2025-09` ("did you mean …"), `ho_so (1).csv` a second download, a symbolic link is
refused (never followed, so nothing outside the root is read), and a unit of the
province with no folder for the period is listed as having sent nothing. Landing later
marks the submission files landed, duplicate or refused.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from chiso.periods import Period
from chiso.sources import REPORT_EXTENSIONS, REPORT_STEM, SOURCES, TABULAR_EXTENSIONS, fold

PROVINCE_CODE = re.compile(r"\d{2}")
UNIT_CODE = re.compile(r"\d{5}")
KNOWN_STEMS = (*SOURCES, REPORT_STEM)

# Statuses of audit.inventory
LANDED, DUPLICATE, REFUSED = "landed", "duplicate", "refused"
NOT_A_SUBMISSION, NO_SUBMISSION = "not_a_submission", "no_submission"


class ScopeError(ValueError):
    """A run asked for something outside the submissions root or not a valid code."""


@dataclass
class Entry:
    path: str  # relative to the submissions root, '/'-separated
    status: str
    reason: str | None = None
    province_code: str | None = None
    unit_code: str | None = None
    batch_id: str | None = None


@dataclass
class Submission:
    province_code: str
    unit_code: str
    period: Period
    directory: Path
    files: dict[str, Path]  # name → path, files to read (tabular and report)
    refused: dict[str, str] = field(default_factory=dict)  # name → why it is not read


@dataclass
class Survey:
    submissions: list[Submission]
    entries: list[Entry]  # every path in scope that is not a submission file to read


def source_of(path: Path) -> str | None:
    stem, suffix = path.stem.lower(), path.suffix.lower()
    if suffix in TABULAR_EXTENSIONS and stem in SOURCES:
        return stem
    if suffix in REPORT_EXTENSIONS:  # a report may carry any name ("Bao cao thang 9.docx")
        return "bao_cao"
    return None


def check_province(province: str | None) -> str | None:
    if province is not None and not PROVINCE_CODE.fullmatch(province):
        raise ScopeError(f"province must be a 2-digit code such as 31, got {province!r}")
    return province


def survey(root: Path, period: Period, province: str | None = None,
           units: dict[str, set[str]] | None = None) -> Survey:
    """Walk the run's scope. `units`: province code → its 2025 unit codes (ref.communes);
    with it, unknown codes get a reason and units that sent nothing are listed."""
    check_province(province)
    if not root.is_dir():
        raise ScopeError(f"submissions folder {root} does not exist")
    result = Survey([], [])
    walker = _Walker(root, period, units, result)
    if province:
        folder = root / province
        if folder.is_symlink():
            result.entries.append(Entry(province, REFUSED, "symbolic link: not followed",
                                        province_code=province))
        elif folder.is_dir():
            walker.province(folder)
        walker.silent_units(province)
    else:
        for child in sorted(root.iterdir()):
            walker.top_level(child)
    return result


@dataclass
class _Walker:
    root: Path
    period: Period
    units: dict[str, set[str]] | None
    result: Survey
    seen_units: set[str] = field(default_factory=set)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def note(self, path: Path, status: str, reason: str, **codes: str | None) -> None:
        self.result.entries.append(Entry(self.rel(path), status, reason, **codes))

    def top_level(self, path: Path) -> None:
        if path.is_symlink():
            return self.note(path, REFUSED, "symbolic link: not followed")
        if not path.is_dir():
            return self.note(path, NOT_A_SUBMISSION,
                             "a file at the top of the submissions root; expected province folders")
        known = set(self.units or ())
        if not PROVINCE_CODE.fullmatch(path.name) or (known and path.name not in known):
            return self.note(path, NOT_A_SUBMISSION,
                             "not a province code (2 digits, e.g. 31)" + _did_you_mean(path.name, known))
        self.province(path)
        self.silent_units(path.name)

    def province(self, folder: Path) -> None:
        code = folder.name
        known = (self.units or {}).get(code, set())
        for path in sorted(folder.iterdir()):
            if path.is_symlink():
                self.note(path, REFUSED, "symbolic link: not followed", province_code=code)
            elif not path.is_dir():
                self.note(path, NOT_A_SUBMISSION, "a file in a province folder; expected unit folders",
                          province_code=code)
            elif not UNIT_CODE.fullmatch(path.name) or (self.units is not None and path.name not in known):
                self.note(path, NOT_A_SUBMISSION, self._unit_reason(path.name, code, known),
                          province_code=code)
            else:
                self.unit(path, code)

    def _unit_reason(self, name: str, province: str, known: set[str]) -> str:
        for other, codes in (self.units or {}).items():
            if name in codes:
                return f"unit {name} belongs to province {other}, not {province}"
        return f"not a 2025 unit code of province {province}" + _did_you_mean(name, known)

    def unit(self, folder: Path, province: str) -> None:
        unit = folder.name
        for path in sorted(folder.iterdir()):
            codes = {"province_code": province, "unit_code": unit}
            if path.name == self.period.label and path.is_dir() and not path.is_symlink():
                self.seen_units.add(unit)
                self.submission(path, province, unit)
            elif path.is_symlink():
                if path.name == self.period.label or _is_period_like(path.name, self.period):
                    self.seen_units.add(unit)
                    self.note(path, REFUSED, "symbolic link: not followed", **codes)
            elif _is_period_like(path.name, self.period):
                self.note(path, NOT_A_SUBMISSION,
                          f"folder name is not YYYY-MM; did you mean {self.period.label}?", **codes)
            elif path.is_dir() and not re.fullmatch(r"\d{4}-\d{2}", path.name) and not _period_of(path.name):
                self.note(path, NOT_A_SUBMISSION, "not a period folder (YYYY-MM)", **codes)
            elif not path.is_dir():
                self.note(path, NOT_A_SUBMISSION,
                          "a file in a unit folder; expected period folders (YYYY-MM)", **codes)
            # folders of other periods belong to other runs

    def submission(self, folder: Path, province: str, unit: str) -> None:
        files: dict[str, Path] = {}
        refused: dict[str, str] = {}
        by_source: dict[str, list[str]] = {}
        codes = {"province_code": province, "unit_code": unit}
        for path in sorted(folder.iterdir()):
            source = source_of(path)
            if path.is_symlink():
                refused[path.name] = "symbolic link: not followed"
            elif path.is_dir():
                self.note(path, NOT_A_SUBMISSION, "a folder inside a submission; files are read from "
                          "the period folder only", **codes)
            elif source:
                files[path.name] = path
                by_source.setdefault(source, []).append(path.name)
            else:
                self.note(path, NOT_A_SUBMISSION, _file_reason(path.name), **codes)
        for source, names in by_source.items():
            if len(names) > 1 and source in SOURCES:  # which one is meant cannot be told: neither is read
                for name in names:
                    refused[name] = (f"{len(names)} {source} files in one submission "
                                     f"({', '.join(names)}): send one")
                    del files[name]
        self.result.submissions.append(Submission(province, unit, self.period, folder, files, refused))

    def silent_units(self, province: str) -> None:
        for unit in sorted((self.units or {}).get(province, set()) - self.seen_units):
            self.result.entries.append(Entry(
                f"{province}/{unit}/{self.period.label}", NO_SUBMISSION,
                "no submission folder for the period", province, unit))


def _did_you_mean(name: str, candidates: set[str]) -> str:
    code = re.match(r"\D*(\d+)", name)  # '31 - Hai Phong', 'xa 11224'
    if code and code[1] in candidates and code[1] != name:
        return f"; did you mean {code[1]}?"
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


def _period_of(name: str) -> tuple[int, int] | None:
    """Year and month a folder name spells in any common way: 2025-9, 2025_09, 09-2025,
    T9.2025, 202509, 'thang 9 nam 2025'."""
    numbers = re.findall(r"\d+", name)
    if len(numbers) == 1 and len(numbers[0]) == 6:
        numbers = [numbers[0][:4], numbers[0][4:]]
    years = [int(n) for n in numbers if len(n) == 4]
    months = [int(n) for n in numbers if len(n) <= 2 and 1 <= int(n) <= 12]
    if len(years) == 1 and len(months) == 1 and len(numbers) == 2:
        return years[0], months[0]
    return None


def _is_period_like(name: str, period: Period) -> bool:
    year, month = map(int, period.label.split("-"))
    return name != period.label and _period_of(name) == (year, month)


def _file_reason(name: str) -> str:
    path = Path(name)
    stem = fold(path.stem)
    cleaned = re.sub(r"(\s*\(\d+\)|\s*-?\s*(copy|ban sao|sao chep)(\s*\(?\d+\)?)?|_\d+)$", "", stem).strip()
    cleaned = cleaned.replace(" ", "_").replace("-", "_")
    suffix = path.suffix.lower()
    if cleaned in KNOWN_STEMS and suffix in (*TABULAR_EXTENSIONS, *REPORT_EXTENSIONS):
        expected = f"{cleaned}{suffix}"
        return f"not a submission file name; did you mean {expected}? (a second download or a copy?)"
    if cleaned in KNOWN_STEMS:
        kinds = REPORT_EXTENSIONS if cleaned == REPORT_STEM else TABULAR_EXTENSIONS
        return f"file type {suffix or '(none)'} is not read; save it as {' or '.join(kinds)}"
    close = difflib.get_close_matches(cleaned, KNOWN_STEMS, n=1, cutoff=0.7)
    if close:
        return f"not a submission file name; did you mean {close[0]}{suffix}?"
    return f"not a submission file (expected {', '.join(KNOWN_STEMS)})"
