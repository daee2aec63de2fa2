"""Requests for a task the corpus has no model for, recognised by our task-labelled questions.

A question for a task no doc does still has a closest doc, and often a close one: "a trained agent that plays
Breakout" sat nearest a segmentation model of the seed corpus, "make slow motion from a 30 fps video" a video
classifier, and both came back verified. Our plain questions (training/task_questions.py) are labelled with
tasks; an index keeps those whose task none of its docs does, nor names anywhere in its text. A question much
nearer to the questions of one such task than to those of every task the corpus serves asks for something the
corpus lacks, and the answer is no_match naming the task. One "task" every corpus lacks: requests no pretrained
model answers (training/data/no_model.jsonl: code, tooling, ML engineering how-tos). Chosen on leave-one-out task questions, plain_test and
each corpus's own questions; bench/bench_unserved.py measures it on requests written after (bench/data/near_miss.jsonl).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from gorilla_rag.retrieval.memory import QuestionMemory
from gorilla_rag.retrieval.task_memory import (
    encode_questions,
    load_question_memory,
    save_question_memory,
    served_task_questions,
)
from gorilla_rag.types import ApiDoc

if TYPE_CHECKING:
    from gorilla_rag.retrieval.embedder import Embedder

UNSERVED_FILE = "unserved_tasks.json"
NEIGHBOURS = 3  # a task's closeness to a question: mean cosine of its 3 questions nearest to it
# The unserved task must be this much closer than every served one. Chosen on our task questions (each left out),
# plain_test and each corpus's own questions (bench/bench_unserved.py, the margin table): on the seed corpus, then,
# 0.05 caught 1 of 349 served task questions and 2 of 155 plain_test ones, none of its 46 own; 0.0 caught 9 and 6.
MARGIN = 0.05


class UnservedTask(NamedTuple):
    """The task asked for (a task_questions label), how close its questions are and the nearest served task's."""

    task: str
    closeness: float
    served_closeness: float


def unserved_labels(docs: list[ApiDoc]) -> set[str]:
    """Task labels no doc does (task_questions.does_task) nor names in its domain, functionality, name or description
    (a corpus filing style transfer under another domain still serves it)."""
    from gorilla_rag.training.task_questions import TASK_DOMAINS, does_task

    texts = [f"{d.domain} {d.functionality} {d.api_name} {d.description}" for d in docs]
    return {task for task, pattern in TASK_DOMAINS.items()
            if not any(does_task(doc, task) for doc in docs) and not any(re.search(pattern, t, re.I) for t in texts)}


def build_unserved_memory(docs: list[ApiDoc], encoder: Embedder) -> QuestionMemory | None:
    """Our task questions of the tasks `docs` lack, encoded as `encoder` reads a question; None when the corpus
    serves none of our tasks (its docs name tasks in words we do not know: nothing to compare with) or lacks none."""
    from gorilla_rag.training.task_questions import TASK_MEMORY_SETS, training_task_questions

    lacking = unserved_labels(docs)
    rows = [row for row in training_task_questions(TASK_MEMORY_SETS) if row["task"] in lacking]
    if not rows or not served_task_questions(docs):
        return None
    vectors = encode_questions(encoder, [row["question"] for row in rows])
    tasks = [row["task"] for row in rows]
    return QuestionMemory(vectors, tasks, tasks)


def write_unserved_memory(docs: list[ApiDoc], encoder: Embedder, folder: Path) -> QuestionMemory | None:
    """build_unserved_memory, saved into `folder` (an index being written; no file when None)."""
    memory = build_unserved_memory(docs, encoder)
    if memory is not None:
        save_question_memory(memory, encoder, folder / UNSERVED_FILE)
    return memory


def load_unserved_memory(folder: Path, manifest: dict, encoder: Embedder, dimension: int) -> QuestionMemory | None:
    """The saved memory; None when the index has none (built before it existed, or nothing to hold); ValueError as
    task_memory.load_question_memory says."""
    return load_question_memory(folder / UNSERVED_FILE, manifest.get("unserved_task_questions"), encoder, dimension)


def task_closeness(memory: QuestionMemory, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per query vector (rows of `queries`): the memory's task whose NEIGHBOURS questions nearest to it are nearest
    on average (its position in memory.domain_names), and that mean cosine."""
    sims = np.atleast_2d(queries).astype(np.float32) @ memory.vectors.T
    per_task = np.full((len(sims), len(memory.domain_names)), -1.0)
    for number, entries in enumerate(memory.domain_entries):
        mine = sims[:, entries]
        take = min(NEIGHBOURS, mine.shape[1])
        per_task[:, number] = np.partition(mine, mine.shape[1] - take, axis=1)[:, -take:].mean(axis=1)
    return per_task.argmax(axis=1), per_task.max(axis=1)


def closest_task(memory: QuestionMemory, query: np.ndarray) -> tuple[str, float]:
    """The memory's task nearest to one question's vector (task_closeness), and how near."""
    task, closeness = task_closeness(memory, query)
    return memory.domain_names[int(task[0])], float(closeness[0])


def asks_unserved_task(query: np.ndarray, served: QuestionMemory | None,
                       unserved: QuestionMemory | None) -> UnservedTask | None:
    """The task the question (its vector) asks for when that is one the corpus lacks, MARGIN closer than any it
    serves; None otherwise, or without both memories."""
    if served is None or unserved is None or not len(served) or not len(unserved):
        return None
    task, closeness = closest_task(unserved, query)
    served_closeness = closest_task(served, query)[1]
    return UnservedTask(task, closeness, served_closeness) if closeness - served_closeness >= MARGIN else None
