"""`chiso docs`: one static site, readable offline, under `<state dir>/docs/`.

    index.html      what is where
    dbt/index.html  dbt docs: every model and column described, lineage, exposures
                    (`dbt docs generate --static`: manifest and catalog inside one file)
    dq/index.html   GX Data Docs of this warehouse's gate runs, CSS/JS from local copies
    reports/        the reports folder (ranking CSV and chart, DQ summary per period)

Nothing on any page is fetched from the network; open index.html from disk or serve the
folder with any web server.
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from chiso import config

log = logging.getLogger(__name__)


@dataclass
class DocsSite:
    index: Path
    parts: dict[str, Path] = field(default_factory=dict)  # part -> its entry page
    problems: list[str] = field(default_factory=list)  # parts that could not be built


def build_site(out: Path | None = None, dsn: str | None = None) -> DocsSite:
    """Build the site under `out` (default `<state dir>/docs`); each part is built on its own,
    and a part that fails is named in `problems` and on the index page."""
    out = Path(out) if out else config.state_dir() / "docs"
    out.mkdir(parents=True, exist_ok=True)
    site = DocsSite(index=out / "index.html")
    for name, builder in (("dbt", _dbt_docs), ("dq", _data_docs), ("reports", _reports)):
        target = out / name
        try:
            entry = builder(target, dsn)
        except Exception as err:  # one part failing leaves the others readable
            log.warning("docs: %s not built: %s", name, err)
            site.problems.append(f"{name}: {err}")
            continue
        if entry is not None:
            site.parts[name] = entry
    site.index.write_text(_index_html(out, site), encoding="utf-8")
    log.info("docs site: %s", site.index)
    return site


def _fresh(target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)


def _dbt_docs(target: Path, dsn: str | None) -> Path:
    """dbt docs as one self-contained page (manifest and catalog inlined)."""
    from chiso import transform

    transform.dbt(["docs", "generate", "--static"], dsn)
    static = transform.target_dir() / "static_index.html"
    _fresh(target)
    shutil.copyfile(static, target / "index.html")
    return target / "index.html"


def _data_docs(target: Path, dsn: str | None) -> Path:
    from chiso.gate import build_data_docs

    _fresh(target)
    return build_data_docs(reports_dir=target)


# dq_summary.html links the Data Docs by their file:// address where they were built.
_FILE_LINK = re.compile(r"""href=(['"])file://[^'"]*/index\.html\1""")


def _reports(target: Path, dsn: str | None) -> Path | None:
    source = config.reports_dir()
    if target.resolve().is_relative_to(source.resolve()):
        raise ValueError(f"the reports folder {source} holds the docs site: set CHISO_REPORTS_DIR "
                         "elsewhere")
    _fresh(target)
    shutil.copytree(source, target, dirs_exist_ok=True)
    for page in target.rglob("dq_summary.html"):
        link = Path(os.path.relpath(target.parent / "dq" / "index.html", page.parent)).as_posix()
        text = page.read_text(encoding="utf-8")
        page.write_text(_FILE_LINK.sub(f"href='{link}'", text), encoding="utf-8")
    return target if any(target.iterdir()) else None


def _reports_html(reports: Path) -> str:
    periods = sorted((p for p in reports.iterdir() if p.is_dir()), reverse=True)
    if not periods:
        return "<p>No reports yet: <code>chiso run --period YYYY-MM</code> writes them.</p>"
    rows = []
    for period in periods:
        files = sorted(p for p in period.rglob("*") if p.is_file())
        links = ", ".join(
            f"<a href='{html.escape(p.relative_to(reports.parent).as_posix())}'>"
            f"{html.escape(p.relative_to(period).as_posix())}</a>"
            for p in files
        )
        rows.append(f"<tr><td>{html.escape(period.name)}</td><td>{links}</td></tr>")
    return f"<table><tr><th>period</th><th>files</th></tr>{''.join(rows)}</table>"


EMPTY = {"reports": "No reports yet: <code>chiso run --period YYYY-MM</code> (or <code>chiso demo</code>) "
                    "writes them."}


def _index_html(out: Path, site: DocsSite) -> str:
    def part(name: str, title: str, text: str) -> str:
        entry = site.parts.get(name)
        if entry is None:
            problem = next((p for p in site.problems if p.startswith(f"{name}:")), None)
            if problem is None:  # nothing to show yet (an empty reports folder)
                return f"<h2>{title}</h2><p>{EMPTY.get(name, 'Nothing yet.')}</p>"
            return f"<h2>{title}</h2><p class='missing'>Not built: {html.escape(problem)}</p>"
        href = html.escape(entry.relative_to(out).as_posix())
        return f"<h2><a href='{href}'>{title}</a></h2><p>{text}</p>"

    reports = site.parts.get("reports")
    reports_list = _reports_html(reports) if reports else ""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chiso docs</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}}
td,th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}}
.missing{{color:#a00}} code{{background:#f4f4f4}}</style></head>
<body>
<h1>chiso: Decision 766 index warehouse, documentation</h1>
<p>Built {generated}. Every page here works without a network connection.</p>
{part("dbt", "Warehouse models and columns (dbt docs)",
      "Every mart and column described, lineage from the submitted files to the marts, and the "
      "outputs that read them (exposures). The same descriptions are PostgreSQL comments on the "
      "marts, so a BI tool connected as <code>bi_reader</code> shows them. Start with "
      "<code>marts.unit_ranking</code>, <code>marts.dim_group</code> and "
      "<code>marts.dim_criterion</code>.")}
{part("dq", "Data quality (GX Data Docs)",
      "The gate's expectation suites and the results of this warehouse's own validation runs. "
      "The same results are in <code>marts.dq_results</code>.")}
{part("reports", "Reports", "Ranking CSVs and chart and the data-quality summary of each period.")}
{reports_list}
</body></html>
"""
