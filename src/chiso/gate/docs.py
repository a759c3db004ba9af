"""GX Data Docs of the gate's suites and validation results, readable offline."""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from chiso.gate.gx_adapter import default_context_dir, open_context

log = logging.getLogger(__name__)

# The CSS and JavaScript GX 1.x Data Docs pages load from public CDNs, and the copies shipped
# in docs/assets/vendor (npm packages of the same versions; docs/assets/README.md) that
# replace them, so the pages render on a network without internet access.
VENDORED = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome/css/all.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark/css/bootstrap-prefers-dark.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/vega-embed.min.js",
}
# The navbar logo comes from GX's S3 bucket (with a tracking query); GX ships it as static.
_REMOTE_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/logo-long\.png[^\"'\s>]*")
# CSS backgrounds from anywhere on the network (GX's own stylesheet: a logo on S3).
REMOTE_CSS_URL = re.compile(r"url\(\s*[\"']?(?:https?:)?//[^)]*\)", re.IGNORECASE)
_SRI = re.compile(r"\s+(?:integrity|crossorigin)=(?:\"[^\"]*\"|'[^']*')")
# An asset a page would still fetch from the network: <script src>, <link href>, <img src>.
REMOTE_ASSET = re.compile(
    r"<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^>]*>",
    re.IGNORECASE,
)


def vendor_dir() -> Path:
    from chiso import config

    return config.project_dir() / "docs" / "assets" / "vendor"


def localize_assets(site_dir: Path, vendor: Path | None = None) -> list[str]:
    """Make a Data Docs site render offline: copy the vendored CSS/JS into
    `<site>/static/vendor`, point every page at them, drop the SRI attributes (a local copy
    needs none), use GX's own logo for images it would fetch from S3 (<img> and CSS url()), and
    remove any remote asset left. Return the tags removed."""
    site_dir = Path(site_dir)
    vendor = Path(vendor) if vendor else vendor_dir()
    local = site_dir / "static" / "vendor"
    shutil.copytree(vendor, local, dirs_exist_ok=True)
    removed: list[str] = []
    pages = [*site_dir.rglob("*.html"), *(site_dir / "static" / "styles").rglob("*.css")]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        prefix = Path(os.path.relpath(local, page.parent)).as_posix()
        images = Path(os.path.relpath(site_dir / "static" / "images", page.parent)).as_posix()
        new = REMOTE_CSS_URL.sub(f"url('{images}/logo-long.png')", text)
        for url, path in VENDORED.items():
            new = new.replace(f'"{url}"', f'"{prefix}/{path}"')
        new = _REMOTE_LOGO.sub(f"{images}/logo-long-vector.svg", new)
        new = re.sub(r"<(?:script|link)\b[^>]*>", lambda m: _SRI.sub("", m.group(0)), new)

        def drop(match: re.Match) -> str:
            removed.append(match.group(0))
            return ""

        new = REMOTE_ASSET.sub(drop, new)
        if new != text:
            page.write_text(new, encoding="utf-8")
    for tag in sorted(set(removed)):
        log.warning("data docs: no local copy of %s; removed", tag)
    return removed


def build_data_docs(context_dir: Path | None = None, reports_dir: Path | None = None) -> Path:
    """Render GX Data Docs (suites and the stored validation results); return index.html.

    By default the site is uncommitted/data_docs/local_site of the gate's GX context
    (`<state dir>/gx`); `reports_dir` renders it there instead (e.g. the docs site). Either
    way its pages load their CSS and JavaScript from local copies (localize_assets).
    """
    import chiso.gate.expectation  # noqa: F401  (registers the gate's expectation with GX)

    context_dir = Path(context_dir) if context_dir else default_context_dir()
    context = open_context(context_dir)
    site_name = "local_site"
    if reports_dir is not None:
        site_name = "chiso_reports"
        sites = dict(context.variables.data_docs_sites or {})
        sites[site_name] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(reports_dir).resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        # In memory only: great_expectations.yml keeps describing the default site.
        context.variables.data_docs_sites = sites
    urls = context.build_data_docs(site_names=[site_name])
    url = urls[site_name]
    index = Path(urlsplit(url).path) if url.startswith("file://") else Path(url)
    localize_assets(index.parent)
    log.info("data docs: %s", index)
    return index

