"""What each retriever reads of a doc, and the BM25 tokenizer (shared by indexing and querying)."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from gorilla_rag.retrieval.task_words import task_words
from gorilla_rag.types import ApiDoc

# Small English stop list: question boilerplate ("I want to…", "we need a model that…") carries no signal.
STOPWORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "do", "does", "for", "from", "has", "have", "how", "i", "i'm", "if", "in", "into", "is", "it", "its", "me", "my", "need", "needs", "of", "on", "or", "our", "please", "should", "so", "some", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "use", "using", "us", "want", "wants", "was", "we", "what", "when", "which", "who", "will", "with", "would", "you", "your", "want", "like", "help", "build", "create", "make", "get", "given", "model", "models", "api", "apis"])

_WORD = re.compile(r"[A-Za-z]+|\d+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - PyStemmer is a small C extension, loaded on first use
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, camelCase-split, stop-worded, Snowball-stemmed word tokens."""
    words = []
    for chunk in _WORD.findall(text):
        for word in _CAMEL.split(chunk):
            word = word.lower()
            if word and word not in STOPWORDS:
                words.append(word)
    return _stemmer().stemWords(words)


def bm25_text(doc: ApiDoc, with_task_words: bool = True) -> str:
    """The whole doc (what the user asks about may sit in any field) and the everyday words for its task.

    The task words go to BM25 only. On held-out APIBench questions they leave hybrid top-1 about where it was
    (micro 23.7 → 24.0; in the bi-encoder's text too they cost 1.6 points); on plainly worded questions they
    raise it (top API does the asked task: 75.0 → 79.6%; docs/benchmarks.md, "Task words")."""
    fields = {
        "domain": doc.domain,
        "functionality": doc.functionality,
        "api_name": doc.api_name,
        "api_call": doc.api_call,
        "description": doc.description,
        "arguments": doc.arguments,
        "example_code": doc.example_code,
        "dataset": doc.extra.get("dataset", ""),
    }
    if with_task_words:  # without them: exactly the text re-scorers were fitted on before task words existed
        fields["task"] = task_words(doc)
    return json.dumps(fields, ensure_ascii=False)


def dense_text(doc: ApiDoc) -> str:
    """A short natural-language view for the bi-encoder (it truncates long inputs)."""
    parts = [doc.domain, doc.functionality, doc.api_name, doc.api_call, doc.description]
    return ". ".join(p for p in parts if p)
