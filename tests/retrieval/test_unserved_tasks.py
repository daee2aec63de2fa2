"""Requests for a task no doc of the corpus does: recognised from our task questions, answered no_match."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from gorilla_rag.errors import IndexLoadError
from gorilla_rag.pipeline import Pipeline
from gorilla_rag.retrieval import Index
from gorilla_rag.retrieval.memory import QuestionMemory
from gorilla_rag.retrieval.unserved_tasks import (
    MARGIN,
    UNSERVED_FILE,
    asks_unserved_task,
    closest_task,
    unserved_labels,
)
from gorilla_rag.training.task_questions import TASK_MEMORY_SETS, training_task_questions
from gorilla_rag.types import ApiDoc


def doc(domain: str, description: str = "") -> ApiDoc:
    return ApiDoc(id=f"hf:{domain}:{description[:8]}", source="huggingface", domain=domain, api_name="m",
                  api_call="f()", description=description)


def test_a_task_is_lacking_only_when_no_doc_does_or_names_it():
    docs = [doc("Computer Vision Image Classification")]
    lacking = unserved_labels(docs)
    assert "image-classification" not in lacking and {"text-to-video", "reinforcement-learning"} <= lacking
    # filed under another domain, but the description says it: served (no abstention on a naming quirk)
    assert "style-transfer" not in unserved_labels(docs + [doc("Image stylization", "fast style transfer")])


def test_the_seed_index_keeps_the_questions_of_the_tasks_it_lacks_and_reloads_them(seed_index):
    memory = seed_index.unserved_memory
    assert memory is not None and len(memory) == seed_index.manifest["unserved_task_questions"] > 50
    lacking = unserved_labels(seed_index.docs)
    rows = [row for row in training_task_questions(TASK_MEMORY_SETS) if row["task"] in lacking]
    assert memory.domains == [row["task"] for row in rows]
    assert not set(memory.domains) & set(seed_index.task_memory.domains)  # never both served and lacking
    again = Index.load(seed_index.folder)
    assert np.array_equal(again.unserved_memory.vectors, memory.vectors)


def test_the_task_nearest_on_average_wins_by_the_margin():
    east, north = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    near_east = np.array([0.9, np.sqrt(1 - 0.81), 0.0])
    served = QuestionMemory(np.stack([north] * 3), ["served"] * 3, ["served"] * 3)
    lacking = QuestionMemory(np.stack([east, east, near_east, north]), ["a", "a", "a", "b"], ["a", "a", "a", "b"])
    task, closeness = closest_task(lacking, east)
    assert task == "a" and closeness == pytest.approx((1 + 1 + 0.9) / 3, abs=1e-3)
    found = asks_unserved_task(east, served, lacking)
    assert found is not None and found.task == "a" and found.served_closeness == pytest.approx(0.0, abs=1e-3)
    leaning_north = np.array([0.5, 1.0, 0.0]) / np.sqrt(1.25)  # nearer the served task than the lacking ones
    assert asks_unserved_task(leaning_north, served, lacking) is None
    assert asks_unserved_task(east, None, lacking) is None and asks_unserved_task(east, served, None) is None
    assert MARGIN > 0


@pytest.mark.parametrize("question, task", [  # close enough to the seed's docs to pass the similarity threshold
    ("generate a 4 second video clip from a text prompt", "text to video"),
    ("make slow motion from a regular 30fps video", "frame interpolation"),
])
def test_a_request_for_a_task_the_seed_lacks_is_no_match_naming_it(seed_index, question, task):
    assert seed_index.best_similarity(question) >= Pipeline(seed_index).min_similarity  # the check, not the threshold
    answer = Pipeline(seed_index).ask(question)
    assert answer.status == "no_match" and f"the question asks for {task}" in answer.explanation
    assert "no API in the corpus does that" in answer.explanation and answer.alternatives
    # asked to answer anyway, the closest API comes back
    assert Pipeline(seed_index, min_similarity=0).ask(question).status == "verified"


@pytest.mark.parametrize("question", [
    "add early stopping to my keras training loop so it halts when val loss stops improving",
    "export my custom pytorch model to onnx with a dynamic batch axis",
])
def test_a_request_for_code_rather_than_a_model_is_no_match_saying_so(seed_index, question):
    answer = Pipeline(seed_index).ask(question)
    assert answer.status == "no_match", question
    # caught by the similarity threshold, or else as a request no pretrained model answers
    assert "below the abstention threshold" in answer.explanation or \
        "reads like a request for code, tooling or facts rather than a pretrained model" in answer.explanation


@pytest.mark.parametrize("question", [
    "classify photos of dogs and cats",
    "transcribe a recorded phone call to text",
    "yamnet embeddings for my audio clips",  # audio embeddings are lacking, but the user named a seed model
])
def test_requests_the_seed_serves_are_answered(seed_index, question):
    assert Pipeline(seed_index).ask(question).status == "verified", question


@pytest.mark.parametrize("question, label", [  # far from every doc: the threshold answers first, the check agrees
    ("load a pretrained agent that plays Atari Breakout", "reinforcement-learning"),
    ("predict house prices from the columns of a CSV file", "tabular-regression"),
])
def test_the_check_recognises_requests_the_threshold_already_declines(seed_index, question, label):
    assert Pipeline(seed_index).ask(question).status == "no_match"
    assert seed_index.unserved_task(question).task == label


def test_an_index_without_the_file_answers_as_before(seed_index, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(seed_index.folder.resolve(), old)
    (old / UNSERVED_FILE).unlink()
    manifest = json.loads((old / "index.json").read_text())
    del manifest["unserved_task_questions"]  # as an older version wrote it
    (old / "index.json").write_text(json.dumps(manifest))
    index = Index.load(old)
    assert index.unserved_memory is None and index.unserved_task("load a pretrained agent for Breakout") is None


@pytest.mark.parametrize("change, said", [
    (lambda data: None, "unserved_tasks.json is missing"),  # partial: index.json lists it
    (lambda data: {**data, "query_encoder": "some-other-model"}, "not encoded by this index's query encoder"),
    (lambda data: {**data, "keys": data["keys"][:-1]}, "corrupt"),
])
def test_a_missing_or_foreign_unserved_file_is_refused_with_the_fix(seed_index, tmp_path, change, said):
    broken = tmp_path / "broken"
    shutil.copytree(seed_index.folder.resolve(), broken)
    path = broken / UNSERVED_FILE
    changed = change(json.loads(path.read_text()))
    if changed is None:
        path.unlink()
    else:
        path.write_text(json.dumps(changed))
    with pytest.raises(IndexLoadError, match=f"{said}.*index build"):
        Index.load(broken)
