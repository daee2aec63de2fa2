"""Learning curve of the trained default: held-out strict@1 when the re-scorer and its question memory learn from
a growing share of the training split (random subsets, several seeds). It is the evidence for `train reranker`
learning from every question by default: if accuracy still rises at 100% of the split, the 492 held-out
questions are worth adding to the shipped artifact. Writes the 'memory-curve' section of docs/benchmarks.md.

    python bench/bench_memory_curve.py [--index FOLDER] [--apibench PATH] [--seeds 3]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quality import HUBS, rescorer  # noqa: E402
from common import REPO, machine, table, write_section  # noqa: E402

from gorilla_rag.indexing import open_index  # noqa: E402
from gorilla_rag.retrieval import Filters  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402


def strict_at_1(index, held: list) -> dict[str, float]:  # noqa: ANN001
    """Per hub and micro: share of held-out questions whose top API (hub-restricted, re-scored) is the gold."""
    correct = {hub: [] for hub in HUBS}
    for pair in held:
        hits = index.search(pair.question.text, 1, "rerank", Filters.make(pair.hub))
        correct[pair.hub].append(bool(hits) and index.api_key(hits[0].doc) == pair.key)
    scores = {hub: float(np.mean(c)) for hub, c in correct.items()}
    scores["micro"] = float(np.mean([x for c in correct.values() for x in c]))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="index folder (default: the home's default index)")
    parser.add_argument("--apibench", default=str(REPO.parent / "shared" / "apibench"))
    parser.add_argument("--seeds", type=int, default=3, help="random subsets per share below 100%%")
    args = parser.parse_args()
    index = open_index(index=args.index)
    train, held = split_pairs(load_pairs(args.apibench, index.verifier))
    rows, micro = [], []
    for share in (0.4, 0.6, 0.8, 1.0):
        runs = []
        for seed in range(args.seeds if share < 1 else 1):
            subset = random.Random(seed).sample(train, round(len(train) * share))
            index.reranker = rescorer(index, subset, memory=True)
            runs.append(strict_at_1(index, held))
            print(f"share {share:.0%} seed {seed}: {runs[-1]}", flush=True)
        mean = {key: np.mean([r[key] for r in runs]) for key in runs[0]}
        spread = np.std([r["micro"] for r in runs])
        micro.append(mean["micro"])
        rows.append([f"{share:.0%} ({round(len(train) * share)})", len(runs)]
                    + [f"{mean[h]:.1%}" for h in HUBS] + [f"{mean['micro']:.1%} ± {spread:.1%}"])
    body = f"""## Question memory: learning curve (bench/bench_memory_curve.py)

Machine: {machine()}. The re-scorer and its memory fitted on random subsets of the {len(train)}-question training
split (mean over seeds), scored on the {len(held)} held-out questions: strict@1 of the top API, hub-restricted.

{table(["training questions used", "seeds", "HuggingFace", "TorchHub", "TF Hub", "micro (± sd over seeds)"], rows)}

From 80% to 100% of the split micro strict@1 moved {micro[-1] - micro[-2]:+.1%} ({micro[0]:.1%} at 40%). While it
still rises, more remembered questions help, which is why `gorilla-rag train reranker` learns from all
{len(train) + len(held)} questions by default (`--hold-out` leaves the held-out split out for the quality section).
"""
    write_section("memory-curve", body)
    print(body)


if __name__ == "__main__":
    main()
