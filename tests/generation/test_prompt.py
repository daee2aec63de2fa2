"""The retrieval-aware prompt and the output parser, on the real seed corpus and Gorilla's own output shapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gorilla_rag.generation.prompt import (
    NO_API,
    SYSTEM_PROMPT,
    answer_text,
    build_messages,
    no_match_text,
    parse_output,
    plain_prompt,
    render_prompt,
    user_prompt,
)
from gorilla_rag.verify import Verifier

V1 = ("<<<domain>>>: Image Classification\n<<<api_call>>>: model = torch.hub.load('pytorch/vision', 'resnet50', "
      "pretrained=True)\n<<<api_provider>>>: PyTorch\n<<<explanation>>>: A solid default.\n<<<code>>>: import torch"
      "\\nmodel = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)")
V1_ONE_LINE = ("<<<domain>>>: Image feature vector, <<<api_call>>>: hub.KerasLayer('https://tfhub.dev/google/imagenet/"
               "mobilenet_v2_100_224/feature_vector/4'), <<<api_provider>>>: TensorFlow Hub, <<<explanation>>>: "
               "Extracts features., <<<code>>>: import tensorflow_hub as hub")
V0 = ("{'domain': 'Classification', 'api_call': \"model = torch.hub.load('intel-isl/MiDaS', 'DPT_Hybrid', "
      "pretrained=True)\", 'api_provider': 'PyTorch', 'explanation': 'Load the pretrained MiDaS model.', "
      "'code': 'import torch\\nmodel = torch.hub.load(\"intel-isl/MiDaS\", \"DPT_Hybrid\", pretrained=True)'}")
MARKDOWN = ("Sure! Use a translation pipeline:\n```python\nfrom transformers import pipeline\n"
            "translator = pipeline('translation_en_to_fr', model='Helsinki-NLP/opus-mt-en-fr')\n```\nThat's it.")


def test_the_prompt_is_gorillas_retrieval_aware_prompt(seed_docs):
    doc = seed_docs[0]
    text = user_prompt("classify images", [doc])
    question, _, rest = text.partition("\nUse this API documentation for reference: ")
    assert question == "classify images"
    assert json.loads(rest)["api_call"] == doc.api_call  # the doc travels as JSON, with APIBench's field names
    several = user_prompt("classify images", seed_docs[:3]).split("\nUse this API documentation for reference: ")[1]
    assert [json.loads(line)["api_name"] for line in several.splitlines()] == [d.api_name for d in seed_docs[:3]]


def test_feedback_and_the_answer_format_reach_the_model(seed_docs):
    messages = build_messages("classify images", seed_docs[:2], feedback="The call `x()` does not match any API.")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "<<<api_call>>>" in messages[0]["content"] and NO_API in messages[0]["content"]
    assert messages[1]["content"].endswith("failed verification. The call `x()` does not match any API.")
    # Without a chat template, Gorilla's own plain prompt: no system turn, the model speaks after ###ASSISTANT.
    plain = render_prompt(messages)
    assert plain == plain_prompt(messages) and plain.startswith("###USER: classify images\nUse this API")
    assert plain.endswith("\n###ASSISTANT: ") and SYSTEM_PROMPT not in plain


def test_chat_templates_are_used_and_a_refused_system_role_is_folded_in(tmp_path):
    from gorilla_rag.training.tiny import build_tiny_model

    folder = build_tiny_model(tmp_path / "m", ["hello world"] * 10, vocab_size=300)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    messages = build_messages("classify images", [])
    assert render_prompt(messages, tokenizer) == (f"<s><|system|>\n{SYSTEM_PROMPT}\n<|user|>\nclassify images\n"
                                                  "<|assistant|>\n")
    tokenizer.chat_template = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no') }}"
                               "{% endif %}[{{ m['role'] }}] {{ m['content'] }}{% endfor %}[assistant] ")
    assert render_prompt(messages, tokenizer) == f"[user] {SYSTEM_PROMPT}\n\nclassify images[assistant] "


@pytest.mark.parametrize("text, call, code_has, explanation", [
    (V1, "torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)", "import torch\nmodel =", "A solid default."),
    (V1_ONE_LINE, "hub.KerasLayer('https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/4')",
     "import tensorflow_hub", "Extracts features."),
    (V0, "torch.hub.load('intel-isl/MiDaS', 'DPT_Hybrid', pretrained=True)", 'torch.hub.load("intel-isl/MiDaS"',
     "Load the pretrained MiDaS model."),
    (MARKDOWN, "pipeline('translation_en_to_fr', model='Helsinki-NLP/opus-mt-en-fr')", "from transformers",
     "Sure! Use a translation pipeline:\n\nThat's it."),
    ("model = SentenceTransformer('sentence-transformers/all-MiniLM-L6-v2')",
     "SentenceTransformer('sentence-transformers/all-MiniLM-L6-v2')", "model = SentenceTransformer", ""),
])
def test_outputs_of_every_shape_are_parsed(text, call, code_has, explanation):
    parsed = parse_output(text)
    assert parsed.call == call and code_has in parsed.code and parsed.explanation == explanation
    assert parsed.raw == text.strip()


@pytest.mark.parametrize("text", [no_match_text(), "<<<domain>>>: None\n<<<api_call>>>: None\n<<<explanation>>>: x",
                                  "<<<api_call>>>:\n<<<explanation>>>: nothing fits", "{'api_call': 'None'}"])
def test_the_explicit_no_match_answer_has_no_call(text):
    parsed = parse_output(text)
    assert parsed.call == "" and parsed.code == "" and parsed.explanation


def test_every_seed_target_parses_back_to_a_verified_call(seed_docs):
    verifier = Verifier(seed_docs)
    for doc in seed_docs:
        parsed = parse_output(answer_text(doc))
        result = verifier.verify(parsed.call)
        assert result.status == "verified" and doc in result.matched, doc.id
        assert parsed.code and parsed.explanation


@given(st.text(max_size=300))
def test_any_text_parses_without_raising(text):
    parsed = parse_output(text)
    assert parsed.raw == text.strip() and isinstance(parsed.call, str)
