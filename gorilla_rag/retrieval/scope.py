"""What an index serves: the abstention signal and threshold, and requests for tasks its corpus lacks.

A mixin of retrieval/index.py's Index (it reads the index's dense retriever, memories and calibrations).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gorilla_rag.retrieval.abstention import DEFAULT_THRESHOLDS, TASK_DOC_MARGIN, Calibration, calibration_in_effect
from gorilla_rag.retrieval.constraints import Filters
from gorilla_rag.retrieval.unserved_tasks import UnservedTask, asks_unserved_task, task_closeness

if TYPE_CHECKING:
    from gorilla_rag.retrieval.dense import DenseRetriever
    from gorilla_rag.retrieval.memory import QuestionMemory
    from gorilla_rag.retrieval.rerank import Reranker

DOC_MARGIN = 0.075  # with a memory, a doc cosine counts this much less than a question cosine (bench_abstention)


class IndexScope:
    """best_similarity, abstention_threshold and unserved_task of an Index, which sets these attributes."""

    dense: DenseRetriever
    reranker: Reranker | None
    task_memory: QuestionMemory | None
    unserved_memory: QuestionMemory | None

    def best_similarity(self, question: str, filters: Filters | None = None) -> float:
        """How close the question is to what this index serves: the abstention signal, whatever the ranker.

        With a trained memory: max(mean cosine of the 5 nearest remembered questions, cosine of the closest doc
        the filters allow - DOC_MARGIN, and how near the question is to our task questions of one task the corpus
        serves: unserved_tasks.task_closeness): a strong doc match still counts, for APIs no question mentions, and
        so does a plainly worded request for a task APIBench's questions rarely ask about. Without
        one, the same over our task questions (task_memory.py, TASK_DOC_MARGIN); an older index: the doc cosine.
        A memory is asked without the filters: which APIs may answer is the filters' business, not scope's."""
        found = self.dense.search(question, 1, self.mask(filters))
        best = found[0][1] if found else -1.0
        memory, margin = ((self.reranker.memory, DOC_MARGIN) if self.has_memory
                          else (self.task_memory, TASK_DOC_MARGIN))
        if memory is not None:
            query = self.dense.query_vector(question)
            best = max(best - margin, memory.scope_similarity(query))
            if self.has_memory and self.task_memory is not None:  # plainly worded requests for tasks it serves
                best = max(best, float(task_closeness(self.task_memory, query)[1][0]))
        return best

    def unserved_task(self, question: str) -> UnservedTask | None:
        """The task the question asks for when it is one no doc of the corpus does (unserved_tasks.py); None."""
        if self.unserved_memory is None:
            return None
        return asks_unserved_task(self.dense.query_vector(question), self.task_memory, self.unserved_memory)

    @property
    def abstention_signal(self) -> str:
        """Which signal best_similarity reads: "memory" (trained), "task questions" or "closest doc"."""
        if self.has_memory:
            return "memory"
        return "task questions" if self.task_memory is not None else "closest doc"

    @property
    def abstention_calibration(self) -> Calibration | None:
        """What sets abstention_threshold (abstention.calibration_in_effect); None: the default for the signal."""
        return calibration_in_effect(self)

    @property
    def abstention_threshold(self) -> float:
        """Below this best_similarity a question is out of scope."""
        calibration = self.abstention_calibration
        return calibration.threshold if calibration else DEFAULT_THRESHOLDS[self.abstention_signal]

    @property
    def has_memory(self) -> bool:
        """Whether a trained re-scorer with remembered training questions is attached."""
        return self.reranker is not None and len(self.reranker.memory) > 0
