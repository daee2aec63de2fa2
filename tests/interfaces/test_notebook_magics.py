"""The Jupyter extension in a real kernel: a notebook executed by nbclient loads it and runs the magics."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.slow

CELLS = [
    "%load_ext gorilla_rag\nimport sys\nprint([m for m in ('torch', 'faiss', 'sentence_transformers') if m in sys.modules])",
    "%gorilla --source torchhub load a pretrained ResNet-50 image classifier",
    "%%gorilla -k 3\nI want to translate\nEnglish text to French",
    "%gorilla",
    "answer = %gorilla classify the sentiment of tweets\nprint(answer.status, answer.api.source)",
]


def test_magics_show_the_card_and_put_the_code_in_the_next_cell(tmp_path):
    notebook = new_notebook(cells=[new_code_cell(source) for source in CELLS])
    replies: dict[int, dict] = {}
    client = NotebookClient(notebook, kernel_name="python3", timeout=300, allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(cell_index, execute_reply)
    client.execute()  # the kernel inherits this test's environment: its temp GORILLA_RAG_HOME, offline
    nbformat.validate(notebook)
    cells = notebook.cells

    assert _stream(cells[0]) == "[]\n"  # loading the extension loads no model
    for index, expected_code in ((1, "torch.hub.load('pytorch/vision', 'resnet50'"), (2, "en-fr")):  # either en→fr model
        shown = [o for o in cells[index].outputs if o.output_type == "execute_result"]
        assert len(shown) == 1, cells[index].outputs
        card = shown[0].data["text/html"]
        assert "gorilla-rag-answer" in card and "verified" in card
        assert "text/markdown" in shown[0].data
        next_cell = _payload(replies[index], "set_next_input")
        assert expected_code in next_cell["text"] and next_cell["replace"] is False

    assert "UsageError: usage: %gorilla" in _stream(cells[3], "stderr")  # a one-line message, no traceback
    assert _stream(cells[4]) == "verified huggingface\n"  # assigned, not displayed; the code still comes next
    assert not [o for o in cells[4].outputs if o.output_type == "execute_result"]
    assert "pipeline(" in _payload(replies[4], "set_next_input")["text"]


def _stream(cell, name: str = "stdout") -> str:  # noqa: ANN001
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)


def _payload(reply: dict, source: str) -> dict:
    found = [p for p in reply["content"].get("payload", []) if p.get("source") == source]
    assert len(found) == 1, reply["content"]
    return found[0]


def test_magic_options_anywhere_and_unknown_ones_refused():
    from IPython.core.error import UsageError

    from gorilla_rag.notebook import USAGE, parse_options

    assert parse_options("--source torchhub -k 3 classify images") == ("classify images", {"source": "torchhub", "k": 3})
    assert parse_options("classify images --source=tfhub") == ("classify images", {"source": "tfhub"})
    assert parse_options("a model under -5 dB noise") == ("a model under -5 dB noise", {})  # a number, not an option
    for line, message in (("--help", USAGE), ("classify --color red", "unknown option '--color'"),
                          ("classify -k 0", "-k takes a whole number"), ("classify --source", "--source needs")):
        with pytest.raises(UsageError, match=re.escape(message)):
            parse_options(line)
