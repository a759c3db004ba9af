"""A text-layer PDF of a score letter gives the same figures as the text version."""

from __future__ import annotations

from pathlib import Path

import pytest

from chiso.extract import extract_report

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def write_pdf(lines: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["pdf.fonttype"] = 42  # embed TrueType so the text layer keeps Vietnamese
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(8.3, 11.7))
    for index, line in enumerate(lines):
        fig.text(0.05, 0.98 - index * 0.016, line, fontsize=7, family="DejaVu Sans")
    fig.savefig(path)
    plt.close(fig)


@pytest.mark.skipif(not SEEDS.exists(), reason="needs ../shared/seeds")
def test_pdf_score_letter_matches_text_letter(tmp_path: Path):
    source = next(SEEDS.glob("001_*.txt"))
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()][:60]
    pdf = tmp_path / "letter.pdf"
    write_pdf(lines, pdf)
    from_pdf = extract_report(pdf)
    from_text = extract_report(source)
    assert from_pdf.unit_code == from_text.unit_code == "11224"
    assert from_pdf.period == "2025-08"
    expected = {f.name: (f.value, f.max_value) for f in from_text.figures}
    got = {f.name: (f.value, f.max_value) for f in from_pdf.figures}
    assert got == expected
    assert got["score_total"] == (69.93, 100)
