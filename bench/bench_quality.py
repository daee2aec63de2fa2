"""Answer-quality ablation on the held-out APIBench questions: what each retrieval stage adds.

Per configuration and hub: strict@1 (the answer calls the gold API), recall@5 over distinct APIs, the official
(domain-level) accuracy, in-scope abstention; out-of-scope abstention on bench/data/out_of_scope.jsonl; warm
ask latency. Writes the 'quality' section of docs/benchmarks.md and docs/quality.png (accuracy vs latency).

    python bench/bench_quality.py [--index FOLDER] [--apibench PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, machine, table, write_section  # noqa: E402

from gorilla_rag.evaluation.official import official_score  # noqa: E402
from gorilla_rag.evaluation.run import official_records, response_text  # noqa: E402
from gorilla_rag.indexing import open_index  # noqa: E402
from gorilla_rag.pipeline import Pipeline  # noqa: E402
from gorilla_rag.retrieval import Filters  # noqa: E402
from gorilla_rag.retrieval.embedder import bf16_native  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402

HUBS = ("huggingface", "torchhub", "tfhub")


def evaluate(index, config: str, retriever: str, held: list, out_of_scope: list[str]) -> dict:  # noqa: ANN001
    pipeline = Pipeline(index, retriever=retriever)
    result: dict = {"config": config}
    latencies = []
    for hub in HUBS:
        pairs = [p for p in held if p.hub == hub]
        filters = Filters.make(hub)
        correct = recall5 = abstained = 0
        responses = []
        for number, pair in enumerate(pairs, start=1):
            started = time.perf_counter()
            answer = pipeline.ask(pair.question.text, filters=filters)
            latencies.append(time.perf_counter() - started)
            abstained += answer.status == "no_match"
            correct += answer.api is not None and index.api_key(answer.api) == pair.key
            keys = [index.api_key(h.doc) for h in index.search(pair.question.text, 5, retriever, filters)]
            recall5 += pair.key in keys
            responses.append({"question_id": number, "text": response_text(answer) if answer.call else ""})
        official = official_score([p.question.record for p in pairs], responses, official_records(index.docs, hub), hub)
        n = len(pairs)
        result[hub] = {"n": n, "strict@1": correct / n, "recall@5": recall5 / n, "official": official["accuracy"],
                       "abstained": abstained / n}
    result["out_of_scope_abstained"] = float(np.mean([pipeline.ask(q).status == "no_match" for q in out_of_scope]))
    # what a user who names no hub gets: the top API over the whole corpus
    result["micro_no_filter"] = float(np.mean([index.api_key(index.search(p.question.text, 1, retriever)[0].doc) == p.key
                                               for p in held]))
    result["p50_ms"] = float(np.percentile(np.array(latencies) * 1000, 50))
    result["micro_strict@1"] = sum(result[h]["strict@1"] * result[h]["n"] for h in HUBS) / sum(result[h]["n"] for h in HUBS)
    return result


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for r in results:
        ax.scatter(r["p50_ms"], r["micro_strict@1"] * 100)
        ax.annotate(r["config"], (r["p50_ms"], r["micro_strict@1"] * 100), textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("warm ask p50 (ms)")
    ax.set_ylabel("strict@1, held-out, micro (%)")
    ax.set_title("Accuracy vs latency per retrieval configuration")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def rescorer(index, train: list, memory: bool):  # noqa: ANN001, ANN201
    """A re-scorer fitted on the training split for the index's current query encoder (with or without memory)."""
    from gorilla_rag.retrieval.memory import QuestionMemory
    from gorilla_rag.training.rerank_training import fit_reranker

    # without memory: an empty one, so the memory features are constant and carry nothing
    return fit_reranker(index, train, memory=None if memory else QuestionMemory(
        np.zeros((0, index.dense.dimension)), [], []))


