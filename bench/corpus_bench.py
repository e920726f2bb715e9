"""Benchmark of the corpus stage: the vectorised pipeline against a plain per-article baseline.

A synthetic corpus is built by resampling the seed articles' lines (boilerplate included, so the
cleaner has work to do) with a dateline spread over 2025. Each run happens in a fresh
subprocess so peak memory (ru_maxrss) belongs to that run alone.

Each stage is timed twice: wall-clock seconds, and CPU seconds (user + system, all threads). The
machine is shared, so wall time can swell when another process takes a core; CPU seconds per
1,000 articles is the steadier measure of whether the cost grows linearly with the corpus.
The Python list of synthetic texts is freed (and its memory handed back to the OS with
malloc_trim) before the timed stages, so peak memory measures the pipeline, not the generator.

    uv run python bench/corpus_bench.py                 # 10,000 and 100,000 articles
    uv run python bench/corpus_bench.py --sizes 2000    # quicker
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEEDS = ROOT / "data" / "articles"
BASELINE_CAP = 10_000  # the baseline runs on at most this many articles (it is slow); see report


def seed_pools() -> dict[str, list[str]]:
    """Sentences of the seeds' lines (boilerplate included), pooled by language."""
    import re

    pools: dict[str, list[str]] = {"en": [], "de": []}
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
        lang = "de" if path.name.startswith("001_") else "en"
        for ln in lines:
            if ln[:2].isdigit() or ln.startswith("Sunday,"):
                continue  # the seeds' own datelines; each synthetic article gets its own
            pools[lang].extend(s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", ln) if s)
    return pools


def synthetic_corpus(n: int, seed: int = 7) -> list[str]:
    """n articles: a title, a dateline in 2025, then paragraphs of sentences resampled from one language."""
    rng = random.Random(seed)
    pools = seed_pools()
    start = dt.datetime(2025, 1, 1)
    texts = []
    for i in range(n):
        lang = "de" if rng.random() < 0.2 else "en"
        pool = pools[lang]
        when = start + dt.timedelta(seconds=rng.randrange(365 * 86400))
        if i % 2:
            stamp = when.strftime("%d.%m.%Y - %H:%M:%S")
        else:
            stamp = (
                when.strftime("%A, %b %d, %Y %I:%M %p").replace(" AM", " am").replace(" PM", " pm")
                + " ET"
            )
        k = rng.randint(10, 24) if lang == "de" else rng.randint(20, 45)
        picked = rng.sample(pool, k=min(len(pool), k))
        paras, j = [], 0
        while j < len(picked):
            step = rng.randint(1, 4)
            paras.append(" ".join(picked[j : j + step]))
            j += step
        # a quarter name their source, so the repeated-lines rule has sources to group by
        tail = [f"@ site{rng.randrange(2000)}.example"] if rng.random() < 0.25 else []
        texts.append("\n\n".join([f"Synthetic report {i} on the market", stamp, *paras, *tail]))
    return texts


# ---------------------------------------------------------------------------------------------
# Vectorised run
# ---------------------------------------------------------------------------------------------
def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e6


def _trim() -> None:
    """Hand freed heap memory back to the OS (glibc); a no-op elsewhere."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def run_vector(n: int) -> dict:
    from pipeline.config import Settings
    from pipeline.corpus.articles import build_articles, raw_frame
    from pipeline.corpus.entities import entities_table
    from pipeline.corpus.sentences import sentences_table
    from pipeline.corpus.sentiment import article_tone, sentence_sentiment_table

    texts = synthetic_corpus(n)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    from pipeline.corpus.articles import language_detector
    from pipeline.corpus.lexicons import load_lexicon

    t = time.perf_counter()
    language_detector()  # loading models and lexicons is a one-off start-up cost, timed apart
    for lang in ("en", "de"):
        load_lexicon(lang, Settings.from_env().lexicon_dir)
    startup = time.perf_counter() - t
    stages, cpu = {}, {}
    t0, c0 = time.perf_counter(), _cpu()
    raw = raw_frame(texts)
    raw_s = time.perf_counter() - t0
    del texts
    _trim()
    start_mb = _rss_mb()

    def timed(name, fn, *args):
        t, c = time.perf_counter(), _cpu()
        out = fn(*args)
        stages[name], cpu[name] = time.perf_counter() - t, _cpu() - c
        return out

    holder = [raw]  # build_articles gets the only reference, so it can free the raw texts early
    del raw
    arts = timed(
        "articles", lambda: build_articles(holder.pop(), as_of=dt.date(2025, 12, 31)).articles
    )
    sents = timed("sentences", sentences_table, arts)
    ents = timed("entities", entities_table, sents)
    tone = timed(
        "sentiment",
        lambda: article_tone(
            arts, sentence_sentiment_table(sents, Settings.from_env().lexicon_dir)
        ),
    )
    total = raw_s + sum(stages.values())
    total_cpu = _cpu() - c0
    return {
        "impl": "vectorised",
        "n": n,
        "mb": mb,
        "seconds": total,
        "cpu_seconds": total_cpu,
        "stages": stages,
        "cpu": cpu,
        "startup": startup,
        "start_mb": start_mb,
        "rows": {
            "articles": arts.height,
            "sentences": sents.height,
            "entities": ents.height,
            "dated": int(tone["published_date"].is_not_null().sum()),
        },
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# ---------------------------------------------------------------------------------------------
# Plain per-article Python baseline: the same steps, one article at a time.
# ---------------------------------------------------------------------------------------------
def run_baseline(n: int) -> dict:
    import regex

    from pipeline.config import Settings
    from pipeline.corpus import articles as c
    from pipeline.corpus import sentences
    from pipeline.corpus.entities import _alias_pattern, load_gazetteer
    from pipeline.corpus.lexicons import NEGATORS, load_lexicon
    from pipeline.text import numbers
    from pipeline.text.dates import FORMS

    texts = synthetic_corpus(n)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    det = c.language_detector()
    lexdir = Settings.from_env().lexicon_dir
    lex = {}
    for lang in ("en", "de"):
        f = load_lexicon(lang, lexdir).frame
        lex[lang] = {t: (p, ng, u) for t, p, ng, u in f.iter_rows()}

    def rx(p: str) -> regex.Pattern:
        return regex.compile(p.replace("(?-u:\\b)", "\\b"))

    rules = [
        (name, rx(p))
        for name, p in (
            ("generator", c.GENERATOR),
            ("speaker", c.SPEAKER),
            ("summary", c.SUMMARY_HEADER),
            ("ui", c.UI_TEXT),
            ("cta", c.CTA),
            ("byline", c.BYLINE),
            ("source", c.SOURCE_DOMAIN),
            ("source", c.SOURCE_NAMED),
        )
    ]
    date_de, date_en = rx("^" + FORMS["dmy"]), rx("^" + FORMS["en"])
    abbrev, boundary = rx(sentences.ABBREVIATIONS), rx(sentences.BOUNDARY)
    token = rx(r"\p{L}+(?:['’]\p{L}+)*")
    names = rx(_alias_pattern(load_gazetteer().filter(~(load_gazetteer()["type"] == "isin"))))
    qty = regex.compile(f"(?:{numbers.MONEY})|(?:{numbers.PERCENT})", regex.IGNORECASE)
    out = []
    t0, c0 = time.perf_counter(), _cpu()
    for text in texts:
        kept, removed, date = [], [], None
        for i, line in enumerate(text.split("\n")):
            s = line.strip()
            if not s:
                continue
            if i < 15 and date is None:  # datelines sit at the top
                m = date_de.match(s) or date_en.match(s)
                if m:
                    date = m.group(0)
                    continue
            if any(r.search(s) for _, r in rules):
                removed.append(s)
                continue
            kept.append(s)
        body = "\n\n".join(kept)
        lang = det.detect_language_of(body[:400])
        code = lang.iso_code_639_1.name.lower() if lang else None
        sents = []
        for para in kept:
            p = abbrev.sub("\\1\ue000", para)
            p = boundary.sub("\\1\ue001\\2", p)
            sents.extend(x.replace("\ue000", ".") for x in p.split("\ue001") if x.strip())
        ents, scores = [], []
        negs = set(NEGATORS.get(code or "", ()))
        table = lex.get(code or "", {})
        for sent in sents:
            ents.extend(m.group(0) for m in names.finditer(sent))
            for m in qty.finditer(sent):
                try:
                    ents.append(numbers.parse_money(m.group(0), code or "en"))
                except ValueError:
                    pass
            toks = [t.lower() for t in token.findall(sent)]
            pos = neg = unc = 0
            for j, tok in enumerate(toks):
                hit = table.get(tok)
                if not hit:
                    continue
                flip = any(x in negs for x in toks[max(0, j - 3) : j])
                p_, n_, u_ = hit
                pos += (n_ if flip else p_) or 0
                neg += (p_ if flip else n_) or 0
                unc += u_ or 0
            scores.append((pos, neg, unc))
        out.append((code, date, len(sents), len(ents), len(removed), scores))
    total = time.perf_counter() - t0
    return {
        "impl": "baseline",
        "n": n,
        "mb": mb,
        "seconds": total,
        "cpu_seconds": _cpu() - c0,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rows": {"articles": len(out), "sentences": sum(o[2] for o in out)},
    }


def _child(impl: str, n: int) -> dict:
    cmd = [sys.executable, __file__, "--child", impl, "--sizes", str(n)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{impl} run on {n} articles failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _line(r: dict) -> str:
    rate = r["n"] / r["seconds"]
    return (
        f"  {r['impl']:<10} {r['n']:>7,} articles  {r['seconds']:7.1f} s  {rate:9,.0f} articles/s  "
        f"{r['mb'] / r['seconds']:6.2f} MB/s  peak {r['peak_mb']:7,.0f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--child", choices=["vector", "baseline"])
    ap.add_argument("--baseline-cap", type=int, default=BASELINE_CAP)
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    if args.child:
        fn = run_vector if args.child == "vector" else run_baseline
        print(json.dumps(fn(sizes[0])))
        return
    print("corpus stage benchmark (synthetic corpus resampled from data/articles seeds)")
    runs = []
    for n in sizes:
        v = _child("vector", n)
        runs.append(v)
        print(f"\n{n:,} articles, {v['mb']:.1f} MB of text")
        print(_line(v) + f"  (+{v['startup']:.1f} s one-off model/lexicon loading)")
        print(
            f"    peak {v['peak_mb']:,.0f} MB, of which {v['start_mb']:,.0f} MB held before the "
            "stages (language models, lexicons, the raw texts)"
        )
        print(
            "    stages, wall s: "
            + ", ".join(f"{k} {s:.2f}" for k, s in v["stages"].items())
            + "; CPU s: "
            + ", ".join(f"{k} {s:.2f}" for k, s in v["cpu"].items())
        )
        print(
            "    cost per 1k articles, wall s: "
            + ", ".join(f"{k} {1000 * s / n:.3f}" for k, s in v["stages"].items())
            + f", total {1000 * v['seconds'] / n:.3f}; CPU s: "
            + ", ".join(f"{k} {1000 * s / n:.3f}" for k, s in v["cpu"].items())
            + f", total {1000 * v['cpu_seconds'] / n:.3f}"
        )
        print(f"    rows: {v['rows']}")
        bn = min(n, args.baseline_cap)
        b = _child("baseline", bn)
        print(
            _line(b)
            + ("" if bn == n else f"  (run on {bn:,}; rate assumed constant, as it is per article)")
        )
        speed = (v["n"] / v["seconds"]) / (b["n"] / b["seconds"])
        speed_cpu = (v["n"] / v["cpu_seconds"]) / (b["n"] / b["cpu_seconds"])
        print(
            f"  speed-up: {speed:.1f}x wall, {speed_cpu:.1f}x CPU  (articles/s, vectorised / baseline)"
        )
        ok = [
            ("100k in < 60 s", n < 100_000 or v["seconds"] < 60),
            ("peak < 3 GB", v["peak_mb"] < 3072),
            (">= 10x baseline", speed >= 10),
        ]
        print(
            "  targets: "
            + ", ".join(f"{name}: {'met' if good else 'NOT met'}" for name, good in ok)
        )
    if len(runs) > 1:
        a, z = runs[0], runs[-1]
        print(f"\nlinearity, per-article cost at {z['n']:,} / at {a['n']:,} (1.0 = linear):")
        for k in a["stages"]:
            wa, wz = a["stages"][k] / a["n"], z["stages"][k] / z["n"]
            ca, cz = a["cpu"][k] / a["n"], z["cpu"][k] / z["n"]
            print(f"  {k:<10} wall {wz / wa:4.2f}x   CPU {cz / ca:4.2f}x")
        wall = (z["seconds"] / z["n"]) / (a["seconds"] / a["n"])
        cpu = (z["cpu_seconds"] / z["n"]) / (a["cpu_seconds"] / a["n"])
        print(
            f"  {'total':<10} wall {wall:4.2f}x   CPU {cpu:4.2f}x   "
            f"(target <= 1.3x: {'met' if max(wall, cpu) <= 1.3 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
