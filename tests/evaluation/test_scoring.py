"""Strict scoring, question parsing and the eval commands, on data written here (and on APIBench if present)."""

import json

import pytest

from gorilla_rag.evaluation.questions import load_questions, load_responses, question_text, write_responses
from gorilla_rag.evaluation.run import evaluate_responses
from gorilla_rag.evaluation.scoring import judge, recall_at, strict_metrics
from gorilla_rag.types import ApiDoc
from gorilla_rag.verify import Verifier

DOCS = [
    # Keyword form, as in APIBench: the official TorchHub matcher only compares repo_or_dir=/model= arguments.
    ApiDoc(id="torchhub:pytorch/vision:resnet50", source="torchhub", domain="Classification", api_name="resnet50",
           api_call="torch.hub.load(repo_or_dir='pytorch/vision', model='resnet50', pretrained=True)"),
    ApiDoc(id="torchhub:pytorch/vision:wide_resnet50_2", source="torchhub", domain="Classification",
           api_name="wide_resnet50_2", api_call="torch.hub.load(repo_or_dir='pytorch/vision', model='wide_resnet50_2', pretrained=True)"),
    ApiDoc(id="torchhub:intel-isl/midas:DPT_Large", source="torchhub", domain="Depth Estimation",
           api_name="MiDaS", api_call="torch.hub.load(repo_or_dir='intel-isl/MiDaS', model='DPT_Large')"),
]


def question_record(text: str, call: str, domain: str) -> dict:
    return {"code": f"###Instruction: {text}\n###Output: <<<domain>>>: {domain}\n<<<api_call>>>: {call}",
            "api_call": call, "provider": "PyTorch", "api_data": {"domain": domain, "api_call": call}}


@pytest.fixture()
def question_file(tmp_path):
    path = tmp_path / "questions.json"
    records = [question_record("Classify photos of birds.", "torch.hub.load(repo_or_dir='pytorch/vision', model='resnet50', pretrained=True)", "Classification"),
               question_record("How far away is each pixel?", "torch.hub.load('intel-isl/MiDaS:main', 'DPT_Large')", "Depth Estimation"),
               question_record("Label pictures of cars.", "torch.hub.load('pytorch/vision', 'resnet50')", "Classification")]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_question_text_from_every_format():
    assert question_text("###Instruction: Find a model.\n###Output: {...}") == "Find a model."
    assert question_text("###Instruction: Do it.\n###Input: some text\n###Output: x") == "Do it.\n###Input: some text"
    assert question_text("{'Instruction': I need depth maps., 'Output': {'domain': 'x'}}") == "I need depth maps."


def test_strict_outcomes(question_file):
    verifier = Verifier(DOCS)
    q1, q2, q3 = load_questions(question_file)
    assert judge(verifier, q1, "model = torch.hub.load('pytorch/vision', 'resnet50')", "torchhub").outcome == "correct"
    # Same domain, other API: the official score would count it; strict does not.
    assert judge(verifier, q3, "torch.hub.load('pytorch/vision', 'wide_resnet50_2')", "torchhub").outcome == "wrong_api"
    assert judge(verifier, q2, "torch.hub.load('intel-isl/MiDaS', 'DPT_Huge')", "torchhub").outcome == "hallucination"
    assert judge(verifier, q2, "I cannot help with that.", "torchhub").outcome == "no_call"
    assert judge(verifier, q2, None, "torchhub").outcome == "no_call"
    # The gold call carries a branch; identity ignores it.
    assert judge(verifier, q2, "<<<api_call>>>: torch.hub.load('intel-isl/MiDaS', 'DPT_Large')", "torchhub").outcome == "correct"


def test_metrics_and_recall():
    assert strict_metrics([]) == {"accuracy": 0.0, "wrong_api": 0.0, "hallucination": 0.0, "no_call": 0.0, "n": 0}
    assert recall_at([["a", "b"], ["c", "a"], ["x"]], ["a", "a", None], ks=(1, 2)) == {"recall@1": 1 / 3, "recall@2": 2 / 3}


def test_evaluate_responses_strict_and_official(question_file, tmp_path):
    responses = tmp_path / "responses.jsonl"
    write_responses(responses, {
        1: "<<<domain>>>: Classification, <<<api_call>>>: torch.hub.load('pytorch/vision', 'resnet50', pretrained=True), <<<api_provider>>>: PyTorch",
        2: "{'domain': 'Depth Estimation', 'api_call': \"torch.hub.load('intel-isl/MiDaS', 'DPT_Large')\", 'api_provider': 'PyTorch'}",
        3: "<<<domain>>>: Classification, <<<api_call>>>: torch.hub.load('pytorch/vision', 'wide_resnet50_2', pretrained=True), <<<api_provider>>>: PyTorch",
    })
    report = evaluate_responses(Verifier(DOCS), load_questions(question_file), load_responses(responses), DOCS, "torchhub")
    assert report["strict"]["accuracy"] == pytest.approx(2 / 3) and report["strict"]["wrong_api"] == pytest.approx(1 / 3)
    assert report["apibench_official"]["accuracy"] == pytest.approx(1.0)  # domain-level: the wrong API still counts
    assert report["missing_responses"] == 0
    # a subset of the file (what --split and --limit give) pairs each response with its own question
    subset = evaluate_responses(Verifier(DOCS), load_questions(question_file)[1:], load_responses(responses), DOCS,
                                "torchhub")
    assert subset["strict"]["accuracy"] == pytest.approx(1 / 2) and subset["apibench_official"]["accuracy"] == 1.0
    assert subset["apibench_official"]["hallucination"] == 0.0


def test_bad_question_and_response_lines_are_located(tmp_path):
    bad = tmp_path / "q.json"
    bad.write_text('{"code": "###Instruction: x"}\n{oops\n{"no_code": 1}\n')
    with pytest.raises(ValueError) as caught:
        load_questions(bad)
    assert ":2:" in str(caught.value) and ":3:" in str(caught.value)
    responses = tmp_path / "r.jsonl"
    responses.write_text('{"question_id": "one"}\n')
    with pytest.raises(ValueError, match=":1:"):
        load_responses(responses)


@pytest.mark.slow
def test_dev_accuracy_does_not_regress(apibench_dir, tmp_path):
    """A floor under strict accuracy on the first 120 TF Hub dev questions (the full run is in .ci/run)."""
    from gorilla_rag.corpus.apibench import import_apibench
    from gorilla_rag.corpus.store import read_corpus
    from gorilla_rag.evaluation.run import evaluate_pipeline
    from gorilla_rag.pipeline import Pipeline
    from gorilla_rag.retrieval import Index

    import_apibench(apibench_dir, tmp_path / "corpus", sources=("tfhub",))
    index = Index.build(read_corpus(tmp_path / "corpus"), tmp_path / "index")
    questions = load_questions(apibench_dir / "eval" / "tensorflow_dev.json")[:120]
    report, texts = evaluate_pipeline(Pipeline(index), questions, "tfhub", retrievers=("hybrid",))
    assert report["strict"]["accuracy"] >= 0.40
    assert report["strict"]["hallucination"] == 0.0  # every answer is verified or abstains
    assert report["retrieval"]["hybrid"]["recall@5"] >= 0.6 and len(texts) == 120
