"""Published is published: publish a month through the DAG, resubmit one unit's corrected file,
re-run; the publication stands, the marts move, the ledger says what changed and why, and the
evidence pack verifies (a tampered copy does not)."""

from __future__ import annotations

import csv
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from chiso import cli, config, publication, warehouse
from tests.conftest import rows

pytestmark = pytest.mark.slow

PERIOD = "2025-09"


def _late(record: dict[str, str]) -> bool:
    done, due = record.get("completed_at") or "", record.get("due_at") or ""
    return len(done) >= 16 and len(due) >= 16 and done[:4].isdigit() and due[:4].isdigit() and done > due


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _correct_late_dossiers(path: Path) -> None:
    """The unit's corrected file: dossiers it had recorded as completed late were completed on
    the day they were received (a data-entry fix)."""
    fields, records = _read(path)
    for record in records:
        if _late(record):
            record["completed_at"] = record["received_at"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)


@pytest.fixture(scope="module")
def published(tmp_path_factory, server_dsn, monkeypatch_module):
    # a database of its own on the session's server: the other end-to-end tests keep theirs
    dsn = server_dsn.replace("/chiso?", "/publication?")
    warehouse.sibling_database("publication", server_dsn)
    monkeypatch_module.setenv("WAREHOUSE_URL", dsn)
    submissions = tmp_path_factory.mktemp("submissions")
    assert (
        cli.main(
            [
                "generate",
                "--out",
                str(submissions),
                "--province",
                "31",
                "--periods",
                PERIOD,
                "--units",
                "4",
                "--seed",
                "5",
            ]
        )
        == 0
    )
    assert (
        cli.main(
            ["run", "--submissions", str(submissions), "--period", PERIOD, "--province", "31", "--publish"]
        )
        == 0
    )
    [(publication_id, published_at)] = rows(
        dsn, "select publication_id, published_at from audit.publications"
    )
    snapshot = rows(
        dsn,
        "select unit_code, total_points, rank_in_province, rating from marts.unit_ranking "
        "where period = %s order by unit_code",
        (PERIOD,),
    )
    # the unit with the most late completions resubmits a corrected ho_so.csv
    late = {path: sum(map(_late, _read(path)[1])) for path in submissions.glob(f"31/*/{PERIOD}/ho_so.csv")}
    corrected = max(sorted(late), key=late.get)
    assert late[corrected] > 0
    unit = corrected.parts[-3]
    old_batch = rows(
        dsn, "select batch_id from marts.unit_ranking where unit_code = %s and period = %s", (unit, PERIOD)
    )[0][0]
    _correct_late_dossiers(corrected)
    assert cli.main(["run", "--submissions", str(submissions), "--period", PERIOD, "--province", "31"]) == 0
    return {
        "dsn": dsn,
        "id": publication_id,
        "at": published_at,
        "snapshot": snapshot,
        "unit": unit,
        "old_batch": old_batch,
        "submissions": submissions,
    }


@pytest.fixture(scope="module")
def monkeypatch_module():
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def test_the_publication_stands_and_the_marts_move(published):
    dsn, unit = published["dsn"], published["unit"]
    frozen = rows(
        dsn,
        "select unit_code, total_points, rank_in_province, rating from marts.published_unit_ranking "
        "where publication_id = %s order by unit_code",
        (published["id"],),
    )
    assert frozen == published["snapshot"]
    now = dict(
        rows(dsn, "select unit_code, total_points from marts.unit_ranking where period = %s", (PERIOD,))
    )
    then = {u: total for u, total, _, _ in published["snapshot"]}
    assert now[unit] > then[unit]  # late completions corrected: more on time
    assert {u: t for u, t in now.items() if u != unit} == {u: t for u, t in then.items() if u != unit}


def test_as_of_answers_what_was_published_when(published):
    dsn, at = published["dsn"], published["at"]
    after = rows(
        dsn,
        "select unit_code, total_points from marts.unit_ranking_as_of(%s) where period = %s "
        "order by unit_code",
        (at + timedelta(seconds=1), PERIOD),
    )
    assert after == [(u, t) for u, t, _, _ in published["snapshot"]]
    assert rows(dsn, "select count(*) from marts.unit_ranking_as_of(%s)", (at - timedelta(seconds=1),)) == [
        (0,)
    ]


def test_the_ledger_names_the_batch_that_changed_the_figures(published):
    dsn, unit = published["dsn"], published["unit"]
    new_batch = rows(
        dsn, "select batch_id from marts.unit_ranking where unit_code = %s and period = %s", (unit, PERIOD)
    )[0][0]
    ledger = rows(
        dsn,
        "select unit_code, measure, old_value, new_value, cause from marts.restatements "
        "where publication_id = %s",
        (published["id"],),
    )
    mine = [r for r in ledger if r[0] == unit]
    measures = {m for _, m, _, _, _ in mine}
    assert {"total_points", "criterion 2.1", "group TDGQ"} <= measures
    total = next(r for r in mine if r[1] == "total_points")
    then = next(t for u, t, _, _ in published["snapshot"] if u == unit)
    assert float(total[2]) == float(then)
    assert all(
        f"batch {new_batch}" in cause and f"replaced {published['old_batch']}" in cause for *_, cause in mine
    )
    # the other units changed at most their rank, and say it was not their doing
    others = [r for r in ledger if r[0] != unit]
    assert all(m == "rank_in_province" and "other units" in cause for u, m, _, _, cause in others), others
    # recorded once: asking again adds nothing
    assert publication.record_restatements([PERIOD], warehouse.role_url("transformer", dsn)) == 0
    # the month's DQ summary, written by the re-run after its build, lists them
    summary = (config.reports_dir() / PERIOD / "dq_summary.html").read_text(encoding="utf-8")
    assert "Restatements since the latest publication" in summary and f"<td>{unit}</td>" in summary
    printed = publication.restatements(PERIOD, dsn)
    assert unit in printed and "replaced" in printed


def test_the_evidence_pack_verifies_and_a_tampered_copy_does_not(published, tmp_path):
    dsn = published["dsn"]
    archive = publication.write_evidence(PERIOD, "31", tmp_path, dsn=warehouse.role_url("reader", dsn))
    pack = archive.with_suffix("")
    names = {p.name for p in pack.iterdir()}
    assert {
        "manifest.json",
        "inputs",
        "batches.csv",
        "dq_results.csv",
        "scoring_rules.csv",
        "published_unit_scores.csv",
        "criterion_lineage.csv",
    } <= names
    # the pack holds the files as published, not the corrected resubmission
    unit = published["unit"]
    packed = next(pack.glob(f"inputs/31/{unit}/{PERIOD}/ho_so.csv"))
    assert packed.read_bytes() != (published["submissions"] / "31" / unit / PERIOD / "ho_so.csv").read_bytes()

    result = publication.verify_evidence(archive)
    assert result.identical, str(result)

    tampered = tmp_path / "tampered"
    shutil.copytree(pack, tampered)
    target = next(tampered.glob("inputs/31/*/2025-09/*.*"))
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    result = publication.verify_evidence(tampered)
    assert not result.identical
    assert any(
        str(target.relative_to(tampered)) in problem and "sha256" in problem for problem in result.problems
    )
