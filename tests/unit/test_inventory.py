"""Every path in a run's scope is accounted for: submissions, near misses, strays, silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from chiso.inventory import ScopeError, survey
from chiso.periods import period_window

SEPTEMBER = period_window("2025-09", "calendar")
UNITS = {"31": {"11224", "11227", "11230", "11233"}, "01": {"00004"}}


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def by_path(result) -> dict[str, tuple[str, str]]:
    return {e.path: (e.status, e.reason or "") for e in result.entries}


def test_each_stray_path_gets_a_status_and_a_reason(tmp_path: Path):
    touch(tmp_path / "31/11224/2025-09/ho_so.csv")
    touch(tmp_path / "31/11224/2025-09/ho_so (1).csv")
    touch(tmp_path / "31/11224/2025-09/thanh toan.csv")
    touch(tmp_path / "31/11224/2025-09/ghi_chu.pdfx")
    touch(tmp_path / "31/11224/2025-08/ho_so.csv")          # another period: another run's
    touch(tmp_path / "31/11227/2025-9/ho_so.csv")           # near miss of this period
    touch(tmp_path / "31/11227/T9-2025/ho_so.csv")
    touch(tmp_path / "31/11230/2025-09/ho_so.xls")
    touch(tmp_path / "31/11235/2025-09/ho_so.csv")          # not a unit of 31
    touch(tmp_path / "31/00004/2025-09/ho_so.csv")          # a unit of province 01
    touch(tmp_path / "31/readme.txt")
    touch(tmp_path / "31/11233 - Le Chan/2025-09/ho_so.csv")
    result = survey(tmp_path, SEPTEMBER, "31", UNITS)
    entries = by_path(result)
    assert [s.unit_code for s in result.submissions] == ["11224", "11230"]
    assert list(result.submissions[0].files) == ["ho_so.csv"]
    assert entries["31/11224/2025-09/ho_so (1).csv"][0] == "not_a_submission"
    assert "did you mean ho_so.csv" in entries["31/11224/2025-09/ho_so (1).csv"][1]
    assert "did you mean thanh_toan.csv" in entries["31/11224/2025-09/thanh toan.csv"][1]
    assert entries["31/11224/2025-09/ghi_chu.pdfx"][0] == "not_a_submission"
    assert "31/11224/2025-08" not in entries
    for near in ("31/11227/2025-9", "31/11227/T9-2025"):
        assert entries[near] == ("not_a_submission", "folder name is not YYYY-MM; did you mean 2025-09?")
    assert "save it as .csv or .xlsx or .json" in entries["31/11230/2025-09/ho_so.xls"][1]
    assert "not a 2025 unit code of province 31" in entries["31/11235"][1]
    assert entries["31/00004"][1] == "unit 00004 belongs to province 01, not 31"
    assert entries["31/readme.txt"][0] == "not_a_submission"
    assert entries["31/11233 - Le Chan"][1].endswith("did you mean 11233?")
    # Units that sent nothing for the period are named, the near miss's unit among them.
    silent = {e.unit_code for e in result.entries if e.status == "no_submission"}
    assert silent == {"11227", "11233"}


def test_symbolic_links_are_refused_never_followed(tmp_path: Path):
    outside = tmp_path / "outside"
    secret = touch(outside / "ho_so.csv", "dossier_id\nSECRET\n")
    root = tmp_path / "root"
    folder = root / "31/11224/2025-09"
    touch(folder / "danh_muc_tthc.csv")
    (folder / "ho_so.csv").symlink_to(secret)
    (root / "31/11227").mkdir(parents=True)
    (root / "31/11227/2025-09").symlink_to(outside, target_is_directory=True)
    (root / "31/11230").symlink_to(outside, target_is_directory=True)
    result = survey(root, SEPTEMBER, "31", UNITS)
    [submission] = result.submissions
    assert list(submission.files) == ["danh_muc_tthc.csv"]
    assert submission.refused == {"ho_so.csv": "symbolic link: not followed"}
    entries = by_path(result)
    assert entries["31/11227/2025-09"][0] == "refused"
    assert entries["31/11230"] == ("refused", "symbolic link: not followed")


def test_two_files_of_one_source_are_both_refused(tmp_path: Path):
    touch(tmp_path / "31/11224/2025-09/ho_so.csv")
    touch(tmp_path / "31/11224/2025-09/ho_so.xlsx")
    [submission] = survey(tmp_path, SEPTEMBER, "31", UNITS).submissions
    assert submission.files == {}
    assert set(submission.refused) == {"ho_so.csv", "ho_so.xlsx"}
    assert "2 ho_so files in one submission (ho_so.csv, ho_so.xlsx)" in submission.refused["ho_so.csv"]


@pytest.mark.parametrize("province", ["..", "../31", "3", "31/11224", "/etc"])
def test_a_province_that_is_not_a_code_is_refused(tmp_path: Path, province: str):
    with pytest.raises(ScopeError, match="2-digit code"):
        survey(tmp_path, SEPTEMBER, province, UNITS)


def test_whole_root_lists_folders_that_are_not_provinces(tmp_path: Path):
    touch(tmp_path / "31/11224/2025-09/ho_so.csv")
    touch(tmp_path / "Hai Phong/11224/2025-09/ho_so.csv")
    touch(tmp_path / "31 Hai Phong/11224/2025-09/ho_so.csv")
    touch(tmp_path / "notes.txt")
    result = survey(tmp_path, SEPTEMBER, None, UNITS)
    entries = by_path(result)
    assert entries["Hai Phong"][0] == "not_a_submission"
    assert entries["notes.txt"][0] == "not_a_submission"
    assert entries["31 Hai Phong"][1].endswith("did you mean 31?")
    assert [s.unit_code for s in result.submissions] == ["11224"]
    # Units that sent nothing are listed for the provinces the root holds, not for all 34.
    assert {e.unit_code for e in result.entries if e.status == "no_submission"} == {
        "11227", "11230", "11233"}
