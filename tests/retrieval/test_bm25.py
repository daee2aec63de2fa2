"""bm25s (our engine) against rank-bm25 (the reference implementation), on the same tokens."""

import math

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from gorilla_rag.retrieval.bm25 import Bm25Retriever, top_k
from gorilla_rag.retrieval.text import bm25_text, tokenize

QUERIES = ["translate English text to French", "segment people in a street photo",
           "classify images with a small residual network", "detect objects in images",
           "turn speech into text", "embed sentences for semantic search", "estimate depth from a single image"]


def test_tokenizer_stems_splits_and_drops_boilerplate():
    assert tokenize("I want a model that classifies Images") == ["classifi", "imag"]
    assert tokenize("AutoModelForSequenceClassification") == ["auto", "sequenc", "classif"]
    assert tokenize("") == []


def test_scores_match_the_reference_implementation(seed_docs):
    tokens = [tokenize(bm25_text(d)) for d in seed_docs]
    ours = Bm25Retriever.build(seed_docs)
    reference = BM25Okapi(tokens, k1=1.5, b=0.75)
    n = len(tokens)
    # bm25s' default is Lucene's BM25: Lucene's idf, and no constant (k1 + 1) factor in the tf part (rankings
    # are unchanged by it). Give the reference the same idf and divide out the factor: scores must then agree.
    reference.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5))
                     for t, df in ((t, sum(t in set(doc) for doc in tokens)) for t in reference.idf)}
    for query in QUERIES:
        expected = reference.get_scores(tokenize(query)) / (1.5 + 1)
        got = ours.scores(query)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
        assert [p for p, _ in ours.search(query, 3)] == list(np.argsort(-expected, kind="stable")[:3])


def test_unknown_words_and_masks(seed_docs):
    ours = Bm25Retriever.build(seed_docs)
    assert not ours.scores("zzzzqqq").any()
    mask = np.array([d.source == "tfhub" for d in seed_docs])
    assert all(seed_docs[p].source == "tfhub" for p, _ in ours.search("classify images", 5, mask))


@pytest.mark.parametrize("k", [0, 1, 3, 10])
def test_top_k_is_sorted_and_bounded(k):
    scores = np.array([0.5, 2.0, 2.0, -1.0, 0.1])
    got = top_k(scores, k)
    assert len(got) == min(k, 5)
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    if k >= 2:
        assert [p for p, _ in got[:2]] == [1, 2]
