"""Query-encoder training, the listwise re-scorer and the held-out split, run for real on small data."""

import numpy as np
import pytest

from gorilla_rag.retrieval.rerank import FEATURES, Reranker, _listwise_fit
from gorilla_rag.training.pairs import is_held_out
from gorilla_rag.training.retriever import make_examples, pseudo_query, train_query_encoder


def test_held_out_split_is_fixed_and_about_thirty_percent():
    questions = [f"question number {i} about models" for i in range(2000)]
    held = [q for q in questions if is_held_out(q)]
    assert 0.27 < len(held) / len(questions) < 0.33
    assert held == [q for q in questions if is_held_out(q.upper())]  # case and spacing do not move a question


def test_listwise_fit_learns_which_feature_marks_the_gold():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(60):
        features = rng.normal(size=(10, 3))
        gold = np.zeros(10, dtype=bool)
        gold[int(np.argmax(features[:, 1]))] = True  # feature 1 decides; 0 and 2 are noise
        groups.append((features, gold))
    weights = _listwise_fit(groups, l2=1e-3)
    assert weights[1] > 5 * max(abs(weights[0]), abs(weights[2]))


@pytest.mark.slow
def test_query_encoder_training_moves_questions_to_their_api(seed_index, tmp_path):
    from gorilla_rag.retrieval.embedder import Embedder, resolve_model_path

    docs = seed_index.docs
    examples = make_examples([], docs, seed_index.api_key)
    assert len(examples) == len(docs) and all(e.query == pseudo_query(e.positive) for e in examples)
    vectors = seed_index.dense.vectors_for(list(range(len(docs))))
    positions = {d.id: i for i, d in enumerate(docs)}

    def mean_margin(embedder):
        """How far the gold doc's cosine is above the best other doc's, averaged over the queries."""
        queries = embedder.embed([e.query for e in examples])
        scores = queries @ vectors.T
        gold = np.array([positions[e.positive.id] for e in examples])
        gold_scores = scores[np.arange(len(gold)), gold].copy()
        scores[np.arange(len(gold)), gold] = -np.inf
        return float((gold_scores - scores.max(axis=1)).mean())

    before = mean_margin(Embedder())
    stats = train_query_encoder(examples, resolve_model_path("all-MiniLM-L6-v2"), vectors,
                                [seed_index.api_key(d) for d in docs], positions, tmp_path / "q", epochs=2,
                                batch_size=32, lr=1e-4, progress=False)
    after = mean_margin(Embedder(str(tmp_path / "q")))
    assert stats["steps"] == 2 * 3 and (tmp_path / "q" / "config.json").is_file()
    assert after > before + 0.01


@pytest.mark.slow
def test_reranker_trains_saves_loads_and_respects_masks(seed_index, tmp_path):
    docs = seed_index.docs
    examples = [(pseudo_query(d), seed_index.api_key(d), d.domain, None) for d in docs]
    reranker = Reranker.train(seed_index, examples)
    assert np.isfinite(reranker.weights).all() and len(reranker.weights) == len(FEATURES)
    reranker.save(tmp_path / "r.json", {"query_encoder": None})
    again = Reranker.load(seed_index, tmp_path / "r.json")
    question = "estimate the depth of every pixel in a photo"
    assert again.search(question, 5) == reranker.search(question, 5)
    mask = np.array([d.source == "tfhub" for d in docs])
    assert {docs[p].source for p, _ in again.search(question, 5, mask)} == {"tfhub"}
    hits_first = [docs[p].id for p, _ in reranker.search(pseudo_query(docs[0]), 3)]
    assert docs[0].id in hits_first
