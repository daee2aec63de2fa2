"""Calibrate abstention: the top candidate's cosine similarity on in-scope vs out-of-scope requests.

In scope: the held-out APIBench questions (never trained on) + bench/data/in_scope.jsonl (written by us).
Out of scope: bench/data/out_of_scope.jsonl (written by us; 20 kinds of request no hub model serves).
Writes the trade-off curve and the chosen threshold to the 'abstention' section of docs/benchmarks.md.

    python bench/bench_abstention.py [--index FOLDER] [--apibench PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, table, write_section  # noqa: E402

from gorilla_rag.indexing import open_index  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
TARGET_OUT, TARGET_IN = 0.95, 0.03  # ≥95% of out-of-scope abstained, ≤3% of in-scope wrongly abstained


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def top_similarity(index, questions: list[str]) -> np.ndarray:  # noqa: ANN001
    """The pipeline's abstention signal for each question: cosine of the closest API in the corpus."""
    return np.array([index.best_similarity(question) for question in questions])


def choose(inside: np.ndarray, outside: np.ndarray) -> tuple[float, list[list[str]]]:
    """The threshold with the most out-of-scope abstained while ≤ TARGET_IN of in-scope is abstained."""
    rows, best = [], None
    for threshold in np.round(np.arange(0.05, 0.80, 0.025), 3):
        wrongly = float((inside < threshold).mean())
        caught = float((outside < threshold).mean())
        rows.append([f"{threshold:.3f}", f"{caught:.1%}", f"{wrongly:.1%}"])
        if wrongly <= TARGET_IN and (best is None or caught > best[1]):
            best = (float(threshold), caught, wrongly)
    return (best[0] if best else 0.0), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", help="index folder (default: the home's default index)")
    parser.add_argument("--apibench", default=str(REPO.parent / "shared" / "apibench"))
    args = parser.parse_args()
    index = open_index(index=args.index)
    _, held = split_pairs(load_pairs(args.apibench, index.verifier))
    in_scope = [p.question.text for p in held] + [r["question"] for r in read_jsonl(DATA / "in_scope.jsonl")]
    out_rows = read_jsonl(DATA / "out_of_scope.jsonl")
    inside = top_similarity(index, in_scope)
    outside = top_similarity(index, [r["question"] for r in out_rows])
    threshold, rows = choose(inside, outside)
    per_kind = {}
    for row, sim in zip(out_rows, outside, strict=True):
        per_kind.setdefault(row["category"], []).append(sim < threshold)
    kinds = [[k, f"{np.mean(v):.0%}"] for k, v in sorted(per_kind.items())]
    caught = float((outside < threshold).mean())
    wrongly = float((inside < threshold).mean())
    query = index.manifest["embedder"].get("query_encoder") or index.manifest["embedder"]["name"]
    body = f"""## Abstention (bench/bench_abstention.py)

Signal: cosine similarity between the question and the closest API in the corpus (query encoder: `{query}`).
In scope: {len(in_scope)} questions ({len(held)} held-out APIBench + {len(in_scope) - len(held)} written by us);
out of scope: {len(outside)} requests written by us in {len(per_kind)} kinds. Goal: ≥ {TARGET_OUT:.0%} of out-of-scope
abstained with ≤ {TARGET_IN:.0%} of in-scope wrongly abstained.

**Chosen threshold {threshold:.3f}: {caught:.1%} of out-of-scope abstained, {wrongly:.1%} of in-scope wrongly abstained.**

{table(["threshold", "out-of-scope abstained", "in-scope wrongly abstained"], rows)}

Out-of-scope abstained at the chosen threshold, per kind:

{table(["kind", "abstained"], kinds)}
"""
    write_section("abstention", body)
    print(body)


if __name__ == "__main__":
    main()
