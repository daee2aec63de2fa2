"""Every reader of JSON-lines files (corpus, APIBench import, questions, responses) reports a malformed line alike:
file, line and the column within that line; files that are not JSON lines, or are raw APIBench records where a
normalised corpus is expected, are said to be so once; a record missing fields names them."""

import json

import pytest

from gorilla_rag.cli import main
from gorilla_rag.corpus import CorpusError, read_corpus
from gorilla_rag.corpus.apibench import parse_records, validate_apibench_file
from gorilla_rag.corpus.store import FileFormatError, iter_jsonl
from gorilla_rag.evaluation.questions import load_questions, load_responses

GOOD_DOC = {"id": "torchhub:pytorch/vision:resnet50", "source": "torchhub", "domain": "Classification",
            "api_name": "resnet50", "api_call": "torch.hub.load('pytorch/vision', 'resnet50')"}
APIBENCH_RECORD = {"domain": "Classification", "framework": "PyTorch", "functionality": "ResNet",
                   "api_name": "resnet50", "api_call": "torch.hub.load(repo_or_dir='pytorch/vision', model='resnet50')",
                   "api_arguments": {"pretrained": "True"}, "python_environment_requirements": ["torch"],
                   "example_code": "import torch", "performance": {"dataset": "ImageNet"},
                   "description": "A residual network."}
TRUNCATED = b'{"domain": "x", "api_call": '  # cut off where a value should follow: column 29


def read_problems(reader, path) -> list[str]:
    with pytest.raises(CorpusError) as caught:
        reader(path)
    return caught.value.problems


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_malformed_line_reported_with_the_same_column_by_every_reader(tmp_path, line_end):
    good = {
        "corpus": json.dumps(GOOD_DOC).encode(),
        "questions": json.dumps({"code": "###Instruction: x", "api_call": GOOD_DOC["api_call"]}).encode(),
        "responses": json.dumps({"question_id": 1, "text": "x"}).encode(),
        "apibench": json.dumps(APIBENCH_RECORD).encode(),
    }
    expected = "malformed JSON (Expecting value at column 29)"
    readers = {
        "corpus": read_corpus,
        "questions": load_questions,
        "responses": load_responses,
        "apibench": lambda path: _raise_problems(parse_records(path.read_bytes(), "torchhub", str(path))[1]),
    }
    for name, reader in readers.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(good[name] + line_end + TRUNCATED + line_end + good[name].replace(b"resnet50", b"m") + line_end)
        problems = read_problems(reader, path)
        assert problems == [f"{path}:2: {expected}"], name


def _raise_problems(problems: list[str]) -> None:
    if problems:
        raise CorpusError(problems)


def test_cli_validate_and_index_build_report_the_column(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "torchhub.jsonl").write_bytes(json.dumps(GOOD_DOC).encode() + b"\n" + TRUNCATED + b"\n")
    for args in (["corpus", "validate", str(corpus)], ["index", "build", "--corpus", str(corpus)]):
        assert main(args) == 2
        assert f"{corpus / 'torchhub.jsonl'}:2: malformed JSON (Expecting value at column 29)" in capsys.readouterr().err


def test_files_that_are_not_json_lines_are_named_once(tmp_path):
    array = tmp_path / "torchhub.jsonl"
    array.write_text(json.dumps([GOOD_DOC, GOOD_DOC]))
    with pytest.raises(FileFormatError, match="holds a JSON array; expected JSON lines: one JSON object per line"):
        read_corpus(array)
    array.write_text(json.dumps([GOOD_DOC], indent=2))
    with pytest.raises(FileFormatError, match="holds a JSON array"):
        read_corpus(array)
    array.write_text(json.dumps(GOOD_DOC, indent=2))
    with pytest.raises(FileFormatError, match="one JSON object spread over several lines"):
        read_corpus(array)
    with pytest.raises(FileFormatError, match="corpus file .*nowhere.jsonl: no such file"):
        list(iter_jsonl(tmp_path / "nowhere.jsonl", [], what="corpus file"))


def test_a_list_on_a_later_line_is_one_bad_record_and_a_bom_is_accepted(tmp_path):
    path = tmp_path / "torchhub.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD_DOC).encode() + b"\n[1, 2]\n")
    assert read_problems(read_corpus, path) == [f"{path}:2: expected a JSON object, got list"]


def test_missing_and_unknown_fields_are_named(tmp_path):
    path = tmp_path / "torchhub.jsonl"
    records = [{"id": "torchhub:a", "source": "torchhub", "api_call": "torch.hub.load('a/b', 'c')"},
               {**GOOD_DOC, "id": "torchhub:x", "colour": "red"},
               {**GOOD_DOC, "id": "torchhub:y", "domain": 3},
               {**GOOD_DOC, "id": "torchhub:z", "requirements": "torch"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert read_problems(read_corpus, path) == [
        f"{path}:1: missing required field(s) 'domain', 'api_name'",
        f"{path}:2: unknown field(s) 'colour'",
        f"{path}:3: field(s) 'domain' must be strings",
        f"{path}:4: field 'requirements' must be a list of strings",
    ]


def test_raw_apibench_records_are_recognised(tmp_path, capsys):
    folder = tmp_path / "api"
    folder.mkdir()
    raw = folder / "torchhub_api.jsonl"
    raw.write_text("".join(json.dumps({**APIBENCH_RECORD, "api_name": f"m{i}"}) + "\n" for i in range(5)))
    problems = read_problems(read_corpus, folder)
    assert len(problems) == 1 and "raw APIBench API records" in problems[0]
    assert f"gorilla-rag corpus import apibench {folder}" in problems[0]
    assert validate_apibench_file(raw) == ("torchhub", 5)

    assert main(["corpus", "validate", str(raw)]) == 0
    out = capsys.readouterr().out
    assert "APIBench API file (torchhub), 5 records, all valid" in out and "corpus import apibench" in out
    assert "unknown field" not in out

    renamed = folder / "mine.jsonl"
    raw.rename(renamed)
    assert validate_apibench_file(renamed) == ("torchhub", 5)  # the hub from what its calls load
    assert "named huggingface_api.jsonl" in read_problems(read_corpus, renamed)[0]

    renamed.write_text(json.dumps(APIBENCH_RECORD) + "\n" + json.dumps({**APIBENCH_RECORD, "api_call": ""}) + "\n")
    assert main(["corpus", "validate", str(renamed)]) == 2
    assert f"{renamed}:2:" in capsys.readouterr().err
