"""Measured extraction quality on a noisy corpus: right, missing and wrong figures per noise level.

The corpus is clean reports with their figures worked out by hand (`tests/corpus/*.json`
next to each document: the fixtures, new reports in other layouts) plus the generator's
`bao_cao` reports, whose figures are known by construction. Each clean report is copied at
every noise level of `chiso.extract.ocr.LEVELS` (several seeds each) and extracted:

- right: a figure stated in the report, extracted with its value;
- missing: a stated figure not extracted as a figure (absent, or only a candidate);
- wrong: a figure extracted (not a candidate) with another value, or not stated at all.

Derived figures (sums of stated parts) are scored only when the report states them too.

    python -m chiso.extract.evaluate [--seeds 3] [--generated 12] [--levels clean,typical]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import extract_report
from .ocr import LEVELS, confuse
from .vocabulary import UNIT_OF

CORPUS = Path(__file__).resolve().parents[3] / "tests" / "corpus"
KINDS = ("count", "percent", "points", "rank")


@dataclass
class Case:
    name: str
    text: str
    suffix: str
    expected: dict[str, float]
    province_hint: str | None = None


@dataclass
class Tally:
    right: int = 0
    missing: int = 0
    wrong: int = 0
    candidates: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    wrong_examples: list[str] = field(default_factory=list)
    missing_by_name: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, kind: str, right: int = 0, missing: int = 0, wrong: int = 0) -> None:
        self.right += right
        self.missing += missing
        self.wrong += wrong
        cell = self.by_kind[kind]
        cell[0] += right
        cell[1] += missing
        cell[2] += wrong

    @property
    def recall(self) -> float:
        stated = self.right + self.missing
        return self.right / stated if stated else 1.0

    @property
    def precision(self) -> float:
        given = self.right + self.wrong
        return self.right / given if given else 1.0


def corpus_cases(corpus: Path = CORPUS) -> list[Case]:
    """Hand-checked documents: `<name>.json` = {"file": path (relative to it), "figures": {…}}."""
    cases = []
    for spec_path in sorted(corpus.glob("*.json")):
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        doc = (spec_path.parent / spec["file"]).resolve()
        if not doc.is_file():
            continue
        cases.append(
            Case(
                spec_path.stem,
                doc.read_text(encoding="utf-8"),
                doc.suffix,
                {k: float(v) for k, v in spec["figures"].items()},
                spec.get("province_hint"),
            )
        )
    return cases


def generated_cases(count: int, seed: int = 766) -> list[Case]:
    """The generator's monthly reports (all three templates), figures known by construction."""
    from datetime import date

    import numpy as np

    from chiso.generate.report import render
    from chiso.generate.tables import Figures
    from chiso.generate.units import Unit
    from chiso.periods import Period

    rng = np.random.default_rng(seed)
    cases = []
    for k in range(count):
        received = int(rng.integers(40, 2500))
        online = int(received * rng.uniform(0.6, 0.98))
        postal = int(rng.integers(0, max(1, (received - online) // 3)))
        direct = received - online - postal
        carried = int(rng.integers(0, 60))
        in_progress = int(rng.integers(0, max(2, received // 15)))
        late = int(rng.integers(0, 8)) if k % 2 else 0
        overdue_ip = min(in_progress, int(rng.integers(0, 4))) if k % 3 == 0 else 0
        on_time = received - in_progress - late
        ministry = int(rng.binomial(received, 0.04))
        feedback = int(rng.integers(0, 5))
        f = Figures(
            carried_over=carried, received=received, online=online, direct=direct, postal=postal,
            total=carried + received, on_time=on_time, resolved_late=late,
            in_progress_on_time=in_progress - overdue_ip, in_progress_overdue=overdue_ip,
            system_city=received - ministry, system_ministry=ministry,
            procedures_full=int(rng.integers(100, 400)), procedures_partial=int(rng.integers(50, 250)),
            feedback=feedback, feedback_handled=int(rng.integers(0, feedback + 1)),
            e_result_rate=round(float(rng.uniform(80, 100)), 2),
            digitised_rate=round(float(rng.uniform(80, 100)), 2),
            reused_rate=round(float(rng.uniform(20, 90)), 2),
            online_payment_rate=round(float(rng.uniform(60, 100)), 2),
        )
        month = 1 + k % 12
        period = Period(f"2025-{month:02d}", date(2025, month, 1), date(2025, month, 28))
        unit = Unit("11809", "Hùng Thắng", "xã", "31")
        text = render(unit, ("Hải Phòng", "thành phố"), period, f, np.random.default_rng([seed, k]))
        cases.append(Case(f"generated_{k:02d}", text, ".txt", _generated_truth(text, f), "31"))
    return cases


def _generated_truth(text: str, f) -> dict[str, float]:
    truth = {
        "dossiers_total": f.total,
        "dossiers_carried_over": f.carried_over,
        "dossiers_received": f.received,
        "dossiers_received_online": f.online,
        "rate_online": round(100.0 * f.online / f.received, 2) if f.received else 100.0,
        "dossiers_received_direct": f.direct,
        "dossiers_received_postal": f.postal,
        "dossiers_resolved_on_time": f.on_time,
        "dossiers_resolved_late": f.resolved_late,
        "dossiers_in_progress_on_time": f.in_progress_on_time,
        "dossiers_in_progress_overdue": f.in_progress_overdue,
        "procedures_online_full": f.procedures_full,
        "procedures_online_partial": f.procedures_partial,
        "rate_paid_online": f.online_payment_rate,
        "rate_digitised_input": f.digitised_rate,
        "rate_digitised_output": f.e_result_rate,
        "rate_reuse": f.reused_rate,
        "feedback_received": f.feedback,
    }
    if f.feedback:
        truth["feedback_resolved"] = f.feedback_handled
    if "hệ thống của các bộ" in text:
        truth["dossiers_received_system_city"] = f.system_city
        truth["dossiers_received_system_ministry"] = f.system_ministry
    return {k: float(v) for k, v in truth.items()}


def score(case: Case, text: str, tally: Tally, workdir: Path, seed: int = 0) -> None:
    path = workdir / f"{case.name}{case.suffix}"
    path.write_text(text, encoding="utf-8")
    report = extract_report(path, province_hint=case.province_hint)
    got = {f.name: f for f in report.figures}
    tally.candidates += len(report.candidates)
    for name, value in case.expected.items():
        fig = got.get(name)
        kind = UNIT_OF.get(name, "count")
        if fig is not None and abs(fig.value - value) < 1e-6:
            tally.add(kind, right=1)
        else:
            tally.add(kind, missing=1)
            as_candidate = any(c.name == name and abs(c.value - value) < 1e-6 for c in report.candidates)
            tally.missing_by_name[f"{case.name.split('_')[0]}:{name}"][int(as_candidate)] += 1
    for name, fig in got.items():
        if fig.derived and name not in case.expected:
            continue
        if name not in case.expected or abs(fig.value - case.expected[name]) >= 1e-6:
            tally.add(fig.unit, wrong=1)
            if len(tally.wrong_examples) < 40:
                tally.wrong_examples.append(
                    f"{case.name}#{seed}: {name}={fig.value:g} (stated {case.expected.get(name)}) "
                    f"conf {fig.confidence:.2f} line {fig.line_no}: {fig.source_text[:90]!r}"
                )


def evaluate(
    cases: Iterable[Case], levels: Iterable[str] = LEVELS, seeds: int = 3, first_seed: int = 0
) -> dict[str, Tally]:
    cases = list(cases)
    out: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for level in levels:
            tally = Tally()
            for case in cases:
                for seed in _seeds(level, seeds, first_seed):
                    score(case, confuse(case.text, level, seed) if level != "clean" else case.text,
                          tally, workdir, seed)
            out[level] = tally
    return out


def _seeds(level: str, seeds: int, first: int = 0) -> Iterator[int]:
    return iter(range(first, first + (1 if level in ("clean", "stripped") else seeds)))


def table(results: dict[str, Tally]) -> str:
    """The README's table: one row per noise level."""
    head = (
        "| noise level | right | missing | wrong | candidates | recall | precision | "
        + " | ".join(f"{k} P / R" for k in KINDS)
        + " |"
    )
    lines = [head, "|" + "---|" * (7 + len(KINDS))]
    for level, t in results.items():
        kinds = []
        for kind in KINDS:
            right, missing, wrong = t.by_kind.get(kind, [0, 0, 0])
            if right + missing + wrong == 0:
                kinds.append("–")
                continue
            p = right / (right + wrong) if right + wrong else 1.0
            r = right / (right + missing) if right + missing else 1.0
            kinds.append(f"{p:.3f} / {r:.3f}")
        lines.append(
            f"| {level} | {t.right} | {t.missing} | {t.wrong} | {t.candidates} | {t.recall:.1%} | "
            f"{t.precision:.1%} | " + " | ".join(kinds) + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="noisy copies per document and level")
    parser.add_argument("--generated", type=int, default=12, help="generator reports in the corpus")
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--first-seed", type=int, default=0,
                        help="noise seeds start here (another value: copies not seen in development)")
    parser.add_argument("--wrong", action="store_true", help="list the wrong figures")
    parser.add_argument("--missing", action="store_true", help="count missing figures by name")
    args = parser.parse_args(argv)
    logging.getLogger("chiso.extract").setLevel(logging.ERROR)  # ambiguous names of test units
    cases = corpus_cases() + generated_cases(args.generated)
    results = evaluate(cases, args.levels.split(","), args.seeds, args.first_seed)
    print(f"{len(cases)} documents, {args.seeds} noisy copies each per level\n")
    print(table(results))
    if args.missing:
        for level, t in results.items():
            top = sorted(t.missing_by_name.items(), key=lambda kv: -sum(kv[1]))[:25]
            print(f"[{level}] missing (absent, candidate): "
                  + ", ".join(f"{k} {a}/{c}" for k, (a, c) in top))
    if args.wrong:
        for level, t in results.items():
            for line in t.wrong_examples:
                print(f"[{level}] {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
