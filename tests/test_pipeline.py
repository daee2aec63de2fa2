"""The pipeline for real: seed index, real verifier; generators written here to exercise every status."""

import pytest

from gorilla_rag.errors import QuestionError
from gorilla_rag.pipeline import Pipeline
from gorilla_rag.types import GeneratedCall
from gorilla_rag.verify import Verifier

pytestmark = pytest.mark.slow


class FixedGenerator:
    """Always proposes the same output, whatever was retrieved (a stand-in for a model that invents)."""

    name = "fixed"

    def __init__(self, raw: str) -> None:
        self.raw = raw

    def generate(self, question, hits, feedback=None):
        return GeneratedCall(raw=self.raw, call="", code=self.raw, explanation="made up")


EN_FR_MODELS = {"huggingface:Helsinki-NLP/opus-mt-en-fr", "torchhub:pytorch/fairseq:transformer.wmt14.en-fr"}


def test_verified_answer_with_alternatives(seed_index):
    answer = Pipeline(seed_index).ask("I want to translate English text to French")
    assert answer.status == "verified"
    assert answer.api.id in EN_FR_MODELS
    assert answer.call == answer.api.api_call and answer.api.api_call in answer.code
    assert answer.verification.status == "verified" and answer.api in answer.verification.matched
    assert answer.alternatives and all(a.api_call != answer.call for a in answer.alternatives)
    data = answer.to_dict()
    assert {"status", "call", "code", "api", "alternatives"} <= set(data)
    assert data["api"]["id"] == answer.api.id and data["api"]["source"] == answer.api.source


def test_constraints_read_from_the_question_are_applied_and_said(seed_index):
    answer = Pipeline(seed_index).ask("an image classifier with under 10M parameters")
    assert answer.status == "verified" and answer.api.metrics["params"] <= 10e6
    assert answer.constraints == "at most 10,000,000 parameters"
    assert answer.explanation.startswith("Constraints applied (read from the question): at most 10,000,000")
    assert answer.to_dict()["constraints"] == answer.constraints
    plain = Pipeline(seed_index).ask("classify images of animals")
    assert plain.constraints == "" and "Constraints" not in plain.explanation
    given = Pipeline(seed_index).ask("classify images of animals", source="tfhub")
    assert given.constraints == "from tfhub" and given.explanation.startswith("Constraints applied: from tfhub.")


def test_a_question_in_another_language_is_answered_with_a_warning(seed_index):
    answer = Pipeline(seed_index, min_similarity=0).ask("traduire un texte de l'anglais vers le français")
    assert answer.explanation.startswith("The question looks French")
    assert "looks" not in Pipeline(seed_index).ask("translate English text to French").explanation


def test_bad_k_and_filters_are_refused_and_source_narrows_filters(seed_index):
    from gorilla_rag.retrieval import Filters

    pipe = Pipeline(seed_index)
    for bad in (0, -1, "3", 2.5):
        with pytest.raises(QuestionError, match="k must be a whole number"):
            pipe.ask("classify images", k=bad)
    with pytest.raises(QuestionError, match="filters must be a gorilla_rag.retrieval.Filters"):
        pipe.ask("classify images", filters={"source": "torchhub"})
    both = pipe.ask("classify images", filters=Filters(max_params=50e6), source="torchhub")
    assert both.api.source == "torchhub" and both.constraints == "from torchhub, at most 50,000,000 parameters"


def test_source_restricts_the_answer(seed_index):
    answer = Pipeline(seed_index).ask("estimate depth from a single image", source="torchhub")
    assert answer.status == "verified" and answer.api.source == "torchhub" and "MiDaS" in answer.call
    assert all(h.doc.source == "torchhub" for h in answer.hits)


def test_a_named_task_no_allowed_api_does_is_no_match(seed_index):
    # the seed's TF Hub docs have no depth model; without the check a MobileNet ("depth multiplier") answered
    answer = Pipeline(seed_index, min_similarity=0).ask("estimate depth from a single image", source="tfhub")
    assert answer.status == "no_match" and answer.call == ""
    assert "asks for depth estimation, and no API the filters allow (from tfhub) does that" in answer.explanation
    assert answer.hits  # the closest are still listed
    assert Pipeline(seed_index).ask("estimate depth from a single image").status == "verified"  # other hubs have one


def test_hallucinated_call_is_repaired_and_says_so(seed_index):
    pipe = Pipeline(seed_index, generator=FixedGenerator("model = torch.hub.load('pytorch/vision', 'resnet5000')"))
    answer = pipe.ask("classify images of cats and dogs", source="torchhub")
    assert answer.status == "repaired"
    assert answer.api is not None and answer.call == answer.api.api_call
    assert "resnet5000" in answer.raw_output and "did not verify" in answer.explanation


def test_unverified_only_when_asked(seed_index):
    bad = FixedGenerator("model = SomethingInvented.from_pretrained('nobody/nothing')")
    answer = Pipeline(seed_index, generator=bad, allow_unverified=True).ask("classify images")
    assert answer.status == "unverified" and answer.api is None
    assert answer.verification.status == "hallucinated"


