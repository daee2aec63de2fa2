"""Refresh benchmarks: scrape + normalise throughput on the shared doc sources, and the time of a refresh in which
1% of a 10k-doc corpus changed against a full rebuild of the same corpus. Writes the 'refresh' section of
docs/benchmarks.md.

    python bench/bench_refresh.py [--docs 10000] [--changed 0.01] [--sources ../shared/sources]

Both refreshes run as the CLI does (`gorilla-rag corpus refresh torchhub --from PAGES`, a fresh process each, so
each pays for imports and the model load) over synthetic PyTorch Hub pages, one entry point per page.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, write_section  # noqa: E402

from gorilla_rag import settings  # noqa: E402
from gorilla_rag.scrapers import get_scraper  # noqa: E402

WORDS = ["image", "text", "audio", "video", "speech", "depth", "segmentation", "detection", "classification", "translation", "summary", "question", "answer", "embedding", "sentence", "token", "entity", "sentiment", "caption", "generation", "diffusion", "style", "pose", "keypoint", "face", "object", "scene", "document", "table", "graph", "molecule", "protein", "satellite", "medical", "radiology", "retina", "traffic", "lane", "vehicle", "pedestrian", "music", "voice", "speaker", "language", "multilingual", "english", "french", "german", "chinese", "small", "large", "tiny", "fast", "accurate", "robust", "efficient", "mobile", "edge", "quantized", "distilled", "residual", "attention", "transformer", "convolution", "recurrent", "mixer", "vision", "hybrid", "sparse", "dense", "retrieval", "ranking", "reranking", "clustering", "anomaly", "forecasting"]


def page(i: int, rng: random.Random, edit: str = "") -> str:
    """A synthetic pytorch/hub model page with one entry point."""
    summary = " ".join(rng.choice(WORDS) for _ in range(12)) + edit
    return (f"---\nlayout: hub_detail\ntitle: Model {i}\nsummary: {summary}\ntags: [vision]\n"
            f"github-id: org{i % 50}/repo{i % 400}\n---\n\n```python\nimport torch\n"
            f"model = torch.hub.load('org{i % 50}/repo{i % 400}', 'model_{i}', pretrained=True)\n```\n\n"
            + " ".join(rng.choice(WORDS) for _ in range(40)) + "\n")


def write_pages(folder: Path, n: int, changed: set[int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"org_repo_model{i}.md").write_text(page(i, random.Random(i), " (updated)" if i in changed else ""))


def cli_refresh(home: Path, pages: Path) -> tuple[float, dict]:
    """Wall seconds of one `corpus refresh` process, and its JSON report."""
    env = {**os.environ, "GORILLA_RAG_HOME": str(home)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gorilla_rag.cli", "corpus", "refresh", "torchhub", "--from",
                           str(pages), "--json"], capture_output=True, text=True, env=env, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def scrape_throughput(sources: Path) -> list[list[object]]:
    rows = []
    for name, folder in (("torchhub", "pytorch-hub"), ("tfhub", "tfhub-docs")):
        if not (sources / folder).is_dir():
            continue
        pages = sum(1 for _ in (sources / folder).rglob("*.md"))
        times, docs = [], 0
        for _ in range(3):
            started = time.perf_counter()
            docs = len(get_scraper(name, {}, str(sources / folder)).scrape().docs)
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        rows.append([name, pages, docs, f"{seconds:.2f}", f"{pages / seconds:,.0f}", f"{docs / seconds:,.0f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of docs whose text changes")
    parser.add_argument("--sources", type=Path, default=settings.sources_dir())
    args = parser.parse_args()

    throughput = scrape_throughput(args.sources) if args.sources else []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        changed = set(random.Random(0).sample(range(args.docs), int(args.docs * args.changed)))
        write_pages(tmp_path / "v1", args.docs, set())
        write_pages(tmp_path / "v2", args.docs, changed)
        # Full rebuild: the v2 corpus into an empty home (every doc scraped, written and embedded).
        full_s, full = cli_refresh(tmp_path / "full", tmp_path / "v2")
        # Incremental: a home serving v1, refreshed to v2.
        cli_refresh(tmp_path / "home", tmp_path / "v1")
        update_s, update = cli_refresh(tmp_path / "home", tmp_path / "v2")
    assert update["index"]["embedded"] == len(changed), update["index"]
    ratio = update_s / full_s

    def row(label: str, seconds: float, report: dict) -> list[object]:
        parts = report["seconds"]
        return [label, report["index"]["count"], report["index"]["embedded"], report["index"]["reused"],
                *(f"{parts[k]:.1f}" for k in ("read", "scrape", "corpus", "index")), f"{seconds:.1f}"]

    body = [
        f"Machine: {machine()}. `python bench/bench_refresh.py --docs {args.docs} --changed {args.changed}`.",
        "",
        "**Scrape + normalise throughput** on the shared doc sources (median of 3, in-process):",
        "",
        table(["source", "pages", "docs", "seconds", "pages/s", "docs/s"], throughput) if throughput
        else "_shared sources not found: skipped_",
        "",
        f"**Refresh vs full rebuild**, synthetic PyTorch Hub pages, {len(changed)} of {args.docs} docs "
        f"({args.changed:.0%}) with changed text; each a fresh `gorilla-rag corpus refresh` process:",
        "",
        table(["run", "docs", "embedded", "vectors reused", "read current s", "scrape s", "write corpus s", "index s",
               "wall s"],
              [row("full rebuild (empty home)", full_s, full), row(f"refresh, {args.changed:.0%} changed", update_s,
                                                                   update)]),
        "",
        f"Refresh / full rebuild: **{ratio:.1%}** of the wall time (goal ≤ 10%). Wall time includes the process "
        "start, imports and the embedder load, which every run pays.",
    ]
    text = "\n".join(body)
    print(text)
    write_section("refresh", text)


if __name__ == "__main__":
    main()
