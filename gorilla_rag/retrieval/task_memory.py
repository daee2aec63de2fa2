"""The abstention signal of an index without a trained memory: our own task-labelled plain questions.

An untrained index used to judge "is this in scope?" by the closest doc's cosine alone, and docs are written
unlike questions ("Pull out every company and city mentioned in these press releases" sits far from the NER
model's card). Every index now remembers the plainly worded questions we wrote (training/task_questions.py) whose
task one of its docs does, so a question like them counts as in scope, while a request for a task the corpus has
no model for still meets only the doc cosine. The questions' labels are tasks, never APIs: they say nothing about
which model answers, and ranking does not read them (a task vote hurt plainly worded questions when measured on
held-out folds of these sets). Calibrated by bench/bench_abstention.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gorilla_rag.retrieval.memory import QuestionMemory
from gorilla_rag.types import ApiDoc

TASK_MEMORY_FILE = "task_memory.json"
# The signal is max(mean cosine of the 5 nearest task questions, closest doc cosine - TASK_DOC_MARGIN).
TASK_DOC_MARGIN = 0.1


def served_task_questions(docs: list[ApiDoc]) -> list[dict]:
    """Our task-labelled questions ({"hub", "task", "question"}) whose task at least one of the docs does, in the
    order they are remembered."""
    from gorilla_rag.training.task_questions import TASK_MEMORY_SETS, does_task, training_task_questions

    rows = training_task_questions(TASK_MEMORY_SETS)
    served = {task for task in {row["task"] for row in rows} if any(does_task(doc, task) for doc in docs)}
    return [row for row in rows if row["task"] in served]


def build_task_memory(docs: list[ApiDoc], encode: Callable[[list[str]], np.ndarray]) -> QuestionMemory | None:
    """The memory of the served task questions, encoded by `encode` (the index's query encoder: unit vectors);
    None when the corpus does none of the tasks (its docs name tasks in words we do not know)."""
    rows = served_task_questions(docs)
    if not rows:
        return None
    vectors = np.asarray(encode([row["question"] for row in rows]), dtype=np.float32)
    tasks = [row["task"] for row in rows]
    return QuestionMemory(vectors, tasks, tasks)


def write_task_memory(docs: list[ApiDoc], encode: Callable[[list[str]], np.ndarray],
                      folder: Path) -> QuestionMemory | None:
    """Build the task memory of `docs` and save it into `folder` (an index folder being written); None (and no
    file) when the corpus does none of the tasks."""
    memory = build_task_memory(docs, encode)
    if memory is not None:
        (folder / TASK_MEMORY_FILE).write_text(json.dumps(memory.to_dict()) + "\n", encoding="utf-8")
    return memory


def load_task_memory(path: Path) -> QuestionMemory | None:
    """The saved memory, None when the index has none (built before it existed, or serving no known task)."""
    if not path.is_file():
        return None
    return QuestionMemory.from_dict(json.loads(path.read_text(encoding="utf-8")))
