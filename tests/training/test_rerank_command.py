"""`train reranker` end to end on APIBench-format question files written from the seed corpus: which questions it
learns from (all, or all but the held-out split), the card it leaves, the held-out evaluation it refuses and the
caveat on scores of questions it learned."""

import json
import shutil

import pytest

from gorilla_rag.cli import main
from gorilla_rag.retrieval import Index
from gorilla_rag.training.pairs import QUESTION_FILES, is_held_out
from gorilla_rag.training.rerank_training import train_reranker

PHRASINGS = ("I need {}.", "Which model can do {}?", "Our team wants {} in a product.", "Help me with {}, please.")


def write_apibench(folder, docs) -> int:
    """Question files in APIBench's layout (`###Instruction:` text, gold api_call): one per phrasing and doc."""
    (folder / "api").mkdir(parents=True)
    count = 0
    for hub, relative in QUESTION_FILES.items():
        lines = []
        for doc in (d for d in docs if d.source == hub):
            for phrasing in PHRASINGS:
                task = f"{doc.functionality.lower()} ({doc.description.split('.')[0][:80]})"
                lines.append(json.dumps({"code": f"###Instruction: {phrasing.format(task)}\n###Output: x",
                                         "api_call": doc.api_call, "api_data": {"domain": doc.domain}}))
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text("\n".join(lines) + "\n")
        count += len(lines)
    return count


@pytest.fixture
def own_index(seed_index, tmp_path):
    """A private copy of the seed index (training installs a re-scorer into its folder)."""
    folder = tmp_path / "indexes" / "default"
    shutil.copytree(seed_index.folder, folder)
    return Index.load(folder)


@pytest.mark.slow
def test_by_default_every_question_is_learned_and_held_out_evaluation_is_refused(own_index, tmp_path, capsys):
    apibench = tmp_path / "apibench"
    total = write_apibench(apibench, own_index.docs)
    card = train_reranker(own_index, apibench, tmp_path / "models" / "reranker.json")
    assert card["split"] == "all" and card["train_pairs"] == total and card["held_out_pairs"] == 0
    loaded = Index.load(own_index.folder)
    assert loaded.reranker is not None and loaded.reranker.split == "all"
    assert len(loaded.reranker.memory) == total

    question_file = apibench / QUESTION_FILES["tfhub"]
    args = ["eval", "apibench", "--questions", str(question_file), "--hub", "tfhub", "--index", str(own_index.folder)]
    assert main([*args, "--split", "held-out"]) == 2
    assert "train reranker --hold-out" in capsys.readouterr().err
    assert main([*args, "--json"]) == 0  # scoring what it learned is allowed, and said to be no result
    assert "training data, not a result" in json.loads(capsys.readouterr().out)["caveat"]

    held_card = train_reranker(own_index, apibench, tmp_path / "models" / "reranker.json", hold_out=True)
    def texts(relative: str) -> list[str]:
        return [json.loads(line)["code"].split("###Instruction: ")[1].split("\n###Output")[0]
                for line in (apibench / relative).read_text().splitlines()]

    held = sum(is_held_out(text) for relative in QUESTION_FILES.values() for text in texts(relative))
    assert held_card["split"] == "train" and held_card["held_out_pairs"] == held > 0
    assert held_card["train_pairs"] == total - held
    assert main([*args, "--split", "held-out", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "held-out" and "caveat" not in report
    assert report["strict"]["n"] == sum(is_held_out(text) for text in texts(QUESTION_FILES["tfhub"])) > 0


@pytest.mark.slow
def test_a_re_scorer_of_another_version_is_refused_with_the_fix_and_replaced_by_training(own_index, tmp_path, capsys):
    from gorilla_rag.indexing import matching_reranker
    from gorilla_rag.retrieval import IndexLoadError
    from gorilla_rag.retrieval.index import RERANKER_FILE

    old = {"features": ["dense_cos", "bm25_norm"], "weights": [1.0, 1.0], "bias": 0.0, "mean": [0, 0],
           "scale": [1, 1], "query_encoder": None}
    (own_index.folder / RERANKER_FILE).write_text(json.dumps(old))
    with pytest.raises(IndexLoadError, match="another gorilla-rag version") as refused:
        Index.load(own_index.folder)
    assert "gorilla-rag train reranker" in str(refused.value) and "delete" in str(refused.value)
    apibench = tmp_path / "apibench"
    write_apibench(apibench, own_index.docs)
    home = tmp_path / "home"
    assert main(["train", "reranker", "--home", str(home), "--index", str(own_index.folder),
                 "--apibench", str(apibench)]) == 0  # the old file is no obstacle: it is what training replaces
    assert Index.load(own_index.folder).reranker is not None
    capsys.readouterr()
    (home / "models" / "apibench-reranker.json").write_text(json.dumps(old))
    assert matching_reranker(home, None) is None  # `index build` leaves it out, saying why
    assert "another gorilla-rag version" in capsys.readouterr().err


def test_task_labelled_questions_teach_the_weights_without_entering_the_memory(seed_index):
    """A plain question labelled with a task (not an API): every candidate doing the task is gold."""
    import numpy as np

    from gorilla_rag.retrieval.rerank import Reranker

    docs = seed_index.docs
    target = next(d for d in docs if d.source == "torchhub")
    examples = [(f"which model should the office kiosk use, version {i}?", seed_index.api_key(target), target.domain,
                 None) for i in range(6)]
    does = [("turn speech recordings into text", None, lambda doc: "speech recognition" in doc.domain.lower()),
            ("photos of birds: which species?", None, lambda doc: "image classification" in doc.domain.lower())]
    plain = Reranker.train(seed_index, examples)
    taught = Reranker.train(seed_index, examples, task_lists=does)
    assert len(taught.memory) == len(plain.memory) == 6  # never remembered
    assert not np.allclose(taught.weights, plain.weights)  # but learned from
