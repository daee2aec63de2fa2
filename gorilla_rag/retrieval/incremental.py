"""Update an index for a new version of its corpus, re-embedding only the docs whose dense text changed.

What "stable" means for FAISS ids: the dense index's ids are doc positions (`docs.jsonl` order), so a doc keeps
its id exactly when it keeps its position. The new order keeps every surviving doc where it was; added docs
first fill the slots of removed ones, then go at the end; when more docs were removed than added, the last docs
move into the remaining holes (swap-remove). So across an update an unchanged doc keeps its id unless it was
one of those few moved tail docs (`UpdateStats.moved` counts them).

Vectors are reused by dense text, not by content hash: a doc whose hash changed in a field the embedder does not
read (say a HF model's `sha`) keeps its vector. BM25 is rebuilt (it is cheap); the folder written is a whole
index in `Index.load`'s format, with the manifest keys of `Index.build` plus `update`; the embedders and a shipped
re-scorer carry over from the previous index.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from gorilla_rag.corpus.store import fingerprint
from gorilla_rag.retrieval.abstention import TASK_DOC_MARGIN, calibration_if_needed
from gorilla_rag.retrieval.bm25 import Bm25Retriever
from gorilla_rag.retrieval.dense import DenseRetriever
from gorilla_rag.retrieval.index import DOC_MARGIN, RERANKER_FILE, Index
from gorilla_rag.retrieval.memory import QuestionMemory
from gorilla_rag.retrieval.task_memory import write_task_memory
from gorilla_rag.retrieval.text import dense_text
from gorilla_rag.retrieval.unserved_tasks import write_unserved_memory
from gorilla_rag.types import ApiDoc


@dataclass(frozen=True, slots=True)
class UpdateStats:
    """What an update did: docs in the new index, embedded anew, vectors reused, removed, and moved (new id)."""

    count: int
    embedded: int
    reused: int
    removed: int
    moved: int
    full: bool  # no usable previous index: everything was embedded (a plain build)


def stable_order(old: list[ApiDoc], new: list[ApiDoc]) -> tuple[list[ApiDoc], int]:
    """`new` in an order that keeps each surviving doc at its old position where possible; also returns how many
    surviving docs had to move."""
    by_id = {d.id: d for d in new}
    slots: list[ApiDoc | None] = [by_id.get(d.id) for d in old]
    old_ids = {d.id for d in old}
    added = [d for d in new if d.id not in old_ids]
    holes = [i for i, d in enumerate(slots) if d is None]
    for hole, doc in zip(holes, added):
        slots[hole] = doc
    slots += added[len(holes):]
    moved = 0
    for hole in holes[len(added):]:
        while slots and slots[-1] is None:
            slots.pop()
        if hole >= len(slots):
            break
        slots[hole] = slots.pop()
        moved += 1
    return [d for d in slots if d is not None], moved


def update_index(docs: list[ApiDoc], folder: str | Path, previous: Index, corpus_path: str | Path | None = None,
                 show_progress: bool = False) -> UpdateStats:
    """Write an index of `docs` into `folder` (which must not exist yet), reusing `previous`'s vectors.

    The embedders (document and query side) and a shipped re-scorer carry over from `previous`. The caller swaps
    `folder` in; without a previous index, build one with `Index.build` / `indexing.build_index`.
    """
    folder = Path(folder)
    ordered, moved = stable_order(previous.docs, docs)
    old_position = {dense_text(d): i for i, d in enumerate(previous.docs)}
    texts = [dense_text(d) for d in ordered]
    reuse = [(i, old_position[t]) for i, t in enumerate(texts) if t in old_position]
    fresh = [i for i, t in enumerate(texts) if t not in old_position]
    dimension = previous.dense.dimension
    vectors = np.zeros((len(ordered), dimension), dtype=np.float32)
    if reuse:
        vectors[[i for i, _ in reuse]] = previous.dense.vectors_for([p for _, p in reuse])
    if fresh:
        vectors[fresh] = previous.dense.embedder.embed([texts[i] for i in fresh], show_progress=show_progress)

    import faiss

    folder.mkdir(parents=True)
    engine = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    engine.add_with_ids(vectors, np.arange(len(ordered), dtype=np.int64))
    dense = DenseRetriever(engine, previous.dense.embedder, previous.dense.query_embedder)
    dense.save(folder)
    Bm25Retriever.build(ordered, show_progress=show_progress).save(folder / "bm25")
    with open(folder / "docs.jsonl", "w", encoding="utf-8") as handle:
        for doc in ordered:
            handle.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
    # which of our task questions the corpus serves may change with its docs
    task_memory = write_task_memory(ordered, previous.dense.query_embedder, folder)
    unserved = write_unserved_memory(ordered, previous.dense.query_embedder, folder)
    calibration = calibration_if_needed(task_memory, dense, TASK_DOC_MARGIN)
    if (previous.folder / RERANKER_FILE).is_file():  # it scores retrieval features, not particular docs
        copy_reranker(previous.folder / RERANKER_FILE, folder / RERANKER_FILE, dense, task_memory)
    stats = UpdateStats(len(ordered), len(fresh), len(reuse), len({d.id for d in previous.docs} - {d.id for d in docs}),
                        moved, full=False)
    from gorilla_rag import __version__

    # Same keys as Index.build (kind, versions, embedder and retrievers carry over: they were checked on load).
    digest = fingerprint(ordered)
    manifest = {
        **previous.manifest, "package_version": __version__,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "count": len(ordered), "fingerprint": digest,
        "sources": {s: sum(d.source == s for d in ordered) for s in sorted({d.source for d in ordered})},
        "corpus": {"path": str(corpus_path) if corpus_path else None, "fingerprint": digest},
        "task_memory": len(task_memory) if task_memory is not None else 0,
        "unserved_task_questions": len(unserved) if unserved is not None else 0,
        "update": {"from_fingerprint": previous.manifest.get("fingerprint"), **asdict(stats)},
    }
    manifest.pop("task_calibration", None)  # as Index.build writes it: only where one was made
    if calibration is not None:
        manifest["task_calibration"] = calibration.to_dict()
    # Written last, as Index.build does: a folder without it is never mistaken for a whole index.
    (folder / "index.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return stats


def copy_reranker(source: Path, target: Path, dense: DenseRetriever, tasks: QuestionMemory | None = None) -> None:
    """Copy a trained re-scorer into the updated index; a memory threshold calibrated for its encoder is made again
    against the new docs (half of the signal is the closest doc's cosine)."""
    data = json.loads(source.read_text(encoding="utf-8"))
    if data.get("abstention_calibration") is None or not data.get("memory"):
        shutil.copyfile(source, target)
        return
    calibration = calibration_if_needed(QuestionMemory.from_dict(data["memory"]), dense, DOC_MARGIN, tasks)
    data["abstention_calibration"] = calibration.to_dict() if calibration is not None else None
    target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
