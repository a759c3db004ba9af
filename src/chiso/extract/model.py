"""Result types and their JSON/CSV renderings."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

CONFIDENT = 0.55  # below: a candidate, reported apart and never reconciled


@dataclass
class Figure:
    name: str  # a key of VOCABULARY
    value: float
    unit: str  # count | percent | points | rank
    max_value: float | None
    line_no: int  # 1-based line in the extracted text
    source_text: str  # the clause (or table row) the figure was read from
    derived: bool = False  # computed from other stated figures, e.g. early + on time
    # how sure the extractor is (0–1) and why: how it was read ('keyword', 'ocr_keyword',
    # 'inherited_topic', 'label', …) and the arithmetic rules it satisfies ('+rule') or
    # breaks ('-rule'); below CONFIDENT it is a candidate, not a figure
    confidence: float = 1.0
    support: list[str] = field(default_factory=list)
    sentence: int | None = field(default=None, repr=False, compare=False)  # internal grouping

    @property
    def status(self) -> str:
        return "figure" if self.confidence >= CONFIDENT else "candidate"


@dataclass
class Finding:
    rule: str
    message: str
    line_no: int | None = None
    severity: str = "warn"


@dataclass
class Report:
    source_file: str
    document_kind: str = "unknown"  # monthly_report | score_letter | ranking_letter | unknown
    unit_name: str | None = None
    unit_code: str | None = None
    unit_level: str | None = None  # commune | province
    province_code: str | None = None
    period: str | None = None  # YYYY-MM
    period_start: date | None = None
    period_end: date | None = None
    figures: list[Figure] = field(default_factory=list)
    candidates: list[Figure] = field(default_factory=list)  # readings below CONFIDENT
    warnings: list[Finding] = field(default_factory=list)
    extractor_version: str = ""

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None)

    def value(self, name: str) -> float | None:
        fig = self.figure(name)
        return fig.value if fig else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("figures", "candidates"):
            for fig, row in zip(getattr(self, key), data[key], strict=True):
                row.pop("sentence", None)
                row["status"] = fig.status
        for key in ("period_start", "period_end"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_rows(self) -> list[dict[str, Any]]:
        """One row per figure, then per candidate (status 'candidate'), each carrying the
        report's metadata (for CSV)."""
        meta = {
            "source_file": self.source_file,
            "document_kind": self.document_kind,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "unit_level": self.unit_level,
            "province_code": self.province_code,
            "period": self.period,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
        }
        rows = []
        for fig in [*self.figures, *self.candidates]:
            row = {**meta, **asdict(fig), "status": fig.status}
            row["support"] = ";".join(fig.support)
            row.pop("sentence", None)
            rows.append(row)
        return rows


ROW_FIELDS = (
    "source_file document_kind unit_code unit_name unit_level province_code period period_start "
    "period_end name value unit max_value line_no source_text derived status confidence support"
).split()


def render(report: Report, fmt: Literal["json", "csv"] = "json") -> str:
    if fmt == "json":
        return report.to_json()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=ROW_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(report.to_rows())
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r}: use 'json' or 'csv'")
