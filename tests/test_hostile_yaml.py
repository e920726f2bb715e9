"""Hostile front matter and sidecars: code-running tags, alias bombs, deep nesting, dates that do
not exist, wrong types and unknown keys.

Each bad file is rejected with an InputError that names it (and the line where YAML gives one);
the rest of the corpus still builds. `tests/test_corpus.py` already covers the front-matter
unknown key and `published_at: [1, 2]`; these are the gaps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.corpus.articles import MAX_META_BYTES, read_corpus

SEEDS = PROJECT_ROOT / "data" / "articles"


def body(n: int) -> str:
    topics = ["cloud revenue", "a regulatory probe", "buybacks", "chip supply", "Taobao sales"]
    return (
        f"Alibaba shares moved on news about {topics[n % len(topics)]} in story {n}.\n\n"
        f"Analysts discussed item {n} and what it means for the outlook this quarter.\n"
    )


def billion_laughs() -> str:
    """Nine levels of nine aliases: 9**9 strings if anything ever expanded it."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + "\ntitle: *i\n"


def marker(root: Path) -> Path:
    return root / "PWNED"


def hostile_files(root: Path, bomb: bool = True) -> dict[str, tuple[str, str, int | None]]:
    """Write hostile articles into `root/articles`; returns article -> (file named, words, line).

    `bomb=False` leaves out the alias bomb, for tests that read in-process: if a regression ever
    expanded it, they would hang instead of failing.
    """
    articles = root / "articles"
    articles.mkdir(parents=True)
    pwned = marker(root)
    cases = {
        # name: (article text or front matter, sidecar text or None, what the error says, line)
        "tag-fm.md": (
            f"---\ntitle: ok\nx: !!python/object/apply:os.system ['touch {pwned}']\n---\n",
            None,
            "python/object/apply:os.system",
            3,
        ),
        "tag-side.txt": (
            "",
            f"source: S\nrun: !!python/object/new:subprocess.Popen [['touch', '{pwned}']]\n",
            "python/object/new:subprocess.Popen",
            2,
        ),
        "name-tag.txt": ("", "title: !!python/name:os.system\n", "python/name:os.system", 1),
        "bomb.txt": ("", billion_laughs(), "title must be text", None),
        "deep.txt": ("", "title: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply", None),
        "no-such-day.md": (
            "---\npublished_at: 2025-02-30\n---\n",
            None,
            "day is out of range",
            None,
        ),
        "dict-title.txt": ("", "title: {a: 1}\n", "title must be text", None),
        "bool-lang.md": ("---\nlanguage: yes\n---\n", None, "language must be text", None),
        "huge-side.txt": ("", "x: " + "a" * (MAX_META_BYTES + 10) + "\n", "larger than", None),
    }
    if not bomb:
        del cases["bomb.txt"]
    expected = {}
    for i, (name, (head, sidecar, words, line)) in enumerate(cases.items()):
        (articles / name).write_text(head + body(i), encoding="utf-8")
        named = articles / name
        if sidecar is not None:
            named = articles / (Path(name).stem + ".meta.yml")
            named.write_text(sidecar, encoding="utf-8")
        expected[name] = (str(named), words, line)
    (articles / "extra-key.txt").write_text(body(99), encoding="utf-8")
    (articles / "extra-key.meta.yml").write_text(
        "source: Wire\npublised_at: 2025-11-03\n", encoding="utf-8"
    )
    return expected


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("yaml")
    expected = hostile_files(root, bomb=False)
    return root, expected, read_corpus(root / "articles")


def test_each_hostile_file_is_rejected_naming_file_and_line(hostile) -> None:
    root, expected, result = hostile
    reasons = dict(result.rejects.iter_rows())
    for name, (named, words, line) in expected.items():
        assert name in reasons, f"{name} was not rejected"
        where = f"{named}:{line}: " if line else f"{named}: "
        assert reasons[name].startswith(where), reasons[name]
        assert words in reasons[name], reasons[name]
    assert not marker(root).exists(), "a YAML tag ran code"
    assert result.articles["path"].to_list() == ["extra-key.txt"]


def test_alias_bomb_is_rejected_quickly_and_cheaply(tmp_path: Path) -> None:
    """In a child process with a deadline, so a regression fails instead of hanging the suite.

    Printing the bomb in the error message once took longer than a minute and kept growing.
    """
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "bomb.txt").write_text(body(1), encoding="utf-8")
    (articles / "bomb.meta.yml").write_text(billion_laughs(), encoding="utf-8")
    (articles / "good.txt").write_text(body(2), encoding="utf-8")
    script = (
        "import resource, sys; from pathlib import Path; from pipeline.corpus.articles import read_corpus; "
        "r = read_corpus(Path(sys.argv[1])); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); "
        "print(dict(r.rejects.iter_rows())['bomb.txt'])"
    )
    t0 = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", script, str(articles)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert time.perf_counter() - t0 < 30
    peak_kib, reason = result.stdout.split("\n", 1)
    assert "bomb.meta.yml: sidecar title must be text" in reason
    assert len(reason) < 2000  # the value is shown abbreviated, never expanded
    assert int(peak_kib) < 2 * 1024 * 1024, "expanding the bomb would need gigabytes"


def test_unknown_sidecar_key_is_kept_as_an_audit(hostile) -> None:
    _, _, result = hostile
    row = result.articles.filter(pl.col("path") == "extra-key.txt").row(0, named=True)
    assert "unknown sidecar key 'publised_at'" in row["issues"]
    assert row["source"] == "Wire" and row["date_method"] != "sidecar"


def test_cli_names_every_bad_file_and_warns_about_unknown_keys(tmp_path: Path) -> None:
    expected = hostile_files(tmp_path)
    articles = tmp_path / "articles"
    for seed in SEEDS.glob("*.txt"):
        shutil.copyfile(seed, articles / seed.name)
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "tables", "--out", str(tmp_path / "out")],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, BRIEFING_ARTICLES_DIR=str(articles), BRIEFING_AS_OF=""),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name, (named, _, line) in expected.items():
        where = f"{named}:{line}: " if line else f"{named}: "
        assert f"skipped {name}: {where}" in result.stderr, name
    sidecar = articles / "extra-key.meta.yml"
    assert f"warning: {sidecar}: unknown sidecar key 'publised_at' (ignored)" in result.stderr
    assert not marker(tmp_path).exists()
