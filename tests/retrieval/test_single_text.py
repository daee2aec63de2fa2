"""The single-question encoder path: the same vectors as `encode`, traced or not, and a trace that is checked."""

import numpy as np
import pytest

from gorilla_rag.retrieval import single_text
from gorilla_rag.retrieval.embedder import Embedder

TEXTS = ["hello", "classify images of cats " * 120, "Ünïcode – text with émojis 🙂", "", "a b",
         "We run a small online shop and want to tag every product photo with what it shows."]


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "all-MiniLM-L6-v2:int8"])
def test_one_text_gives_the_vector_encode_gives(name):
    embedder = Embedder(name)
    expected = np.stack([embedder.embed([t])[0] for t in TEXTS])  # one at a time: int8 scales depend on the batch
    got = np.stack([embedder.embed_one(t) for t in TEXTS])
    assert np.abs(got - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_a_trace_that_disagrees_with_the_eager_pass_is_refused():
    model = Embedder().model
    encoder, tokenizer = model[0].auto_model, model[0].tokenizer

    def eager(ids, mask):
        return encoder(input_ids=ids, attention_mask=mask).last_hidden_state

    assert single_text._traced(encoder, tokenizer, eager) is not None
    assert single_text._traced(encoder, tokenizer, lambda ids, mask: eager(ids, mask) + 1.0) is None


def test_tracing_can_be_switched_off_with_the_same_numbers(monkeypatch):
    model = Embedder().model
    traced = single_text._make(model)
    monkeypatch.setenv("GORILLA_RAG_TRACE", "0")
    eager = single_text._make(model)
    for text in TEXTS:
        assert np.abs(traced(text) - eager(text)).max() < 1e-5


def test_models_of_another_shape_fall_back_to_encode():
    class Other(list):
        max_seq_length = 8

    assert single_text._make(Other([object()])) is None
