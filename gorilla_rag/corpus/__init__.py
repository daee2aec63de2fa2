"""Corpora of API docs: normalisation, validation, storage and import."""

from gorilla_rag.corpus.store import CorpusError, fingerprint, read_corpus, write_corpus

__all__ = ["CorpusError", "fingerprint", "read_corpus", "write_corpus"]
