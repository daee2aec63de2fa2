"""extract_calls: every shape of text a model emits, written here by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gorilla_rag.verify import CallSite, extract_calls


def functions(text: str) -> list[str]:
    return [call.function for call in extract_calls(text)]


def only(text: str, function: str) -> CallSite:
    found = [call for call in extract_calls(text) if call.function == function]
    assert len(found) == 1, [c.text for c in extract_calls(text)]
    return found[0]


def test_plain_code_in_order_with_literal_conventions():
    code = (
        "import torch\n"
        "model = torch.hub.load('pytorch/vision', 'resnet18', pretrained=True, num_classes=3, weights=None)\n"
        "model.eval()\n"
        "out = model(batch)\n"
    )
    assert functions(code) == ["torch.hub.load", "model.eval", "model"]
    call = only(code, "torch.hub.load")
    assert call.text == (
        "torch.hub.load('pytorch/vision', 'resnet18', pretrained=True, num_classes=3, weights=None)"
    )
    assert call.args == ("pytorch/vision", "resnet18")
    assert call.kwargs == {"pretrained": "True", "num_classes": "3", "weights": "None"}
    assert only(code, "model").args == (None,)


def test_string_forms_are_unquoted():
    call = only('f("double", \'single\', r"raw\\d", """triple""", "con" "cat", f"{x}", -1)', "f")
    assert call.args == ("double", "single", "raw\\d", "triple", "concat", None, "-1")
    assert call.arg_texts[5] == 'f"{x}"'


def test_dotted_callee_kept_whole():
    call = only("clf = transformers.pipeline('fill-mask', model='my-org/tiny-bert')", "transformers.pipeline")
    assert call.kwargs == {"model": "my-org/tiny-bert"}
    assert functions("m = AutoModel . from_pretrained('a/b')") == ["AutoModel.from_pretrained"]


def test_nested_calls_are_listed_and_attached():
    code = (
        "layer = tf.keras.Sequential([hub.KerasLayer('https://tfhub.dev/x/y/1'), tf.keras.layers.Dense(2)])"
    )
    assert functions(code) == ["tf.keras.Sequential", "hub.KerasLayer", "tf.keras.layers.Dense"]
    outer = extract_calls(code)[0]
    assert [n.function for n in outer.nested] == ["hub.KerasLayer", "tf.keras.layers.Dense"]
    deep = extract_calls("joblib.load(cached_download(hf_hub_url('me/wine', 'model.joblib')))")[0]
    assert deep.nested[0].nested[0].args == ("me/wine", "model.joblib")


def test_markdown_fences_first_then_prose():
    text = (
        "Sure! You could also call `helper('x')` later.\n\n"
        "```python\nfrom transformers import pipeline\n"
        "qa = pipeline('question-answering', model='me/qa')\n```\n"
        "Then run qa(question=q, context=c)."
    )
    assert functions(text) == ["pipeline", "helper", "qa"]  # the fence, then the rest in order


def test_unterminated_fence_is_still_code():
    text = "Here you go:\n```py\nmodel = AutoModel.from_pretrained('org/name')\n"
    assert functions(text) == ["AutoModel.from_pretrained"]


def test_gorilla_v1_with_literal_escapes():
    text = (
        "<<<domain>>>: Natural Language Processing Conversational\\n"
        "<<<api_call>>>: pipeline(\\'conversational\\', model=\\\"acme/chatbot-1B\\\")\\n"
        "<<<api_provider>>>: Hugging Face Transformers\\n"
        "<<<explanation>>>: 1. Import pipeline.\\n2. Build the chatbot.\\n"
        "<<<code>>>: from transformers import pipeline\\n"
        'bot = pipeline(\\"conversational\\", model=\\"acme/chatbot-1B\\")\\n'
        'reply = bot(\\"Hello there\\")\\n"'
    )
    calls = extract_calls(text)
    assert [c.function for c in calls] == ["pipeline", "bot"]  # the code's pipeline call is the same call
    assert calls[0].text == "pipeline('conversational', model=\"acme/chatbot-1B\")"
    assert calls[0].args == ("conversational",)
    assert calls[0].kwargs == {"model": "acme/chatbot-1B"}
    assert calls[1].args == ("Hello there",)


def test_gorilla_v1_comma_separated_tf_form():
    text = (
        "<<<domain>>>: Image feature vector, "
        "<<<api_call>>>: hub.KerasLayer('https://tfhub.dev/acme/feat/2'), "
        "<<<api_provider>>>: TensorFlow Hub, <<<explanation>>>: Loads a layer. "
        "<<<code>>>: import tensorflow_hub as hub\\n"
        "layer = hub.KerasLayer('https://tfhub.dev/acme/feat/2', trainable=False)"
    )
    calls = extract_calls(text)
    assert calls[0].text == "hub.KerasLayer('https://tfhub.dev/acme/feat/2')"
    assert calls[1].kwargs == {"trainable": "False"}


def test_gorilla_v0_dict_like_text():
    text = (
        "{'domain': 'Classification', 'api_call': \"model = torch.hub.load('acme/vision', 'tinynet', "
        "pretrained=True)\", 'api_provider': 'PyTorch', 'explanation': 'Loads tinynet, it\\'s small.', "
        '\'code\': \'import torch\\nmodel = torch.hub.load("acme/vision", "tinynet", pretrained=True)\\n'
        "model.eval()'}"
    )
    calls = extract_calls(text)
    assert [c.function for c in calls] == ["torch.hub.load", "model.eval"]
    assert calls[0].args == ("acme/vision", "tinynet")


def test_variable_holding_a_handle_is_resolved():
    text = "model_id = 'https://tfhub.dev/acme/detector/1'\ndetector = hub.load(model_id)\nout = detector(x)"
    call = only(text, "hub.load")
    assert call.args == ("https://tfhub.dev/acme/detector/1",)
    assert call.arg_texts == ("model_id",)


def test_variable_resolved_across_gorilla_fields():
    text = (
        "<<<domain>>>: Image object detection, <<<api_call>>>: hub.load(handle), "
        "<<<api_provider>>>: TF Hub, <<<explanation>>>: Load it. "
        "<<<code>>>: handle = 'https://tfhub.dev/acme/ssd/2'\\nd = hub.load(handle)"
    )
    assert extract_calls(text)[0].args == ("https://tfhub.dev/acme/ssd/2",)


def test_prose_parentheticals_are_not_calls():
    text = (
        "1. Import the libraries (torch, AutoTokenizer) and a dataset (e.g., COCO).\n"
        "2. Load it with the T5Model.from_pretrained() method, fine-tuned for summarization tasks.\n"
        "3. Create the pipeline using pipeline() as usual."
    )
    assert functions(text) == ["T5Model.from_pretrained", "pipeline"]
    assert functions("x = torch.hub.load ('acme/repo', 'net')") == ["torch.hub.load"]


def test_unquoted_hub_id_assigned_to_a_variable_is_resolved():
    text = "name = acme/mt5-sum\ntok = AutoTokenizer.from_pretrained(name)\nratio = w/h"
    assert only(text, "AutoTokenizer.from_pretrained").args == ("acme/mt5-sum",)


def test_prose_with_inline_code_and_apostrophes():
    text = "We're loading it with pipeline('summarization', model='acme/sum-small') and that's it."
    call = only(text, "pipeline")
    assert call.args == ("summarization",)
    assert call.kwargs == {"model": "acme/sum-small"}


@pytest.mark.parametrize(
    ("text", "function", "args"),
    [
        (
            "model = AutoModel.from_pretrained('acme/bert-tiny",
            "AutoModel.from_pretrained",
            ("acme/bert-tiny",),
        ),
        (
            "load_model_ensemble_and_task_from_hf_hub('acme/tts_x)",
            "load_model_ensemble_and_task_from_hf_hub",
            ("acme/tts_x",),
        ),
        ("pipeline('ner', model='acme/ner').", "pipeline", ("ner",)),
        ("x = [AutoModel.from_pretrained('acme/a'), oops oops", "AutoModel.from_pretrained", ("acme/a",)),
        ("print('hi'\nm = YOLO('acme/yolo-v8')\nm.predict(img", "YOLO", ("acme/yolo-v8",)),
    ],
)
def test_broken_and_truncated_code(text, function, args):
    assert only(text, function).args == args


def test_call_written_inside_quotes_is_read():
    call = only("'AutoModel.from_pretrained(acme/bert-tiny)'", "AutoModel.from_pretrained")
    assert call.arg_texts == ("acme/bert-tiny",)


def test_shell_command_with_options_counts_as_a_call():
    call = only(
        "mlagents-load-from-hf --repo-id='acme/poca-Soccer' --local-dir='./downloads'",
        "mlagents-load-from-hf",
    )
    assert call.kwargs == {"repo-id": "acme/poca-Soccer", "local-dir": "./downloads"}


def test_same_call_in_two_views_is_returned_once():
    text = "```python\nm = SentenceTransformer('acme/mini')\n```\nor simply SentenceTransformer('acme/mini')"
    assert functions(text) == ["SentenceTransformer"]


ODD_TEXTS = [
    "",
    " ",
    "\\",
    "'",
    '"""',
    "(((((",
    ")))",
    "```",
    "<<<api_call>>>:",
    "{'api_call': '",
    "\x00\udcff",
    "f(" * 500,
    "a" * 10000,
    "é(ü='ß')",
    "hub.load('http://[::1')",
]


@pytest.mark.parametrize("text", ODD_TEXTS, ids=range(len(ODD_TEXTS)))
def test_never_raises_on_odd_text(text):
    assert isinstance(extract_calls(text), list)


def test_import_does_not_load_tree_sitter():
    probe = (
        "import sys, gorilla_rag.verify; print(sorted(m for m in sys.modules if m.startswith('tree_sitter')))"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=repo)
    assert out.stdout.strip() == "[]"
