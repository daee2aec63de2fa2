"""Self-describing index folders: build, load (refusing mismatches), and search by retriever name."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any

from gorilla_rag.corpus.store import fingerprint, new_staging, swap_in
from gorilla_rag.errors import IndexLoadError
from gorilla_rag.retrieval.abstention import (
    TASK_DOC_MARGIN,
    Calibration,
    calibration_if_needed,
)
from gorilla_rag.retrieval.bm25 import Bm25Retriever
from gorilla_rag.retrieval.constraints import Filters
from gorilla_rag.retrieval.dense import DenseRetriever
from gorilla_rag.retrieval.embedder import Embedder
from gorilla_rag.retrieval.hybrid import HybridRetriever
from gorilla_rag.retrieval.index_files import (
    FORMAT_VERSION,
    KIND,
    TEXT_VERSION,
    build_option,
    read_docs,
    read_index_manifest,
    rebuild_hint,
)
from gorilla_rag.retrieval.languages import prefer_direction
from gorilla_rag.retrieval.rerank import RERANKER_FILE
from gorilla_rag.retrieval.scope import DOC_MARGIN, IndexScope
from gorilla_rag.retrieval.task_direction import prefer_asked_task
from gorilla_rag.retrieval.task_memory import build_task_memory, load_task_memory, write_task_memory
from gorilla_rag.retrieval.unserved_tasks import build_unserved_memory, load_unserved_memory, write_unserved_memory
from gorilla_rag.types import ApiDoc, Hit

RETRIEVERS = ("bm25", "dense", "hybrid", "rerank")
__all__ = ["DOC_MARGIN", "RETRIEVERS", "Index"]  # DOC_MARGIN: scope.py's, read from here by training and benches


class Index(IndexScope):
    """An index folder: `index.json` (the manifest), `docs.jsonl` in index order, `bm25/`, `dense.faiss`."""

    def __init__(self, folder: Path, manifest: dict[str, Any], docs: list[ApiDoc],
                 bm25: Bm25Retriever, dense: DenseRetriever) -> None:
        self.folder = folder
        self.manifest = manifest
        self.docs = docs
        self.bm25 = bm25
        self.dense = dense
        self.hybrid = HybridRetriever([bm25, dense])
        self.reranker = None  # a learned re-scorer (rerank.Reranker) when the folder holds one
        self.task_memory = None  # our task-labelled questions the corpus serves (task_memory.py), when built
        self.unserved_memory = None  # those of the tasks it lacks (unserved_tasks.py)
        self.task_calibration: Calibration | None = None  # its threshold, for encoders the default was not made for
        self.user_calibration: Calibration | None = None  # a threshold saved by `eval abstention --save`
        self._verifier = None
        self._masks: dict[Filters, object] = {}

    @property
    def verifier(self):  # noqa: ANN201 - a gorilla_rag.verify.Verifier over this index's docs, made on first use
        if self._verifier is None:
            from gorilla_rag.verify import Verifier

            self._verifier = Verifier(self.docs)
        return self._verifier

    def api_key(self, doc: ApiDoc) -> str:
        """What makes a doc that API (the verifier's identity); records of one API share it."""
        return self.verifier.key_of(doc) or doc.id

    def mask(self, filters: Filters | None):  # noqa: ANN201 - np.ndarray | None
        """The docs `filters` allow, as a boolean mask (None: all); cached, since a few filters recur."""
        if filters is None or filters.empty:
            return None
        if filters not in self._masks:
            if len(self._masks) >= 256:
                self._masks.pop(next(iter(self._masks)))
            self._masks[filters] = filters.mask(self.docs)
        return self._masks[filters]

    # -- building -----------------------------------------------------------------------------------
    @classmethod
    def build(cls, docs: list[ApiDoc], folder: str | Path, embedder: Embedder | None = None,
              corpus_path: str | Path | None = None, show_progress: bool = False,
              query_embedder: Embedder | None = None, reranker: Path | None = None) -> Index:
        """Index `docs` into `folder`, written beside the old one and swapped in atomically.

        `reranker`: a trained re-scorer (reranker.json) to ship inside the index; it must match `query_embedder`.
        """
        folder = Path(folder)
        embedder = embedder or Embedder()
        staging = new_staging(folder)
        try:
            bm25 = Bm25Retriever.build(docs, show_progress=show_progress)
            bm25.save(staging / "bm25")
            dense = DenseRetriever.build(docs, embedder, show_progress=show_progress)
            dense.query_embedder = query_embedder or Embedder(embedder.name, embedder.device, precision="auto")
            dense.save(staging)
            task_memory = write_task_memory(docs, dense.query_embedder, staging)
            unserved = write_unserved_memory(docs, dense.query_embedder, staging)
            calibration = calibration_if_needed(task_memory, dense, TASK_DOC_MARGIN)
            with open(staging / "docs.jsonl", "w", encoding="utf-8") as handle:
                for doc in docs:
                    handle.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
            from gorilla_rag import __version__

            manifest = {
                "kind": KIND, "format_version": FORMAT_VERSION, "text_version": TEXT_VERSION,
                "package_version": __version__, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "count": len(docs), "fingerprint": fingerprint(docs),
                "sources": {s: sum(d.source == s for d in docs) for s in sorted({d.source for d in docs})},
                "corpus": {"path": str(corpus_path) if corpus_path else None, "fingerprint": fingerprint(docs)},
                "embedder": {"name": embedder.name, "dimension": dense.dimension,
                             "query_encoder": query_embedder.name if query_embedder else None},
                "retrievers": list(RETRIEVERS) if reranker is not None else list(RETRIEVERS[:-1]),
                "task_memory": len(task_memory) if task_memory is not None else 0,
                "unserved_task_questions": len(unserved) if unserved is not None else 0,
                **({"task_calibration": calibration.to_dict()} if calibration is not None else {}),
            }
            # The manifest is written last: a folder without it is never mistaken for a whole index.
            if reranker is not None:
                shutil.copyfile(reranker, staging / RERANKER_FILE)
            (staging / "index.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            swap_in(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        index = cls(folder, manifest, docs, bm25, dense)
        index.task_memory, index.task_calibration, index.unserved_memory = task_memory, calibration, unserved
        if reranker is not None:
            index.attach_reranker(folder / RERANKER_FILE)
        return index

    # -- loading ------------------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: str | Path, embedder: Embedder | None = None, with_reranker: bool = True) -> Index:
        """Open an index; refuse (IndexLoadError naming the fix) a missing, partial, corrupt or foreign one.
        `with_reranker=False` leaves its trained re-scorer unread (`train reranker` replaces it)."""
        folder = Path(folder)
        manifest = read_index_manifest(folder)
        expected = manifest["embedder"]["name"]
        if embedder is not None and embedder.name != expected:
            raise IndexLoadError(
                f"index {folder} was built with embedder {expected!r}, not {embedder.name!r}: "
                f"use --embedder {expected} or {rebuild_hint(folder)} --embedder {embedder.name}")
        docs = read_docs(folder, manifest)
        try:
            bm25 = Bm25Retriever.load(folder / "bm25")
            query_name = manifest["embedder"].get("query_encoder")
            # questions are read at the precision this CPU does best (bf16 where native: same answers, faster)
            dense = DenseRetriever.load(folder, embedder or Embedder(expected),
                                        Embedder(query_name or expected, precision="auto"))
            task_memory = load_task_memory(folder, manifest, dense.query_embedder, dense.dimension)
            unserved = load_unserved_memory(folder, manifest, dense.query_embedder, dense.dimension)
            calibration, user = (Calibration.from_dict(manifest[key]) if manifest.get(key) is not None else None
                                 for key in ("task_calibration", "user_calibration"))
            if calibration is None:  # built before calibration existed: as cheap to make as to read
                calibration = calibration_if_needed(task_memory, dense, TASK_DOC_MARGIN)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise IndexLoadError(f"index {folder} is corrupt ({exc}); {rebuild_hint(folder)}") from exc
        if len(dense) != len(docs) or dense.dimension != manifest["embedder"]["dimension"]:
            raise IndexLoadError(f"index {folder}: dense part does not match its docs; {rebuild_hint(folder)}")
        index = cls(folder, manifest, docs, bm25, dense)
        index.task_memory, index.task_calibration, index.user_calibration = task_memory, calibration, user
        index.unserved_memory = unserved
        if with_reranker and (folder / RERANKER_FILE).is_file():
            try:
                index.attach_reranker(folder / RERANKER_FILE)
            except (OSError, ValueError, KeyError) as exc:
                raise IndexLoadError(f"index {folder} has an unusable re-scorer ({exc}): retrain it with `gorilla-rag "
                                     f"train reranker{build_option(folder, '--index')}`, or delete "
                                     f"{folder / RERANKER_FILE} to answer without it") from exc
        return index

    # -- searching ----------------------------------------------------------------------------------
    def retriever(self, name: str):  # noqa: ANN201 - one of the retriever classes, all with `search`
        """The retriever registered under `name` (one of RETRIEVERS; 'rerank' needs a trained reranker)."""
        table = {"bm25": self.bm25, "dense": self.dense, "hybrid": self.hybrid, "rerank": self.reranker}
        if name not in table:
            raise ValueError(f"unknown retriever {name!r}: choose one of {', '.join(RETRIEVERS)}")
        if table[name] is None:
            raise ValueError(f"index {self.folder} has no reranker: train one with `gorilla-rag train reranker`")
        return table[name]

    @property
    def default_retriever(self) -> str:
        """The best stack this index has: the learned re-scorer when trained, else hybrid fusion."""
        return "rerank" if self.reranker is not None else "hybrid"

    def use_query_encoder(self, embedder: Embedder) -> None:
        """Read questions with another encoder from now on (ablations: not while other threads ask); the task
        memory is re-encoded with it, so both sides of its cosine come from one model, and its threshold recalibrated."""
        memory = build_task_memory(self.docs, embedder) if "task_memory" in self.manifest else None
        if "unserved_task_questions" in self.manifest:
            self.unserved_memory = build_unserved_memory(self.docs, embedder)
        self.dense.use_query_encoder(embedder)
        self.task_memory, self.task_calibration = memory, calibration_if_needed(memory, self.dense, TASK_DOC_MARGIN)

    def attach_reranker(self, path: Path) -> None:
        """Use the re-scorer saved at `path` (it must have been trained with this index's query encoder)."""
        from gorilla_rag.retrieval.rerank import Reranker

        self.reranker = Reranker.load(self, path)

    def search(self, question: str, k: int = 5, retriever: str | None = None,
               filters: Filters | None = None, distinct: bool = True) -> list[Hit]:
        """The k docs most relevant to the question, best first, among those the filters allow.

        With `distinct`, records of one API (the same call under several names, hub.load vs hub.KerasLayer of
        one handle) count once: each API is represented by its best-ranked record, so k hits are k APIs.
        """
        mask = self.mask(filters)
        engine = self.retriever(retriever or self.default_retriever)
        depth = max(k * 8, 50) if distinct else k
        hits = self._ranked(engine, question, depth, mask, wider=False)
        if not distinct:
            return hits
        out = self.distinct_apis(hits, k)
        allowed = len(self.docs) if mask is None else int(mask.sum())
        # the re-scorer ranks only its candidate pool, whatever the depth: it has seen everything only once widened
        seen_all = depth >= allowed and engine is not self.reranker
        while len(out) < k and not seen_all:  # the records fetched hold too few APIs (TF Hub: 221 USE records)
            depth = depth * 4 if depth < allowed else depth
            out = self._extend(out, self._ranked(engine, question, depth, mask, wider=True), k)
            seen_all = depth >= allowed
        return out

    def _ranked(self, engine, question: str, depth: int, mask, wider: bool) -> list[Hit]:  # noqa: ANN001
        """`depth` records from `engine`, reordered by the direction and task rules. `wider`: a retry for a long
        list, where the re-scorer also widens its candidate pool (it only ranks its candidates). A question unlike
        every one the re-scorer remembers is ranked by the hybrid: there the memory's votes are noise."""
        if engine is self.reranker and not engine.knows_questions_like(self.dense.query_vector(question)):
            engine = self.hybrid
        if isinstance(engine, HybridRetriever):
            hits = [Hit(self.docs[p], score, ranks) for p, score, ranks in engine.search_with_ranks(question, depth, mask)]
        else:
            extra = {"pool": depth} if wider and engine is self.reranker else {}
            hits = [Hit(self.docs[p], score, {engine.name: rank})
                    for rank, (p, score) in enumerate(engine.search(question, depth, mask, **extra), start=1)]
        hits = prefer_direction(question, hits)  # "English to French" never answered by a fr→en model
        return prefer_asked_task(question, hits)  # "caption my photos" never answered first by a text-to-image model

    def _extend(self, first: list[Hit], wider: list[Hit], k: int) -> list[Hit]:
        """`first` as it was, then the APIs only the wider search found, up to k: a long list begins with what a
        short one answers. One scored above a hit before it says so."""
        lowest = min((hit.score for hit in first), default=float("inf"))
        seen = {self.api_key(hit.doc) for hit in first}
        later = [hit if hit.moved_down or hit.score <= lowest else
                 dataclasses.replace(hit, moved_down="found by a wider search, after the first results")
                 for hit in self.distinct_apis([h for h in wider if self.api_key(h.doc) not in seen], k - len(first))]
        return first + later

    def distinct_apis(self, hits: list[Hit], k: int) -> list[Hit]:
        """The first k hits with distinct API keys (ties between records of one API: the best-ranked wins)."""
        seen: set[str] = set()
        out = []
        for hit in hits:
            key = self.api_key(hit.doc)
            if key not in seen:
                seen.add(key)
                out.append(hit)
                if len(out) == k:
                    break
        return out
