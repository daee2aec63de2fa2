"""Sparse lexical retrieval with bm25s over the stemmed whole-doc text."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gorilla_rag.retrieval.text import bm25_text, tokenize
from gorilla_rag.types import ApiDoc


class Bm25Retriever:
    """BM25 (Lucene variant) over `bm25_text(doc)`; scores every doc, so any filter mask applies exactly."""

    name = "bm25"

    def __init__(self, engine) -> None:  # noqa: ANN001 - a bm25s.BM25, imported lazily
        self._engine = engine

    @classmethod
    def build(cls, docs: list[ApiDoc], show_progress: bool = False) -> Bm25Retriever:
        import bm25s

        engine = bm25s.BM25()
        engine.index([tokenize(bm25_text(doc)) or ["∅"] for doc in docs], show_progress=show_progress)
        return cls(engine)

    def save(self, folder: Path) -> None:
        self._engine.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> Bm25Retriever:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every doc, in index order (zeros when no query word is in the vocabulary)."""
        tokens = [t for t in tokenize(question) if t in self._engine.vocab_dict]
        if not tokens:
            return np.zeros(self._engine.scores["num_docs"], dtype=np.float32)
        return self._engine.get_scores(tokens)

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
