"""The task-question memory of untrained indexes: which questions it keeps, how it is saved, what it changes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from gorilla_rag.errors import IndexLoadError
from gorilla_rag.pipeline import Pipeline
from gorilla_rag.retrieval import Index
from gorilla_rag.retrieval.abstention import DEFAULT_THRESHOLDS, TASK_DOC_MARGIN
from gorilla_rag.retrieval.task_memory import TASK_MEMORY_FILE, served_task_questions
from gorilla_rag.training.task_questions import TASK_MEMORY_SETS, does_task, training_task_questions
from gorilla_rag.types import ApiDoc


def test_only_tasks_some_doc_does_are_remembered(seed_docs):
    translation = [d for d in seed_docs if d.source == "huggingface" and "Translation" in d.domain]
    kept = served_task_questions(translation)
    assert kept and {row["task"] for row in kept} == {"translation"}  # not summarization, not speech
    assert len(served_task_questions(seed_docs)) > len(kept)
    every = training_task_questions(TASK_MEMORY_SETS)
    # in the order of the shipped sets: position i in the memory is a fixed question (the benchmark relies on it)
    assert [row["question"] for row in kept] == [row["question"] for row in every if row["task"] == "translation"]
    assert all(any(does_task(d, row["task"]) for d in seed_docs) for row in served_task_questions(seed_docs))


def test_a_corpus_doing_no_known_task_keeps_the_doc_signal(seed_docs, tmp_path):
    odd = [ApiDoc.from_dict({**d.to_dict(), "domain": "Miscellaneous", "functionality": "tools", "content_hash": ""})
           for d in seed_docs[:8]]
    index = Index.build(odd, tmp_path / "odd")
    assert index.task_memory is None and not (index.folder / TASK_MEMORY_FILE).exists()
    assert index.manifest["task_memory"] == 0 and index.abstention_signal == "closest doc"
    assert Pipeline(index).min_similarity == DEFAULT_THRESHOLDS["closest doc"]


def test_seed_index_remembers_task_questions_and_reloads_them(seed_index):
    memory = seed_index.task_memory
    assert memory is not None and len(memory) == seed_index.manifest["task_memory"] > 100
    assert seed_index.abstention_signal == "task questions"
    assert Pipeline(seed_index).min_similarity == DEFAULT_THRESHOLDS["task questions"]
    again = Index.load(seed_index.folder)
    assert np.array_equal(again.task_memory.vectors, memory.vectors) and again.task_memory.domains == memory.domains
    question = "Pull out the names of people and companies from these emails."
    vector = seed_index.dense.query_vector(question)
    doc = seed_index.dense.search(question, 1)[0][1]
    expected = max(doc - TASK_DOC_MARGIN, memory.scope_similarity(vector))
    assert seed_index.best_similarity(question) == pytest.approx(expected)
    assert expected > doc - TASK_DOC_MARGIN  # here the task questions, not the doc, say it is in scope


def test_in_scope_plain_questions_are_answered_and_off_topic_ones_still_abstain(seed_index):
    pipe = Pipeline(seed_index)
    for question in ("Sort support tickets into categories I choose at run time, without training a model.",
                     "find every person and organisation named in a news article"):
        assert pipe.ask(question).status == "verified", question
    for question in ("book a flight from Boston to Denver next Friday", "How do I reverse a linked list in C?",
                     "what's the weather in Paris tomorrow"):
        assert pipe.ask(question).status == "no_match", question


def test_an_index_built_before_task_memory_reads_the_closest_doc(seed_index, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(seed_index.folder.resolve(), old)
    (old / TASK_MEMORY_FILE).unlink()
    manifest = json.loads((old / "index.json").read_text())
    del manifest["task_memory"]  # as an older version wrote it
    (old / "index.json").write_text(json.dumps(manifest))
    index = Index.load(old)
    assert index.task_memory is None and index.abstention_signal == "closest doc"
    question = "Pull out the names of people and companies from these emails."
    assert index.best_similarity(question) == pytest.approx(index.dense.search(question, 1)[0][1])


def break_memory(seed_index, tmp_path, change):  # noqa: ANN001, ANN201
    broken = tmp_path / "broken"
    shutil.copytree(seed_index.folder.resolve(), broken)
    path = broken / TASK_MEMORY_FILE
    data = json.loads(path.read_text())
    changed = change(data)
    if changed is None:
        path.unlink()
    else:
        path.write_text(json.dumps(changed))
    return broken


@pytest.mark.parametrize("change, said", [
    (lambda data: None, "task_memory.json is missing"),  # partial: index.json lists one
    (lambda data: {**data, "keys": data["keys"][:-1]}, "corrupt"),
    (lambda data: [], "not encoded by this index's query encoder"),
    (lambda data: {**data, "query_encoder": "some-other-model"}, "not encoded by this index's query encoder"),
    (lambda data: {**data, "keys": None}, "corrupt"),
    (lambda data: {**data, "dimension": 192, "keys": data["keys"] * 2, "domains": data["domains"] * 2},
     "dimension 192"),
])
def test_a_missing_corrupt_or_foreign_task_memory_is_refused_with_the_fix(seed_index, tmp_path, change, said):
    with pytest.raises(IndexLoadError, match=f"{said}.*index build"):
        Index.load(break_memory(seed_index, tmp_path, change))


def test_the_memory_is_encoded_as_questions_are_and_follows_a_swapped_encoder(seed_docs, tmp_path, cls_pooled_minilm):
    from gorilla_rag.retrieval.embedder import Embedder

    docs = [d for d in seed_docs if "Translation" in d.domain or "Summarization" in d.domain]
    int8 = Index.build(docs, tmp_path / "int8", query_embedder=Embedder("all-MiniLM-L6-v2:int8"))
    rows = served_task_questions(docs)
    for i in (0, len(rows) - 1):  # an int8 model scales activations per batch: encoded one at a time, as asked
        vector = int8.dense.query_embedder.embed_one(rows[i]["question"])
        assert float(int8.task_memory.vectors[i] @ vector) > 0.999
    assert Index.load(int8.folder).abstention_signal == "task questions"
    base = Embedder("all-MiniLM-L6-v2", precision="fp32")
    int8.use_query_encoder(base)
    assert float(int8.task_memory.vectors[0] @ base.embed_one(rows[0]["question"])) > 0.999
    other = Embedder(cls_pooled_minilm)  # another encoder: re-encoded too (its threshold: test_abstention_calibration)
    int8.use_query_encoder(other)
    assert float(int8.task_memory.vectors[0] @ other.embed_one(rows[0]["question"])) > 0.999
    assert int8.abstention_signal == "task questions"
    int8.use_query_encoder(base)
    assert int8.abstention_signal == "task questions"


def test_our_questions_are_read_once_per_model_in_a_process(seed_index):
    from gorilla_rag.retrieval.task_memory import encode_questions

    class Counting:
        def __init__(self, inner) -> None:  # noqa: ANN001
            self.inner, self.read, self.runs_as = inner, 0, inner.runs_as

        def embed_one(self, text: str) -> np.ndarray:
            self.read += 1
            return self.inner.embed_one(text)

    encoder = Counting(seed_index.dense.query_embedder)
    questions = ["a question nobody else reads in this process", "and a second one, as rare"]
    first = encode_questions(encoder, questions)
    again = encode_questions(encoder, questions[::-1])
    assert encoder.read == 2 and np.array_equal(again, first[::-1])
    assert np.allclose(first[0], seed_index.dense.query_embedder.embed_one(questions[0]), atol=1e-6)
