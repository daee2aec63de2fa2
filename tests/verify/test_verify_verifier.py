"""Verifier: verified / hallucinated / other_hub / underspecified / syntax_error / no_api_call / unparseable, with
findings, against a hand-written corpus."""

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


def test_no_api_call_and_unparseable_are_told_apart(verifier):
    for text, status, detail in (
        ("print('hello')", "no_api_call", "no API call found"),
        ("import numpy as np\nx = np.load('a.npy')", "no_api_call", "no API call found"),
        ("", "no_api_call", "no code given"),
        ("  \n ", "no_api_call", "no code given"),
        ("The capital of France is Paris.", "unparseable", "no API call found, and the text is not valid Python"),
    ):
        result = verifier.verify(text)
        assert (result.status, result.detail, result.calls) == (status, (detail,), ()), text
        assert bool(result.syntax_errors) == (status == "unparseable")


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


def test_pipeline_without_model_is_underspecified_not_one_api(verifier):
    # The corpus even holds this exact call, but it loads transformers' default model: no one API.
    same = verifier.verify("pipeline('fill-mask')")
    assert same.status == "underspecified" and same.matched == (DOCS[5],)
    assert "names no model" in same.detail[0]
    result = verifier.verify("tagger = pipeline('ner')")
    assert (result.status, result.key) == ("underspecified", "huggingface:pipeline-default:ner")
    assert result.matched == (DOCS[3],)  # the corpus APIs for the task, named
    assert "huggingface:acme/bert-ner" in result.detail[0]
    assert verifier.verify("pipeline('token-classification')").matched == (DOCS[3],)  # the task's alias
    # A task no corpus API has is invented, and a pipeline of another hub is said to be one.
    invented = verifier.verify("pipeline('make-coffee')")
    assert invented.status == "hallucinated" and "pipeline task 'make-coffee'" in invented.detail[0]
    assert verifier.verify("pipeline('ner')", source="torchhub").status == "other_hub"
    # Calling a loaded pipeline on a file is no API call; a pipeline around a model loaded before is that model.
    assert verifier.verify("out = pipeline('audio.wav')").status == "no_api_call"
    wrapped = verifier.verify("m = AutoModel.from_pretrained('acme/bert-ner')\nner = pipeline('ner', model=m)")
    assert (wrapped.status, [c.key for c in wrapped.calls]) == ("verified", ["huggingface:acme/bert-ner"])


def test_every_call_is_checked_and_one_invented_call_makes_the_text_hallucinated(verifier):
    text = (
        "```python\nextra = AutoModel.from_pretrained('acme/not-there')\n"
        "pipe = StableDiffusionPipeline.from_pretrained('acme/sd')\n```"
    )
    result = verifier.verify(text)
    assert (result.status, result.key, result.matched) == ("hallucinated", "huggingface:acme/not-there", ())
    assert result.call == "AutoModel.from_pretrained('acme/not-there')"
    assert result.detail == ("no corpus API for huggingface:acme/not-there",)
    assert [(c.status, c.key) for c in result.calls] == [
        ("hallucinated", "huggingface:acme/not-there"),
        ("verified", "huggingface:acme/sd"),
    ]
    assert result.calls[1].matched == (DOCS[4],)
    # The invented call may come last, in one statement line with the real one.
    late = verifier.verify(
        "m = torch.hub.load('pytorch/vision','resnet50',pretrained=True); n = torch.hub.load('foo/bar','baz')"
    )
    assert (late.status, late.call) == ("hallucinated", "torch.hub.load('foo/bar','baz')")
    assert [c.status for c in late.calls] == ["verified", "hallucinated"]


