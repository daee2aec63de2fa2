"""Verifier: verified / hallucinated / unparseable, with findings, against a hand-written corpus."""

from __future__ import annotations

import pytest

from gorilla_rag.types import ApiDoc
from gorilla_rag.verify import Verifier

DOCS = (
    ApiDoc(
        id="torchhub:pytorch/vision:resnet50",
        source="torchhub",
        domain="Classification",
        api_name="resnet50",
        api_call="torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)",
        arguments={"pretrained": "True"},
    ),
    ApiDoc(
        id="torchhub:pytorch/vision:wide_resnet50_2",
        source="torchhub",
        domain="Classification",
        api_name="wide_resnet50_2",
        api_call="torch.hub.load(repo_or_dir='pytorch/vision', model='wide_resnet50_2', pretrained=True)",
    ),
    ApiDoc(
        id="tfhub:acme/encoder/4",
        source="tfhub",
        domain="Text embedding",
        api_name="encoder",
        api_call="hub.load('https://tfhub.dev/acme/encoder/4')",
        arguments={"input_text": ""},
    ),
    ApiDoc(
        id="huggingface:acme/bert-ner",
        source="huggingface",
        domain="Token Classification",
        api_name="acme/bert-ner",
        api_call="pipeline('ner', model='acme/bert-ner', aggregation_strategy='simple')",
    ),
    ApiDoc(
        id="huggingface:acme/sd",
        source="huggingface",
        domain="Text-to-Image",
        api_name="acme/sd",
        api_call="StableDiffusionPipeline.from_pretrained('acme/sd', torch_dtype=torch.float16)",
        arguments={"prompt": "str"},
    ),
    ApiDoc(
        id="huggingface:default-fill-mask",
        source="huggingface",
        domain="Fill-Mask",
        api_name="default",
        api_call="pipeline('fill-mask')",
    ),
)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(DOCS)


def test_verified_call_matches_its_docs(verifier):
    result = verifier.verify(
        "model = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)\nmodel.eval()"
    )
    assert result.status == "verified"
    assert result.key == "torchhub:pytorch/vision:resnet50"
    assert result.call == "torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)"
    assert [d.id for d in result.matched] == ["torchhub:pytorch/vision:resnet50"]
    assert result.detail == ()


def test_identity_is_exact_not_substring(verifier):
    assert verifier.verify("torch.hub.load('pytorch/vision', 'wide_resnet50_2')").matched == (DOCS[1],)
    result = verifier.verify("torch.hub.load('pytorch/vision', 'resnet5000', pretrained=True)")
    assert result.status == "hallucinated"
    assert result.key == "torchhub:pytorch/vision:resnet5000"
    assert result.matched == ()
    assert "no corpus API for torchhub:pytorch/vision:resnet5000" in result.detail
    assert any("did you mean torchhub:pytorch/vision:resnet50" in d for d in result.detail)


def test_branch_and_loader_variants_verify(verifier):
    assert verifier.verify("torch.hub.load('pytorch/vision:v0.10.0', 'resnet50')").status == "verified"
    layer = verifier.verify("hub.KerasLayer('http://tfhub.dev/acme/encoder/4/', trainable=True)")
    assert (layer.status, layer.matched) == ("verified", (DOCS[2],))
    assert layer.detail == ()


def test_unparseable_when_no_api_call(verifier):
    for text in ("The capital of France is Paris.", "print('hello')", ""):
        result = verifier.verify(text)
        assert result.status == "unparseable"
        assert result.detail == ("no API call found",)


def test_unknown_keyword_arguments_are_reported(verifier):
    result = verifier.verify(
        "torch.hub.load('pytorch/vision', 'resnet50', pretrained=True, colour='red', z=1)"
    )
    assert result.status == "verified"
    assert result.detail == ("unknown keyword argument(s) for torchhub:pytorch/vision:resnet50: colour, z",)


def test_known_keyword_arguments_are_not_reported(verifier):
    # from the doc's api_call, from its arguments, and from the common loader allow-list
    text = (
        "pipe = StableDiffusionPipeline.from_pretrained('acme/sd', torch_dtype=torch.float16, prompt='x', "
        "revision='fp16', device_map='auto')"
    )
    assert verifier.verify(text).detail == ()
    assert verifier.verify("pipeline('ner', model='acme/bert-ner', aggregation_strategy='max')").detail == ()


