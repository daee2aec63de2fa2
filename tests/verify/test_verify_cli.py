"""`gorilla-rag verify` as a user runs it: what it prints and its exit status, for each kind of finding.

The command runs in-process over a hand-written corpus (the index loader is replaced), so no index is built.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from gorilla_rag import cli
from gorilla_rag.types import ApiDoc
from gorilla_rag.verify.report import passes, verification_text
from gorilla_rag.verify.verifier import Verifier

DOCS = [
    ApiDoc(id="torchhub:pytorch/vision:resnet50", source="torchhub", domain="Classification", api_name="resnet50",
           api_call="torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)"),
    ApiDoc(id="huggingface:acme/vit", source="huggingface", domain="Computer Vision Image Classification",
           api_name="acme/vit", api_call="pipeline('image-classification', model='acme/vit')"),
    ApiDoc(id="huggingface:acme/vit#2", source="huggingface", domain="Computer Vision Image Classification",
           api_name="acme/vit", api_call="pipeline('image-classification')"),
]


@pytest.fixture()
def verify(monkeypatch, capsys):
    loaded = []
    monkeypatch.setattr("gorilla_rag.indexing.open_index", lambda *a, **k: loaded.append(1) or SimpleNamespace(docs=DOCS))

    def run(*args: str) -> tuple[int, str, str, bool]:
        code = cli.main(["verify", *args])
        out, err = capsys.readouterr()
        return code, out, err, bool(loaded)

    return run


def test_a_clean_verified_call_exits_0(verify):
    code, out, _, _ = verify("model = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)")
    assert code == 0
    assert out.splitlines() == ["[verified] torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)",
                                "api: torchhub:pytorch/vision:resnet50"]


def test_every_call_is_checked_and_the_invented_one_named(verify):
    code, out, _, _ = verify("m = torch.hub.load('pytorch/vision','resnet50',pretrained=True); "
                             "n = torch.hub.load('foo/bar','baz')")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "[hallucinated] torch.hub.load('foo/bar','baz')"
    assert "  1. [verified] torch.hub.load('pytorch/vision','resnet50',pretrained=True)  -> " \
           "torchhub:pytorch/vision:resnet50" in lines
    assert "  2. [hallucinated] torch.hub.load('foo/bar','baz')  -> torchhub:foo/bar:baz" in lines
    assert "note: no corpus API for torchhub:foo/bar:baz" in lines


def test_json_lists_each_call(verify):
    code, out, _, _ = verify("a = torch.hub.load('pytorch/vision', 'resnet50')\nb = torch.hub.load('foo/bar', 'baz')",
                             "--json")
    data = json.loads(out)
    assert code == 1 and data["status"] == "hallucinated" and data["key"] == "torchhub:foo/bar:baz"
    assert [(c["status"], c["key"], c["matched"]) for c in data["calls"]] == [
        ("verified", "torchhub:pytorch/vision:resnet50", ["torchhub:pytorch/vision:resnet50"]),
        ("hallucinated", "torchhub:foo/bar:baz", []),
    ]
    assert data["syntax_errors"] == []


def test_broken_python_is_a_syntax_error_exit_1(verify):
    code, out, _, _ = verify("model = torch.hub.load('pytorch/vision', 'resnet50'")
    assert code == 1 and out.startswith("[syntax_error] ")
    assert "syntax error: line 1, column 23: '(' was never closed" in out
    # a whole call in code that does not parse: verified, but said and not passed
    code, out, _, _ = verify("m = torch.hub.load('pytorch/vision', 'resnet50')\nfor x in")
    assert code == 1 and out.startswith("[verified] ")
    assert "syntax error: line 2, column 9" in out and "not valid Python" in out.splitlines()[-1]


def test_valid_code_without_api_call_says_so(verify):
    code, out, _, _ = verify("print('hello')")
    assert code == 1 and out.splitlines() == ["[no_api_call]", "note: no API call found"]
    code, out, _, _ = verify("this is just prose")
    assert code == 1 and out.startswith("[unparseable]") and "syntax error:" in out


@pytest.mark.parametrize("args, stdin", [([""], None), (["   ", "\n"], None), (["-"], "  \n")])
def test_empty_code_is_a_usage_error(verify, monkeypatch, args, stdin):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", SimpleNamespace(read=lambda: stdin))
    code, out, err, loaded = verify(*args)
    assert (code, out) == (2, "")
    assert err.strip() == "gorilla-rag: error: the code to verify is empty: give code, or '-' to read it from stdin"
    assert not loaded  # refused before the index loads


def test_a_call_of_another_hub_is_named_not_hallucinated(verify):
    code, out, _, _ = verify("torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)", "--source", "huggingface")
    assert code == 1
    assert out.splitlines() == [
        "[other_hub] torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)",
        "api: torchhub:pytorch/vision:resnet50  (torchhub)",
        "note: torchhub:pytorch/vision:resnet50 is a corpus API of torchhub, not of huggingface",
    ]


def test_a_task_only_pipeline_is_underspecified_and_names_candidates(verify):
    code, out, _, _ = verify("classifier = pipeline('image-classification')")
    assert code == 1 and out.startswith("[underspecified] pipeline('image-classification')")
    assert "names no model" in out and "huggingface:acme/vit" in out and "hallucinated" not in out


def test_rendering_of_a_result_without_calls():
    result = Verifier(DOCS).verify("x = 1")
    assert verification_text(result) == "[no_api_call]\nnote: no API call found" and not passes(result)
