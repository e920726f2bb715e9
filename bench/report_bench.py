"""`make report` three ways, side by side: cold, warm with nothing changed, and one new article.

Each run is the real command (`python -m pipeline report`, built-in renderer) in a fresh
process, on a copy of the seed articles with its own tables, site and cache folders, so the
checkout's `_site/` is never touched. The new article is written here, in our own words, dated
inside the seed corpus's range (so the as-of date stays and only the corpus side changes), or
after it with `--newer` (a new as-of date: the market tables change too).

Targets (issue 15): no-op <= 2 s, one new article <= 60% of cold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = """Alibaba shares steady as cloud unit wins new contracts

Alibaba Group said on Monday that its cloud division had signed several new contracts with
retailers in Southeast Asia. The shares of the company rose 1.2% in Hong Kong after the
announcement, while the Hang Seng Index was little changed.

Analysts said the deals were small but showed demand for the group's AI services. The company
did not give the value of the contracts.
"""


STEP = re.compile(r"([a-z][a-z -]*?) (\d+\.\d)s")  # "kernel start 1.1s" in a log line
PAGE = re.compile(
    r"^\s+rendered (\S+) -> (\w+) in [\d.]+s(?: \((.*?)\))?(?:, (\d+) of (\d+) cells)?"
)
TABLES = re.compile(r"^tables for edition \S+ in ([\d.]+)s")
POST = re.compile(r"^\s+post-render in ([\d.]+)s")


def steps(log: str, total: float) -> dict[str, float]:
    """Seconds per step of one `make report`, summed over pages, from its log lines; what no
    line accounts for (process start, imports, the no-op check, the site swap) is "other"."""
    out: dict[str, float] = {"tables": 0.0}
    kernels = 0
    for line in log.splitlines():
        if m := TABLES.match(line):
            out["tables"] += float(m[1])
        elif m := POST.match(line):
            out["post-render"] = out.get("post-render", 0.0) + float(m[1])
        elif m := PAGE.match(line):
            for name, seconds in STEP.findall(m[3] or ""):
                out[name] = out.get(name, 0.0) + float(seconds)
            kernels += m[4] is None or m[4] != m[5]  # some cell ran: the page had a kernel
    out["other"] = total - sum(out.values())
    out["pages that ran a kernel"] = kernels
    return out


def run_report(env: dict[str, str], show: bool = False) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "report", "--engine", "builtin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"report failed ({done.returncode}):\n{done.stderr}")
    if show:
        print(done.stdout, end="")
    return elapsed, done.stdout


def add_article(articles: Path, newer: bool) -> None:
    day = "2025-11-24" if newer else "2025-11-17"
    (articles / "bench_new_article.txt").write_text(ARTICLE, encoding="utf-8")
    meta = f"source: bench.example\npublished_at: '{day}'\ntitle: Alibaba cloud contracts\n"
    (articles / "bench_new_article.meta.yml").write_text(meta, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--newer", action="store_true", help="date the new article after all")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--log", action="store_true", help="print what each run reports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        tmp = Path(tmp)
        shutil.copytree(ROOT / "data" / "articles", tmp / "articles")
        env = dict(
            os.environ,
            BRIEFING_ARTICLES_DIR=str(tmp / "articles"),
            BRIEFING_PROCESSED_DIR=str(tmp / "processed"),
            BRIEFING_SITE_DIR=str(tmp / "site" / "_site"),
            BRIEFING_EDITIONS_DIR=str(tmp / "editions"),
            QUARTO="0",
            FORCE="",
        )
        cold, cold_log = run_report(env, args.log)
        noop, _ = run_report(env, args.log)
        add_article(tmp / "articles", args.newer)
        one, one_log = run_report(env, args.log)
    figures = {"cold_s": cold, "noop_s": noop, "one_article_s": one, "one_over_cold": one / cold}
    print("make report (built-in renderer), fresh process each:")
    print(f"  {'cold':<22}{cold:6.1f} s")
    print(f"  {'warm, nothing changed':<22}{noop:6.1f} s   target <= 2 s")
    print(f"  {'one new article':<22}{one:6.1f} s   {one / cold:.0%} of cold, target <= 60%")
    cold_steps, one_steps = steps(cold_log, cold), steps(one_log, one)
    print(f"where the time goes (s, summed over pages):  {'cold':>6}  {'one article':>11}")
    for name in dict.fromkeys([*cold_steps, *one_steps]):
        a, b = cold_steps.get(name, 0), one_steps.get(name, 0)
        print(f"  {name:<42}{a:6.1f}  {b:11.1f}")
    figures["steps"] = {"cold": cold_steps, "one_article": one_steps}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
