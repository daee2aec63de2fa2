"""Train the learned re-scorer (retrieval/rerank.py) on APIBench questions and install it into an index.

By default every question with a corpus gold API is used (the product's artifact: held-out evaluation showed more
remembered questions keep helping, 28.8% → 32.3% micro top-1 from 40% to 100% of the training split);
`hold_out=True` leaves the fixed 30% held-out split out, so `eval --split held-out` can score it honestly.
The task-labelled plain questions we wrote (training/task_questions.py) are always learned from: they are not
APIBench questions, and bench/data/plain_test.jsonl is the plain-question check nobody trains on.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

from gorilla_rag.training.pairs import load_pairs, split_pairs


def fit_reranker(index, pairs: list, memory=None):  # noqa: ANN001, ANN201 - a Reranker
    """A re-scorer fitted on APIBench pairs (remembered, unless `memory` is given) and on our task-labelled plain
    questions (training/task_questions.py), each of those searched both with its hub as a filter and without."""
    from gorilla_rag.retrieval import Filters
    from gorilla_rag.retrieval.abstention import calibration_if_needed
    from gorilla_rag.retrieval.index import DOC_MARGIN
    from gorilla_rag.retrieval.rerank import Reranker
    from gorilla_rag.training.task_questions import does_task, training_task_questions

    task_lists = [(row["question"], mask, functools.partial(does_task, task=row["task"]))
                  for row in training_task_questions()
                  for mask in (None, index.mask(Filters.make(row["hub"])))]
    examples = [(p.question.text, p.key, p.gold.domain, None) for p in pairs]  # candidates from every hub
    reranker = Reranker.train(index, examples, memory=memory, task_lists=task_lists)
    # an encoder the default threshold was not measured for gets one from the remembered questions
    reranker.calibration = calibration_if_needed(reranker.memory, index.dense, DOC_MARGIN, index.task_memory)
    return reranker


def train_reranker(index, apibench: Path, out: Path, hold_out: bool = False) -> dict:  # noqa: ANN001
    """Fit on the pairs, save to `out`, and copy it into the index folder atomically so the index answers with
    `rerank` from now on. Returns the card, whose `split` says whether the held-out questions were left out
    ("train") or used too ("all").

    Each question's candidates come from every hub, as an `ask` without filters sees them: the model then also
    learns to tell hubs apart. Held-out, that beat hub-restricted training lists both with hub filters (micro
    top-1 31.3 → 32.3%) and without (22.3 → 29.3%), where TorchHub and TF Hub questions were otherwise
    answered from another hub about half the time (docs/benchmarks.md, quality section)."""
    from gorilla_rag.retrieval.index import RERANKER_FILE
    from gorilla_rag.training.task_questions import training_task_questions

    train, held = split_pairs(load_pairs(apibench, index.verifier))
    if not hold_out:
        train, held = train + held, []
    started = time.time()
    reranker = fit_reranker(index, train)
    card = {"kind": "gorilla-rag-reranker", "query_encoder": index.manifest["embedder"].get("query_encoder"),
            "embedder": index.manifest["embedder"]["name"],
            "corpus_fingerprint": index.manifest.get("fingerprint"), "split": "train" if hold_out else "all",
            "train_pairs": len(train), "held_out_pairs": len(held), "task_questions": len(training_task_questions()),
            "seconds": round(time.time() - started, 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    reranker.save(out, card)
    staged = index.folder / f".{RERANKER_FILE}.tmp"
    reranker.save(staged, card)
    os.replace(staged, index.folder / RERANKER_FILE)
    index.attach_reranker(index.folder / RERANKER_FILE)
    return card