def test_out_of_scope_requests_abstain(seed_index):
    pipe = Pipeline(seed_index)
    for question in ("book a flight to Paris for next Tuesday", "what is the capital of Australia?"):
        answer = pipe.ask(question)
        assert answer.status == "no_match" and answer.call == "" and answer.api is None
        closest = float(answer.explanation.split("closest match ")[1].split(",")[0])
        assert closest < pipe.min_similarity and "--min-similarity" in answer.explanation  # says how to override


@pytest.mark.parametrize("question, message", [("", "empty"), ("   \n", "empty"), ("x" * 1_000_000, "limit")])
def test_bad_questions_get_clear_errors(seed_index, question, message):
    with pytest.raises(QuestionError, match=message):
        Pipeline(seed_index).ask(question)


def test_answer_renders_for_notebooks(seed_index):
    answer = Pipeline(seed_index).ask("detect objects in a photo")
    html = answer._repr_html_()
    assert "verified" in html and answer.api.id in html and "Alternatives" in html
    assert "```python" in answer._repr_markdown_()
    from gorilla_rag.retrieval import Filters

    hostile = Pipeline(seed_index).ask("classify images", filters=Filters(domain="<script>alert(1)</script>"))
    assert "<script>" not in hostile._repr_markdown_() and "&lt;script&gt;" in hostile._repr_markdown_()
    assert "<script>" not in hostile._repr_html_()


class LearnsFromFeedback:
    """Invents a call first; given the verifier's feedback, picks the first documented call it lists."""

    name = "learner"

    def __init__(self) -> None:
        self.feedback = []

    def generate(self, question, hits, feedback=None):
        self.feedback.append(feedback)
        if feedback is None:
            return GeneratedCall(raw="torch.hub.load('pytorch/vision', 'resnet5000')", call="", code="")
        call = feedback.split("\n- ")[1].splitlines()[0]
        return GeneratedCall(raw=call, call=call, code=call)


def test_failed_call_gets_one_retry_with_the_finding(seed_index):
    generator = LearnsFromFeedback()
    answer = Pipeline(seed_index, generator=generator).ask("classify images of cats", source="torchhub")
    assert answer.status == "verified" and answer.api.source == "torchhub"
    assert generator.feedback[0] is None and "resnet5000" in generator.feedback[1]
    assert "did you mean torchhub:pytorch/vision:resnet50" in generator.feedback[1]


def test_a_models_explicit_no_match_is_respected(seed_index):
    said_none = FixedGenerator("<<<api_call>>>: None\n<<<explanation>>>: nothing here books flights")
    answer = Pipeline(seed_index, generator=said_none, min_similarity=0).ask("classify images of cats")
    assert answer.status == "no_match" and "books flights" in answer.raw_output and answer.api is None


class CallWithCode:
    name = "call-with-code"

    def __init__(self, call: str, code: str) -> None:
        self.call, self.code = call, code

    def generate(self, question, hits, feedback=None):
        return GeneratedCall(raw=self.code, call=self.call, code=self.code, explanation="from the docs")


@pytest.mark.parametrize("code, problem", [
    ("import torch\nmodel = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)\n"
     "utils = torch.hub.load('pytorch/vision', 'resnet50_helpers')", "hallucinated"),
    ("import torch\nif True:\nmodel = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)", "does not parse"),
])
def test_a_verified_call_never_ships_inside_unverified_code(seed_index, code, problem):
    call = "torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)"
    answer = Pipeline(seed_index, generator=CallWithCode(call, code)).ask("classify images", source="torchhub")
    assert answer.status == "verified" and answer.call == call
    assert answer.code == f"import torch\nmodel = {call}" and problem in answer.explanation
    assert Verifier(seed_index.docs).verify(answer.code).ok


def test_verified_code_is_kept_as_generated(seed_index):
    call = "torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)"
    code = f"import torch\nmodel = {call}\nmodel.eval()"
    answer = Pipeline(seed_index, generator=CallWithCode(call, code)).ask("classify images", source="torchhub")
    assert answer.code == code and answer.explanation.endswith("from the docs")  # after the constraints note


@pytest.mark.parametrize("threshold", [1.5, -2.0])
def test_a_similarity_threshold_outside_a_cosine_range_is_refused(seed_index, threshold):
    with pytest.raises(ValueError, match="cosine similarity from -1 to 1"):
        Pipeline(seed_index, min_similarity=threshold)


def test_a_question_naming_a_model_is_answered_below_the_threshold_and_says_why(seed_index):
    pipe = Pipeline(seed_index, min_similarity=0.99)  # every question is far from the docs at this threshold
    answer = pipe.ask("yolov5s please")
    assert answer.status == "verified" and "yolov5" in answer.call
    assert "names 'yolov5" in answer.explanation and "below the abstention threshold 0.990" in answer.explanation
    assert pipe.ask("detect objects in my photos").status == "no_match"  # names no model: the threshold holds
    assert pipe.ask("Export my PyTorch model to ONNX").status == "no_match"  # frameworks are not models
