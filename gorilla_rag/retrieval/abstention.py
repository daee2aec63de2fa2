"""Abstention thresholds: the benchmarked defaults for the bundled encoder, and a calibration for any other.

Index.best_similarity gives one of three signals (Index.abstention_signal); a question below the threshold for it
gets `no_match`. The defaults were chosen for the bundled MiniLM on our in-scope and out-of-scope sets
(bench/bench_abstention.py, bench/bench_abstention_untrained.py). Another encoder puts its cosines elsewhere: a
fine-tuned query encoder moves every question's cosines (at the defaults it wrongly abstained on 10.9% of our seed
questions), and a model whose cosines crowd together (CLS pooling; e5 and bge are like that) puts every request
above 0.33, so the default never abstains.

For such an encoder the threshold is calibrated when the memory is made: the signal of every remembered in-scope
question, scored without itself (leave-one-out), and the threshold is its CALIBRATION_QUANTILE quantile. For the
bundled MiniLM that rule gives 0.327 (APIBench) and 0.343 (seed) for the task signal whose default is 0.33, and
0.385 for the trained memory whose default is 0.38: it reproduces the hand-chosen values without the
out-of-scope set (bench/bench_calibration.py measures it on other encoders).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from gorilla_rag.retrieval.memory import SCOPE_NEIGHBOURS

if TYPE_CHECKING:
    from gorilla_rag.retrieval.dense import DenseRetriever
    from gorilla_rag.retrieval.memory import QuestionMemory

DEFAULT_THRESHOLDS = {"memory": 0.38, "task questions": 0.33, "closest doc": 0.25}
TASK_DOC_MARGIN = 0.1  # without a trained memory, a doc cosine counts this much less than a task question's
CALIBRATION_QUANTILE = 0.02  # share of remembered in-scope questions the threshold would abstain on
MIN_CALIBRATION_QUESTIONS = 5  # fewer, and no threshold can be said to fit: the default stays, and index info says so
FEW_QUESTIONS = 20  # fewer, and the 2% quantile is about the lowest score: a rough threshold, and index info says so


@dataclass(frozen=True, slots=True)
class Calibration:
    """A threshold fitted for one query encoder: on `questions` remembered in-scope questions (automatic), or by
    `gorilla-rag eval abstention --save` on a user's own in-scope and out-of-scope sets (`signal` set: it holds
    for that signal only; `quantile` is then the share of their in-scope questions it abstains on)."""

    threshold: float
    questions: int
    query_encoder: str
    quantile: float = CALIBRATION_QUANTILE
    signal: str = ""
    out_of_scope: int = 0
    out_of_scope_abstained: float = 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        if not self.signal:  # the user-set fields mean nothing for an automatic calibration
            for key in ("signal", "out_of_scope", "out_of_scope_abstained"):
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        try:
            found = cls(float(data["threshold"]), int(data["questions"]), data["query_encoder"],
                        float(data.get("quantile", CALIBRATION_QUANTILE)), str(data.get("signal", "")),
                        int(data.get("out_of_scope", 0)), float(data.get("out_of_scope_abstained", 0.0)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"unreadable abstention calibration {data!r}") from exc
        if not (math.isfinite(found.threshold) and -1 <= found.threshold <= 1) or not isinstance(found.query_encoder, str):
            raise ValueError(f"unusable abstention calibration {data!r}: a cosine threshold from -1 to 1 and the "
                             "query encoder's name are needed")
        return found

    def describe(self, signal: str) -> str:
        """What the threshold is and where it comes from, in words for `index info`."""
        if self.signal:
            return (f"threshold {self.threshold:.3f}, set by `eval abstention --save` for {self.query_encoder}: "
                    f"{self.quantile:.1%} of {self.questions} in-scope questions and "
                    f"{self.out_of_scope_abstained:.1%} of {self.out_of_scope} out-of-scope requests below it")
        which = ("questions its re-scorer remembers" if signal == "memory" else
                 "built-in task questions this corpus serves")
        rough = ("; few, so a rough threshold: `eval abstention --save` with your own questions sets a better one"
                 if self.questions < FEW_QUESTIONS else "")
        return (f"threshold {self.threshold:.3f}, calibrated for {self.query_encoder} on the {self.questions} "
                f"{which}, {self.quantile:.0%} of them below it{rough}")


def defaults_hold(query_encoder: str, doc_embedder: str) -> bool:
    """Whether DEFAULT_THRESHOLDS were measured for this pair: the bundled MiniLM on both sides (int8 or bf16
    questions included: the benchmarks measured those too)."""
    from gorilla_rag.retrieval.embedder import BUNDLED

    return query_encoder.removesuffix(":int8").removesuffix(":bf16") in BUNDLED and doc_embedder in BUNDLED


def leave_one_out_signal(memory: QuestionMemory, doc_cosines: np.ndarray, margin: float,
                         tasks: QuestionMemory | None = None) -> np.ndarray:
    """Per remembered question, what Index.best_similarity would give it were it asked and not remembered:
    max(mean cosine of its SCOPE_NEIGHBOURS nearest other questions, its closest doc's cosine - margin), and with
    `tasks` (the task questions a trained index also reads) its closeness to the nearest task of those."""
    vectors = memory.vectors
    take = min(SCOPE_NEIGHBOURS, len(vectors) - 1)
    scope = np.empty(len(vectors))
    for start in range(0, len(vectors), 2048):  # rows at a time: a large memory never needs an n x n matrix
        sims = vectors[start:start + 2048] @ vectors.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -np.inf
        scope[start:start + len(sims)] = np.partition(sims, len(vectors) - take, axis=1)[:, -take:].mean(axis=1)
    signal = np.maximum(scope, np.asarray(doc_cosines, dtype=np.float64) - margin)
    if tasks is not None and len(tasks):
        from gorilla_rag.retrieval.unserved_tasks import task_closeness

        signal = np.maximum(signal, task_closeness(tasks, vectors)[1])
    return signal


def calibrate(memory: QuestionMemory, dense: DenseRetriever, margin: float,
              tasks: QuestionMemory | None = None) -> Calibration | None:
    """The threshold for `dense`'s query encoder from the questions of `memory` (read by that encoder; `tasks`: the
    index's task questions, for a trained memory's signal); None when there are too few to say
    (MIN_CALIBRATION_QUESTIONS)."""
    if len(memory) < MIN_CALIBRATION_QUESTIONS:
        return None
    scores = leave_one_out_signal(memory, dense.closest_cosines(memory.vectors), margin, tasks)
    threshold = round(float(np.quantile(scores, CALIBRATION_QUANTILE)), 3)
    return Calibration(threshold, len(memory), dense.query_embedder.name)


def calibration_if_needed(memory: QuestionMemory | None, dense: DenseRetriever, margin: float,
                          tasks: QuestionMemory | None = None) -> Calibration | None:
    """A calibration where the defaults were not measured for this index's encoders, else None."""
    if memory is None or defaults_hold(dense.query_embedder.name, dense.embedder.name):
        return None
    return calibrate(memory, dense, margin, tasks)


