import pytest

from gorilla_rag.corpus.normalize import (
    as_text,
    doc_id,
    normalize_apibench,
    normalize_arguments,
    normalize_metrics,
    normalize_requirements,
    requirement_name,
)


@pytest.mark.parametrize("value, expected", [
    (None, ""), ("N/A", ""), ("  text ", "text"), (["a", None, "b"], "a, b"), ({"k": 1}, '{"k": 1}'), (3, "3"),
])
def test_as_text(value, expected):
    assert as_text(value) == expected


def test_arguments_from_every_shape():
    assert normalize_arguments({"pretrained": True}) == {"pretrained": "True"}
    assert normalize_arguments(["model_url", "input_shape"]) == {"model_url": "", "input_shape": ""}
    assert normalize_arguments([{"name": "repo", "type": "str", "description": "the repo"}]) == {"repo": "the repo"}
    assert normalize_arguments("text, max_length") == {"text": "", "max_length": ""}
    assert normalize_arguments("N/A") == {} and normalize_arguments(None) == {}
    assert normalize_arguments(["'ultralytics/yolov5'", "'yolov5s'", "pretrained=True"], ("repo_or_dir", "model")) \
        == {"repo_or_dir": "'ultralytics/yolov5'", "model": "'yolov5s'", "pretrained": "True"}
    assert normalize_arguments(["'a'", "3"]) == {"argument 1": "'a'", "argument 2": "3"}
    assert normalize_arguments([{"model_id": "x/y"}]) == {"model_id": "x/y"}
    assert normalize_arguments(["model_id: The identifier of the model"]) == {"model_id": "The identifier of the model"}


def test_requirements_drop_pip_noise_and_duplicates():
    assert normalize_requirements("pip install -q torchaudio omegaconf") == ("torchaudio", "omegaconf")
    assert normalize_requirements(["torch", "torch", "timm"]) == ("torch", "timm")
    assert normalize_requirements("tensorflow, tensorflow_hub") == ("tensorflow", "tensorflow_hub")
    assert normalize_requirements("!pip install timm --upgrade") == ("timm",)


def test_requirements_keep_versions_as_pip_specs():
    assert normalize_requirements({"tensorflow": ">=2.0.0", "tensorflow_hub": ">=0.6.0"}) == (
        "tensorflow>=2.0.0", "tensorflow_hub>=0.6.0")
    assert normalize_requirements({"torch": "1.0.0", "torchvision": "2.x"}) == ("torch==1.0.0", "torchvision==2.*")
    assert normalize_requirements("tensorflow >= 2.0, torch") == ("tensorflow>=2.0", "torch")
    assert normalize_requirements(["tokenizers==0.13.2", "tokenizers", "PyTorch"]) == ("tokenizers==0.13.2", "torch")


def test_requirements_ignore_prose_versions_and_non_packages():
    assert normalize_requirements({"transformers": "latest", "python": ">=3.8"}) == ("transformers",)
    assert normalize_requirements({"transformers": "from transformers import AutoTokenizer, pipeline"}) == (
        "transformers",)
    assert normalize_requirements({"packages": ["transformers", "PIL"]}) == ("transformers", "PIL")
    assert normalize_requirements(["import tensorflow_hub as hub"]) == ("tensorflow_hub",)
    assert normalize_requirements("TensorFlow Hub") == ("tensorflow_hub",)
    assert requirement_name("tensorflow_hub>=0.12") == "tensorflow_hub" and requirement_name("a[x]==1") == "a"


@pytest.mark.parametrize("value, expected", [
    (["RL Zoo", "SB3", "SB3 Contrib"], ("RL Zoo", "SB3", "SB3 Contrib")),  # prose names stay whole
    ("Hugging Face Transformers", ("transformers",)),
    ("xformers (optional, for memory efficient attention)", ("xformers",)),
    ("pytorch-lightning", ("pytorch-lightning",)),  # not 'torch-lightning'
    ("sklearn.model_selection", ("scikit-learn",)),
    (["torch==1.8.0+cu101"], ("torch==1.8.0+cu101",)),
    ("transformers torch", ("transformers", "torch")),
    ("pip install git+https://github.com/x/y.git", ()),
])
def test_requirements_in_prose(value, expected):
    assert normalize_requirements(value) == expected


def test_metrics_parse_numbers_units_and_errors():
    perf = {"dataset": "ImageNet", "accuracy": {"top_1": 74.58, "top_5": "91.63"}, "Params (M)": 32.45,
            "Flops (G)": 54.5}
    assert normalize_metrics(perf) == {"top1": 74.58, "top5": 91.63, "params": 32450000.0, "flops_g": 54.5}
    assert normalize_metrics({"accuracy": {"vgg19": {"Top-1 error": 27.62}}}) == {"top1": 72.38}
    assert normalize_metrics({"accuracy": "71.8%"}) == {"accuracy": 71.8}
    assert normalize_metrics({"accuracy": "Pearson correlation coefficient > 0.8 on the STS benchmark"}) == {}
    assert normalize_metrics("N/A") == {}