def variants(index, train: list, tuned: str | None):  # noqa: ANN001, ANN201
    """(label, query encoder, retriever, needs a re-scorer, with memory) for each row of the ablation."""
    from gorilla_rag.retrieval.embedder import Embedder

    base = index.manifest["embedder"]["name"]
    int8, fp32 = f"{base}:int8", f"{base}:fp32"
    rows = [("bm25", base, "bm25", False, False), ("dense", base, "dense", False, False),
            ("hybrid (untrained default)", base, "hybrid", False, False),
            ("hybrid, int8 query encoder", int8, "hybrid", False, False),
            ("rerank, no memory", base, "rerank", True, False),
            ("rerank + memory (trained default)", base, "rerank", True, True),
            ("rerank + memory, fp32 questions", fp32, "rerank", True, True),
            ("rerank + memory, int8 query encoder", int8, "rerank", True, True)]
    if tuned:
        rows += [("dense, fine-tuned query encoder", tuned, "dense", False, False),
                 ("rerank + memory, fine-tuned query encoder", tuned, "rerank", True, True)]
    for label, encoder, retriever, needs, memory in rows:
        # as an index reads questions: bf16 where this CPU has it (precision "auto"), unless the row says fp32
        index.use_query_encoder(Embedder(encoder.removesuffix(":fp32"),
                                               precision="fp32" if encoder.endswith(":fp32") else "auto"))
        index.reranker = rescorer(index, train, memory) if needs else None
        yield label, retriever


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", help="index folder (default: the home's default index)")
    parser.add_argument("--apibench", default=str(REPO.parent / "shared" / "apibench"))
    parser.add_argument("--tuned", help="also rows with this fine-tuned query encoder (a model name or folder)")
    args = parser.parse_args()
    index = open_index(index=args.index)
    train, held = split_pairs(load_pairs(args.apibench, index.verifier))
    out_of_scope = [json.loads(line)["question"] for line in (Path(__file__).parent / "data" / "out_of_scope.jsonl").read_text().splitlines() if line.strip()]
    results = []
    for label, retriever in variants(index, train, args.tuned):
        results.append(evaluate(index, label, retriever, held, out_of_scope))
        print(json.dumps(results[-1]), flush=True)
    plot(results, REPO / "docs" / "quality.png")
    rows = []
    for r in results:
        rows.append([r["config"]] + [f"{r[h]['strict@1']:.1%} / {r[h]['recall@5']:.1%} / {r[h]['official']:.1%}" for h in HUBS]
                    + [f"{r['micro_strict@1']:.1%}", f"{r['micro_no_filter']:.1%}",
                       f"{np.mean([r[h]['abstained'] for h in HUBS]):.1%}",
                       f"{r['out_of_scope_abstained']:.1%}", f"{r['p50_ms']:.1f}"])
    n = {h: results[0][h]["n"] for h in HUBS}
    body = f"""## Answer quality: ablation on held-out questions (bench/bench_quality.py)

Machine: {machine()}. Held-out = the {sum(n.values())} APIBench questions never trained on (fixed 30% split by
question text: HF {n['huggingface']}, TorchHub {n['torchhub']} from the train file, TF Hub {n['tfhub']}); every
re-scorer row is fitted in this run on the other {len(train)} questions and our task-labelled plain questions
(`fit_reranker`, as `gorilla-rag train reranker --hold-out` does, with candidates from every hub). Cells: strict@1 / recall@5 (distinct APIs) /
official accuracy, retrieval restricted to the question's hub (as `eval apibench --hub` does); "no hub filter": the
top API over the whole corpus is the gold one (what `ask` without a source gives). `memory`: the training questions' vectors vote for their APIs and domains
(retrieval/memory.py). Questions are read in bf16 where the CPU has it natively (this one: {bf16_native()}), as
indexes do by default; the "fp32 questions" row switches that off. Latency: warm `ask` p50 of the run, all rows on
one machine in one run.

{table(["config", "HuggingFace", "TorchHub", "TF Hub", "strict@1 micro", "top-1 micro, no hub filter", "in-scope abstained", "out-of-scope abstained", "ask p50 ms"], rows)}

![accuracy vs latency](quality.png)
"""
    write_section("quality", body)
    print(body)


if __name__ == "__main__":
    main()
