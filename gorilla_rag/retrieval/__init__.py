"""Retrieval: BM25, dense (FAISS) and hybrid (RRF) over a self-describing index folder."""

from gorilla_rag.retrieval.constraints import Filters, canonical_source
from gorilla_rag.retrieval.index import RETRIEVERS, Index, IndexLoadError

__all__ = ["RETRIEVERS", "Filters", "Index", "IndexLoadError", "canonical_source"]
