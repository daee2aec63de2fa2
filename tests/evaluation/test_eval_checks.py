"""`eval apibench` / `eval responses` refuse what they cannot measure honestly: no questions, the wrong hub, no
responses, a bad --limit, unreadable question files; and `--split held-out` is refused only for a stack that uses a
re-scorer which learned the held-out questions."""

import json
import shutil

import pytest

from gorilla_rag.cli import main
from gorilla_rag.errors import GorillaError
from gorilla_rag.evaluation.checks import check_hub, gold_hub
from gorilla_rag.evaluation.questions import load_questions
from gorilla_rag.evaluation.scoring import format_report

RESNET = "torch.hub.load(repo_or_dir='pytorch/vision', model='resnet50', pretrained=True)"
MIDAS = "torch.hub.load(repo_or_dir='intel-isl/MiDaS', model='DPT_Large')"
TF_MOBILENET = "hub.KerasLayer('https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/4')"


def record(text: str, call: str, domain: str = "Classification") -> dict:
    return {"code": f"###Instruction: {text}\n###Output: <<<domain>>>: {domain}\n<<<api_call>>>: {call}",
            "api_call": call, "api_data": {"domain": domain, "api_call": call}}


def write_jsonl(path, records) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


@pytest.fixture()
def torchhub_questions(tmp_path) -> str:
    return write_jsonl(tmp_path / "questions.json", [record("Classify photos of birds.", RESNET),
                                                     record("How far away is each pixel?", MIDAS, "Depth"),
                                                     record("Label pictures of cars.", RESNET)])


@pytest.fixture()
def corpus_file(tmp_path) -> str:
    docs = [{"id": "torchhub:pytorch/vision:resnet50", "source": "torchhub", "domain": "Classification",
             "api_name": "resnet50", "api_call": RESNET},
            {"id": "torchhub:intel-isl/midas:DPT_Large", "source": "torchhub", "domain": "Depth",
             "api_name": "MiDaS", "api_call": MIDAS}]
    return write_jsonl(tmp_path / "torchhub.jsonl", docs)


