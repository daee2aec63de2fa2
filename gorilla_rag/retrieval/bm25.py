"""Sparse lexical retrieval with bm25s over the stemmed whole-doc text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gorilla_rag.retrieval.text import bm25_text, tokenize
from gorilla_rag.types import ApiDoc

PLAIN = "plain"  # the sub-folder of the engine over the docs without their task words


class Bm25Retriever:
    """BM25 (Lucene variant) over `bm25_text(doc)`; scores every doc, so any filter mask applies exactly.

    Two engines: the one that retrieves reads each doc with its task words (retrieval/task_words.py); the plain
    one, over the docs alone, gives the learned re-scorer its BM25 features: fitted on those, it ranks held-out
    APIBench questions better (micro strict@1 32.7 vs 31.7 with task-word features, in a one-off comparison that
    refitted the re-scorer both ways on the train split; not a bench script), while for BM25 and hybrid
    retrieval the task words help plainly worded questions (docs/benchmarks.md, "Task words").
    """

    name = "bm25"

    def __init__(self, engine, plain) -> None:  # noqa: ANN001 - bm25s.BM25 engines, imported lazily
        self._engine = engine
        self._plain = plain

    @classmethod
    def build(cls, docs: list[ApiDoc], show_progress: bool = False) -> Bm25Retriever:
        import bm25s

        engines = []
        for with_task_words in (True, False):
            engine = bm25s.BM25()
            engine.index([tokenize(bm25_text(doc, with_task_words)) or ["∅"] for doc in docs],
                         show_progress=show_progress)
            engines.append(engine)
        return cls(*engines)

    def save(self, folder: Path) -> None:
        self._engine.save(str(folder), show_progress=False)
        self._plain.save(str(folder / PLAIN), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> Bm25Retriever:
        import bm25s

        if not (folder / PLAIN).is_dir():
            raise FileNotFoundError(f"{folder / PLAIN} is missing")
        return cls(*(bm25s.BM25.load(str(path), show_progress=False, verbosity=0) for path in (folder, folder / PLAIN)))

    def scores(self, question: str, plain: bool = False) -> np.ndarray:
        """BM25 score of every doc, in index order (zeros when no query word is in the vocabulary); `plain`:
        scored over the docs without their task words (the re-scorer's features)."""
        engine = self._plain if plain else self._engine
        tokens = [t for t in tokenize(question) if t in engine.vocab_dict]
        if not tokens:
            return np.zeros(engine.scores["num_docs"], dtype=np.float32)
        return engine.get_scores(tokens)

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The k best (doc position, score) pairs among docs allowed by `mask`, best first."""
        return top_k(self.scores(question), k, mask)


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
    """Positions of the k highest scores (ties broken by position, so results are deterministic)."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = sorted(candidates.tolist(), key=lambda i: (-scores[i], i))
    return [(i, float(scores[i])) for i in order]
