"""Train a tiny LLaMA with `gorilla-rag train rat`, then answer through the pipeline, an OpenAI server and the eval.

The model starts random (it verifies nothing), learns the gold calls of its training questions and the explicit
"no matching API" answer, and its answers then verify against the corpus.
"""

from __future__ import annotations

import json

import pytest
from generation.chat_server import ChatServer

from gorilla_rag.generation import load_generator
from gorilla_rag.generation.local_model import LocalModelGenerator
from gorilla_rag.generation.prompt import prompt_docs
from gorilla_rag.pipeline import Pipeline
from gorilla_rag.training.lora import MANIFEST
from gorilla_rag.training.rat_data import read_examples, score_examples

from .conftest import QUESTIONS, run_cli

pytestmark = pytest.mark.slow


def test_training_teaches_the_gold_calls(rat_run):
    summary = rat_run.summary
    assert summary["train_examples"] == len(QUESTIONS) and summary["heldout_examples"] == 0
    assert summary["steps"] == 60 * 3 and summary["final_loss"] < summary["first_loss"] / 20
    assert rat_run.accuracy_before["gold_accuracy"] == 0.0  # random weights reproduce nothing
    examples = read_examples(rat_run.output / "rat_train.jsonl")
    assert sum(not e.gold_id for e in examples) == 1  # 10% irrelevance examples
    after = score_examples(LocalModelGenerator(str(rat_run.output), max_new_tokens=96).complete, examples)
    assert after["gold_accuracy"] == 1.0 and after["abstention_accuracy"] == 1.0
    manifest = json.loads((rat_run.output / MANIFEST).read_text())
    assert manifest["kind"] == "gorilla-rag-rat" and manifest["saved"] == "adapter"
    assert manifest["base_model"] == str(rat_run.base) and (rat_run.output / "adapter_config.json").is_file()


def test_the_pipeline_verifies_what_the_trained_model_answers(rat_run, seed_index):
    # min_similarity=0: the abstention threshold is the retrieval's business; this test is about generation.
    pipeline = Pipeline(seed_index, generator=load_generator(f"local:{rat_run.output}"), min_similarity=0)
    examples = read_examples(rat_run.output / "rat_train.jsonl")
    as_trained = 0
    for example in examples:
        answer = pipeline.ask(example.question, source="huggingface")
        shown = tuple(doc.id for doc in prompt_docs(answer.hits))
        if shown != tuple(doc.id for doc in example.docs):
            # Where retrieval missed the gold API, training put it into the prompt; the pipeline shows what it
            # retrieved. A 10-example memoriser may answer anything there: whatever it says is checked.
            assert answer.status in ("verified", "repaired", "no_match"), example.question
            if answer.status == "verified":
                assert answer.verification.ok and answer.api.id in {d.id for d in seed_index.docs}
            continue
        as_trained += 1
        if example.gold_id:
            assert answer.status == "verified" and answer.api.id == example.gold_id, example.question
            assert answer.raw_output.startswith("<<<domain>>>:")  # the model's words, not the repair's
        else:  # shown docs without the gold API, the model says so explicitly
            assert pipeline.generator.complete(example.messages()).startswith("<<<api_call>>>: None")
    assert as_trained >= len(examples) - 2  # the retriever finds the gold API for most of these questions


def test_the_trained_model_answers_behind_an_openai_compatible_server(rat_run, seed_index):
    local = LocalModelGenerator(str(rat_run.output))
    with ChatServer(local.complete) as server:
        pipeline = Pipeline(seed_index, generator=load_generator(f"openai:{server.url}"), min_similarity=0)
        answers = [pipeline.ask(q, source="huggingface") for q, _ in QUESTIONS[:3]]
    assert [a.status for a in answers] == ["verified"] * 3
    assert [a.call for a in answers] == [call for _, call in QUESTIONS[:3]]
    assert all("warning" not in a.explanation for a in answers)


def test_eval_apibench_runs_with_the_local_and_openai_backends(rat_run, seed_index):
    common = ["eval", "apibench", "--questions", str(rat_run.questions_file), "--hub", "huggingface",
              "--index", str(seed_index.folder), "--json", "--limit", "4"]
    trained_to_abstain = {e.question for e in read_examples(rat_run.output / "rat_train.jsonl") if not e.gold_id}
    report = json.loads(run_cli(*common, "--generator", f"local:{rat_run.output}"))
    extractive = json.loads(run_cli(*common))
    assert report["generator"] == f"local:{rat_run.output}" and report["strict"]["n"] == 4
    # Every question the pipeline let through is answered by the model with a verified call; only a question it
    # was trained to abstain on may need a repair.
    assert report["statuses"].get("repaired", 0) <= sum(q in trained_to_abstain for q, _ in QUESTIONS[:4])
    assert report["strict"]["accuracy"] >= extractive["strict"]["accuracy"]
    local = LocalModelGenerator(str(rat_run.output))
    with ChatServer(local.complete) as server:
        served = json.loads(run_cli(*common, "--generator", f"openai:{server.url}"))
    assert served["strict"] == report["strict"] and served["statuses"] == report["statuses"]
