"""Self-describing index folders: build, load (refusing mismatches), and search by retriever name."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from gorilla_rag.corpus.store import fingerprint, new_staging, swap_in
from gorilla_rag.errors import IndexLoadError
from gorilla_rag.retrieval.bm25 import Bm25Retriever
from gorilla_rag.retrieval.constraints import Filters
from gorilla_rag.retrieval.dense import DenseRetriever
from gorilla_rag.retrieval.embedder import Embedder
from gorilla_rag.retrieval.hybrid import HybridRetriever
from gorilla_rag.types import ApiDoc, Hit

KIND = "gorilla-rag-index"
FORMAT_VERSION = 1
TEXT_VERSION = 1  # bump when text.bm25_text/dense_text change: old indexes then read as stale
RETRIEVERS = ("bm25", "dense", "hybrid")


def _rebuild_hint(folder: Path) -> str:
    return f"rebuild it with `gorilla-rag index build --name {folder.name}`"


class Index:
    """An index folder: `index.json` (the manifest), `docs.jsonl` in index order, `bm25/`, `dense.faiss`."""

    def __init__(self, folder: Path, manifest: dict[str, Any], docs: list[ApiDoc],
                 bm25: Bm25Retriever, dense: DenseRetriever) -> None:
        self.folder = folder
        self.manifest = manifest
        self.docs = docs
        self.bm25 = bm25
        self.dense = dense
        self.hybrid = HybridRetriever([bm25, dense])
        self._positions = {doc.id: i for i, doc in enumerate(docs)}

    def similarity(self, question: str, doc: ApiDoc) -> float:
        """Cosine similarity of the question to one indexed doc (the abstention signal)."""
        return self.dense.similarity(question, self._positions[doc.id])

    # -- building -----------------------------------------------------------------------------------
    @classmethod
    def build(cls, docs: list[ApiDoc], folder: str | Path, embedder: Embedder | None = None,
              corpus_path: str | Path | None = None, show_progress: bool = False) -> Index:
        """Index `docs` into `folder`, written beside the old one and swapped in atomically."""
        folder = Path(folder)
        embedder = embedder or Embedder()
        staging = new_staging(folder)
        try:
            bm25 = Bm25Retriever.build(docs, show_progress=show_progress)
            bm25.save(staging / "bm25")
            dense = DenseRetriever.build(docs, embedder, show_progress=show_progress)
            dense.save(staging)
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
                "embedder": {"name": embedder.name, "dimension": dense.dimension},
                "retrievers": list(RETRIEVERS),
            }
            # The manifest is written last: a folder without it is never mistaken for a whole index.
            (staging / "index.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            swap_in(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return cls(folder, manifest, docs, bm25, dense)

    # -- loading ------------------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: str | Path, embedder: Embedder | None = None) -> Index:
        """Open an index; refuse (IndexLoadError naming the fix) a missing, partial, corrupt or foreign one."""
        folder = Path(folder)
        manifest = read_index_manifest(folder)
        expected = manifest["embedder"]["name"]
        if embedder is not None and embedder.name != expected:
            raise IndexLoadError(
                f"index {folder} was built with embedder {expected!r}, not {embedder.name!r}: "
                f"use --embedder {expected} or {_rebuild_hint(folder)} --embedder {embedder.name}")
        docs = _read_docs(folder, manifest)
        try:
            bm25 = Bm25Retriever.load(folder / "bm25")
            dense = DenseRetriever.load(folder, embedder or Embedder(expected))
        except (OSError, RuntimeError, ValueError, KeyError) as exc:
            raise IndexLoadError(f"index {folder} is corrupt ({exc}); {_rebuild_hint(folder)}") from exc
        if len(dense) != len(docs) or dense.dimension != manifest["embedder"]["dimension"]:
            raise IndexLoadError(f"index {folder}: dense part does not match its docs; {_rebuild_hint(folder)}")
        return cls(folder, manifest, docs, bm25, dense)

    # -- searching ----------------------------------------------------------------------------------
    def retriever(self, name: str) -> Bm25Retriever | DenseRetriever | HybridRetriever:
        """The retriever registered under `name` (one of RETRIEVERS)."""
        table = {"bm25": self.bm25, "dense": self.dense, "hybrid": self.hybrid}
        if name not in table:
            raise ValueError(f"unknown retriever {name!r}: choose one of {', '.join(RETRIEVERS)}")
        return table[name]

    def search(self, question: str, k: int = 5, retriever: str = "hybrid",
               filters: Filters | None = None) -> list[Hit]:
        """The k docs most relevant to the question, best first, among those the filters allow."""
        mask = filters.mask(self.docs) if filters else None
        engine = self.retriever(retriever)
        if isinstance(engine, HybridRetriever):
            found = engine.search_with_ranks(question, k, mask)
            return [Hit(self.docs[p], score, ranks) for p, score, ranks in found]
        return [Hit(self.docs[p], score, {engine.name: rank})
                for rank, (p, score) in enumerate(engine.search(question, k, mask), start=1)]


def read_index_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an index folder, checked for kind and versions."""
    path = folder / "index.json"
    if not folder.is_dir():
        raise IndexLoadError(f"no index at {folder}: build one with `gorilla-rag index build`")
    if not path.is_file():
        raise IndexLoadError(f"index {folder} is incomplete (no index.json; a build was interrupted?); "
                             f"{_rebuild_hint(folder)}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexLoadError(f"index {folder} has an unreadable index.json ({exc}); {_rebuild_hint(folder)}") from exc
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise IndexLoadError(f"{folder} is not a gorilla-rag index; {_rebuild_hint(folder)}")
    for key, current in (("format_version", FORMAT_VERSION), ("text_version", TEXT_VERSION)):
        if manifest.get(key) != current:
            raise IndexLoadError(f"index {folder} has {key} {manifest.get(key)}, this version reads {current}; "
                                 f"{_rebuild_hint(folder)}")
    return manifest


def _read_docs(folder: Path, manifest: dict[str, Any]) -> list[ApiDoc]:
    try:
        with open(folder / "docs.jsonl", encoding="utf-8") as handle:
            docs = [ApiDoc.from_dict({**json.loads(line), "content_hash": ""}) for line in handle if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise IndexLoadError(f"index {folder} has unreadable docs ({exc}); {_rebuild_hint(folder)}") from exc
    if len(docs) != manifest.get("count") or fingerprint(docs) != manifest.get("fingerprint"):
        raise IndexLoadError(f"index {folder}: docs.jsonl does not match index.json (corrupt?); "
                             f"{_rebuild_hint(folder)}")
    return docs
