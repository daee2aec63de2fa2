import pytest

from gorilla_rag.retrieval.constraints import Filters, merge, overridden, parse_constraints, without_constraints
from gorilla_rag.retrieval.frameworks import canonical_framework, runs_on, stated_framework
from gorilla_rag.types import ApiDoc


def doc(source, framework="", api_call="f()"):
    return ApiDoc(id=f"{source}:{framework}:{api_call}", source=source, domain="Image Classification", api_name="x",
                  api_call=api_call, framework=framework)


TF_HUB = doc("tfhub", "TensorFlow Hub", "hub.KerasLayer('https://tfhub.dev/google/x/1')")
TORCH_HUB = doc("torchhub", "PyTorch", "torch.hub.load('pytorch/vision', 'resnet50')")
HF_TORCH = doc("huggingface", "Hugging Face Transformers", "AutoModel.from_pretrained('bert-base-uncased')")
HF_TF_CLASS = doc("huggingface", "Hugging Face Transformers", "TFAutoModel.from_pretrained('bert-base-uncased')")
HF_KERAS = doc("huggingface", "Keras", "from_pretrained_keras('keras-io/x')")
HF_JOBLIB = doc("huggingface", "Joblib", "joblib.load(cached_download(hf_hub_url('x', 'sklearn_model.joblib')))")
HF_ONNX = doc("huggingface", "ONNX", "ort.InferenceSession('model.onnx')")
HF_ORT = doc("huggingface", "Transformers", "ORTModelForSeq2SeqLM.from_pretrained('optimum/t5-small')")
# APIBench's autotrain tabular docs show a generic call; their requirements say what loads them
HF_AUTOTRAIN = ApiDoc(id="huggingface:autotrain", source="huggingface", domain="Tabular Tabular Classification",
                      api_name="autotrain", api_call="AutoModel.from_pretrained('someone/autotrain-titanic')",
                      framework="Hugging Face", requirements=("joblib", "pandas"))


@pytest.mark.parametrize("framework, runs", [
    ("tensorflow", [TF_HUB, HF_TF_CLASS, HF_KERAS]),
    ("pytorch", [TORCH_HUB, HF_TORCH]),
    ("scikit-learn", [HF_JOBLIB, HF_AUTOTRAIN]),
])
def test_which_models_run_on_a_framework(framework, runs):
    every = [TF_HUB, TORCH_HUB, HF_TORCH, HF_TF_CLASS, HF_KERAS, HF_JOBLIB, HF_ONNX, HF_ORT, HF_AUTOTRAIN]
    assert [d for d in every if runs_on(d, framework)] == runs
    assert [d for d in every if Filters.make(framework=framework).allows(d)] == runs


@pytest.mark.parametrize("question, framework", [
    ("text to speech in German with TensorFlow", "tensorflow"),
    ("a Keras model for text classification", "tensorflow"),
    ("fine-tune it in tf.keras", "tensorflow"),
    ("a PyTorch model to detect objects in photos", "pytorch"),
    ("import torch; classify these images", "pytorch"),
    ("a scikit-learn pipeline for tabular data", "scikit-learn"),
    ("sklearn model for wine quality", "scikit-learn"),
    ("an image classifier from TensorFlow Hub", None),  # a hub, read as a source
    ("model = torch.hub.load('pytorch/vision', 'resnet50')", None),  # PyTorch Hub's loader names the hub
    ("convert my PyTorch model to TensorFlow", None),  # two named: no constraint
    ("classify images, not in TensorFlow please", None),  # ruled out, not asked for
    ("TF-IDF keywords from my documents", None),
    ("a TF model for images", "tensorflow"), ("TFLite model for Android", "tensorflow"),
    ("run it with tf.js in the browser", "tensorflow"), ("a pytorch_lightning module for text", "pytorch"),
    ("a torchvision detection model", "pytorch"), ("I want a PyTorch model, but a small one", "pytorch"),
    # a sentence ruling a framework out asks for nothing (it used to read as asking for it)
    ("I don't want PyTorch; an image classifier", None), ("avoid PyTorch for this", None),
    ("a non-PyTorch image model", None), ("a PyTorch-free classifier", None),
    ("a classifier that does not require PyTorch", None), ("Anything but TensorFlow", None),
    ("Image classifier. TensorFlow is too heavy for us.", None),
    # words that are not the framework
    ("detect people holding a torch in night photos", None), ("Translate 'pass the torch' into German", None),
    ("a Keras-like simple API for image tagging", None),
    ("translate English text to French", None),
])
def test_the_framework_a_question_asks_for(question, framework):
    assert stated_framework(question) == framework
    assert parse_constraints(question).framework == framework


def test_a_hub_named_outright_wins_over_a_framework_none_of_its_models_runs_on():
    assert parse_constraints("a PyTorch image classifier from TF Hub").describe() == "from tfhub"
    stated = parse_constraints("a PyTorch image classifier")
    assert merge(Filters.make("tfhub"), stated).describe() == "from tfhub"
    assert overridden(Filters.make("tfhub"), stated) == "runs on PyTorch"  # the answer says what it dropped
    assert merge(Filters.make("huggingface"), stated).describe() == "from huggingface, runs on PyTorch"


