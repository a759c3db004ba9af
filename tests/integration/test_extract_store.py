"""Extraction as its own step: a landed report keeps its bytes, its figures, candidates and
warnings are apart and stamped with the extractor version, and it is extracted again when the
version changes."""

from __future__ import annotations

import psycopg2

from chiso.extract import EXTRACTOR_VERSION, store
from tests.conftest import rows
from tests.integration.test_landing import land, make_submission

REPORT = (
    "ỦY BAN NHÂN DÂN XÃ KHÚC THỪA DỤ\n"
    "Báo cáo kết quả giải quyết TTHC tháng 9 năm 2025 (từ ngày 01/9/2025 đến ngày 30/9/2025).\n"
    "Tổng số 120 hồ sơ (kỳ trước chuyển sang 20 hồ sơ; tiếp nhận mới 90 hồ sơ).\n"
    "Đã giải quyết 100 hồ sơ, trong đó đúng hạn 98 hồ sơ, quá hạn 2 hồ sơ.\n"
)


def test_report_lands_apart_and_is_extracted_again(tmp_path, fresh_dsn):
    folder = make_submission(tmp_path)
    (folder / "bao_cao.txt").write_text(REPORT, encoding="utf-8")
    land(tmp_path, fresh_dsn)

    stored = rows(fresh_dsn, "select source_file, length(content), length(file_sha256) "
                             "from raw.report_documents")
    assert stored == [("31/11224/2025-09/bao_cao.txt", len(REPORT.encode()), 64)]
    figures = dict(rows(fresh_dsn, "select figure, status from raw.report_figures"))
    assert figures["dossiers_resolved"] == "figure"
    assert not any(name.startswith("warning:") for name in figures)
    # 120 ≠ 20 + 90: the report does not add up, a warning in its own table
    warnings = rows(fresh_dsn, "select rule from raw.report_warnings")
    assert warnings == [("total_equals_carried_plus_received",)]
    versions = rows(fresh_dsn, "select distinct extractor_version from raw.report_figures")
    assert versions == [(EXTRACTOR_VERSION,)]

    with psycopg2.connect(fresh_dsn) as conn, conn.cursor() as cur:
        assert store.reextract(cur)["documents"] == 0  # up to date
        cur.execute("update raw.report_figures set extractor_version = '0.old', value = -1")
        cur.execute("update raw.report_warnings set extractor_version = '0.old'")
        done = store.reextract(cur)
    assert done == {"documents": 1, "reextracted": 1, "unreadable": 0}
    again = dict(rows(fresh_dsn, "select figure, value from raw.report_figures where status = 'figure'"))
    assert again["dossiers_resolved"] == 100 and again["dossiers_resolved_late"] == 2
    assert rows(fresh_dsn, "select count(*), min(extractor_version) from raw.report_warnings") == [
        (1, EXTRACTOR_VERSION)
    ]
