"""The question memory: votes, leave-one-out, key restriction, round trip; and what it adds to the re-scorer."""

import numpy as np
import pytest

from gorilla_rag.retrieval.memory import QuestionMemory


def _unit(*rows):
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def memory():
    vectors = _unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1])
    return QuestionMemory(vectors, ["a", "a", "b", "c"], ["Vision", "Vision", "Text", "Audio"])


def test_votes_go_to_the_api_of_the_nearest_questions(memory):
    votes = memory.votes(_unit([1, 0.05, 0])[0])
    a, b, c = (memory.key_ids[k] for k in "abc")
    assert votes.mass[a] > 100 * votes.mass[b] and votes.mass[a] > 100 * votes.mass[c]
    assert list(votes.count) == [2, 1, 1]
    assert votes.best[a] == pytest.approx(max(memory.vectors[:2] @ _unit([1, 0.05, 0])[0]))
    assert votes.domain_share[memory.domain_ids["Vision"]] > 0.99
    assert votes.domain_share.sum() == pytest.approx(1.0)


def test_leave_one_out_and_allowed_keys(memory):
    query = memory.vectors[0]
    full, without = memory.votes(query), memory.votes(query, exclude=0)
    a = memory.key_ids["a"]
    assert without.count[a] == 1 and without.mass[a] < full.mass[a]
    allowed = np.array([k != "a" for k in memory.keys])
    restricted = memory.votes(query, allowed)
    assert restricted.mass[a] == 0 and restricted.count[a] == 0 and restricted.domain_share[memory.domain_ids["Vision"]] == 0


def test_round_trip_is_exact_and_mismatched_lengths_are_refused(memory):
    again = QuestionMemory.from_dict(memory.to_dict())
    query = _unit([0.3, 0.6, 0.2])[0]
    assert np.array_equal(again.votes(query).mass, memory.votes(query).mass)
    assert again.keys == memory.keys and again.domains == memory.domains
    with pytest.raises(ValueError, match="2 vectors, 1 keys"):
        QuestionMemory(memory.vectors[:2], ["a"], ["x", "y"])


def test_scope_is_the_mean_of_the_nearest_five():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(12, 4))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    memory = QuestionMemory(vectors, [f"k{i}" for i in range(12)], ["d"] * 12)
    query = vectors[3]
    expected = np.sort(memory.vectors @ query)[-5:].mean()
    assert memory.scope_similarity(query) == pytest.approx(float(expected), abs=1e-6)
    small = QuestionMemory(vectors[:2], ["a", "b"], ["d", "d"])
    assert small.scope_similarity(query) == pytest.approx(float((small.vectors @ query).mean()), abs=1e-6)
    assert QuestionMemory(np.zeros((0, 4)), [], []).scope_similarity(query) == -1.0


def test_empty_memory_votes_nothing():
    votes = QuestionMemory(np.zeros((0, 3)), [], []).votes(_unit([1, 0, 0])[0])
    assert len(votes.mass) == 0 and len(votes.domain_share) == 0


@pytest.mark.slow
def test_memory_teaches_the_reranker_an_api_the_docs_do_not_mention(seed_index):
    """Questions about 'the office kiosk' always meant one API; a new kiosk question should get it, though no doc
    says 'kiosk' — and a leave-one-out trained model must still rank the memory's API above the dense favourite."""
    from gorilla_rag.retrieval.rerank import Reranker

    docs = seed_index.docs
    target = next(d for d in docs if d.source == "torchhub")
    key = seed_index.api_key(target)
    kiosk = [f"which model should the office kiosk use, version {i}?" for i in range(8)]
    others = [(f"{d.functionality}: {d.description[:80]}", seed_index.api_key(d), d.domain, None) for d in docs]
    examples = [(q, key, target.domain, None) for q in kiosk] + others
    reranker = Reranker.train(seed_index, examples)
    question = "the office kiosk needs a model, which one?"
    dense_first = seed_index.search(question, 1, "dense")[0].doc
    assert seed_index.api_key(dense_first) != key  # the docs alone do not know the answer
    best = reranker.search(question, 3)
    assert seed_index.api_key(docs[best[0][0]]) == key


@pytest.mark.slow
def test_a_question_unlike_every_remembered_one_is_ranked_by_the_hybrid(seed_index, monkeypatch):
    """The memory's votes mean something only for questions like the remembered ones: below MEMORY_FLOOR the index
    ranks with the untrained hybrid; an empty memory never falls back (the re-scorer then reads retrieval only)."""
    import copy

    from gorilla_rag.retrieval import rerank
    from gorilla_rag.retrieval.rerank import Reranker

    docs = seed_index.docs
    target = next(d for d in docs if d.source == "torchhub")
    kiosk = [f"which model should the office kiosk use, version {i}?" for i in range(8)]
    index = copy.copy(seed_index)
    index.reranker = Reranker.train(index, [(q, index.api_key(target), target.domain, None) for q in kiosk])
    near = "the office kiosk needs a model, which one?"
    far = "summarize long news articles in a few sentences"
    memory = index.reranker.memory
    assert memory.scope_similarity(index.dense.query_vector(far)) < rerank.MEMORY_FLOOR
    assert memory.scope_similarity(index.dense.query_vector(near)) >= rerank.MEMORY_FLOOR
    hits = index.search(near, 3)
    assert "rerank" in hits[0].ranks and index.api_key(hits[0].doc) == index.api_key(target)
    hybrid = index.search(far, 3, "hybrid")
    assert [h.doc for h in index.search(far, 3)] == [h.doc for h in hybrid] and "rerank" not in hybrid[0].ranks
    monkeypatch.setattr(rerank, "MEMORY_FLOOR", -2.0)  # no floor: the re-scorer ranks the far question too
    assert "rerank" in index.search(far, 3)[0].ranks
    monkeypatch.setattr(rerank, "MEMORY_FLOOR", 2.0)
    index.reranker = Reranker(index, index.reranker.weights, 0.0, index.reranker.mean, index.reranker.scale)
    assert "rerank" in index.search(far, 3)[0].ranks  # an empty memory: nothing to be unlike