def calibration_in_effect(index) -> Calibration | None:  # noqa: ANN001 - an Index
    """What sets the index's threshold: one saved by `eval abstention --save` for its current signal and query
    encoder, else the automatic one for them; None: the default for the signal."""
    signal, encoder = index.abstention_signal, index.dense.query_embedder.name
    user = index.user_calibration
    if user is not None and user.signal == signal and user.query_encoder == encoder:
        return user
    found = {"memory": index.reranker and index.reranker.calibration,
             "task questions": index.task_calibration}.get(signal)
    return found if found and found.query_encoder == encoder else None


def describe(index) -> str:  # noqa: ANN001 - an Index
    """One line for `index info`: the signal, its threshold and where that comes from, and what would fix a
    threshold that does not fit the index's encoder."""
    signal, calibration = index.abstention_signal, index.abstention_calibration
    if calibration is not None:
        return f"{signal}: {calibration.describe(signal)}"
    line = f"{signal}: default threshold {DEFAULT_THRESHOLDS[signal]}"
    user = index.user_calibration
    if user is not None:
        line += (f"; the threshold saved by `eval abstention --save` ({user.threshold:.3f}) was for the {user.signal} "
                 f"signal read by {user.query_encoder}: run it again to set one for this index as it is")
    if signal == "closest doc" and "task_memory" not in index.manifest:
        return line + "; built before task questions existed: `index build` adds them"
    if defaults_hold(index.dense.query_embedder.name, index.dense.embedder.name):
        return line
    return line + f"; measured for the bundled MiniLM, not for {index.dense.query_embedder.name}: " + (
        _why_uncalibrated(index, signal) + "; `eval abstention --save` with your own questions, or --min-similarity, "
        "sets one")


def _why_uncalibrated(index, signal: str) -> str:  # noqa: ANN001
    if signal == "memory":
        remembered = len(index.reranker.memory)
        return (f"its re-scorer remembers only {remembered} questions, too few to calibrate on"
                if remembered < MIN_CALIBRATION_QUESTIONS else
                "its re-scorer was trained by a version that did not calibrate: `gorilla-rag train reranker` does")
    if signal == "task questions":
        return f"only {len(index.task_memory)} of our task questions fit this corpus, too few to calibrate on"
    from gorilla_rag.retrieval.task_memory import served_task_questions

    if served_task_questions(index.docs):  # an older version gave a fine-tuned query encoder no task questions
        return "built by a version that gave this encoder no task questions: `index build` adds them and calibrates"
    return "the corpus does none of the tasks our questions ask, so there was nothing to calibrate on"
