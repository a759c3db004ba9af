"""Docs a BI user reads: after `dbt build` every mart column carries a PostgreSQL comment
(what a BI tool connected as bi_reader shows), the group and criterion dimensions hold
the names and maxima, and `chiso docs` builds a site that loads nothing from the network.

Reuses the hand-made warehouse of test_dbt_project (its module fixtures)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration import test_dbt_project as project

# The hand-made warehouse, built once for this module (test_dbt_project's fixtures).
warehouse = project.warehouse
built = project.built
query = project.query

pytestmark = [pytest.mark.slow]

MART_COLUMNS = """
    select c.table_name, c.column_name,
           col_description((quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass,
                           c.ordinal_position)
    from information_schema.columns c
    join information_schema.tables t using (table_schema, table_name)
    where c.table_schema = 'marts'
    order by c.table_name, c.ordinal_position"""


def test_every_mart_column_has_a_comment(built: str) -> None:
    rows = query(built, MART_COLUMNS)
    assert len({table for table, _, _ in rows}) >= 20
    bare = [f"{table}.{column}" for table, column, comment in rows if not (comment or "").strip()]
    assert not bare, f"mart columns without a PostgreSQL comment: {bare}"
    comments = {f"{table}.{column}": comment for table, column, comment in rows}
    assert "Dense rank" in comments["unit_ranking.rank_in_province"]
    assert "{{" not in "".join(comments.values()), "a doc block was not rendered"


def test_every_mart_relation_has_a_comment(built: str) -> None:
    rows = query(built, """
        select c.relname, obj_description(c.oid, 'pg_class')
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')""")
    bare = [name for name, comment in rows if not (comment or "").strip()]
    assert not bare, f"marts without a PostgreSQL comment: {bare}"


def test_bi_reader_sees_the_comments(built: str) -> None:
    """What a BI tool shows: the comments, read as the read-only BI role. (Here dbt builds as
    the superuser, so the grant chiso_transformer's default privileges give is made by hand.)"""
    query(built, "grant select on all tables in schema marts to bi_reader; select 1")
    rows = query(built, "set role bi_reader; " + MART_COLUMNS.replace(
        "where c.table_schema", "where c.table_name = 'dim_group' and c.table_schema"))
    assert rows and all(comment for _, _, comment in rows)


def test_group_and_criterion_dimensions(built: str) -> None:
    groups = query(built, "select group_code, group_name_vi, group_name_en, max_points, criteria"
                          " from marts.dim_group order by display_order")
    assert [g[0] for g in groups] == ["CKMB", "TDGQ", "DVCTT", "TTTT", "MDHL", "SHHS"]
    assert sum(g[3] for g in groups) == 100
    assert groups[0][1] == "Công khai, minh bạch" and groups[0][2] == "Transparency and publicity"
    criteria = query(built, "select group_code, max_points from marts.dim_criterion")
    assert sum(c[1] for c in criteria) == 100
    assert sum(g[4] for g in groups) == len(criteria)
    orphans = query(built, """select distinct s.criterion_code from marts.criterion_scores s
                              left join marts.dim_criterion c using (rule_version, criterion_code)
                              where c.criterion_code is null""")
    assert orphans == []


REMOTE = [
    re.compile(r"<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
               re.IGNORECASE),
    re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"@import\s+[\"']?(?:url\()?[\"']?(?:https?:)?//", re.IGNORECASE),
]


def remote_assets(site: Path) -> list[str]:
    found = []
    for page in [*site.rglob("*.html"), *site.rglob("*.css")]:
        text = page.read_text(encoding="utf-8", errors="replace")
        for pattern in REMOTE:
            found += [f"{page.relative_to(site)}: {text[m.start():m.start() + 120]}"
                      for m in pattern.finditer(text)]
    return found


@pytest.fixture(scope="module")
def site(built: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from chiso import config, docsite

    reports = tmp_path_factory.mktemp("reports")
    (reports / "2025-09").mkdir()
    (reports / "2025-09" / "unit_ranking.csv").write_text("rank_in_province,unit_code\n1,11557\n")
    (reports / "2025-09" / "dq_summary.html").write_text(
        "<!doctype html><p>GX Data Docs: <a href='file:///elsewhere/data_docs/local_site/index.html'>"
        "docs</a></p>")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHISO_REPORTS_DIR", str(reports))
        mp.delenv("CHISO_EXPECTATIONS_DIR", raising=False)
        out = config.state_dir() / "docs"
        result = docsite.build_site(out, dsn=project._dsn(built))
    assert result.problems == []
    return out


def test_docs_site_has_its_parts(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    for href in ("dbt/index.html", "dq/index.html", "reports/2025-09/unit_ranking.csv"):
        assert f"href='{href}'" in index and (site / href).is_file(), href
    dbt_page = (site / "dbt" / "index.html").read_text(encoding="utf-8")
    assert "dim_criterion" in dbt_page and "ranking_reports" in dbt_page  # model, exposure
    summary = (site / "reports" / "2025-09" / "dq_summary.html").read_text(encoding="utf-8")
    assert "href='../../dq/index.html'" in summary


def test_docs_site_loads_nothing_from_the_network(site: Path) -> None:
    assert remote_assets(site) == []
    vendor = site / "dq" / "static" / "vendor"
    assert (vendor / "bootstrap" / "css" / "bootstrap.min.css").is_file()


def test_data_docs_live_under_the_state_dir(site: Path) -> None:
    """The gate's GX context is the warehouse's own: `<state dir>/gx`, not the checkout."""
    from chiso import config
    from chiso.gate.gx_adapter import default_context_dir

    context = default_context_dir()
    assert context == config.state_dir() / "gx"
    assert (context / "great_expectations.yml").is_file()
    assert sorted(p.name for p in (context / "suites").glob("*.yml")) == sorted(
        p.name for p in (config.expectations_dir() / "suites").glob("*.yml"))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_docs_site_renders_in_a_browser_without_network(site: Path, tmp_path: Path) -> None:
    """Headless chromium with every host name unresolvable: the Data Docs table is built by
    jQuery and bootstrap-table (so the local copies loaded), the dbt docs app lists the marts."""

    def dom(page: Path) -> str:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=15000", "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    assert "bootstrap-table" in dom(site / "dq" / "index.html")
    assert "unit_ranking" in dom(site / "dbt" / "index.html")
