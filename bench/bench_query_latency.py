"""Warm query latency, side by side in one run: what each speed change buys, and what bf16 and int8 cost in recall.

Rows (hybrid retrieval, untuned MiniLM query encoder, the held-out APIBench questions):
  before   — SentenceTransformer.encode for the one question, FAISS with its default OpenMP threads
  +faiss1  — FAISS searches on one thread (its idle OpenMP workers no longer spin against torch)
  +direct  — a direct forward pass for one question (Embedder.embed_one), eager
  +traced  — that forward pass traced, frozen and optimised for inference (fp32)
  +bf16    — and questions computed in bfloat16 (where the CPU has bf16 natively)
  +light   — the light encoder (our own small torch BERT, no sentence-transformers, traced from the second
             question), fp32, then bf16 (the default)
  +int8    — or the query encoder quantised to int8 (documents keep fp32 vectors): opt-in

    GORILLA_RAG_HOME=... python bench/bench_query_latency.py [--apibench PATH]
Uses the home's default index (APIBench imported); writes the 'query-latency' section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table, time_calls, write_section  # noqa: E402

from gorilla_rag.indexing import open_index  # noqa: E402
from gorilla_rag.pipeline import Pipeline  # noqa: E402
from gorilla_rag.retrieval import Filters, single_text  # noqa: E402
from gorilla_rag.retrieval.embedder import Embedder, bf16_native  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402


class EncodeOnly(Embedder):
    """The old query path: `encode` with its batching machinery, even for one text."""

    def embed_one(self, text: str):  # noqa: ANN201
        return self.embed([text])[0]


def main() -> None:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apibench", default=str(REPO.parent / "shared" / "apibench"))
    args = parser.parse_args()
    index = open_index()
    index.reranker = None  # hybrid only: this bench is about the query path
    _, held = split_pairs(load_pairs(args.apibench, index.verifier))
    questions = [p.question.text for p in held]
    base = index.manifest["embedder"]["name"]
    cores = os.cpu_count() or 1
    configs = [("before: encode(), FAISS default threads", EncodeOnly(base), cores, "1", "0"),
               ("+ FAISS on one thread", EncodeOnly(base), 1, "1", "0"),
               ("+ direct forward pass for one question", Embedder(base), 1, "0", "0"),
               ("+ traced and frozen (fp32)", Embedder(base), 1, "1", "0"),
               ("+ bf16 questions", Embedder(base, precision="bf16"), 1, "1", "0"),
               ("light encoder instead of sentence-transformers (fp32)", Embedder(base), 1, "1", "1"),
               ("+ bf16 questions (the default where the CPU has bf16)", Embedder(base, precision="bf16"), 1, "1", "1"),
               ("+ int8 query encoder instead (opt-in)", Embedder(f"{base}:int8"), 1, "1", "1")]
    rows, first, top1 = [], None, {}
    pipeline = Pipeline(index, retriever="hybrid")
    for label, embedder, threads, trace, light in configs:
        os.environ["GORILLA_RAG_TRACE"], os.environ["GORILLA_RAG_LIGHT_ENCODER"] = trace, light
        single_text._FORWARD.clear()  # rebuilt on first use under this row's setting
        index.use_query_encoder(embedder)
        index.dense.search("warm up", 1)  # FAISS reads its thread setting on first use; set ours after
        faiss.omp_set_num_threads(threads)
        r1 = r5 = 0
        top1[label] = []
        for pair in held:
            keys = [index.api_key(h.doc) for h in index.search(pair.question.text, 5, "hybrid", Filters.make(pair.hub))]
            r1 += keys[:1] == [pair.key]
            r5 += pair.key in keys
            top1[label].append(keys[:1])
        index.dense.use_query_encoder(embedder)  # empty the query cache before timing
        ask = time_calls(lambda q: pipeline.ask(q), questions)
        first = first or ask["p50"]
        same = sum(a == b for a, b in zip(top1[label], next(iter(top1.values())))) / len(held)
        rows.append([label, f"{ask['p50']:.2f} / {ask['p95']:.2f}", f"{ask['p50'] / first:.2f}",
                     f"{r1 / len(held):.1%}", f"{r5 / len(held):.1%}", f"{same:.1%}"])
        print(rows[-1], flush=True)
    body = f"""## Query latency (bench/bench_query_latency.py)

Machine: {machine()}. Warm `Pipeline.ask` with hybrid retrieval and the untuned MiniLM query encoder over the
{len(held)} held-out APIBench questions; all rows in one run, each change added to the row above.
Questions run in bf16 by default where the CPU computes it natively (this one: {bf16_native()}; set
`GORILLA_RAG_QUERY_PRECISION=fp32` to not). Opt into int8 with `gorilla-rag index build --query-encoder {base}:int8`
(documents keep fp32 vectors); its accuracy cost with the trained re-scorer is in the quality section.
"same top-1": share of questions whose top API is the one the first row returns.

{table(["query path", "warm ask p50 / p95 ms", "p50 vs before", "held-out recall@1", "held-out recall@5", "same top-1"], rows)}
"""
    write_section("query-latency", body)
    print(body)


if __name__ == "__main__":
    main()