def test_text_of_verified_calls_is_verified_with_every_calls_findings(verifier):
    text = (
        "a = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)\n"
        "b = hub.KerasLayer('https://tfhub.dev/acme/encoder/4', colour='red')"
    )
    result = verifier.verify(text)
    assert (result.status, result.key, result.matched) == ("verified", "torchhub:pytorch/vision:resnet50", (DOCS[0],))
    assert [c.status for c in result.calls] == ["verified", "verified"]
    assert result.detail == ("unknown keyword argument(s) for tfhub:https://tfhub.dev/acme/encoder/4: colour",)


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
    assert (restricted.status, restricted.matched) == ("other_hub", (DOCS[0],))  # a known API, of torchhub
    assert restricted.detail == ("torchhub:pytorch/vision:resnet50 is a corpus API of torchhub, not of huggingface",)
    invented = verifier.verify("torch.hub.load('pytorch/vision', 'resnet5000')", source="huggingface")
    assert invented.status == "hallucinated"
    assert invented.detail[0] == "no corpus API of huggingface for torchhub:pytorch/vision:resnet5000"
    # The worst call decides: an invented call outranks one of another hub.
    both = verifier.verify(f"{text}\nYOLO('acme/nope')", source="huggingface")
    assert [c.status for c in both.calls] == ["other_hub", "hallucinated"] and both.status == "hallucinated"


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


def test_strict_scoring_still_takes_the_first_corpus_call(verifier):
    """The eval's definition is unchanged by the stricter verdict: the first call that loads a corpus API is the
    answer, a helper the corpus lacks does not make it a hallucination, and valid code without a call is no_call."""
    from gorilla_rag.evaluation.questions import Question
    from gorilla_rag.evaluation.scoring import judge

    gold = Question(1, "classify", "torch.hub.load('pytorch/vision', 'resnet50')", "Classification", {})
    helper = "m = torch.hub.load('pytorch/vision', 'resnet50')\nt = AutoTokenizer.from_pretrained('acme/tok')"
    assert verifier.verify(helper).status == "hallucinated"
    assert judge(verifier, gold, helper, "torchhub").outcome == "correct"
    assert judge(verifier, gold, "YOLO('acme/nope')", None).outcome == "hallucination"
    assert judge(verifier, gold, "print('hello')", "torchhub").outcome == "no_call"
    assert judge(verifier, gold, "pipeline('fill-mask')", None).outcome == "wrong_api"  # a corpus key, not gold


def test_a_helper_a_model_doc_lists_verifies_as_part_of_it():
    """PyTorch Hub helper entry points (pre/post-processing utils) have no doc of their own: the model docs that
    use them list their calls in extra["helpers"], so the page's example code verifies, and no other helper does."""
    ssd = ApiDoc(id="torchhub:nvidia/deeplearningexamples:nvidia_ssd", source="torchhub", domain="Object Detection",
                 api_name="nvidia_ssd",
                 api_call="torch.hub.load('NVIDIA/DeepLearningExamples:torchhub', 'nvidia_ssd')",
                 extra={"helpers": ["torch.hub.load('NVIDIA/DeepLearningExamples:torchhub', "
                                    "'nvidia_ssd_processing_utils', precision='fp32')"]})
    verifier = Verifier([*DOCS, ssd])
    code = ("ssd = torch.hub.load('NVIDIA/DeepLearningExamples:torchhub', 'nvidia_ssd')\n"
            "utils = torch.hub.load('NVIDIA/DeepLearningExamples:torchhub', 'nvidia_ssd_processing_utils', "
            "precision='fp32')")
    result = verifier.verify(code)
    assert result.status == "verified" and not result.detail  # precision= is the helper's documented argument
    assert [d.id for d in result.calls[1].matched] == [ssd.id]
    other = verifier.verify("torch.hub.load('NVIDIA/DeepLearningExamples:torchhub', 'nvidia_tts_utils')")
    assert other.status == "hallucinated"
    assert Verifier([*DOCS, ssd.__class__.from_dict({**ssd.to_dict(), "extra": {"helpers": "bad"}})]).verify(
        code).status == "hallucinated"  # a malformed helpers field is ignored, not trusted


def test_every_seed_example_verifies_against_the_seed_corpus(seed_docs):
    # The seed is what a newcomer's first answers come from: its own example code must never read as hallucinated
    # (helper loads such as MiDaS 'transforms' are listed in extra["helpers"] of the model they serve).
    verifier = Verifier(seed_docs)
    failing = {d.id: verifier.verify(d.example_code).status for d in seed_docs if not verifier.verify(d.example_code).ok}
    assert failing == {}
