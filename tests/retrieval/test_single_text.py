"""The question encoder paths (the light encoder, or sentence-transformers with its traced single-text forward pass):
the same vectors as `encode`, and a trace that is checked."""

import numpy as np
import pytest

from gorilla_rag.retrieval import single_text
from gorilla_rag.retrieval.embedder import Embedder

TEXTS = ["hello", "classify images of cats " * 120, "Ünïcode – text with émojis 🙂", "", "a b",
         "We run a small online shop and want to tag every product photo with what it shows."]


@pytest.fixture(params=["light", "sentence-transformers"])
def encoder_path(request, monkeypatch):
    monkeypatch.setenv("GORILLA_RAG_LIGHT_ENCODER", "1" if request.param == "light" else "0")
    return request.param


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "all-MiniLM-L6-v2:int8"])
def test_one_text_gives_the_vector_encode_gives(name, encoder_path):
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


def test_several_questions_at_once_give_the_vectors_encode_gives(encoder_path):
    embedder = Embedder()
    expected = embedder.embed(TEXTS)
    got = embedder.embed_queries(TEXTS)
    assert got.shape == expected.shape and np.abs(got - expected).max() < 1e-5
    assert np.abs(embedder.embed_queries(TEXTS[::-1])[::-1] - got).max() < 1e-5  # order given back as asked


def test_bf16_questions_point_where_fp32_ones_do(encoder_path):
    fp32, bf16 = Embedder(), Embedder("all-MiniLM-L6-v2:bf16")
    reference = fp32.embed(TEXTS)
    for got in (bf16.embed(TEXTS), np.stack([bf16.embed_one(t) for t in TEXTS]), bf16.embed_queries(TEXTS)):
        assert got.dtype == np.float32 and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert (got * reference).sum(axis=1).min() > 0.9995


def test_query_precision_follows_the_setting(monkeypatch):
    from gorilla_rag.errors import EmbedderError
    from gorilla_rag.retrieval.embedder import bf16_native

    auto = Embedder(precision="auto")
    monkeypatch.setenv("GORILLA_RAG_QUERY_PRECISION", "fp32")
    assert auto.runs_as == "all-MiniLM-L6-v2"
    monkeypatch.setenv("GORILLA_RAG_QUERY_PRECISION", "bf16")
    assert auto.runs_as == "all-MiniLM-L6-v2:bf16"
    monkeypatch.delenv("GORILLA_RAG_QUERY_PRECISION")
    assert auto.runs_as == ("all-MiniLM-L6-v2:bf16" if bf16_native() else "all-MiniLM-L6-v2")
    assert Embedder().runs_as == "all-MiniLM-L6-v2"  # documents and training: fp32 unless asked
    assert Embedder("all-MiniLM-L6-v2:int8", precision="auto").runs_as == "all-MiniLM-L6-v2:int8"
    monkeypatch.setenv("GORILLA_RAG_QUERY_PRECISION", "fp8")
    with pytest.raises(EmbedderError, match="GORILLA_RAG_QUERY_PRECISION"):
        _ = auto.runs_as
    with pytest.raises(EmbedderError, match="unknown precision"):
        Embedder(precision="fp16")
