"""Foundation benchmarks: accuracy per hub and retriever, latencies at APIBench size and at 100k docs,
index build time, warm ask, cold CLI, import time. Writes the 'foundation' section of docs/benchmarks.md.

    python bench/bench_foundation.py [--apibench ../shared/apibench] [--synthetic 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table, time_calls, wall_time, write_section  # noqa: E402

from gorilla_rag.corpus.apibench import import_apibench  # noqa: E402
from gorilla_rag.corpus.store import read_corpus  # noqa: E402
from gorilla_rag.evaluation.questions import load_questions  # noqa: E402
from gorilla_rag.evaluation.run import evaluate_pipeline  # noqa: E402
from gorilla_rag.pipeline import Pipeline  # noqa: E402
from gorilla_rag.retrieval import Filters, Index  # noqa: E402

QUESTION_FILES = {"huggingface": "eval/huggingface_dev.json", "tfhub": "eval/tensorflow_dev.json",
                  "torchhub": "train/torchhub_train.json"}


def fmt(ms: dict[str, float]) -> str:
    return f"{ms['p50']:.2f} / {ms['p95']:.2f}"


def accuracy_section(index: Index, apibench: Path) -> tuple[str, dict]:
    rows, asks = [], {}
    for retriever in ("bm25", "dense", "hybrid"):
        pipeline = Pipeline(index, retriever=retriever)
        for hub, rel in QUESTION_FILES.items():
            questions = load_questions(apibench / rel)
            report, _ = evaluate_pipeline(pipeline, questions, hub, retrievers=(retriever,))
            strict, official = report["strict"], report["apibench_official"]
            recall = report["retrieval"][retriever]
            rows.append([retriever, hub, len(questions), f"{strict['accuracy']:.1%}", f"{official['accuracy']:.1%}",
                         f"{strict['hallucination']:.1%}", f"{strict['no_call']:.1%}", f"{recall['recall@5']:.1%}",
                         f"{recall['recall@10']:.1%}"])
            if retriever == "hybrid":
                asks[hub] = report["latency_ms"]
    text = table(["retriever", "hub", "questions", "strict@1", "official", "hallucination", "abstained/no call",
                  "recall@5", "recall@10"], rows)
    return text, asks


def synthetic_docs_index(n: int, dim: int, rng: np.random.Generator):
    """A 100k-doc BM25 index over Zipf-distributed words and a FAISS flat index over random unit vectors."""
    import bm25s
    import faiss

    from gorilla_rag.retrieval.bm25 import Bm25Retriever

    vocab = np.array([f"w{i}" for i in range(30000)])
    lengths = rng.integers(40, 200, n)
    words = vocab[np.minimum(rng.zipf(1.2, lengths.sum()) - 1, len(vocab) - 1)]
    corpus, start = [], 0
    for length in lengths:
        corpus.append(words[start:start + length].tolist())
        start += length
    engine = bm25s.BM25()
    engine.index(corpus, show_progress=False)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    flat.add_with_ids(vectors, np.arange(n, dtype=np.int64))
    queries = [" ".join(vocab[np.minimum(rng.zipf(1.3, 6) - 1, 2000)]) for _ in range(300)]
    return Bm25Retriever(engine, engine), flat, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apibench", default=os.environ.get("GORILLA_RAG_APIBENCH", str(REPO.parent / "shared" / "apibench")))
    parser.add_argument("--synthetic", type=int, default=100_000)
    args = parser.parse_args()
    apibench = Path(args.apibench)
    home = Path(tempfile.mkdtemp(prefix="gorilla-bench-"))
    import_apibench(apibench, home / "api_corpus" / "current")
    docs = read_corpus(home / "api_corpus" / "current")

    started = time.perf_counter()
    index = Index.build(docs, home / "indexes" / "default")
    build_s = time.perf_counter() - started
    accuracy, asks = accuracy_section(index, apibench)

    questions = [q.text for rel in QUESTION_FILES.values() for q in load_questions(apibench / rel)][:600]
    per_retriever = {name: time_calls(lambda q, n=name: index.search(q, k=5, retriever=n), questions)
                     for name in ("bm25", "dense", "hybrid")}
    filtered = time_calls(lambda q: index.search(q, k=5, filters=Filters.make("huggingface")), questions)
    pipeline = Pipeline(index)
    warm_ask = time_calls(lambda q: pipeline.ask(q), questions)

    rng = np.random.default_rng(0)
    bm25_big, flat_big, queries = synthetic_docs_index(args.synthetic, index.dense.dimension, rng)
    bm25_big_ms = time_calls(lambda q: bm25_big.search(q, 5), queries)
    vectors = rng.standard_normal((len(queries), index.dense.dimension)).astype(np.float32)
    flat_ms = time_calls(lambda v: flat_big.search(v.reshape(1, -1), 100), list(vectors))
    encode_ms = time_calls(lambda q: index.dense.query_embedder.embed_one(q), questions[:200])

    env = {**os.environ, "GORILLA_RAG_HOME": str(home)}
    exe = [sys.executable, "-m", "gorilla_rag.cli"]
    cold: dict[str, list[float]] = {"1": [], "0": []}  # light encoder on / off, runs interleaved
    for _ in range(3):
        for light in cold:
            cold[light].append(wall_time(exe + ["ask", "detect objects in a street photo"], runs=1,
                                         env={**env, "GORILLA_RAG_LIGHT_ENCODER": light}))
    cold_ask, cold_st = (statistics.median(cold[light]) for light in ("1", "0"))
    help_s = wall_time(exe + ["--help"], runs=5, env=env)
    import_s = wall_time([sys.executable, "-c", "import gorilla_rag"], runs=10) - wall_time([sys.executable, "-c", "pass"], runs=10)

    body = f"""## Foundation (bench/bench_foundation.py)

