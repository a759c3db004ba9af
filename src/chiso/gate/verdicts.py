"""Verdicts as pure functions: what the findings of a gate run mean for each batch.

A batch with an error-severity finding is quarantined, with warnings only it is warned,
otherwise passed. When a file of the batch could not be read, that finding is the reason
named; what follows from it is still recorded as results.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from chiso.gate.suites import Rule, Suite

# Kinds whose failure is a statement about the batch, not a count of bad rows: their
# observed_value is the statement itself ("dossiers_total 921 ≠ 14 + 879 = 893").
STATEMENT_KINDS = frozenset(
    {"volume", "figure_sum", "unit_code", "has_source", "files_readable", "files_complete"}
)
# Findings about the files themselves: when one fails, the batch's other findings follow
# from it (rows missing, references not found).
ROOT_CAUSE_KINDS = frozenset({"files_readable", "files_complete", "has_source"})


def _root_causes(failing: list[tuple[Rule, Finding]]) -> list[tuple[Rule, Finding]]:
    """The findings a verdict names: the root causes when a file failed, else all of them.
    Every finding is recorded in audit.expectation_results either way."""
    roots = [(rule, finding) for rule, finding in failing
             if rule.kind in ROOT_CAUSE_KINDS and rule.severity == "error"]
    return roots or failing


@dataclass
class Verdict:
    batch_id: str
    status: str  # passed | warned | quarantined
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    batch_id: str
    unit_code: str
    province_code: str
    period: str
    period_start: Any
    period_end: Any


@dataclass
class Finding:
    unexpected_count: int
    examples: list[dict[str, Any]]


def _meaning(rule: Rule, batch: Batch) -> str:
    values = {
        "period_start": batch.period_start,
        "period_end": batch.period_end,
        "period": batch.period,
        "unit_code": batch.unit_code,
        "province_code": batch.province_code,
    }
    try:
        return rule.meaning_en.format(**values)
    except (KeyError, IndexError, ValueError):
        return rule.meaning_en


def _describe(example: dict[str, Any], rule: Rule) -> str:
    parts = []
    if example.get("source_file"):
        parts.append(PurePosixPath(str(example["source_file"])).name)
    if example.get("source_row") is not None:
        parts.append(f"{rule.row_label} {example['source_row']}")
    if example.get("field"):
        parts.append(f"field {example['field']}")
    if example.get("value") is not None:
        parts.append(f"value '{example['value']}'")
    text = " ".join(parts)
    if example.get("detail"):
        text = f"{text} ({example['detail']})" if text else str(example["detail"])
    return text


def _reason(rule: Rule, batch: Batch, finding: Finding) -> str:
    n = finding.unexpected_count
    first = _describe(finding.examples[0], rule) if finding.examples else ""
    what = "" if rule.kind in STATEMENT_KINDS else f" ({n} {'row' if n == 1 else 'rows'})"
    return f"[{rule.severity}] {rule.qualified_name}{what}: {first} — {_meaning(rule, batch)}"


def _observed(rule: Rule, finding: Finding | None, rows: int | None) -> str:
    # a finding is a value: a check over several columns finds up to that many in one row,
    # so "n of rows" would read as more bad rows than the batch has
    if finding is None:
        return "0 unexpected" if rows is None else f"0 unexpected in {rows} rows"
    if rule.kind in STATEMENT_KINDS:
        details = [str(e.get("detail") or e.get("value")) for e in finding.examples]
        return "; ".join(dict.fromkeys(details))
    n = finding.unexpected_count
    values = "value" if n == 1 else "values"
    return f"{n} unexpected" if rows is None else f"{n} unexpected {values} in {rows} rows"


def judge(
    run_id: str,
    suites: list[Suite],
    batches: list[Batch],
    findings: dict[tuple[str, str], Finding],
    row_counts: dict[tuple[str, str], int],
    files: dict[tuple[str, str], str],
) -> tuple[dict[str, Verdict], io.StringIO, list[tuple[Any, ...]]]:
    """The verdict of each batch, its expectation results (CSV rows for COPY) and the
    violations to keep: a pure function of the findings."""
    results = io.StringIO()
    writer = csv.writer(results)
    violations: list[tuple[Any, ...]] = []
    verdicts: dict[str, Verdict] = {}
    for batch in batches:
        failing: list[tuple[Rule, Finding]] = [
            (rule, findings[(rule.qualified_name, batch.batch_id)])
            for suite in suites for rule in suite.rules
            if (rule.qualified_name, batch.batch_id) in findings
        ]
        explained = _root_causes(failing)
        errors = [_reason(r, batch, f) for r, f in explained if r.severity == "error"]
        warnings = [_reason(r, batch, f) for r, f in explained if r.severity == "warn"]
        quarantined = bool(errors)
        for suite in suites:
            for rule in suite.rules:
                finding = findings.get((rule.qualified_name, batch.batch_id))
                source_file = files.get((suite.name, batch.batch_id))
                if finding is not None and finding.examples:
                    source_file = finding.examples[0].get("source_file") or source_file
                writer.writerow(
                    [
                        run_id,
                        batch.batch_id,
                        batch.unit_code,
                        batch.period,
                        suite.name,
                        source_file,
                        rule.qualified_name,
                        rule.severity,
                        finding is None,
                        _observed(rule, finding, row_counts.get((suite.name, batch.batch_id))),
                        finding.unexpected_count if finding else 0,
                        quarantined,
                    ]
                )
        for rule, finding in failing:
            for example in finding.examples:
                violations.append(
                    (
                        run_id,
                        batch.batch_id,
                        rule.suite,
                        example.get("source_file"),
                        example.get("source_row"),
                        example.get("field"),
                        None if example.get("value") is None else str(example["value"]),
                        rule.qualified_name,
                        rule.severity,
                    )
                )
        status = "quarantined" if errors else "warned" if warnings else "passed"
        verdicts[batch.batch_id] = Verdict(batch.batch_id, status, errors + warnings)

    return verdicts, results, violations
