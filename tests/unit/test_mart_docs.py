"""Docs a BI user reads, without a database: every mart and mart column described in the dbt
manifest, in words that stand on their own; the exposures there; the Data Docs assets
vendored for every CDN address GX asks for; the gate's GX context laid out from the checkout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

DBT_PROJECT = REPO / "dbt_project"
# Words that send a reader to a file this repository does not have.
OUTSIDE = re.compile(r"DESIGN\s*§|index-766|shared/|\bissue\s+\"", re.IGNORECASE)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    pytest.importorskip("dbt.cli.main")
    from dbt.cli.main import dbtRunner

    target = tmp_path_factory.mktemp("dbt-parse")
    with pytest.MonkeyPatch.context() as mp:
        # profiles.yml reads the connection from the environment; parse never connects
        mp.setenv("CHISO_PG_HOST", "localhost")
        mp.setenv("CHISO_PG_DBNAME", "chiso")
        result = dbtRunner().invoke([
            "parse", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(target / "target"), "--log-path", str(target / "logs"),
        ])
    assert result.success, result.exception
    return json.loads((target / "target" / "manifest.json").read_text(encoding="utf-8"))


def _marts(manifest: dict) -> dict[str, dict]:
    return {node["name"]: node for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["path"].startswith("marts/")}


def test_every_mart_column_is_described(manifest: dict) -> None:
    marts = _marts(manifest)
    assert {"unit_ranking", "dim_group", "dim_criterion", "published_unit_ranking"} <= set(marts)
    missing = []
    for name, node in sorted(marts.items()):
        if not node["description"].strip():
            missing.append(f"{name} (the model)")
        if not node["columns"]:
            missing.append(f"{name}: no columns listed in _marts.yml")
        missing += [f"{name}.{column}" for column, spec in node["columns"].items()
                    if not spec["description"].strip()]
    assert not missing, f"undescribed in dbt_project/models/marts/_marts.yml: {missing}"


def test_mart_docs_stand_on_their_own(manifest: dict) -> None:
    texts = []
    for name, node in _marts(manifest).items():
        texts.append((name, node["description"]))
        texts += [(f"{name}.{column}", spec["description"]) for column, spec in node["columns"].items()]
    for node in manifest["nodes"].values():
        if node["resource_type"] == "seed":
            texts.append((node["name"], node["description"]))
    outside = [f"{where}: {text[:80]}" for where, text in texts if OUTSIDE.search(text)]
    assert not outside, f"descriptions pointing outside the repository: {outside}"
    unrendered = [where for where, text in texts if "{{" in text]
    assert not unrendered, unrendered


def test_marts_persist_their_docs(manifest: dict) -> None:
    for name, node in _marts(manifest).items():
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, name


def test_exposures_name_the_published_outputs(manifest: dict) -> None:
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert {"ranking_reports", "dq_summary", "bi_marts", "evidence_pack"} <= set(exposures)
    for name, exposure in exposures.items():
        assert exposure["description"].strip() and exposure["depends_on"]["nodes"], name
    assert "model.chiso.unit_ranking" in exposures["ranking_reports"]["depends_on"]["nodes"]


# --- Data Docs offline --------------------------------------------------------------------------

def test_every_cdn_address_gx_asks_for_is_vendored() -> None:
    """A GX upgrade that loads a new file from a CDN fails here, not on an offline network."""
    import great_expectations

    from chiso.gate.docs import VENDORED, vendor_dir

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    asked = set()
    for template in templates.glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        asked |= set(re.findall(r"<(?:script|link)\b[^>]*?(?:src|href)=\"(https?://[^\"]+)\"", text))
    assert asked, "no CDN address found: the templates moved?"
    assert asked <= set(VENDORED), sorted(asked - set(VENDORED))
    for path in VENDORED.values():
        assert (vendor_dir() / path).is_file(), path


def test_localize_assets_leaves_no_remote_asset(tmp_path: Path) -> None:
    from chiso.gate.docs import REMOTE_ASSET, REMOTE_CSS_URL, VENDORED, localize_assets

    site = tmp_path / "site"
    page = site / "validations" / "suite" / "run" / "page.html"
    page.parent.mkdir(parents=True)
    (site / "static" / "styles").mkdir(parents=True)
    (site / "static" / "styles" / "s.css").write_text(
        ".logo{background:url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/x.png')}")
    tags = "\n".join(f'<script src="{url}" integrity="sha384-x" crossorigin="anonymous"></script>'
                     for url in VENDORED)
    page.write_text(
        f"<html><head>{tags}<script src=\"https://example.org/new.js\"></script></head><body>"
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&amp;x=2">'
        '<a href="https://greatexpectations.io">a link stays</a></body></html>')
    removed = localize_assets(site)
    text = page.read_text()
    assert not REMOTE_ASSET.search(text) and "integrity" not in text
    assert not REMOTE_CSS_URL.search((site / "static" / "styles" / "s.css").read_text())
    assert removed == ['<script src="https://example.org/new.js">']
    assert '"../../../static/vendor/jquery/jquery.min.js"' in text
    assert (page.parent / "../../../static/vendor/jquery/jquery.min.js").resolve().is_file()
    assert 'src="../../../static/images/logo-long-vector.svg"' in text
    assert 'href="https://greatexpectations.io"' in text


# --- the gate's GX context under the state dir ------------------------------------------------

def test_gx_context_is_laid_out_from_the_checkout(tmp_path: Path) -> None:
    from chiso.gate.gx_adapter import prepare_context_dir

    source = tmp_path / "expectations"
    (source / "suites").mkdir(parents=True)
    (source / "great_expectations.yml").write_text("config_version: 4.0\n")
    (source / "suites" / "ho_so.yml").write_text("a: 1\n")
    target = prepare_context_dir(tmp_path / "state" / "gx", source)
    assert (target / "great_expectations.yml").read_text() == "config_version: 4.0\n"
    (target / "great_expectations.yml").write_text("config_version: 4.0\nfluent_datasources: {}\n")
    prepare_context_dir(target, source)  # GX's own additions survive while the source is unchanged
    assert "fluent_datasources" in (target / "great_expectations.yml").read_text()
    (source / "great_expectations.yml").write_text("config_version: 4.0\n# changed\n")
    (source / "suites" / "ho_so.yml").write_text("a: 2\n")
    (source / "suites" / "pakn.yml").write_text("b: 1\n")
    (target / "suites" / "gone.yml").write_text("old\n")
    prepare_context_dir(target, source)
    assert "# changed" in (target / "great_expectations.yml").read_text()
    assert sorted(p.name for p in (target / "suites").iterdir()) == ["ho_so.yml", "pakn.yml"]
    assert (target / "suites" / "ho_so.yml").read_text() == "a: 2\n"


def test_default_gx_context_is_in_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chiso.gate.gx_adapter import default_context_dir

    monkeypatch.setenv("CHISO_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CHISO_HOME", str(REPO))
    monkeypatch.delenv("CHISO_EXPECTATIONS_DIR", raising=False)
    context = default_context_dir()
    assert context == tmp_path / "state" / "gx"
    assert (context / "suites" / "ho_so.yml").is_file()
    assert not context.is_relative_to(REPO / "expectations")  # not the checkout's GX folder
    monkeypatch.setenv("CHISO_EXPECTATIONS_DIR", str(tmp_path / "elsewhere"))
    assert default_context_dir() == tmp_path / "elsewhere"


def test_bench_gates_in_its_own_gx_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bench's validation runs stay out of the warehouse's Data Docs."""
    from chiso import bench
    from chiso.gate.gx_adapter import default_context_dir

    monkeypatch.setenv("CHISO_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CHISO_HOME", str(REPO))
    monkeypatch.delenv("CHISO_EXPECTATIONS_DIR", raising=False)
    assert bench.gx_context() == tmp_path / "state" / "bench" / "gx" != default_context_dir()
    assert (bench.gx_context() / "suites" / "ho_so.yml").is_file()
