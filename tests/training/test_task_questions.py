"""The task-labelled plain questions the re-scorer learns from: well formed, and scored by what a model does
(TorchHub files several models under a domain that is not their task)."""

import json

import pytest

from gorilla_rag.training.task_questions import DATA, TASK_DOMAINS, TASK_MEMORY_SETS, does_task, training_task_questions
from gorilla_rag.types import ApiDoc


def test_every_training_question_is_well_formed_and_known():
    rows = [json.loads(line) for name in TASK_MEMORY_SETS
            for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    assert all(set(row) >= {"hub", "task", "question"} and row["hub"] in ("huggingface", "torchhub", "tfhub")
               for row in rows)
    known = training_task_questions(TASK_MEMORY_SETS)
    assert len(known) > 400 and len(training_task_questions()) > 300 and all(row["task"] in TASK_DOMAINS for row in known)
    assert len({row["question"].lower() for row in known}) == len(known)  # no question twice


def torchhub(name: str, domain: str, functionality: str) -> ApiDoc:
    return ApiDoc(id=f"torchhub:{name}", source="torchhub", domain=domain, functionality=functionality, api_name=name,
                  api_call=f"torch.hub.load('x/{name}', '{name}')")


def test_a_model_does_the_task_its_functionality_names_when_its_domain_is_wrong():
    midas = torchhub("MiDaS", "Classification", "Computing relative depth from a single image")
    waveglow = torchhub("waveglow", "Text-to-Speech", "Speech Synthesis")
    silero = torchhub("silero_stt", "Classification", "Speech-To-Text")
    resnet = torchhub("resnet50", "Classification", "Deep Residual Networks")
    nmt = torchhub("transformer", "Semantic Segmentation", "Neural Machine Translation")
    assert does_task(nmt, "translation") and not does_task(nmt, "image-segmentation")
    assert does_task(midas, "depth-estimation") and not does_task(midas, "image-classification")
    assert does_task(waveglow, "text-to-speech")
    assert does_task(silero, "automatic-speech-recognition") and not does_task(silero, "image-classification")
    assert does_task(resnet, "image-classification") and not does_task(resnet, "depth-estimation")
    hf = ApiDoc(id="huggingface:x", source="huggingface", domain="Natural Language Processing Summarization",
                functionality="Speech synthesis of summaries", api_name="x", api_call="pipeline('summarization')")
    assert does_task(hf, "summarization") and not does_task(hf, "text-to-speech")  # elsewhere the domain decides


def test_the_tasks_added_for_the_task_memory_name_their_models():
    gan = torchhub("DCGAN", "Classification", "Generative Adversarial Networks")
    assert does_task(gan, "image-generation") and not does_task(gan, "image-classification")
    def hf(domain: str) -> ApiDoc:
        return ApiDoc(id=f"huggingface:{domain}", source="huggingface", domain=domain, functionality="", api_name="m",
                      api_call="pipeline('x')")
    assert does_task(hf("Tabular Tabular Regression"), "tabular-regression")
    assert not does_task(hf("Tabular Tabular Regression"), "tabular-classification")
    assert does_task(hf("Computer Vision Unconditional Image Generation"), "image-generation")
    assert not does_task(hf("Multimodal Text-to-Image"), "image-generation")  # a prompt is another task
    assert does_task(hf("Computer Vision Image-to-Image"), "image-to-image")
    remembered = {row["task"] for row in training_task_questions(TASK_MEMORY_SETS)}
    assert remembered >= {"tabular-classification", "reinforcement-learning", "pitch-extraction", "text-preprocessing"}
    assert "tabular-classification" not in {row["task"] for row in training_task_questions()}  # the re-scorer's


@pytest.mark.parametrize("name", ["plain_test", "near_miss", "out_of_scope"])
def test_the_independent_sets_share_no_question_with_the_training_sets(name):
    from pathlib import Path

    test_file = Path(__file__).resolve().parents[2] / "bench" / "data" / f"{name}.jsonl"
    tested = {json.loads(line)["question"].lower() for line in test_file.read_text().splitlines() if line.strip()}
    trained = {row["question"].lower() for row in training_task_questions(TASK_MEMORY_SETS)}
    assert len(tested) > 120 and not tested & trained


def test_tasks_no_hub_domain_names_are_done_only_by_a_docs_text(seed_docs):
    from gorilla_rag.retrieval.unserved_tasks import unserved_labels

    added = {row["task"] for row in training_task_questions(("more_tasks_2",))}
    assert len(added) == 18 and not any(does_task(doc, task) for doc in seed_docs for task in added)
    langid = ApiDoc(id="huggingface:l", source="huggingface", domain="Natural Language Processing Text Classification",
                    api_name="xlm-roberta-base-language-detection", api_call="pipeline('text-classification')",
                    description="A language detection model for 20 languages.")
    lacking = unserved_labels(seed_docs)
    assert added <= lacking and "language-identification" not in unserved_labels([*seed_docs, langid])