@pytest.mark.parametrize("text", ["42000 lower-cased subwords", "600 GPU-hours", "150 CIDEr", "128x128 resolution",
                                  "F1 score: 87.1", "20 dimensions", "Pearson correlation of 0.803", "30.9 mAP",
                                  "~0.5% top1 improvement over ResNet50 v1", "82.1% mean intersection-over-union"])
def test_an_accuracy_field_holding_another_measure_gives_no_accuracy(text):
    assert normalize_metrics({"dataset": "x", "accuracy": text}) == {}


def test_accuracies_written_in_words_and_params_without_units():
    assert normalize_metrics({"accuracy": "Top-1 accuracy of 80.1% and Top-5 accuracy of 95.1%"}) == {
        "top1": 80.1, "top5": 95.1}
    assert normalize_metrics({"accuracy": "71.9%"}) == {"accuracy": 71.9}
    assert normalize_metrics({"accuracy": 0.93}) == {"accuracy": 93.0}
    assert normalize_metrics({"accuracy": 350}) == {}
    # TorchHub's video models give params in millions without saying so
    assert normalize_metrics({"params": 34.57, "flops": 65.71}) == {"params": 34570000.0, "flops_g": 65.71}
    assert normalize_metrics({"params": 125000000}) == {"params": 125000000.0}
    assert normalize_metrics({"fcn_resnet50": {"Mean IOU": 60.5, "Global Pixelwise Accuracy": 91.4}}) == {}


def test_flops_units_on_the_value_or_the_header():
    """Results tables write FLOPs as '142M', '4.4G' or '16B': all are stored in GFLOPs."""
    assert normalize_metrics({"FLOPs": "142M"}) == {"flops_g": 0.142}
    assert normalize_metrics({"FLOPs": "4.4G", "#Parameters": "28M"}) == {"flops_g": 4.4, "params": 28000000.0}
    assert normalize_metrics({"FLOPS": "16B"}) == {"flops_g": 16.0}
    assert normalize_metrics({"FLOPs (M)": 600}) == {"flops_g": 0.6}
    assert normalize_metrics({"MFLOPs": "300"}) == {"flops_g": 0.3}


def test_ids_come_from_api_identity():
    assert doc_id("torchhub", "x", "torch.hub.load(repo_or_dir='NVIDIA/DeepLearningExamples:torchhub', "
                                   "model='nvidia_ssd')") == "torchhub:nvidia/deeplearningexamples:nvidia_ssd"
    assert doc_id("tfhub", "x", "hub.KerasLayer('https://tfhub.dev/google/yamnet/1/')") == "tfhub:google/yamnet/1"
    assert doc_id("huggingface", "gpt2", "pipeline('text-generation', model='gpt2')") == "huggingface:gpt2"


def test_apibench_record_normalised_once():
    record = {"domain": "Text embedding", "framework": "TensorFlow Hub", "functionality": "Embed",
              "api_name": "use", "api_call": "hub.load('https://tfhub.dev/google/universal-sentence-encoder/4')",
              "api_arguments": ["input"], "python_environment_requirements": "tensorflow, tensorflow_hub",
              "example_code": ["import tensorflow_hub as hub", "embed = hub.load('...')"],
              "performance": {"dataset": "STS", "accuracy": "0.78"}, "description": None}
    doc = normalize_apibench(record, "tfhub")
    assert doc.id == "tfhub:google/universal-sentence-encoder/4"
    assert doc.example_code.count("\n") == 1 and doc.description == ""
    assert doc.requirements == ("tensorflow", "tensorflow_hub") and doc.extra["dataset"] == "STS"
    with pytest.raises(ValueError, match="no api_call"):
        normalize_apibench({**record, "api_call": None}, "tfhub")


@pytest.mark.parametrize(("raw", "clean"), [
    ("pipeline(sentiment-analysis, model='cardiffnlp/x')", "pipeline('sentiment-analysis', model='cardiffnlp/x')"),
    ("nlp = pipeline(text-classification)", "nlp = pipeline('text-classification')"),
    ("CLIPModel.from_pretrained('openai/clip-vit-large-patch14').", "CLIPModel.from_pretrained('openai/clip-vit-large-patch14')"),
    ("pipeline('ner', model='dslim/bert-base-NER')", "pipeline('ner', model='dslim/bert-base-NER')"),
    ("pipeline(task, model=name)", "pipeline(task, model=name)"),  # a variable, not a task left unquoted
])
def test_apibench_calls_lose_their_slips(raw, clean):
    record = {"api_call": raw, "api_name": "x", "domain": "d"}
    assert normalize_apibench(record, "huggingface").api_call == clean
