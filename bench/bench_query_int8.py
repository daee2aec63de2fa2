"""fp32 vs int8 query encoder, side by side in one run: warm ask latency and held-out recall (hybrid, untuned).

    GORILLA_RAG_HOME=... python bench/bench_query_int8.py [--apibench PATH]
Uses the home's default index (APIBench imported); writes the 'query-int8' section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table, time_calls, write_section  # noqa: E402

from gorilla_rag.indexing import open_index  # noqa: E402
from gorilla_rag.pipeline import Pipeline  # noqa: E402
from gorilla_rag.retrieval import Filters  # noqa: E402
from gorilla_rag.retrieval.embedder import Embedder  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apibench", default=str(REPO.parent / "shared" / "apibench"))
    args = parser.parse_args()
    index = open_index()
    _, held = split_pairs(load_pairs(args.apibench, index.verifier))
    rows = []
    for name in ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2:int8"):
        index.dense.use_query_encoder(Embedder(name))
        pipeline = Pipeline(index, retriever="hybrid")
        r1 = r5 = 0
        for pair in held:
            keys = [index.api_key(h.doc) for h in index.search(pair.question.text, 5, "hybrid", Filters.make(pair.hub))]
            r1 += keys[:1] == [pair.key]
            r5 += pair.key in keys
        index.dense.use_query_encoder(Embedder(name))  # empty the query cache before timing
        ask = time_calls(lambda q, p=pipeline: p.ask(q), [p.question.text for p in held])
        rows.append([f"`{name}`", f"{ask['p50']:.2f} / {ask['p95']:.2f}", f"{r1 / len(held):.1%}", f"{r5 / len(held):.1%}"])
        print(rows[-1], flush=True)
    body = f"""## Query encoder precision (bench/bench_query_int8.py)

Machine: {machine()}. Hybrid retrieval, untuned MiniLM, {len(held)} held-out questions, both rows in one run.
`:int8` = dynamic int8 quantisation of the query encoder's Linear layers (documents keep fp32 vectors); opt in with
`gorilla-rag index build --query-encoder all-MiniLM-L6-v2:int8`.

{table(["query encoder", "warm ask p50 / p95 ms", "held-out recall@1", "held-out recall@5"], rows)}
"""
    write_section("query-int8", body)
    print(body)


if __name__ == "__main__":
    main()