def test_an_empty_question_file_is_an_error_naming_it(tmp_path, capsys, corpus_file):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert main(["eval", "apibench", "--questions", str(empty), "--hub", "tfhub"]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "no questions" in err and "Traceback" not in err
    responses = write_jsonl(tmp_path / "r.jsonl", [{"question_id": 1, "text": RESNET}])
    assert main(["eval", "responses", "--questions", str(empty), "--hub", "torchhub", "--responses", responses,
                 "--corpus", corpus_file]) == 2
    assert str(empty) in capsys.readouterr().err


def test_questions_of_another_hub_are_refused_naming_the_likely_hub(torchhub_questions, corpus_file, tmp_path,
                                                                     capsys):
    assert main(["eval", "apibench", "--questions", torchhub_questions, "--hub", "tfhub"]) == 2
    err = capsys.readouterr().err
    assert "--hub torchhub" in err and torchhub_questions in err
    responses = write_jsonl(tmp_path / "r.jsonl", [{"question_id": 1, "text": RESNET}])
    assert main(["eval", "responses", "--questions", torchhub_questions, "--hub", "huggingface",
                 "--responses", responses, "--corpus", corpus_file]) == 2
    assert "--hub torchhub" in capsys.readouterr().err


def test_a_few_questions_of_another_hub_only_warn(tmp_path, capsys):
    path = write_jsonl(tmp_path / "q.json", [record("a", RESNET), record("b", MIDAS), record("c", TF_MOBILENET)])
    questions = load_questions(path)
    assert [gold_hub(q) for q in questions] == ["torchhub", "torchhub", "tfhub"]
    check_hub(questions, "torchhub", path)
    assert "1 of 3 questions" in capsys.readouterr().err
    with pytest.raises(GorillaError, match="--hub torchhub"):
        check_hub(questions, "tfhub", path)


def test_responses_missing_are_shown_and_none_at_all_is_an_error(torchhub_questions, corpus_file, tmp_path, capsys):
    args = ["eval", "responses", "--questions", torchhub_questions, "--hub", "torchhub", "--corpus", corpus_file]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main([*args, "--responses", str(empty)]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "none of the 3 questions" in err
    elsewhere = write_jsonl(tmp_path / "other.jsonl", [{"question_id": 7, "text": RESNET}])
    assert main([*args, "--responses", elsewhere]) == 2
    assert "question_ids 7..7" in capsys.readouterr().err
    partial = write_jsonl(tmp_path / "partial.jsonl", [{"question_id": 1, "text": RESNET}])
    assert main([*args, "--responses", partial]) == 0
    out = capsys.readouterr().out
    assert "missing responses: 2 of 3" in out
    assert main([*args, "--responses", partial, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["missing_responses"] == 2


def test_report_without_missing_responses_key_has_no_such_line():
    strict = {"accuracy": 1.0, "wrong_api": 0.0, "hallucination": 0.0, "no_call": 0.0, "n": 2}
    assert "missing responses" not in format_report({"strict": strict})
    assert "missing responses: 0 of 2" in format_report({"strict": strict, "missing_responses": 0})


@pytest.mark.parametrize("limit", ["0", "-2", "many"])
def test_limit_must_be_a_positive_number(torchhub_questions, limit, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["eval", "apibench", "--questions", torchhub_questions, "--hub", "torchhub", "--limit", limit])
    assert caught.value.code == 2 and "--limit" in capsys.readouterr().err


def test_unreadable_question_files_say_what_was_expected(tmp_path, capsys):
    missing = tmp_path / "nowhere.json"
    assert main(["eval", "apibench", "--questions", str(missing), "--hub", "torchhub"]) == 2
    err = capsys.readouterr().err
    assert f"question file {missing}: no such file" in err and "JSON lines" in err and "Errno" not in err
    array = tmp_path / "array.json"
    array.write_text(json.dumps([record("Classify photos.", RESNET), record("Depth?", MIDAS)]))
    assert main(["eval", "apibench", "--questions", str(array), "--hub", "torchhub"]) == 2
    err = capsys.readouterr().err
    assert f"question file {array} holds a JSON array" in err and "one JSON object per line" in err
    assert "no 'code' field" not in err
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps([record("Classify photos.", RESNET)], indent=2))
    assert main(["eval", "apibench", "--questions", str(pretty), "--hub", "torchhub"]) == 2
    assert "holds a JSON array" in capsys.readouterr().err
    assert main(["eval", "apibench", "--questions", str(tmp_path), "--hub", "torchhub"]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_evaluate_pipeline_refuses_no_questions():
    from gorilla_rag.evaluation.run import evaluate_pipeline

    with pytest.raises(ValueError, match="no questions"):
        evaluate_pipeline(None, [], "torchhub")


@pytest.fixture()
def remembering_index(seed_index, tmp_path):
    """A copy of the seed index with a re-scorer that learned every question (split "all") of a torchhub file."""
    from gorilla_rag.retrieval import Index
    from gorilla_rag.retrieval.rerank import RERANKER_FILE, Reranker

    folder = tmp_path / "indexes" / "remembering"
    shutil.copytree(seed_index.folder, folder)
    index = Index.load(folder)
    docs = [d for d in index.docs if d.source == "torchhub"]
    phrasings = ("I need {}.", "Which model can do {}?", "Our team wants {} in a product.", "Help me with {}.")
    records = [record(p.format(d.functionality.lower() or d.api_name), d.api_call, d.domain)
               for d in docs for p in phrasings]
    questions = write_jsonl(tmp_path / "torchhub_questions.json", records)
    examples = [(q.text, index.api_key(d), d.domain, None)
                for q, d in zip(load_questions(questions), (d for d in docs for _ in phrasings))]
    Reranker.train(index, examples).save(folder / RERANKER_FILE, {"kind": "gorilla-rag-reranker", "split": "all"})
    assert Index.load(folder).reranker.split == "all"
    return folder, questions


@pytest.mark.slow
def test_held_out_split_is_refused_only_for_stacks_using_the_rescorer(remembering_index, capsys):
    folder, questions = remembering_index
    args = ["eval", "apibench", "--questions", questions, "--hub", "torchhub", "--index", str(folder),
            "--split", "held-out", "--json", "--limit", "6"]
    for stack in ([], ["--retriever", "rerank"], ["--config", "rerank"]):
        assert main([*args, *stack]) == 2, stack
        assert "train reranker --hold-out" in capsys.readouterr().err
    for stack in (["--retriever", "hybrid"], ["--config", "hybrid"], ["--config", "bm25"]):
        assert main([*args, *stack]) == 0, stack
        report = json.loads(capsys.readouterr().out)
        # the re-scorer and its question memory took no part: no rerank recall, no caveat
        assert report["split"] == "held-out" and report["reranker_learned"] is None
        assert "rerank" not in report["retrieval"] and "caveat" not in report
        assert 0 < report["strict"]["n"] <= 6


def test_questions_whose_gold_apis_the_corpus_lacks_are_refused_or_counted(torchhub_questions, tmp_path, capsys):
    only_midas = write_jsonl(tmp_path / "midas.jsonl", [{"id": "torchhub:intel-isl/midas:DPT_Large",
                                                         "source": "torchhub", "domain": "Depth",
                                                         "api_name": "MiDaS", "api_call": MIDAS}])
    responses = write_jsonl(tmp_path / "r.jsonl", [{"question_id": i, "text": RESNET} for i in (1, 2, 3)])
    args = ["eval", "responses", "--questions", torchhub_questions, "--hub", "torchhub", "--responses", responses]
    assert main([*args, "--corpus", only_midas]) == 2  # 2 of 3 gold APIs missing: the score measures the corpus
    err = capsys.readouterr().err
    assert "2 of 3 questions have a gold API that is not a torchhub API of" in err and "corpus import" in err
    with_resnet = write_jsonl(tmp_path / "both.jsonl", [
        {"id": "torchhub:pytorch/vision:resnet50", "source": "torchhub", "domain": "Classification",
         "api_name": "resnet50", "api_call": RESNET},
        {"id": "torchhub:intel-isl/midas:DPT_Large", "source": "torchhub", "domain": "Depth",
         "api_name": "MiDaS", "api_call": MIDAS}])
    assert main([*args, "--corpus", with_resnet]) == 0
    captured = capsys.readouterr()
    assert "gold API not in the corpus" not in captured.out and "warning" not in captured.err
    only_resnet = write_jsonl(tmp_path / "resnet.jsonl", [{"id": "torchhub:pytorch/vision:resnet50",
                                                           "source": "torchhub", "domain": "Classification",
                                                           "api_name": "resnet50", "api_call": RESNET}])
    assert main([*args, "--corpus", only_resnet]) == 0  # 1 of 3 missing: scored, and said twice
    captured = capsys.readouterr()
    assert "gold API not in the corpus: 1 of 3" in captured.out
    assert "1 of 3 questions have a gold API that is not in" in captured.err
    assert main([*args, "--corpus", only_resnet, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["gold_not_in_corpus"] == 1
