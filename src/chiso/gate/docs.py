"""GX Data Docs of the gate's suites and validation results."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from chiso.gate.gx_adapter import default_context_dir, open_context

log = logging.getLogger(__name__)


def build_data_docs(context_dir: Path | None = None, reports_dir: Path | None = None) -> Path:
    """Render GX Data Docs (suites and the stored validation results); return index.html.

    By default the site is expectations/uncommitted/data_docs/local_site; `reports_dir`
    renders it there instead (e.g. the demo's reports folder).
    """
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
    log.info("data docs: %s", index)
    return index

