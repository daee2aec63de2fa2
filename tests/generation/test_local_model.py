"""The local generator with a tiny LLaMA built here (untrained: its output is garbage), and its errors."""

from __future__ import annotations

import json
from importlib.util import find_spec

import pytest

from gorilla_rag.generation import load_generator
from gorilla_rag.generation.local_model import LocalModelGenerator, cut_at_stop, model_location, resolve_dtype
from gorilla_rag.generation.prompt import SYSTEM_PROMPT, GeneratorError, doc_json
from gorilla_rag.types import Hit


@pytest.fixture(scope="module")
def untrained(tmp_path_factory, seed_docs):
    from gorilla_rag.training.tiny import build_tiny_model

    texts = [SYSTEM_PROMPT] + [doc_json(d) for d in seed_docs]
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "untrained", texts, vocab_size=1500)


def test_an_untrained_model_runs_and_its_garbage_is_parsed_without_raising(untrained, seed_docs):
    generator = load_generator(f"local:{untrained}")
    assert isinstance(generator, LocalModelGenerator) and generator._engine is None  # loads on first use
    generator.max_new_tokens = 20
    hits = [Hit(doc, 1.0) for doc in seed_docs[:3]]
    first = generator.generate("classify images of cats", hits)
    assert first.raw and first == generator.generate("classify images of cats", hits)  # greedy: reproducible
    assert generator.engine.model.device.type == "cpu"


@pytest.mark.slow
def test_the_pipeline_repairs_what_an_untrained_model_says(untrained, seed_index):
    from gorilla_rag.pipeline import Pipeline

    generator = LocalModelGenerator(str(untrained), max_new_tokens=24)
    answer = Pipeline(seed_index, generator=generator).ask("estimate depth from one photo", source="torchhub")
    assert answer.status == "repaired" and "did not verify" in answer.explanation
    assert answer.api is not None and answer.api.source == "torchhub" and answer.call == answer.api.api_call
    assert answer.raw_output  # the model's own (garbage) text is kept for inspection


def test_stop_sequences_cut_the_answer():
    text = "<<<api_call>>>: f()\n###USER: and now something else"
    assert cut_at_stop(text, ("###USER:", "\n###")) == "<<<api_call>>>: f()"
    assert cut_at_stop("plain", ("###",)) == "plain"


def test_options_come_from_the_constructor_or_the_environment(untrained, monkeypatch):
    import torch

    monkeypatch.setenv("GORILLA_RAG_LOCAL_DEVICE", "cpu")
    monkeypatch.setenv("GORILLA_RAG_LOCAL_MODEL", str(untrained))
    from_env = load_generator("local")
    assert from_env.model == str(untrained) and from_env.device == "cpu"
    assert LocalModelGenerator(str(untrained), device="meta").device == "meta"
    assert resolve_dtype(None, "cpu") == torch.float32 and resolve_dtype("bf16", "cpu") == torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype 'int3'"):
        resolve_dtype("int3", "cpu")


def test_bad_model_specs_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("GORILLA_RAG_LOCAL_MODEL", raising=False)
    with pytest.raises(ValueError, match="needs a model"):
        load_generator("local")
    with pytest.raises(GeneratorError, match="no model folder or .gguf file at /nonexistent/model"):
        load_generator("local:/nonexistent/model")
    with pytest.raises(GeneratorError, match="not a model folder"):
        load_generator(f"local:{tmp_path}")
    assert model_location("gorilla-llm/gorilla-openfunctions-v2") == ("hub", "gorilla-llm/gorilla-openfunctions-v2")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/gone/base-7b"}))
    with pytest.raises(GeneratorError, match="trained on /gone/base-7b, which is not there any more"):
        load_generator(f"local:{adapter}").generate("q", [])


def test_an_uncached_hub_model_fails_at_once_when_the_hub_does_not_resolve(monkeypatch, tmp_path):
    import time

    from gorilla_rag.generation.local_model import load_model

    monkeypatch.setenv("HF_ENDPOINT", "http://nonexistent.invalid")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))  # nothing cached
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    started = time.perf_counter()
    with pytest.raises(GeneratorError, match="'nonexistent.invalid' does not resolve.*offline"):
        load_model("acme/never-downloaded-7b")
    assert time.perf_counter() - started < 5  # transformers' own retries took ~50 s offline


def test_quantization_needs_cuda_and_bitsandbytes(untrained):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: 4-bit loading may work here")
    with pytest.raises(GeneratorError, match="needs a CUDA GPU and bitsandbytes"):
        LocalModelGenerator(str(untrained), quantize="4bit").generate("q", [])


def test_gguf_files_need_the_extra(tmp_path):
    if find_spec("llama_cpp") is not None:
        pytest.skip("llama-cpp-python is installed")
    model = tmp_path / "gorilla.gguf"
    model.write_bytes(b"GGUF")
    generator = load_generator(f"local:{model}")
    assert generator.kind == "gguf"
    with pytest.raises(GeneratorError, match=r"pip install 'gorilla-rag\[gguf\]'"):
        generator.generate("q", [])


def test_a_gguf_model_answers(monkeypatch):
    """Runs where llama-cpp-python is installed and $GORILLA_RAG_TEST_GGUF names a GGUF chat model."""
    import os

    path = os.environ.get("GORILLA_RAG_TEST_GGUF")
    if find_spec("llama_cpp") is None or not path:
        pytest.skip("needs llama-cpp-python and $GORILLA_RAG_TEST_GGUF")
    generated = LocalModelGenerator(path, max_new_tokens=64).generate("classify images", [])
    assert generated.raw
