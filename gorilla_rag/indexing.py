"""Build and open a home's indexes, keeping them in step with the home's corpus."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gorilla_rag import settings
from gorilla_rag.corpus.store import fingerprint, read_corpus, read_manifest

if TYPE_CHECKING:
    from gorilla_rag.types import ApiDoc


def resolve_index_folder(home: str | Path | None = None, index: str | Path | None = None) -> Path:
    """`index` as a folder path if it is one, else the name of an index under the home's indexes/."""
    if index is not None and (Path(index).is_dir() or "/" in str(index)):
        return Path(index)
    return settings.paths(home).index(str(index or settings.DEFAULT_INDEX))


def corpus_fingerprint(corpus: Path) -> str:
    """From the corpus manifest when it has one (cheap), else by reading the docs."""
    manifest = read_manifest(corpus) if corpus.is_dir() else {}
    return manifest.get("fingerprint") or fingerprint(read_corpus(corpus))


def build_index(home: str | Path | None = None, name: str | Path | None = None, corpus: str | Path | None = None,
                embedder: str | None = None, show_progress: bool = False, query_encoder: str | None = None):  # noqa: ANN201
    """Build (or rebuild) an index from a corpus folder (default: the home's corpus, else the seed).

    `query_encoder`: the query-side model (see settings.query_encoder_name; 'base' for the fp32 embedder).
    """
    from gorilla_rag.retrieval import Index
    from gorilla_rag.retrieval.embedder import Embedder

    corpus_dir = Path(corpus) if corpus else settings.paths(home).corpus_for_index()
    docs = read_corpus(corpus_dir)
    folder = resolve_index_folder(home, name)
    doc_embedder = embedder or settings.embedder_name()
    query = settings.query_encoder_name(home, query_encoder)
    return Index.build(docs, folder, Embedder(doc_embedder),
                       corpus_path=corpus_dir.resolve(), show_progress=show_progress,
                       query_embedder=Embedder(query, precision="auto") if query else None,
                       reranker=matching_reranker(home, query or None, doc_embedder))


def matching_reranker(home: str | Path | None, query_encoder: str | None,
                      embedder: str = settings.DEFAULT_EMBEDDER) -> Path | None:
    """The home's trained re-scorer when it was trained with these encoders (its features and remembered
    questions are in their space); a card without `embedder` was written by a version that knew only MiniLM."""
    import json

    from gorilla_rag.retrieval.rerank import Reranker

    path = settings.trained_reranker(home)
    if path is None:
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not Reranker.fits_this_version(data):
        print(f"gorilla-rag: {path} was trained by another gorilla-rag version (other features): the index is built "
              "without it; retrain it with `gorilla-rag train reranker`", file=sys.stderr)
        return None
    same = data.get("query_encoder") == query_encoder and data.get("embedder", settings.DEFAULT_EMBEDDER) == embedder
    return path if same else None


def open_index(home: str | Path | None = None, index: str | Path | None = None, embedder: str | None = None,  # noqa: ANN201
               with_reranker: bool = True):
    """Load an index; the default one is built from the home's corpus on first use, and refused when stale.
    `with_reranker=False`: its trained re-scorer is left unread (`train reranker` replaces it)."""
    from gorilla_rag.retrieval import Index, IndexLoadError
    from gorilla_rag.retrieval.embedder import Embedder

    folder = resolve_index_folder(home, index)
    if index is None and not folder.exists():
        corpus = settings.paths(home).corpus_for_index()
        print(f"gorilla-rag: no index yet; building {folder} from {corpus} (once)", file=sys.stderr)
        return build_index(home, folder, corpus)
    loaded = Index.load(folder, Embedder(embedder) if embedder else None, with_reranker=with_reranker)
    if index is None:
        corpus = settings.paths(home).corpus_for_index()
        built_from = loaded.manifest.get("corpus", {})
        if built_from.get("fingerprint") != corpus_fingerprint(corpus):
            raise IndexLoadError(f"index {folder} is stale: it was built from {built_from.get('path')} and the "
                                 f"corpus at {corpus} has changed since; run `gorilla-rag index build`")
    return loaded


def open_index_docs(home: str | Path | None = None, index: str | Path | None = None) -> list[ApiDoc]:
    """Only the docs an index serves (what `verify` checks against): its search parts are not read, so a corrupt
    dense or BM25 part does not stop verification. The default index is built on first use, as `open_index` does."""
    from gorilla_rag.retrieval.index_files import read_index_docs

    folder = resolve_index_folder(home, index)
    if index is None and not folder.exists():
        return open_index(home, index).docs
    return read_index_docs(folder)


def stale_reranker(folder: Path) -> str | None:
    """A warning when the index folder's trained re-scorer was fitted on another corpus than the index holds
    (after a refresh changed the docs its memory and weights know): it still loads, but answers may be poor."""
    import json

    from gorilla_rag.retrieval.index_files import read_index_manifest
    from gorilla_rag.retrieval.rerank import RERANKER_FILE

    path = folder / RERANKER_FILE
    if not path.is_file():
        return None
    try:
        trained_on = json.loads(path.read_text(encoding="utf-8")).get("corpus_fingerprint")
    except (OSError, ValueError):
        return None  # an unreadable re-scorer is Index.load's to report
    current = read_index_manifest(folder).get("fingerprint")
    if not trained_on or trained_on == current:
        return None
    return (f"the re-scorer in {folder} was trained on another corpus (fingerprint {trained_on}; the index now holds "
            f"{current}): its memory and weights may not fit the new docs; retrain it with `gorilla-rag train "
            f"reranker` (add --hold-out to measure it)")
