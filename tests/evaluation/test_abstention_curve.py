"""`eval abstention`: reading question files, the threshold it recommends, agreement with what `ask` does, and
--save making that threshold the index's own."""

import json
import shutil

import numpy as np
import pytest

from gorilla_rag.cli import main
from gorilla_rag.errors import CorpusError
from gorilla_rag.evaluation.abstention_curve import Scored, load_question_lines, recommend
from gorilla_rag.pipeline import Pipeline
from gorilla_rag.retrieval import Index
from gorilla_rag.retrieval.abstention import DEFAULT_THRESHOLDS, Calibration, describe

IN_SCOPE = ["Find the names of people and places in a text.", "Turn my English product descriptions into French.",
            "Summarize this long news article in a few sentences.", "Transcribe the audio of my podcast to text.",
            "Detect the objects in photos from a street camera.", "Tell whether these movie reviews are positive.",
            "Estimate how far away things are in a single photo.", "Classify images of animals by species.",
            "Answer questions about a paragraph of text.", "Generate an image from a text description."]
OUT_OF_SCOPE = ["How do I sort a list of dictionaries by the 'age' key in Python?", "reverse a singly linked list",
                "book a flight from Boston to Denver next Friday", "what's the weather in Paris tomorrow",
                "Write a regex that validates email addresses.", "What is the capital of Australia?"]


@pytest.fixture
def own_index(seed_index, tmp_path):
    folder = tmp_path / "index"
    shutil.copytree(seed_index.folder.resolve(), folder)
    return folder


def test_question_files_are_read_as_text_lines_or_json_lines(tmp_path):
    text = tmp_path / "questions.txt"
    text.write_text("# my questions\nfirst question\n\n  second question  \n")
    assert load_question_lines(text) == ["first question", "second question"]
    lines = tmp_path / "questions.jsonl"
    lines.write_text('{"question": "one"}\n"two"\n{"code": "###Instruction: three\\n###Output: x"}\n')
    assert load_question_lines(lines) == ["one", "two", "three"]


def test_bad_question_lines_are_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "fine"}\n{"question": 3}\n{not json\n')
    with pytest.raises(CorpusError) as caught:
        load_question_lines(bad)
    assert f"{bad}:2:" in str(caught.value) and f"{bad}:3:" in str(caught.value)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n")
    with pytest.raises(CorpusError, match="holds no questions"):
        load_question_lines(empty)


def test_the_recommended_threshold_is_the_highest_within_the_bound():
    signal = np.array([0.10, 0.20, 0.30, 0.31, 0.40, 0.45, 0.50, 0.55, 0.60, 0.70] * 10)
    named = np.zeros(len(signal), dtype=bool)
    scored = Scored(signal, named)
    for bound in (0.0, 0.05, 0.1, 0.25, 0.5):
        threshold = recommend(scored, bound)
        assert scored.abstained(threshold) <= bound
        assert scored.abstained(threshold + 0.0015) > bound  # a hair higher breaks it: no slack left
    named[signal < 0.25] = True  # questions naming their model are answered whatever the threshold
    assert recommend(Scored(signal, named), 0.0) == pytest.approx(0.30)


def test_the_report_agrees_with_ask_and_save_makes_its_threshold_the_index_s(own_index, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("\n".join(IN_SCOPE) + "\n")
    (tmp_path / "out.jsonl").write_text("".join(json.dumps({"question": q}) + "\n" for q in OUT_OF_SCOPE))
    args = ["eval", "abstention", "--in-scope", str(tmp_path / "in.txt"), "--out-of-scope", str(tmp_path / "out.jsonl"),
            "--index", str(own_index), "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["in_scope"], result["out_of_scope"], result["signal"]) == (10, 6, "task questions")
    assert result["current"]["threshold"] == DEFAULT_THRESHOLDS["task questions"]
    pipe = Pipeline(Index.load(own_index))
    for questions, key in ((IN_SCOPE, "in_scope_abstained"), (OUT_OF_SCOPE, "out_of_scope_abstained")):
        said = [pipe.ask(q).status == "no_match" for q in questions]
        assert result["current"][key] == pytest.approx(sum(said) / len(questions))
    recommended = result["recommended"]
    assert recommended["in_scope_abstained"] <= 0.03 and "warning" in result  # 10 questions: said to be few
    assert [row["threshold"] for row in result["curve"]] == sorted(row["threshold"] for row in result["curve"])

    assert main([*args, "--save"]) == 0
    assert "saved:" in json.loads(capsys.readouterr().out)["saved"]
    index = Index.load(own_index)
    assert index.abstention_threshold == recommended["threshold"] == Pipeline(index).min_similarity
    assert "set by `eval abstention --save`" in describe(index)
    assert main(["index", "info", "--name", str(own_index)]) == 0
    assert "set by `eval abstention --save`" in capsys.readouterr().out


def test_a_saved_threshold_for_another_signal_is_not_used_and_says_so(own_index):
    index = Index.load(own_index)
    index.user_calibration = Calibration(0.5, 40, index.dense.query_embedder.name, 0.02, "memory", 30, 0.9)
    assert index.abstention_threshold == DEFAULT_THRESHOLDS["task questions"]
    assert "was for the memory signal" in describe(index)


@pytest.mark.parametrize("share", ["1", "-0.1", "three"])
def test_a_bad_bound_is_refused(own_index, tmp_path, share, capsys):
    (tmp_path / "in.txt").write_text("a question\n")
    with pytest.raises(SystemExit) as code:
        main(["eval", "abstention", "--in-scope", str(tmp_path / "in.txt"), "--max-in-scope", share])
    assert code.value.code == 2 and "--max-in-scope" in capsys.readouterr().err
