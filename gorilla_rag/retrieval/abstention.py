"""Abstention thresholds: the benchmarked defaults for the bundled encoder, and a calibration for any other.

Index.best_similarity gives one of three signals (Index.abstention_signal); a question below the threshold for it
gets `no_match`. The defaults were chosen for the bundled MiniLM on our in-scope and out-of-scope sets
(bench/bench_abstention.py, bench/bench_abstention_untrained.py). Another encoder puts its cosines elsewhere:
questions read by a fine-tuned query encoder sit closer to the docs, and a model whose cosines crowd towards 1
(CLS pooling; e5 and bge are like that) put every request above 0.33, so the default would never abstain.

For such an encoder the threshold is calibrated when the memory is made: the signal of every remembered in-scope
question, scored without itself (leave-one-out), and the threshold is its CALIBRATION_QUANTILE quantile. For the
bundled MiniLM that rule gives 0.327 (APIBench) and 0.343 (seed) for the task signal whose default is 0.33, and
0.381 for the trained memory whose default is 0.395: it reproduces the hand-chosen values without the
out-of-scope set (bench/bench_calibration.py measures it on other encoders).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from gorilla_rag.retrieval.memory import SCOPE_NEIGHBOURS

if TYPE_CHECKING:
    from gorilla_rag.retrieval.dense import DenseRetriever
    from gorilla_rag.retrieval.memory import QuestionMemory

DEFAULT_THRESHOLDS = {"memory": 0.395, "task questions": 0.33, "closest doc": 0.25}
TASK_DOC_MARGIN = 0.1  # without a trained memory, a doc cosine counts this much less than a task question's
CALIBRATION_QUANTILE = 0.02  # share of remembered in-scope questions the threshold would abstain on
MIN_CALIBRATION_QUESTIONS = 20  # fewer, and a 2% quantile is just the lowest score: the default stays


@dataclass(frozen=True, slots=True)
class Calibration:
    """A threshold fitted for one query encoder on `questions` remembered in-scope questions."""

    threshold: float
    questions: int
    query_encoder: str
    quantile: float = CALIBRATION_QUANTILE

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        try:
            return cls(float(data["threshold"]), int(data["questions"]), str(data["query_encoder"]),
                       float(data.get("quantile", CALIBRATION_QUANTILE)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"unreadable abstention calibration {data!r}") from exc

    def describe(self) -> str:
        return (f"threshold {self.threshold:.3f}, calibrated for {self.query_encoder} on {self.questions} "
                f"remembered questions ({self.quantile:.0%} of them below it)")


def defaults_hold(query_encoder: str, doc_embedder: str) -> bool:
    """Whether DEFAULT_THRESHOLDS were measured for this pair: the bundled MiniLM on both sides (int8 or bf16
    questions included: the benchmarks measured those too)."""
    from gorilla_rag.retrieval.embedder import BUNDLED

    return query_encoder.removesuffix(":int8").removesuffix(":bf16") in BUNDLED and doc_embedder in BUNDLED


def leave_one_out_signal(memory: QuestionMemory, doc_cosines: np.ndarray, margin: float) -> np.ndarray:
    """Per remembered question, what Index.best_similarity would give it were it asked and not remembered:
    max(mean cosine of its SCOPE_NEIGHBOURS nearest other questions, its closest doc's cosine - margin)."""
    vectors = memory.vectors
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    take = min(SCOPE_NEIGHBOURS, len(vectors) - 1)
    nearest = np.partition(sims, len(vectors) - take, axis=1)[:, -take:]
    return np.maximum(nearest.mean(axis=1), np.asarray(doc_cosines, dtype=np.float64) - margin)


def calibrate(memory: QuestionMemory, dense: DenseRetriever, margin: float) -> Calibration | None:
    """The threshold for `dense`'s query encoder from the questions of `memory` (read by that encoder); None when
    there are too few to say (MIN_CALIBRATION_QUESTIONS)."""
    if len(memory) < MIN_CALIBRATION_QUESTIONS:
        return None
    scores = leave_one_out_signal(memory, dense.closest_cosines(memory.vectors), margin)
    threshold = round(float(np.quantile(scores, CALIBRATION_QUANTILE)), 3)
    return Calibration(threshold, len(memory), dense.query_embedder.name)


def calibration_if_needed(memory: QuestionMemory | None, dense: DenseRetriever,
                          margin: float) -> Calibration | None:
    """A calibration where the defaults were not measured for this index's encoders, else None."""
    if memory is None or defaults_hold(dense.query_embedder.name, dense.embedder.name):
        return None
    return calibrate(memory, dense, margin)


def describe(index) -> str:  # noqa: ANN001 - an Index
    """One line for `index info`: the signal, its threshold and where that comes from, and what would fix a
    threshold that does not fit the index's encoder."""
    signal, calibration = index.abstention_signal, index.abstention_calibration
    if calibration is not None:
        return f"{signal} ({calibration.describe()})"
    line = f"{signal} (default threshold {DEFAULT_THRESHOLDS[signal]})"
    if signal == "closest doc" and "task_memory" not in index.manifest:
        return line + "; built before task questions existed: `index build` adds them"
    if not defaults_hold(index.dense.query_embedder.name, index.dense.embedder.name):
        line += f"; measured for the bundled MiniLM, not for {index.dense.query_embedder.name}: " + (
            "retrain with `gorilla-rag train reranker` to calibrate it" if signal == "memory" else
            "the corpus does none of the tasks our questions ask, so none could be calibrated; "
            "--min-similarity sets one")
    return line
