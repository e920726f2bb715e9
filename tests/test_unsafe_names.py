"""Unsafe file names and paths: spaces, Unicode, `..`, bytes that are not UTF-8, links that lead
out of the articles folder, ids that try to climb out of the archive.

Names are data, never paths: an article's id is a hash of its bytes, its file name is kept
verbatim in the `path` column, and every file the pipeline writes has a name it chose itself.
A link that leads outside the articles folder is rejected (its target could be any file on the
machine, and the text would be published); links inside the folder are read, and linked
folders are not followed. Hidden files (names starting with a dot, such as `..evil.txt`) are
not articles, as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.config import PROJECT_ROOT, Settings, ensure_inside, printable
from pipeline.corpus.articles import read_corpus
from pipeline.editions.archive import edition_path, publish
from pipeline.editions.identity import Edition
from pipeline.editions.manifest import build_manifest, write_manifest
from pipeline.errors import InputError

SEEDS = PROJECT_ROOT / "data" / "articles"
SECRET = "SECRET-7f3a: this line lives outside the articles folder"

STORIES = {
    "my article.txt": "Alibaba shares rose on Monday after the cloud unit reported faster growth.",
    "阿里巴巴 新闻.md": "Regulators in Beijing opened a review of the group's payment affiliate.",
    "Ärger über Alibaba.txt": "Die Aktie fiel, nachdem Anleger über die Margen im Handel stritten.",
    "x..txt": "Analysts in Hong Kong cut their targets after the quarterly results call.",
    "linked-meta.txt": "Cainiao volumes grew as merchants shipped more parcels abroad.",
    "..evil.txt": "A hidden file that must not be read as an article at all.",
}


def story(name: str, text: str) -> str:
    """A body long enough to be an article, distinct per file so none is a duplicate."""
    return f"{text}\n\nThe report on {name!r} added detail on revenue, costs and the outlook.\n"


def html_story(text: str) -> str:
    paras = "".join(
        f"<p>{text} Paragraph {i} adds more detail about the market.</p>" for i in range(6)
    )
    return (
        "<html><head><title>Alibaba and the dots</title></head>"
        f"<body><article><h1>Alibaba and the dots</h1>{paras}</article></body></html>"
    )


def hostile_folder(root: Path, with_seeds: bool = False) -> Path:
    """An articles folder with unsafe names, links out and traversal-shaped metadata."""
    articles = root / "articles"
    articles.mkdir(parents=True)
    if with_seeds:
        for p in SEEDS.glob("*.txt"):
            shutil.copyfile(p, articles / p.name)
    for name, text in STORIES.items():
        (articles / name).write_text(story(name, text), encoding="utf-8")
    (articles / "a..b.html").write_text(
        html_story("Cloud revenue beat forecasts as AI demand grew."), encoding="utf-8"
    )
    # Metadata that looks like paths: it must stay data.
    (articles / "my article.meta.yml").write_text(
        "title: ../../etc/x\nsource: ../../../tmp/evil\nurl: file:///etc/passwd\n", encoding="utf-8"
    )
    (articles / os.fsdecode(b"bad\xffname.txt")).write_text(
        story("bad", "Alibaba fell after a probe into its logistics arm was announced."),
        encoding="utf-8",
    )
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(story("secret", SECRET), encoding="utf-8")
    (outside / "secret.meta.yml").write_text(f"title: '{SECRET}'\n", encoding="utf-8")
    (outside / "folder").mkdir()
    (outside / "folder" / "deep.txt").write_text(story("deep", SECRET), encoding="utf-8")
    (articles / "leak.txt").symlink_to(outside / "secret.txt")
    (articles / "linked-meta.meta.yml").symlink_to(outside / "secret.meta.yml")
    (articles / "linked-folder").symlink_to(outside / "folder", target_is_directory=True)
    (articles / "Ärger über Alibaba_kopie.txt").symlink_to(
        "Ärger über Alibaba.txt"
    )  # stays inside: fine
    return articles


def sha16(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


# --------------------------------------------------------------------------- reading


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    articles = hostile_folder(tmp_path_factory.mktemp("names"))
    return articles, read_corpus(articles)


def test_unsafe_names_are_read_with_ids_from_their_bytes(corpus) -> None:
    articles, result = corpus
    by_path = dict(result.articles.select("path", "article_id").iter_rows())
    for name in ["my article.txt", "阿里巴巴 新闻.md", "Ärger über Alibaba.txt", "x..txt"]:
        assert name in by_path, result.rejects
        assert by_path[name] == sha16(articles / name)
    assert by_path["a..b.html"] == sha16(articles / "a..b.html")
    assert all(len(i) == 16 and set(i) <= set("0123456789abcdef") for i in by_path.values())
    # Hidden files are not articles, whatever follows the dot.
    assert "..evil.txt" not in by_path
    assert "..evil.txt" not in result.rejects["path"].to_list()


def test_metadata_shaped_like_paths_stays_data(corpus) -> None:
    _, result = corpus
    row = result.articles.filter(pl.col("path") == "my article.txt").row(0, named=True)
    assert row["title"] == "../../etc/x"
    assert row["source"] == "../../../tmp/evil"
    assert row["url"] == "file:///etc/passwd"


def test_file_name_that_is_not_utf8_is_rejected_by_name(corpus) -> None:
    _, result = corpus
    hit = result.rejects.filter(pl.col("path") == "bad\\xffname.txt")
    assert hit.height == 1, result.rejects
    assert "bad\\xffname.txt" in hit["reason"][0] and "not valid UTF-8" in hit["reason"][0]


def test_links_out_of_the_folder_are_rejected_and_never_read(corpus) -> None:
    articles, result = corpus
    reasons = dict(result.rejects.iter_rows())
    assert "leads outside" in reasons["leak.txt"]
    assert str(articles / "leak.txt") in reasons["leak.txt"]
    # A sidecar that is a link out: the article is rejected, naming the sidecar.
    why = reasons["linked-meta.txt"]
    assert str(articles / "linked-meta.meta.yml") in why and "leads outside" in why
    # Linked folders are not followed.
    assert not [p for p in result.articles["path"].to_list() if p.startswith("linked-folder")]
    assert SECRET not in str(result.articles.select("text", "title").rows())
    # A link that stays inside the folder is allowed; its bytes are those of the file it names,
    # so it is read once, under the first name, and the copy is reported.
    assert result.articles["article_id"].is_unique().all()
    assert result.articles.filter(pl.col("path") == "Ärger über Alibaba.txt").height == 1
    assert "same bytes as Ärger über Alibaba.txt" in reasons["Ärger über Alibaba_kopie.txt"]


# --------------------------------------------------------------------------- helpers


def test_printable_escapes_bytes_that_are_not_utf8() -> None:
    assert printable(os.fsdecode(b"bad\xffname.txt")) == "bad\\xffname.txt"
    assert printable("阿里巴巴 新闻.md") == "阿里巴巴 新闻.md"
    assert printable("\ud800") == "\\ud800"


def test_ensure_inside_refuses_dot_dot_and_links_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    assert ensure_inside(root / "sub" / ".." / "a..b", root) == (root / "a..b").resolve()
    with pytest.raises(InputError, match="leads outside") as err:
        ensure_inside(root / "sub" / ".." / ".." / "x", root)
    assert str(root / "sub") in str(err.value)
    (root / "out").symlink_to(tmp_path)
    with pytest.raises(InputError, match="leads outside"):
        ensure_inside(root / "out" / "x", root)


@pytest.mark.parametrize(
    "bad", ["../2025-11-01-deadbeef", "/etc", "..", "2025-11-01-deadbeef/../x"]
)
def test_edition_ids_cannot_name_a_path(tmp_path: Path, bad: str) -> None:
    assert edition_path(tmp_path, "2025-11-01-deadbeef") == (tmp_path / "2025-11-01-deadbeef")
    with pytest.raises(InputError, match="not an edition id"):
        edition_path(tmp_path, bad)


def test_publish_refuses_a_correction_id_shaped_like_a_path(tmp_path: Path) -> None:
    """`--corrects ..` used to pass, because `editions/..` is a folder."""
    site = fake_site(tmp_path, "2025-11-02", "site")
    editions = tmp_path / "editions"
    publish(fake_site(tmp_path, "2025-11-01", "first"), editions)
    before = sorted(p.name for p in editions.iterdir())
    for bad in ("..", "../editions", "."):
        with pytest.raises(InputError, match="no such published edition"):
            publish(site, editions, corrects=bad)
    assert sorted(p.name for p in editions.iterdir()) == before


def fake_site(root: Path, as_of: str, tag: str) -> Path:
    """The smallest site `publish` accepts: one page and a manifest listing it."""
    site = root / tag
    site.mkdir()
    (site / "index.html").write_text(tag, encoding="utf-8")
    edition = Edition(dt.date.fromisoformat(as_of), hashlib.sha256(tag.encode()).hexdigest())
    write_manifest(build_manifest(edition, {}, site, PROJECT_ROOT), site / "manifest.json")
    return site


# --------------------------------------------------------------------------- the whole build


def tree(root: Path, skip: list[Path]) -> dict[str, str]:
    """Every entry under `root` except the `skip` folders: files by hash, folders, links."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in dirnames + filenames:
            p = here / name
            key = os.fsencode(p.relative_to(root)).hex()
            if p.is_symlink():
                out[key] = "link:" + os.readlink(p)
            elif p.is_dir():
                out[key] = "dir"
            else:
                out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_full_build_writes_only_into_the_output_folders(tmp_path: Path) -> None:
    articles = hostile_folder(tmp_path / "in", with_seeds=True)
    out = tmp_path / "out"
    outputs = [out / "processed", out / "_site", out / "editions"]
    watched = {root: tree(root, [out]) for root in (tmp_path, PROJECT_ROOT / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "tables"],
        cwd=PROJECT_ROOT,
        env=dict(
            os.environ,
            BRIEFING_ARTICLES_DIR=str(articles),
            BRIEFING_PROCESSED_DIR=str(outputs[0]),
            BRIEFING_SITE_DIR=str(outputs[1]),
            BRIEFING_EDITIONS_DIR=str(outputs[2]),
            BRIEFING_AS_OF="",
        ),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"skipped leak.txt: {articles / 'leak.txt'}: link leads outside" in result.stderr
    assert "skipped bad\\xffname.txt" in result.stderr

    # The site's download step copies the tables (names are the pipeline's own), and the
    # manifest lists every input by name: both must cope with the names above.
    from pipeline.editions.identity import input_files_by_kind
    from pipeline.render.post_render import copy_downloads

    copy_downloads(outputs[0], outputs[1])
    meta = json.loads((outputs[0] / "edition.json").read_text(encoding="utf-8"))
    edition = Edition(dt.date.fromisoformat(meta["as-of"]), meta["inputs-hash"])
    settings = dataclasses.replace(Settings.from_env(), articles_dir=articles)
    manifest = build_manifest(edition, input_files_by_kind(settings), outputs[1], PROJECT_ROOT)
    write_manifest(manifest, outputs[1] / "manifest.json")
    listed = {Path(p).name for p in manifest["inputs"]["articles"]}
    assert {"my article.txt", "阿里巴巴 新闻.md", "a..b.html"} <= listed
    for root, before in watched.items():
        assert tree(root, [out]) == before, f"something was written under {root}"
    names = {p.name for p in out.rglob("*")}
    assert all(n.isascii() and "/" not in n for n in names), names
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))

    arts = pl.read_parquet(outputs[0] / "articles.parquet")
    assert {"my article.txt", "阿里巴巴 新闻.md", "a..b.html"} <= set(arts["path"].to_list())
    assert SECRET not in str(arts.select("text", "title").rows())
