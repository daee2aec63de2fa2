"""Abstention thresholds for encoders the defaults were not measured for: calibrated on the remembered questions,
saved with the index or re-scorer, refused when unreadable, and what they change for a real second embedder."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from gorilla_rag.errors import IndexLoadError
from gorilla_rag.pipeline import Pipeline
from gorilla_rag.retrieval import Index
from gorilla_rag.retrieval.abstention import (
    CALIBRATION_QUANTILE,
    DEFAULT_THRESHOLDS,
    MIN_CALIBRATION_QUESTIONS,
    TASK_DOC_MARGIN,
    Calibration,
    calibrate,
    defaults_hold,
    describe,
    leave_one_out_signal,
)
from gorilla_rag.retrieval.embedder import Embedder
from gorilla_rag.retrieval.index import DOC_MARGIN
from gorilla_rag.retrieval.memory import QuestionMemory

# each at least 0.04 below the CLS index's calibrated threshold (0.693), the in-scope ones 0.07 above it
OFF_TOPIC = ("book a flight from Boston to Denver next Friday", "How do I reverse a linked list in C?",
             "convert 30 degrees celsius to fahrenheit", "git undo last commit")
IN_SCOPE = ("Sort support tickets into categories I choose at run time, without training a model.",
            "find every person and organisation named in a news article",
            "Translate these product descriptions from English into German.")


@pytest.fixture(scope="module")
def cls_index(tmp_path_factory, seed_docs, cls_pooled_minilm):
    return Index.build(seed_docs, tmp_path_factory.mktemp("indexes") / "cls", Embedder(cls_pooled_minilm))


def test_the_defaults_hold_only_for_the_bundled_minilm(cls_pooled_minilm):
    assert defaults_hold("all-MiniLM-L6-v2", "all-MiniLM-L6-v2")
    assert defaults_hold("all-MiniLM-L6-v2:int8", "sentence-transformers/all-MiniLM-L6-v2")
    assert not defaults_hold(cls_pooled_minilm, cls_pooled_minilm)
    assert not defaults_hold("apibench-retriever", "all-MiniLM-L6-v2")  # a fine-tuned query encoder
    assert not defaults_hold("all-MiniLM-L6-v2", "BAAI/bge-small-en-v1.5")


def test_leave_one_out_signal_is_what_a_question_would_score_were_it_not_remembered(seed_index):
    rows = np.random.default_rng(3).normal(size=(9, seed_index.dense.dimension))
    vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    memory = QuestionMemory(vectors, [f"k{i}" for i in range(9)], ["d"] * 9)
    doc = np.linspace(-0.2, 0.6, 9)
    got = leave_one_out_signal(memory, doc, 0.1)
    expected = [max(memory.scope_similarity(memory.vectors[i], exclude=i), doc[i] - 0.1) for i in range(9)]
    assert got == pytest.approx(expected, abs=1e-6)


def test_a_trained_memory_signal_also_reads_the_nearest_served_task(seed_index):
    from gorilla_rag.retrieval.unserved_tasks import task_closeness

    rows = np.random.default_rng(5).normal(size=(9, seed_index.dense.dimension))
    vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    memory = QuestionMemory(vectors, [f"k{i}" for i in range(9)], ["d"] * 9)
    doc = np.linspace(-0.2, 0.6, 9)
    tasks = seed_index.task_memory
    got = leave_one_out_signal(memory, doc, 0.1, tasks)
    plain = leave_one_out_signal(memory, doc, 0.1)
    assert got == pytest.approx(np.maximum(plain, task_closeness(tasks, memory.vectors)[1]), abs=1e-6)
    # the index's own signal: a plainly worded request for a task the seed serves reads its task questions
    from gorilla_rag.retrieval.rerank import Reranker

    trained = Index.load(seed_index.folder, with_reranker=False)
    trained.reranker = Reranker.train(trained, [(f"Which API does {d.functionality.lower()}", trained.api_key(d),
                                                 d.domain, None) for d in trained.docs])
    question = "Pull out the names of people and companies from these emails."
    query = trained.dense.query_vector(question)
    closeness = float(task_closeness(trained.task_memory, query)[1][0])
    without = max(trained.dense.search(question, 1)[0][1] - DOC_MARGIN, trained.reranker.memory.scope_similarity(query))
    assert trained.best_similarity(question) == pytest.approx(max(without, closeness)) and closeness > without


def test_too_few_questions_give_no_calibration(seed_index):
    memory = seed_index.task_memory
    few = QuestionMemory(memory.vectors[: MIN_CALIBRATION_QUESTIONS - 1], ["k"] * (MIN_CALIBRATION_QUESTIONS - 1),
                         ["d"] * (MIN_CALIBRATION_QUESTIONS - 1))
    assert calibrate(few, seed_index.dense, TASK_DOC_MARGIN) is None
    assert calibrate(memory, seed_index.dense, TASK_DOC_MARGIN) is not None


def test_the_bundled_encoder_keeps_the_measured_default(seed_index):
    assert "task_calibration" not in seed_index.manifest and seed_index.abstention_calibration is None
    assert seed_index.abstention_threshold == DEFAULT_THRESHOLDS["task questions"]
    assert "default threshold 0.33" in describe(seed_index) and "calibrated" not in describe(seed_index)


def test_another_embedder_gets_a_threshold_from_its_own_reading_of_the_task_questions(cls_index):
    calibration = cls_index.abstention_calibration
    assert calibration is not None and calibration.query_encoder == cls_index.dense.query_embedder.name
    memory = cls_index.task_memory
    scores = [max(memory.scope_similarity(memory.vectors[i], exclude=i),
                  cls_index.dense.search_vector(memory.vectors[i], 1)[0][1] - TASK_DOC_MARGIN)
              for i in range(len(memory))]
    assert calibration.threshold == pytest.approx(np.quantile(scores, CALIBRATION_QUANTILE), abs=1e-3)
    assert calibration.questions == len(memory)
    assert Pipeline(cls_index).min_similarity == calibration.threshold == cls_index.abstention_threshold
    again = Index.load(cls_index.folder)
    assert again.abstention_calibration == calibration and again.manifest["task_calibration"] == calibration.to_dict()
    assert f"threshold {calibration.threshold:.3f}, calibrated for" in describe(again)


def test_with_a_crowded_embedder_the_default_would_answer_everything_and_the_calibrated_one_does_not(cls_index):
    off_topic = [cls_index.best_similarity(q) for q in OFF_TOPIC]
    assert min(off_topic) > DEFAULT_THRESHOLDS["task questions"]  # 0.33 would never abstain here
    pipe = Pipeline(cls_index)
    assert [pipe.ask(q).status for q in OFF_TOPIC] == ["no_match"] * len(OFF_TOPIC)
    assert [pipe.ask(q).status for q in IN_SCOPE] == ["verified"] * len(IN_SCOPE)


def test_a_swapped_query_encoder_is_recalibrated(seed_docs, tmp_path, cls_pooled_minilm):
    docs = [d for d in seed_docs if d.source == "huggingface"]
    index = Index.build(docs, tmp_path / "index")
    assert index.abstention_calibration is None
    index.use_query_encoder(Embedder(cls_pooled_minilm))  # questions now land elsewhere against the same docs
    calibration = index.abstention_calibration
    assert calibration is not None and calibration.query_encoder == cls_pooled_minilm
    assert index.abstention_threshold == calibration.threshold != DEFAULT_THRESHOLDS["task questions"]
    index.use_query_encoder(Embedder("all-MiniLM-L6-v2"))
    assert index.abstention_calibration is None and index.abstention_threshold == DEFAULT_THRESHOLDS["task questions"]


def test_a_re_scorer_trained_with_another_encoder_calibrates_its_memory(cls_index, tmp_path):
    from gorilla_rag.retrieval.rerank import RERANKER_FILE
    from gorilla_rag.training.rerank_training import fit_reranker

    folder = tmp_path / "trained"
    shutil.copytree(cls_index.folder.resolve(), folder)
    index = Index.load(folder)
    pairs = [SimpleNamespace(question=SimpleNamespace(text=f"{phrase} {doc.functionality.lower()}"),
                             key=index.api_key(doc), gold=doc)
             for doc in index.docs for phrase in ("I need a model for", "Which API does")]
    reranker = fit_reranker(index, pairs)
    assert len(reranker.memory) == len(pairs) and reranker.calibration is not None
    reranker.save(folder / RERANKER_FILE)
    loaded = Index.load(folder)
    assert loaded.abstention_signal == "memory"
    assert loaded.abstention_calibration == reranker.calibration
    assert loaded.abstention_threshold == reranker.calibration.threshold != DEFAULT_THRESHOLDS["memory"]
    assert "calibrated for" in describe(loaded)
    card = json.loads((folder / RERANKER_FILE).read_text())
    assert Calibration.from_dict(card["abstention_calibration"]) == reranker.calibration


def test_a_memory_without_calibration_under_another_encoder_says_how_to_get_one(cls_index, tmp_path):
    from gorilla_rag.retrieval.rerank import RERANKER_FILE, Reranker

    folder = tmp_path / "old-card"
    shutil.copytree(cls_index.folder.resolve(), folder)
    index = Index.load(folder)
    examples = [(f"I need {d.functionality.lower()}", index.api_key(d), d.domain, None) for d in index.docs]
    Reranker.train(index, examples).save(folder / RERANKER_FILE)  # as a version before calibration saved it
    loaded = Index.load(folder)
    assert loaded.abstention_calibration is None and loaded.abstention_threshold == DEFAULT_THRESHOLDS["memory"]
    assert "gorilla-rag train reranker` does" in describe(loaded)


def test_an_incremental_update_recalibrates_for_its_new_docs(cls_index, tmp_path):
    from gorilla_rag.retrieval.incremental import update_index

    docs = [d for d in cls_index.docs if d.source != "tfhub"]  # fewer tasks served: other questions remembered
    update_index(docs, tmp_path / "updated", cls_index)
    updated = Index.load(tmp_path / "updated")
    calibration = updated.abstention_calibration
    assert calibration is not None and calibration.questions == len(updated.task_memory) < len(cls_index.task_memory)
    assert calibration == calibrate(updated.task_memory, updated.dense, TASK_DOC_MARGIN)
    update_index(docs, tmp_path / "again", Index.load(tmp_path / "updated"))
    assert Index.load(tmp_path / "again").manifest["task_calibration"] == calibration.to_dict()


def with_calibration(index, folder, calibration):  # noqa: ANN001, ANN201
    """A copy of the index whose manifest holds `calibration` as its task calibration (None: none at all)."""
    shutil.copytree(index.folder.resolve(), folder)
    manifest = json.loads((folder / "index.json").read_text())
    manifest.pop("task_calibration")
    if calibration is not None:
        manifest["task_calibration"] = calibration
    (folder / "index.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize("bad", [{"threshold": "high"}, {"threshold": 5, "questions": 40, "query_encoder": "m"},
                                 {"threshold": float("nan"), "questions": 40, "query_encoder": "m"},
                                 {"threshold": 0.5, "questions": 40, "query_encoder": None}])
def test_an_unreadable_out_of_range_or_nameless_calibration_is_refused_with_the_fix(cls_index, tmp_path, bad):
    with pytest.raises(IndexLoadError, match="calibration.*index build"):
        Index.load(with_calibration(cls_index, tmp_path / "broken", bad))


def test_an_index_built_before_calibration_is_calibrated_when_loaded(cls_index, tmp_path):
    old = with_calibration(cls_index, tmp_path / "old", None)  # as the version before calibration wrote it
    assert Index.load(old).abstention_calibration == cls_index.abstention_calibration


def test_a_small_corpus_gets_a_rough_threshold_and_is_told_so(seed_docs, tmp_path, cls_pooled_minilm):
    docs = [d for d in seed_docs if "Translation" in d.domain][:2]
    index = Index.build(docs, tmp_path / "small", Embedder(cls_pooled_minilm))
    assert MIN_CALIBRATION_QUESTIONS <= len(index.task_memory) < 20
    assert index.abstention_calibration is not None
    assert index.abstention_threshold > DEFAULT_THRESHOLDS["task questions"]
    assert "rough threshold" in describe(index)


def test_a_re_scorer_of_other_encoders_is_neither_shipped_nor_attached(cls_index, seed_index, tmp_path):
    from gorilla_rag import settings
    from gorilla_rag.indexing import matching_reranker
    from gorilla_rag.retrieval.rerank import RERANKER_FILE, Reranker

    examples = [(f"I need {d.functionality.lower()}", seed_index.api_key(d), d.domain, None) for d in seed_index.docs]
    home = tmp_path / "home"
    card = settings.paths(home).models / settings.TRAINED_RERANKER
    card.parent.mkdir(parents=True)
    Reranker.train(seed_index, examples).save(card, {"query_encoder": None, "embedder": "all-MiniLM-L6-v2"})
    assert matching_reranker(home, None, "all-MiniLM-L6-v2") == card
    assert matching_reranker(home, None, cls_index.manifest["embedder"]["name"]) is None
    folder = tmp_path / "cls"
    shutil.copytree(cls_index.folder.resolve(), folder)
    shutil.copyfile(card, folder / RERANKER_FILE)
    with pytest.raises(IndexLoadError, match="trained with .*all-MiniLM-L6-v2"):
        Index.load(folder)


def test_a_pipeline_follows_the_threshold_of_a_swapped_encoder(seed_docs, tmp_path, cls_pooled_minilm):
    index = Index.build([d for d in seed_docs if d.source == "huggingface"], tmp_path / "index")
    pipe, fixed = Pipeline(index), Pipeline(index, min_similarity=0.2)
    assert pipe.min_similarity == DEFAULT_THRESHOLDS["task questions"]
    index.use_query_encoder(Embedder(cls_pooled_minilm))
    assert pipe.min_similarity == index.abstention_calibration.threshold and fixed.min_similarity == 0.2


def test_an_incremental_update_recalibrates_a_trained_memory_against_the_new_docs(cls_index, tmp_path):
    from gorilla_rag.retrieval.incremental import update_index
    from gorilla_rag.retrieval.rerank import RERANKER_FILE, Reranker

    folder = tmp_path / "trained"
    shutil.copytree(cls_index.folder.resolve(), folder)
    index = Index.load(folder)
    examples = [(f"{p} {d.functionality.lower()}", index.api_key(d), d.domain, None)
                for d in index.docs for p in ("I need a model for", "Which API does")]
    reranker = Reranker.train(index, examples)
    # as made against other docs: the update must not carry it over
    reranker.calibration = Calibration(0.1, len(reranker.memory), index.dense.query_embedder.name)
    reranker.save(folder / RERANKER_FILE)
    keep = [d for d in index.docs if d.source != "huggingface"]
    update_index(keep, tmp_path / "updated", Index.load(folder))
    updated = Index.load(tmp_path / "updated")
    expected = calibrate(updated.reranker.memory, updated.dense, DOC_MARGIN, updated.task_memory)
    assert updated.abstention_calibration == expected and expected.threshold > 0.5
