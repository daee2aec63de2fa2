"""The abstention signal of an index without a trained memory: our own task-labelled plain questions.

An untrained index used to judge "is this in scope?" by the closest doc's cosine alone, and docs are written
unlike questions ("Pull out every company and city mentioned in these press releases" sits far from the NER
model's card). An index now remembers the plainly worded questions we wrote (training/task_questions.py) whose
task one of its docs does, so a question like them counts as in scope, while a request for a task the corpus has
no model for still meets only the doc cosine. The questions' labels are tasks, never APIs: they say nothing about
which model answers, and ranking does not read them (a task vote hurt plainly worded questions when measured on
held-out folds of these sets). The default threshold was chosen by bench/bench_abstention_untrained.py for the
bundled MiniLM; an index read by any other encoder calibrates its own on these questions (abstention.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gorilla_rag.retrieval.memory import QuestionMemory
from gorilla_rag.types import ApiDoc

if TYPE_CHECKING:
    from gorilla_rag.retrieval.embedder import Embedder

TASK_MEMORY_FILE = "task_memory.json"
# The signal is max(mean cosine of the 5 nearest task questions, closest doc cosine - abstention.TASK_DOC_MARGIN).


def served_task_questions(docs: list[ApiDoc]) -> list[dict]:
    """Our task-labelled questions ({"hub", "task", "question"}) whose task at least one of the docs does, in the
    order they are remembered."""
    from gorilla_rag.training.task_questions import TASK_MEMORY_SETS, does_task, training_task_questions

    rows = training_task_questions(TASK_MEMORY_SETS)
    served = {task for task in {row["task"] for row in rows} if any(does_task(doc, task) for doc in docs)}
    return [row for row in rows if row["task"] in served]


# Our questions as an encoder read them, per (model as loaded, question): every index built in one process (tests,
# benches, a server rebuilding) encodes the same few hundred fixed questions; the light encoder is cached by the
# same name (embedder._load_light), so this reuses what that model would compute again.
_ENCODED: dict[tuple[str, str], np.ndarray] = {}
_ENCODED_LIMIT = 20_000


def encode_questions(encoder: Embedder, questions: list[str]) -> np.ndarray:
    """(len(questions), dim) float32 unit vectors, each read one at a time as a question is at query time (an int8
    model's activation scales are per batch), reusing this process's earlier readings by the same model."""
    model = encoder.runs_as
    vectors = []
    for question in questions:
        key = (model, question)
        if key not in _ENCODED:
            if len(_ENCODED) >= _ENCODED_LIMIT:
                _ENCODED.clear()
            _ENCODED[key] = np.asarray(encoder.embed_one(question), dtype=np.float32)
        vectors.append(_ENCODED[key])
    return np.stack(vectors)


def build_task_memory(docs: list[ApiDoc], encoder: Embedder) -> QuestionMemory | None:
    """The memory of the served task questions, each encoded as `encoder` reads a question at query time (one at a
    time: an int8 model's activation scales are per batch); None when the corpus does none of the tasks (its docs
    name tasks in words we do not know)."""
    rows = served_task_questions(docs)
    if not rows:
        return None
    vectors = encode_questions(encoder, [row["question"] for row in rows])
    tasks = [row["task"] for row in rows]
    return QuestionMemory(vectors, tasks, tasks)


def write_task_memory(docs: list[ApiDoc], encoder: Embedder, folder: Path) -> QuestionMemory | None:
    """Build the task memory of `docs` and save it into `folder` (an index folder being written), recording the
    query encoder it was read with; None (and no file) when the corpus does none of the tasks."""
    memory = build_task_memory(docs, encoder)
    if memory is not None:
        save_question_memory(memory, encoder, folder / TASK_MEMORY_FILE)
    return memory


def save_question_memory(memory: QuestionMemory, encoder: Embedder, path: Path) -> None:
    """Write a memory of our questions into an index folder, recording the query encoder that read them."""
    path.write_text(json.dumps({**memory.to_dict(), "query_encoder": encoder.name}) + "\n", encoding="utf-8")


def load_question_memory(path: Path, expected: int | None, encoder: Embedder, dimension: int) -> QuestionMemory | None:
    """A memory save_question_memory wrote; None when the file is absent and the manifest expects none. ValueError
    when the manifest lists `expected` questions but the file is missing, or it does not fit the index (other
    encoder, dimension or count)."""
    if not path.is_file():
        if expected:
            raise ValueError(f"{path.name} is missing (index.json lists {expected} questions)")
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("query_encoder") != encoder.name:
        raise ValueError(f"{path.name} was not encoded by this index's query encoder {encoder.name!r}")
    memory = QuestionMemory.from_dict(data)
    if memory.vectors.shape[1] != dimension or (expected is not None and len(memory) != expected):
        raise ValueError(f"{path.name} holds {len(memory)} vectors of dimension {memory.vectors.shape[1]}; "
                         f"the index expects {expected} of dimension {dimension}")
    return memory


def load_task_memory(folder: Path, manifest: dict, encoder: Embedder, dimension: int) -> QuestionMemory | None:
    """The saved memory of an index folder; None when it has none (built before task memories existed, or its
    corpus serves no known task). ValueError as load_question_memory says."""
    return load_question_memory(folder / TASK_MEMORY_FILE, manifest.get("task_memory"), encoder, dimension)