Machine: {machine()}. APIBench corpus: {len(docs)} docs (per-hub retrieval: each question searches its own hub).
TorchHub is measured on the 837 TorchHub *train* questions (no TorchHub eval questions are available here).
`strict@1`: the answer's call identifies the gold API. `official`: Gorilla's `ast_eval_*` semantics (right *domain*).

{accuracy}

| what | p50 / p95 (ms) |
|---|---|
| BM25 search, APIBench size | {fmt(per_retriever['bm25'])} |
| dense search (query encoding + FAISS), APIBench size | {fmt(per_retriever['dense'])} |
| hybrid search, APIBench size | {fmt(per_retriever['hybrid'])} |
| hybrid search with a source filter | {fmt(filtered)} |
| warm `Pipeline.ask` (hybrid, extractive, verify) | {fmt(warm_ask)} |
| warm ask per hub (from the eval runs) | {', '.join(f"{h} {fmt(v)}" for h, v in asks.items())} |
| query encoding alone (MiniLM, CPU, as questions are read: {index.dense.query_embedder.runs_as}) | {fmt(encode_ms)} |
| BM25 search, {args.synthetic:,} synthetic docs | {fmt(bm25_big_ms)} |
| FAISS flat inner-product top-100, {args.synthetic:,} random unit vectors (query encoding excluded) | {fmt(flat_ms)} |

| what | seconds |
|---|---|
| index build, {len(docs)} docs (BM25 + MiniLM embeddings + FAISS) | {build_s:.1f} |
| cold `gorilla-rag ask` (new process, loads torch + model + index) | {cold_ask:.2f} |
| same, questions encoded through sentence-transformers (`GORILLA_RAG_LIGHT_ENCODER=0`; interleaved runs) | {cold_st:.2f} ({cold_st / cold_ask:.1f}x) |
| `gorilla-rag --help` (new process) | {help_s:.3f} |
| `import gorilla_rag` (minus bare interpreter start) | {max(import_s, 0):.3f} |

The 100k-doc rows use synthetic data: Zipf-distributed words for BM25 (real bm25s index) and random unit vectors
for FAISS (search cost does not depend on what the vectors mean); a real query adds the encoding time above.
"""
    write_section("foundation", body)
    print(body)


if __name__ == "__main__":
    main()
