"""Small helpers shared by the benchmark scripts: timing, percentiles, and writing docs/benchmarks.md sections."""

from __future__ import annotations

import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = REPO / "docs" / "benchmarks.md"


def percentiles_ms(samples_s: list[float]) -> dict[str, float]:
    values = np.array(samples_s) * 1000
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95)),
            "mean": float(values.mean())}


def time_calls(func: Callable[[object], object], inputs: list, warmup: int = 5) -> dict[str, float]:
    """Latency percentiles of func over inputs (after a few warm-up calls)."""
    for item in inputs[:warmup]:
        func(item)
    samples = []
    for item in inputs:
        started = time.perf_counter()
        func(item)
        samples.append(time.perf_counter() - started)
    return percentiles_ms(samples)


def wall_time(command: list[str], runs: int = 5, env: dict | None = None) -> float:
    """Median wall-clock seconds of a command (each run a fresh process)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section between `<!-- name -->` markers in docs/benchmarks.md."""
    BENCHMARKS_MD.parent.mkdir(exist_ok=True)
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n\nRegenerate each section with its script in `bench/`.\n"
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(text)


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table; cells are printed as given (format numbers before)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def apibench_docs(description: str, work_prefix: str) -> tuple[Path, Path, list]:
    """Parse `--apibench PATH` (default: the configured APIBench folder; exits when there is none), import it
    into a fresh temporary folder and return (apibench folder, work folder, its docs)."""
    import argparse
    import tempfile

    from gorilla_rag import settings
    from gorilla_rag.corpus.apibench import import_apibench
    from gorilla_rag.corpus.store import read_corpus

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--apibench", type=Path, default=settings.apibench_dir())
    apibench = parser.parse_args().apibench
    if apibench is None:
        sys.exit("APIBench not found: pass --apibench or set GORILLA_RAG_APIBENCH")
    work = Path(tempfile.mkdtemp(prefix=work_prefix))
    import_apibench(apibench, work / "corpus")
    return apibench, work, read_corpus(work / "corpus")


def apibench_index_with_reranker(description: str, work_prefix: str) -> tuple:
    """An index of the imported APIBench docs with a re-scorer fitted on the training split (and the task-labelled
    plain questions):
    (index, training pairs, held-out pairs)."""
    from gorilla_rag.retrieval import Index
    from gorilla_rag.training.pairs import load_pairs, split_pairs
    from gorilla_rag.training.rerank_training import fit_reranker

    apibench, work, docs = apibench_docs(description, work_prefix)
    index = Index.build(docs, work / "index")
    train, held = split_pairs(load_pairs(apibench, index.verifier))
    index.reranker = fit_reranker(index, train)  # as `train reranker --hold-out` does
    return index, train, held
