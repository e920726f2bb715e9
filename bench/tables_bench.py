"""Benchmark of the whole `build_tables` on a synthetic corpus, claims included.

The corpus bench (`corpus_bench.py`) times the corpus stage alone; this one writes the same
synthetic articles as files and runs the edition's full DAG on them with the real market
snapshot, timing the claim stage (claim extraction and verification, and the last-resort dating
of undated articles) on its own. Target (issue 12): 10,000 articles in under 60 s, claims
included. Each size runs in a fresh subprocess, so peak memory belongs to that run alone.

    uv run python bench/tables_bench.py                 # 10,000 articles
    uv run python bench/tables_bench.py --sizes 2000    # quicker
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_SECONDS = 60.0


def run(n: int) -> dict:
    """Write n synthetic articles, build every table, and time the stages."""
    from corpus_bench import synthetic_corpus

    import pipeline.claims.table as claim_stage
    from pipeline.config import Settings
    from pipeline.tables import build_tables

    seconds: dict[str, float] = {"claims": 0.0, "dating": 0.0}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - t0

        return wrapper

    claim_stage.claims_table = timed("claims", claim_stage.claims_table)
    claim_stage.infer_publication_dates = timed("dating", claim_stage.infer_publication_dates)
    with tempfile.TemporaryDirectory(prefix="tables-bench-") as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        for i, text in enumerate(synthetic_corpus(n)):
            (folder / f"{i:06d}.txt").write_text(text, encoding="utf-8")
        settings = dataclasses.replace(Settings.from_env(), articles_dir=folder, as_of=None)
        t0 = time.perf_counter()
        tables = build_tables(settings)
        total = time.perf_counter() - t0
    return {
        "articles": n,
        "read": tables["articles"].height,
        "claims_found": tables["claims"].height,
        "total_s": round(total, 1),
        "claims_s": round(seconds["claims"], 1),
        "dating_s": round(seconds["dating"], 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated article counts")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child)))
        return
    print(
        "| articles | read | claims | build_tables | claim stage | dating | peak memory | target |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)], capture_output=True, text=True
        )
        if out.returncode:
            sys.exit(f"tables bench failed at {n} articles:\n{out.stderr[-2000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        ok = "ok" if r["total_s"] < TARGET_SECONDS or n > 10_000 else "MISS"
        print(
            f"| {n:,} | {r['read']:,} | {r['claims_found']:,} | {r['total_s']} s | "
            f"{r['claims_s']} s | {r['dating_s']} s | {r['peak_mb']:,} MB | < {TARGET_SECONDS:.0f} s {ok} |"
        )


if __name__ == "__main__":
    main()
