"""Dense retrieval: normalised embeddings in a FAISS inner-product index with stable int64 ids."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from gorilla_rag.retrieval.embedder import Embedder
from gorilla_rag.retrieval.text import dense_text
from gorilla_rag.types import ApiDoc

FAISS_FILE = "dense.faiss"
_faiss_threads = threading.local()


def _faiss_single_thread() -> None:
    """One OpenMP thread for FAISS searches made by the calling thread (override: $GORILLA_RAG_FAISS_THREADS).

    One query against a flat index is memory-bound and takes microseconds at APIBench size (~14 ms at 100k docs);
    FAISS's idle OpenMP workers, though, keep spinning after each search and slow the next query encoding by
    torch on the same cores: warm hybrid search went from 19.9 to 13.6 ms p50 on 2 cores with this set.
    OpenMP keeps this setting per thread, so each thread that searches (a server's request threads) sets it once.
    """
    if not getattr(_faiss_threads, "set", False):
        import faiss

        faiss.omp_set_num_threads(int(os.environ.get("GORILLA_RAG_FAISS_THREADS", "1")))
        _faiss_threads.set = True


class DenseRetriever:
    """FAISS `IndexIDMap2(IndexFlatIP)` over `dense_text(doc)`; ids are doc positions in the index."""

    name = "dense"

    def __init__(self, index, embedder: Embedder, query_embedder: Embedder | None = None) -> None:  # noqa: ANN001
        self._index = index  # a faiss index, imported lazily
        self.embedder = embedder
        # A fine-tuned query encoder reads questions into the same space as the fixed document vectors.
        self.query_embedder = query_embedder or embedder
        self._recent: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @classmethod
    def build(cls, docs: list[ApiDoc], embedder: Embedder, show_progress: bool = False) -> DenseRetriever:
        import faiss

        vectors = embedder.embed([dense_text(d) for d in docs], show_progress=show_progress)
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(embedder.dimension))
        if len(docs):
            index.add_with_ids(vectors, np.arange(len(docs), dtype=np.int64))
        return cls(index, embedder)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def save(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(folder / FAISS_FILE))

    @classmethod
    def load(cls, folder: Path, embedder: Embedder, query_embedder: Embedder | None = None) -> DenseRetriever:
        import faiss

        return cls(faiss.read_index(str(folder / FAISS_FILE)), embedder, query_embedder)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def use_query_encoder(self, embedder: Embedder) -> None:
        """Read questions with another encoder from now on (e.g. the base model, for an ablation)."""
        with self._lock:
            self.query_embedder = embedder
            self._recent.clear()

    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding; the last few are cached (retrieval and abstention both need it).

        Thread-safe: servers call this from many threads; the lock guards the cache, not the (slow) encoding.
        """
        with self._lock:
            cached = self._recent.get(question)
        if cached is None:
            cached = self.query_embedder.embed_one(question)
            with self._lock:
                while len(self._recent) >= 64:
                    self._recent.pop(next(iter(self._recent)))
                self._recent[question] = cached
        return cached

    def vectors_for(self, positions: list[int] | np.ndarray) -> np.ndarray:
        """The stored unit vectors of the docs at these positions, float32 (len(positions), dimension)."""
        return self._index.reconstruct_batch(np.asarray(positions, dtype=np.int64)).reshape(-1, self.dimension)

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The k nearest (doc position, cosine) pairs among docs allowed by `mask`, best first."""
        return self.search_vector(self.query_vector(question), k, mask)

    def search_vector(self, vector: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        import faiss

        params = None
        if mask is not None:
            allowed = np.flatnonzero(mask).astype(np.int64)
            if not len(allowed):
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
            k = min(k, len(allowed))
        k = min(k, len(self))
        if k <= 0:
            return []
        _faiss_single_thread()
        scores, ids = self._index.search(vector.reshape(1, -1).astype(np.float32), k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def closest_cosines(self, vectors: np.ndarray) -> np.ndarray:
        """Per row of `vectors` (unit query vectors), the cosine of the closest doc (-1 for an empty index)."""
        if not len(self) or not len(vectors):
            return np.full(len(vectors), -1.0)
        _faiss_single_thread()
        scores, _ = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
        return scores[:, 0].astype(np.float64)