def test_pipeline_task_mismatch_is_reported(verifier):
    result = verifier.verify("pipeline('summarization', model='acme/bert-ner')")
    assert result.status == "verified"
    assert result.detail == (
        "pipeline task 'summarization' differs from the corpus task 'ner' for huggingface:acme/bert-ner",
    )
    assert verifier.verify("pipeline('token-classification', model='acme/bert-ner')").detail == ()  # alias
    assert verifier.verify("pipeline(model='acme/bert-ner')").detail == ()


def test_pipeline_without_model(verifier):
    matched = verifier.verify("pipeline('fill-mask')")
    assert matched.status == "verified" and matched.matched == (DOCS[5],)
    assert "names no model" in matched.detail[0]
    result = verifier.verify("pipeline('ner')")
    assert result.status == "hallucinated"
    assert result.key == "huggingface:pipeline-default:ner"
    assert any("names no model" in d for d in result.detail)


def test_first_corpus_call_wins_and_earlier_misses_are_noted(verifier):
    text = (
        "```python\nextra = AutoModel.from_pretrained('acme/not-there')\n"
        "pipe = StableDiffusionPipeline.from_pretrained('acme/sd')\n```"
    )
    result = verifier.verify(text)
    assert (result.status, result.key) == ("verified", "huggingface:acme/sd")
    assert result.detail == ("an earlier call loads huggingface:acme/not-there, which is not a corpus API",)


def test_hallucinated_reports_the_first_identifiable_call(verifier):
    result = verifier.verify("a = SentenceTransformer('acme/nope')\nb = YOLO('acme/nope-2')")
    assert (result.status, result.call, result.key) == (
        "hallucinated",
        "SentenceTransformer('acme/nope')",
        "huggingface:acme/nope",
    )


def test_source_restricts_matches(verifier):
    text = "torch.hub.load('pytorch/vision', 'resnet50')"
    assert verifier.verify(text, source="torchhub").status == "verified"
    restricted = verifier.verify(text, source="huggingface")
    assert restricted.status == "hallucinated"
    assert restricted.detail[0] == "no corpus API of huggingface for torchhub:pytorch/vision:resnet50"


def test_gorilla_output_verifies(verifier):
    text = (
        "<<<domain>>>: Natural Language Processing Token Classification\\n"
        "<<<api_call>>>: pipeline(\\'ner\\', model=\\'acme/bert-ner\\')\\n<<<api_provider>>>: Hugging Face\\n"
        "<<<explanation>>>: Load the NER model.\\n<<<code>>>: from transformers import pipeline\\n"
        "ner = pipeline(\\'ner\\', model=\\'acme/bert-ner\\')\\nner(\\'Anna lives in Oslo\\')"
    )
    result = verifier.verify(text)
    assert (result.status, result.key, result.call) == (
        "verified",
        "huggingface:acme/bert-ner",
        "pipeline('ner', model='acme/bert-ner')",
    )


def test_helpers_for_evaluation(verifier):
    assert verifier.key_of(DOCS[0]) == "torchhub:pytorch/vision:resnet50"
    assert verifier.key_of(DOCS[0]) == verifier.key_of(
        ApiDoc(
            id="x",
            source="torchhub",
            domain="",
            api_name="",
            api_call="torch.hub.load('pytorch/vision:main', 'resnet50')",
        )
    )
    assert (
        verifier.key_of(ApiDoc(id="y", source="huggingface", domain="", api_name="", api_call="Model()"))
        is None
    )
    assert verifier.docs_for_key("tfhub:https://tfhub.dev/acme/encoder/4") == [DOCS[2]]
    assert verifier.docs_for_key("tfhub:https://tfhub.dev/acme/encoder/4", source="huggingface") == []
    assert verifier.docs_for_key("huggingface:missing") == []
    found = verifier.identify_text("print(1)\nm = hub.load('https://tfhub.dev/acme/encoder/4')")
    assert found is not None and found.key == "tfhub:https://tfhub.dev/acme/encoder/4"
    assert verifier.identify_text("no code here") is None


def test_docs_may_be_any_iterable():
    once = Verifier(doc for doc in DOCS)
    for _ in range(2):
        assert once.verify("YOLO('acme/nope')").status == "hallucinated"
        assert once.verify("hub.load('https://tfhub.dev/acme/encoder/4')").status == "verified"
