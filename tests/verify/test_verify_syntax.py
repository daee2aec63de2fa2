"""Broken Python is said to be broken: a call broken as written is a syntax_error, code that does not parse
around verified calls carries its syntax errors, and only the parts of a text meant as Python are judged."""

from __future__ import annotations

import pytest

from gorilla_rag.types import ApiDoc
from gorilla_rag.verify import Verifier, extract_calls
from gorilla_rag.verify.syntax import syntax_errors

DOCS = (  # one line per doc
    ApiDoc(id="torchhub:pytorch/vision:resnet50", source="torchhub", domain="Classification", api_name="resnet50", api_call="torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)"),
    ApiDoc(id="huggingface:acme/poca", source="huggingface", domain="Reinforcement Learning", api_name="acme/poca", api_call="mlagents-load-from-hf --repo-id='acme/poca' --local-dir='./downloads'"),
    ApiDoc(id="huggingface:acme/sd", source="huggingface", domain="Text-to-Image", api_name="acme/sd", api_call="StableDiffusionPipeline.from_pretrained('acme/sd', vae=AutoencoderKL.from_pretrained('acme/vae'))"),
)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(DOCS)


def test_a_call_cut_short_is_a_syntax_error_not_verified(verifier):
    result = verifier.verify("model = torch.hub.load('pytorch/vision', 'resnet50'")
    assert result.status == "syntax_error"
    # what it would load is still said, so a user sees what was meant
    assert (result.key, result.matched) == ("torchhub:pytorch/vision:resnet50", (DOCS[0],))
    assert "broken as written" in result.detail[0] and "a corpus API" in result.detail[0]
    assert result.syntax_errors == (
        "line 1, column 23: '(' was never closed in \"model = torch.hub.load('pytorch/vision', 'resnet50'\"",
    )
    truncated = verifier.verify("hub.load('https://tfhub.dev/acme/encod")  # a handle cut off: unknowable
    assert truncated.status == "syntax_error" and "which is no corpus API" in truncated.detail[0]


def test_broken_code_around_a_whole_call_verifies_with_its_syntax_errors(verifier):
    result = verifier.verify("m = torch.hub.load('pytorch/vision', 'resnet50')\nfor x in")
    assert (result.status, result.matched) == ("verified", (DOCS[0],))
    assert result.syntax_errors == ("line 2, column 9: invalid syntax in 'for x in'",)
    assert result.to_dict()["syntax_errors"] == list(result.syntax_errors)


def test_an_invented_call_outranks_a_broken_one(verifier):
    result = verifier.verify("a = torch.hub.load('pytorch/vision', 'resnet50'\nb = YOLO('acme/nope')")
    assert result.status == "hallucinated" and result.call == "YOLO('acme/nope')"
    assert [c.status for c in result.calls] == ["syntax_error", "hallucinated"]


def test_valid_code_has_no_syntax_errors(verifier):
    code = (
        "import torch\n\n\ndef load():\n    return torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)\n"
    )
    result = verifier.verify(code)
    assert (result.status, result.syntax_errors) == ("verified", ())
    # a snippet cut out of an indented block is valid as such
    assert verifier.verify("    m = torch.hub.load('pytorch/vision', 'resnet50')\n    m.eval()").syntax_errors == ()


@pytest.mark.parametrize(
    "text",
    [
        # prose around a fenced block, and a shell block, are not Python
        "Here is the code:\n```python\nm = torch.hub.load('pytorch/vision', 'resnet50')\n```\nIt loads (a CNN).",
        "```bash\npip install torch --upgrade\n```\n```\nm = torch.hub.load('pytorch/vision', 'resnet50')\n```",
        # Gorilla's fields: only api_call and code are code
        "<<<domain>>>: Image Classification, <<<api_call>>>: torch.hub.load('pytorch/vision', 'resnet50'), "
        "<<<explanation>>>: It is (really) good.",
        # shell and notebook command lines inside code
        "!pip install torch\n%matplotlib inline\nm = torch.hub.load('pytorch/vision', 'resnet50')",
        "mlagents-load-from-hf --repo-id='acme/poca' --local-dir='./downloads'",
    ],
)
def test_only_the_parts_meant_as_python_are_judged(verifier, text):
    result = verifier.verify(text)
    assert (result.status, result.syntax_errors) == ("verified", ()), result


def test_broken_fenced_code_names_its_block():
    text = "Try this:\n```python\nm = torch.hub.load('pytorch/vision', 'resnet50'\n```"
    assert syntax_errors(text) == (
        "code block 1: line 1, column 19: '(' was never closed in \"m = torch.hub.load('pytorch/vision', "
        "'resnet50'\"",
    )


def test_a_component_loaded_inside_a_corpus_call_is_documented(verifier):
    result = verifier.verify(DOCS[2].api_call)
    assert [(c.status, c.key) for c in result.calls] == [
        ("verified", "huggingface:acme/sd"),
        ("verified", "huggingface:acme/vae"),
    ]
    assert result.calls[1].matched == (DOCS[2],)
    assert verifier.verify("AutoencoderKL.from_pretrained('acme/vae-2')").status == "hallucinated"


def test_calls_know_whether_they_are_broken():
    assert [c.broken for c in extract_calls("torch.hub.load('a/b', 'c'")] == [True]
    assert [c.broken for c in extract_calls("torch.hub.load('a/b', 'c')")] == [False]
    assert [c.broken for c in extract_calls("pipeline('x', model=acme/bert-v1.4)")] == [True]
    # the same call written whole elsewhere in the text is not broken
    assert [c.broken for c in extract_calls("torch.hub.load('a/b', 'c')\ny = torch.hub.load('a/b', 'c'")] == [False]