def test_framework_names_and_aliases():
    assert [canonical_framework(n) for n in ("TensorFlow", "keras", "PyTorch", "torch", "sklearn", "Scikit-Learn")] \
        == ["tensorflow", "tensorflow", "pytorch", "pytorch", "scikit-learn", "scikit-learn"]
    with pytest.raises(ValueError, match="unknown framework 'jax': choose one of tensorflow, pytorch, scikit-learn"):
        Filters.make(framework="jax")


def test_framework_merges_describes_and_is_blanked_like_other_constraints():
    stated = parse_constraints("a Keras image classifier under 10M parameters")
    assert stated.describe() == "runs on TensorFlow, at most 10,000,000 parameters"
    assert "keras" not in without_constraints("a Keras image classifier").lower()
    assert merge(Filters(), stated).framework == "tensorflow"
    assert merge(Filters.make(framework="pytorch"), stated).framework == "pytorch"  # explicit wins, and says so
    assert overridden(Filters.make(framework="pytorch"), stated) == "runs on TensorFlow"
    assert overridden(Filters.make(framework="tensorflow"), stated) == ""


def test_pipeline_honours_a_framework_and_says_when_none_does_the_task(seed_index):
    from gorilla_rag.pipeline import Pipeline

    pipe = Pipeline(seed_index)
    unconstrained = pipe.ask("text to speech in German")
    assert unconstrained.status == "verified" and unconstrained.api.source == "huggingface"  # bark: PyTorch
    asked_tf = pipe.ask("text to speech in German with TensorFlow")
    assert asked_tf.status == "no_match" and asked_tf.api is None
    assert "asks for text to speech, and no API the filters allow (runs on TensorFlow) does that" in asked_tf.explanation
    aloud = pipe.ask("read my emails out loud with TensorFlow")  # named without the words "text to speech"
    assert aloud.status == "no_match" and "text to speech" in aloud.explanation
    detector = pipe.ask("a PyTorch model to detect objects in photos")
    assert detector.status == "verified" and runs_on(detector.api, "pytorch") and detector.api.source != "tfhub"
    assert all(runs_on(hit.doc, "pytorch") for hit in detector.hits)
    assert detector.constraints == "runs on PyTorch"
    keras = pipe.ask("an image classifier in Keras")
    assert keras.status == "verified" and keras.api.source == "tfhub"
    assert pipe.ask("a scikit-learn model for image classification").status == "no_match"  # the seed has none


@pytest.mark.parametrize("question, source, task, doer", [
    ("transcribe a podcast episode with TensorFlow", None, "speech to text", "wav2vec2-base-960h"),
    ("answer questions about a photo", "tfhub", "visual question answering", None),
    ("generate images from a text prompt in Keras", None, "text to image", "stable-diffusion"),
    ("answer questions about a table of sales figures", "tfhub", "table question answering", None),
    ("estimate depth from a photo", "tfhub", "depth estimation", "MiDaS"),
])
def test_a_task_the_filters_leave_no_model_for_is_no_match_naming_one_outside(seed_index, question, source, task,
                                                                              doer):
    """Before, each got a verified call to whatever the filters allowed (YAMNet for a transcript, a MobileNet
    for a photo question, a text embedding for image generation)."""
    from gorilla_rag.pipeline import Pipeline

    answer = Pipeline(seed_index).ask(question, source=source)
    unfiltered = Pipeline(seed_index).ask(question.replace(" with TensorFlow", "").replace(" in Keras", ""))
    if task == "visual question answering":  # the seed has no VQA model at all: the corpus lacks the task
        assert answer.status == unfiltered.status == "no_match"
        assert f"the question asks for {task}, and no API in the corpus does that" in unfiltered.explanation
        return
    assert answer.status == "no_match" and f"the question asks for {task}, and no API the filters allow" in \
        answer.explanation
    if doer:  # the corpus API doing it that the filters left out
        assert doer in answer.explanation and "does it, outside the filters" in answer.explanation
    assert unfiltered.status == "verified"  # the same request, unconstrained, is answered


def test_the_model_outside_the_filters_comes_with_the_constraint_it_fails(seed_index):
    from gorilla_rag.pipeline import Pipeline

    answer = Pipeline(seed_index).ask("estimate depth from a photo", source="tfhub")
    assert answer.status == "no_match" and "does it, outside the filters: it is on torchhub)" in answer.explanation


@pytest.mark.parametrize("question, converter", [
    ("a TFLite image classifier for my Android app", "tf.lite.TFLiteConverter"),
    ("an image classifier I can run with TensorFlow.js in the browser", "tensorflowjs_converter"),
])
def test_an_on_device_tensorflow_request_is_told_how_to_convert_the_model(seed_index, question, converter):
    from gorilla_rag.pipeline import Pipeline

    answer = Pipeline(seed_index).ask(question)
    assert answer.status == "verified" and answer.api.source == "tfhub"
    assert "this call loads the TensorFlow model in Python; convert it with" in answer.explanation
    assert converter in answer.explanation
    plain = Pipeline(seed_index).ask("an image classifier in TensorFlow")
    assert "convert it with" not in plain.explanation
