"""Where the accuracy gap is: how often the top API does the gold API's task, and what top-1 would be if the
task were known (an oracle that filters to the gold API's domain), on the APIBench held-out split.

If the oracle's top-1 stays far below the goal, picking the right task is not what is missing: the question
does not say which of several APIs of that task it wants (TorchHub: ~60 image classifiers for "classify my
photos"), and no ranking of the docs alone can recover the label.

    python bench/bench_ceilings.py [--apibench PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import apibench_index_with_reranker, machine, table, write_section  # noqa: E402

from gorilla_rag.retrieval import Filters, Index  # noqa: E402

HUBS = ("huggingface", "torchhub", "tfhub")


def row(index: Index, pairs: list, retriever: str) -> list[str]:
    strict = same_task = oracle_top1 = oracle_top5 = 0
    for pair in pairs:
        top = index.search(pair.question.text, 1, retriever, Filters.make(pair.hub))[0].doc
        strict += index.api_key(top) == pair.key
        same_task += top.domain.lower() == pair.gold.domain.lower()
        known = index.search(pair.question.text, 5, retriever, Filters.make(pair.hub, domain=pair.gold.domain))
        keys = [index.api_key(hit.doc) for hit in known]
        oracle_top1 += bool(keys) and keys[0] == pair.key
        oracle_top5 += pair.key in keys
    n = len(pairs)
    return [f"{strict / n:.1%}", f"{same_task / n:.1%}", f"{oracle_top1 / n:.1%} / {oracle_top5 / n:.1%}"]


def main() -> None:
    index, train, held = apibench_index_with_reranker(__doc__.split("\n")[0], "ceilings-")
    rows = []
    for retriever in ("hybrid", "rerank"):
        for hub in HUBS:
            pairs = [p for p in held if p.hub == hub]
            rows.append([retriever, hub, str(len(pairs)), *row(index, pairs, retriever)])
            print(rows[-1], flush=True)
    body = "\n".join([
        "## Where the gap is (bench/bench_ceilings.py)", "",
        f"Machine: {machine()}. APIBench held-out split, hub filter on; `rerank` is fitted in the run on the",
        "training split. *Same task*: the top API has the gold API's domain. *Task known*: top-1 / top-5 when",
        "retrieval is restricted to the gold API's domain (an oracle no real system has): the most that",
        "perfect task recognition could add.", "",
        table(["retriever", "hub", "questions", "strict@1", "same task@1", "task known: strict@1 / recall@5"], rows),
    ])
    write_section("ceilings", body)


if __name__ == "__main__":
    main()
