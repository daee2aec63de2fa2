"""The openai generator against a real HTTP server on 127.0.0.1: prompt, retries, fallback when the server is down."""

from __future__ import annotations

import logging
import time

import pytest

from gorilla_rag.generation import load_generator
from gorilla_rag.generation.openai_server import OpenAIServerGenerator, ServerUnavailable, base_url
from gorilla_rag.generation.prompt import GeneratorError, answer_text, build_messages
from gorilla_rag.types import Hit

from .chat_server import ChatServer, closed_port_url

KEY = "sk-test-secret-123"


@pytest.fixture
def hits(seed_docs):
    translation = [d for d in seed_docs if d.id == "huggingface:Helsinki-NLP/opus-mt-en-fr"]
    return [Hit(doc, 1.0 / rank) for rank, doc in enumerate(translation + seed_docs[:4], 1)]


def test_the_prompt_goes_out_and_the_answer_comes_back_parsed(hits, monkeypatch):
    monkeypatch.setenv("GORILLA_RAG_OPENAI_API_KEY", KEY)
    with ChatServer(lambda messages: answer_text(hits[0].doc)) as server:
        generator = load_generator(f"openai:{server.url}")
        generated = generator.generate("translate English to French", hits)
    assert generated.call == hits[0].doc.api_call and generated.code and generated.explanation
    listing, chat = server.requests
    assert listing["path"] == "/v1/models"  # no model configured: the server's first one is used
    assert chat["path"] == "/v1/chat/completions" and chat["headers"]["Authorization"] == f"Bearer {KEY}"
    assert chat["body"]["model"] == "tiny-gorilla" and chat["body"]["temperature"] == 0.0
    assert chat["body"]["messages"] == build_messages("translate English to French", [h.doc for h in hits[:3]])
    assert KEY not in repr(generator)


def test_a_429_is_retried_then_answered(hits):
    with ChatServer(lambda messages: answer_text(hits[1].doc), statuses=(429,)) as server:
        generated = OpenAIServerGenerator(server.url, model="tiny-gorilla", backoff=0.01).generate("q", hits)
    assert generated.call == hits[1].doc.api_call and "warning" not in generated.explanation
    assert [r["path"] for r in server.requests] == ["/v1/chat/completions"] * 2


def test_errors_that_persist_fall_back_to_the_extractive_answer_then_skip_the_server(hits, caplog):
    with ChatServer(lambda messages: "unused", statuses=(503, 503, 503)) as server:
        generator = OpenAIServerGenerator(server.url, model="tiny-gorilla", retries=2, backoff=0.01)
        with caplog.at_level(logging.WARNING):
            first = generator.generate("q", hits)
        second = generator.generate("q", hits)
    assert len(server.requests) == 3  # three attempts, then the server is left alone for a while
    for generated in (first, second):
        assert generated.call == hits[0].doc.api_call
        assert generated.explanation.startswith("warning: the model server at") and "answered 503" in generated.explanation
    assert "extractive" in caplog.text and KEY not in caplog.text


def test_a_server_that_is_down_fails_fast_with_a_warning(hits, caplog):
    generator = OpenAIServerGenerator(closed_port_url(), model="m", api_key=KEY)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        generated = generator.generate("q", hits)
    assert time.perf_counter() - started < 5
    assert generated.call == hits[0].doc.api_call and "unreachable" in generated.explanation
    assert "unreachable" in caplog.text and KEY not in caplog.text
    started = time.perf_counter()
    assert generator.generate("q", hits).call == hits[0].doc.api_call
    assert time.perf_counter() - started < 0.5  # no new connection attempts while it is known to be down
    strict = OpenAIServerGenerator(closed_port_url(), model="m", retries=0, fallback=False)
    with pytest.raises(ServerUnavailable, match=r"unreachable \(ConnectError\) after 1 attempts"):
        strict.generate("q", hits)


def test_configuration_errors_raise_one_line_without_the_key(hits):
    with ChatServer(lambda messages: "unused") as server:
        wrong_model = OpenAIServerGenerator(server.url, model="gpt-5", api_key=KEY)
        with pytest.raises(GeneratorError, match="answered 404: The model `gpt-5` does not exist"):
            wrong_model.generate("q", hits)
    with ChatServer(lambda messages: "unused", statuses=(401,)) as server, pytest.raises(GeneratorError) as caught:
        OpenAIServerGenerator(server.url, model="tiny-gorilla", api_key=KEY).generate("q", hits)
    assert "answered 401: status 401, as scripted (Bearer ***)" in str(caught.value)
    assert "\n" not in str(caught.value) and KEY not in str(caught.value)


@pytest.mark.parametrize("typed, expected", [
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
    ("https://host/api/v1/chat/completions/", "https://host/api/v1"),
])
def test_base_urls(typed, expected):
    assert base_url(typed) == expected


@pytest.mark.parametrize("spec", ["openai:localhost:8000", "openai:ftp://host/v1", "openai"])
def test_bad_specs_are_one_line_errors(spec, monkeypatch):
    monkeypatch.delenv("GORILLA_RAG_OPENAI_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="openai"):
        load_generator(spec)


@pytest.mark.slow
def test_the_pipeline_answers_through_the_server_or_falls_back(seed_index):
    from gorilla_rag.pipeline import Pipeline

    question = "I want to translate English text to French"
    with ChatServer(lambda messages: answer_text(next(d for d in seed_index.docs if d.api_name == "t5-small"))) as s:
        answer = Pipeline(seed_index, generator=load_generator(f"openai:{s.url}")).ask(question)
    assert answer.status == "verified" and answer.api.api_name == "t5-small"  # the model's choice, verified
    down = Pipeline(seed_index, generator=load_generator(f"openai:{closed_port_url()}")).ask(question)
    assert down.status == "verified" and down.api.id in {"huggingface:Helsinki-NLP/opus-mt-en-fr",
                                                         "torchhub:pytorch/fairseq:transformer.wmt14.en-fr"}
    assert "warning" in down.explanation and "unreachable" in down.explanation
