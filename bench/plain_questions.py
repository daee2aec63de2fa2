"""Plainly worded questions over the APIBench corpus, labelled with the task they ask for (not an API), shared by
the benchmark scripts. The re-scorer learns from the first two (gorilla_rag/training/task_questions.py):

- in_scope (gorilla_rag/training/data/in_scope.jsonl): 120 questions written by us for the abstention
  calibration, before the task words and the task rules; later read while writing those rules;
- plain_tune (gorilla_rag/training/data/plain_tune.jsonl): 206 questions written by a helper, for tuning;
- plain_test (bench/data/plain_test.jsonl): 163 questions written by another helper who had not seen the rules,
  the task words or the other sets; never trained on, never read while tuning: the fair check.

A question counts as answered right when the top API does the labelled task (`does_task`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gorilla_rag.training.task_questions import DATA as TRAINING_DATA
from gorilla_rag.training.task_questions import TASK_DOMAINS, does_task, read_task_questions

__all__ = ["DATA", "PLAIN_SETS", "TASK_DOMAINS", "does_task", "plain_questions", "read_jsonl", "task_accuracy"]

DATA = Path(__file__).resolve().parent / "data"
PLAIN_SETS = ("in_scope", "plain_tune", "plain_test")


def read_jsonl(path: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plain_path(name: str) -> Path:
    return DATA / f"{name}.jsonl" if name == "plain_test" else TRAINING_DATA / f"{name}.jsonl"


def plain_questions(name: str) -> list[dict]:
    """The questions of a plain set whose task label TASK_DOMAINS knows."""
    return read_task_questions(plain_path(name))


def task_accuracy(index, questions: list[dict], retriever: str, hub_filter: bool) -> float:  # noqa: ANN001
    """Share of the questions whose top API does the labelled task, searched with or without the question's hub
    as a filter."""
    from gorilla_rag.retrieval import Filters

    tops = [index.search(q["question"], 1, retriever, Filters.make(q["hub"]) if hub_filter else None)[0].doc
            for q in questions]
    return float(np.mean([does_task(doc, q["task"]) for doc, q in zip(tops, questions)]))
