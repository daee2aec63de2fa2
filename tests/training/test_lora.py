"""LoRA training pieces on a tiny LLaMA built here: answer-only loss, output folders, merged models, bad settings."""

from __future__ import annotations

import json

import pytest

from gorilla_rag.generation.local_model import LocalModelGenerator, model_location
from gorilla_rag.generation.prompt import SYSTEM_PROMPT, answer_text, doc_json
from gorilla_rag.training.lora import MANIFEST, TrainSettings, check_output, tokenize, train_lora
from gorilla_rag.training.rat_data import SftExample


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, seed_docs):
    from gorilla_rag.training.tiny import build_tiny_model

    texts = [SYSTEM_PROMPT] + [doc_json(d) for d in seed_docs] + [answer_text(d) for d in seed_docs]
    return build_tiny_model(tmp_path_factory.mktemp("lora") / "base", texts, vocab_size=1500)


@pytest.fixture(scope="module")
def examples(seed_docs):
    return [SftExample(f"use {d.api_name}", (d,), answer_text(d), d.id) for d in seed_docs[:4]]


def test_the_loss_covers_the_answer_only(tiny, examples):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    ids, labels = tokenize(tokenizer, examples[0], max_length=4096)
    answer = tokenizer(examples[0].target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    prompt = len(ids) - len(answer)
    assert labels[:prompt] == [-100] * prompt and labels[prompt:] == answer == ids[prompt:]
    assert tokenizer.decode(ids[:prompt]).endswith("<|assistant|>\n")  # exactly what inference renders
    assert tokenize(tokenizer, examples[0], max_length=prompt + 4) is None  # no room for an answer: skipped
    cut_ids, cut_labels = tokenize(tokenizer, examples[0], max_length=prompt + 20)
    assert len(cut_ids) == len(cut_labels) == prompt + 20


@pytest.mark.slow
def test_a_merged_model_is_a_plain_model_folder_the_local_backend_loads(tiny, examples, tmp_path):
    steps = []
    result = train_lora(examples, str(tiny), tmp_path / "merged", TrainSettings(max_steps=2, batch_size=2,
                                                                               grad_accum=1, merge=True),
                        progress=lambda step, total, loss: steps.append((step, total)))
    assert steps == [(1, 2), (2, 2)] and result.examples == 4 and result.skipped == 0
    assert model_location(str(result.output)) == ("folder", str(result.output))
    assert not (result.output / "adapter_config.json").exists()
    manifest = json.loads((result.output / MANIFEST).read_text())
    assert manifest["saved"] == "merged" and manifest["steps"] == 2 and manifest["settings"]["merge"] is True
    generator = LocalModelGenerator(str(result.output), max_new_tokens=8)
    assert isinstance(generator.complete(examples[0].messages()), str)
    again = train_lora(examples, str(tiny), result.output, TrainSettings(max_steps=1, batch_size=4, grad_accum=1))
    assert model_location(str(again.output))[0] == "adapter"  # an earlier output is replaced whole


def test_bad_outputs_and_settings_are_refused(tiny, examples, tmp_path):
    foreign = tmp_path / "someone-elses"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a gorilla-rag training output"):
        check_output(foreign)
    with pytest.raises(ValueError, match="cannot merge into a quantized base"):
        train_lora(examples, str(tiny), tmp_path / "x", TrainSettings(merge=True, quantize="4bit"))
    with pytest.raises(ValueError, match="no example fits in max_length=8"):
        train_lora(examples, str(tiny), tmp_path / "y", TrainSettings(max_length=8))
    assert not (tmp_path / "y").exists()


def test_the_cli_refuses_conflicting_inputs(tmp_path, capsys):
    from gorilla_rag.cli import main

    assert main(["train", "rat", "--base", "b", "--output", str(tmp_path / "o")]) == 2
    assert "give either --questions" in capsys.readouterr().err


@pytest.mark.parametrize("settings, message", [
    ({"epochs": 0}, "epochs must be a number above 0"), ({"learning_rate": -1e-4}, "learning rate must be a number above 0"),
    ({"lora_dropout": 1.0}, "LoRA dropout must be in"), ({"warmup": 1.5}, "warmup is a share"),
    ({"dtype": "float8"}, "unknown dtype 'float8'"), ({"quantize": "2bit"}, "unknown quantization"),
    ({"device": "tpu"}, "unknown device 'tpu'"), ({"device": "cuda:abc"}, "unknown device 'cuda:abc'"),
    ({"max_steps": 0}, "max steps must be at least 1"),
    ({"target_modules": ("q_proj", "")}, "target modules must be"),
])
def test_impossible_settings_are_refused_before_any_model_loads(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainSettings(**settings)
    TrainSettings(device="cuda:1", dtype="bf16", target_modules=("q_proj", "v_proj"))  # valid ones pass


@pytest.mark.parametrize("extra, message", [
    (["--holdout", "1.5"], "--holdout is a share of the questions"),
    (["--irrelevant", "-0.1"], "--irrelevant is a share of the questions"),
    (["--lr", "0"], "learning rate must be a number above 0"),
    (["--base", "/no/such/model/folder"], "no model folder or .gguf file at /no/such/model/folder"),
    (["--lr", "inf"], "learning rate must be a number above 0"), (["--epochs", "inf"], "epochs must be a number"),
    (["--base", "{weightless}"], "has no model weights"),
    (["--base", "acme/never-downloaded-7b"], "not a local folder nor in the Hugging Face cache, and HF_HUB_OFFLINE"),
    (["--base", "{tiny}", "--device", "cuda"], "this machine has no CUDA GPU"),
])
def test_the_cli_refuses_bad_arguments_before_reading_any_question(tmp_path, capsys, monkeypatch, tiny, extra, message):
    import torch

    from gorilla_rag.cli import main

    if "cuda" in extra and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))  # HF_HUB_OFFLINE=1 comes from conftest
    weightless = tmp_path / "weightless"
    weightless.mkdir()
    (weightless / "config.json").write_text("{}")
    extra = [arg.format(weightless=weightless, tiny=tiny) for arg in extra]
    args = ["train", "rat", "--base", str(tmp_path), "--output", str(tmp_path / "o"),
            "--questions", str(tmp_path / "never-read.jsonl"), *extra]
    assert main(args) != 0
    assert message in capsys.readouterr().err
