"""identify: a call's identity is its loader + the exact model it names."""

from __future__ import annotations

import pytest

from gorilla_rag.verify import ApiIdentity, extract_calls, identify


def ident(code: str) -> ApiIdentity | None:
    """The identity of the first identifiable call in `code`."""
    return next((i for call in extract_calls(code) if (i := identify(call)) is not None), None)


def key(code: str) -> str | None:
    found = ident(code)
    return found.key if found else None


# --- PyTorch Hub ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)",
        "torch.hub.load(repo_or_dir='pytorch/vision', model='resnet50', pretrained=True)",
        "torch.hub.load('pytorch/vision', model='resnet50')",
        "torch.hub.load('PyTorch/Vision:v0.10.0', 'resnet50', pretrained=True)",
        'torch.hub.load("pytorch/vision:main", "resnet50")',
        "model = torch.hub.load('https://github.com/pytorch/vision', 'resnet50')",
        "from torch import hub\nm = hub.load('pytorch/vision', 'resnet50')",
    ],
)
def test_torchhub_forms_share_one_key(code):
    assert key(code) == "torchhub:pytorch/vision:resnet50"


def test_torchhub_model_names_are_exact():
    assert (
        key("torch.hub.load('pytorch/vision', 'wide_resnet50_2')")
        == "torchhub:pytorch/vision:wide_resnet50_2"
    )
    assert key("torch.hub.load('pytorch/vision', 'resnet5')") == "torchhub:pytorch/vision:resnet5"
    found = ident("torch.hub.load('acme/repo:hub', model='TinyNet', pretrained=True)")
    assert found == ApiIdentity("torchhub", "torchhub:acme/repo:TinyNet", "torch.hub.load", "TinyNet")


def test_torchhub_keyword_repo_with_stray_positional():
    assert key("torch.hub.load(repo_or_dir='acme/meal', 'meal', model='meal_small', pretrained=True)") == (
        "torchhub:acme/meal:meal_small"
    )


# --- TF Hub --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "hub.load('https://tfhub.dev/acme/encoder/4')",
        "hub.KerasLayer('https://tfhub.dev/acme/encoder/4', trainable=False)",
        "hub.KerasLayer(handle='https://tfhub.dev/acme/encoder/4')",
        "tensorflow_hub.load('  https://TFHub.dev/acme/encoder/4/ ')",
        "hub.Module('http://tfhub.dev/acme/encoder/4')",
        "hub.load('https://tfhub.dev/acme/encoder/4?tf-hub-format=compressed')",
        "hub.resolve('https://tfhub.dev/acme/encoder/4')",
        "tf.keras.Sequential([hub.KerasLayer('https://tfhub.dev/acme/encoder/4'), tf.keras.layers.Dense(1)])",
        "url = 'https://tfhub.dev/acme/encoder/4'\nembed = hub.load(url)",
    ],
)
def test_tfhub_forms_share_one_key(code):
    found = ident(code)
    assert found is not None and found.source == "tfhub"
    assert found.key == "tfhub:https://tfhub.dev/acme/encoder/4"


def test_tfhub_versions_and_paths_are_exact():
    assert key("hub.load('https://tfhub.dev/acme/encoder/3')") == "tfhub:https://tfhub.dev/acme/encoder/3"
    assert (
        key("hub.load('https://tfhub.dev/acme/encoder-large/4')")
        == "tfhub:https://tfhub.dev/acme/encoder-large/4"
    )


def test_tfhub_path_case_is_kept():
    assert key("hub.load('https://TFHUB.DEV/Acme/Enc/1')") == "tfhub:https://tfhub.dev/Acme/Enc/1"


def test_tfhub_unresolved_variable_has_no_identity():
    assert ident("layer = hub.KerasLayer(model_url)") is None


# --- HuggingFace ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AutoModel.from_pretrained('Acme/Bert-Tiny')", "acme/bert-tiny"),
        (
            "AutoModelForCausalLM.from_pretrained(pretrained_model_name_or_path='acme/gpt', torch_dtype=x)",
            "acme/gpt",
        ),
        (
            "StableDiffusionPipeline.from_pretrained('acme/sd', vae=AutoencoderKL.from_pretrained('a/vae'))",
            "acme/sd",
        ),
        ("SentenceTransformer('acme/mini-lm')", "acme/mini-lm"),
        ("YOLO('acme/yolov8n-table')", "acme/yolov8n-table"),
        ("SequenceTagger.load('acme/ner-english')", "acme/ner-english"),
        ("load_model_ensemble_and_task_from_hf_hub('acme/tts-es')", "acme/tts-es"),
        ("load_from_hub(repo_id='acme/ppo-CartPole', filename='ppo.zip')", "acme/ppo-cartpole"),
        ("joblib.load(cached_download(hf_hub_url('acme/wine', 'sklearn_model.joblib')))", "acme/wine"),
        ("joblib.load('model.joblib')", "model.joblib"),
        ("HappyTextToText('T5', 'acme/t5-grammar')", "acme/t5-grammar"),
        ("EncoderClassifier.from_hparams(source='acme/lang-id', savedir='tmp/lang-id')", "acme/lang-id"),
        ("timm.create_model('hf_hub:acme/vit-tiny', pretrained=True)", "acme/vit-tiny"),
        ("Pipeline.from_pretrained('acme/diarization@2.1')", "acme/diarization"),
        (
            "Wav2Vec2Model.from_pretrained(cached_download('https://huggingface.co/acme/speech/resolve/main/m.pt'))",
            "acme/speech",
        ),
        ("TextToSpeech(acme/tts-onnx)", "acme/tts-onnx"),
        ("translate('some text', model='acme/opus-en-fr')", "acme/opus-en-fr"),
        ("mlagents-load-from-hf --repo-id='acme/poca' --local-dir='./downloads'", "acme/poca"),
    ],
)
def test_huggingface_loaders(code, expected):
    found = ident(code)
    assert found is not None and found.source == "huggingface"
    assert found.key == f"huggingface:{expected}"


@pytest.mark.parametrize(
    ("code", "task", "model"),
    [
        ("pipeline('fill-mask', model='acme/bert')", "fill-mask", "acme/bert"),
        ("pipeline(task='fill-mask', model='acme/bert')", "fill-mask", "acme/bert"),
        ("pipeline('fill-mask', 'acme/bert')", "fill-mask", "acme/bert"),
        ("transformers.pipeline('fill-mask', model='acme/bert', device=0)", "fill-mask", "acme/bert"),
        ("pipeline(model='acme/bert')", None, "acme/bert"),
        ("pipeline(text-to-image, model=Acme/Bert)", "text-to-image", "Acme/Bert"),
        (
            "pipeline('question-answering', model=AutoModel.from_pretrained('acme/bert'), tokenizer=t)",
            "question-answering",
            "acme/bert",
        ),
    ],
)
def test_pipeline_task_and_model(code, task, model):
    found = ident(code)
    assert found is not None
    assert (found.task, found.model, found.key) == (task, model, f"huggingface:{model.lower()}")


def test_pipeline_without_model_never_matches_a_model_key():
    found = ident("classifier = pipeline('sentiment-analysis')")
    assert found is not None and found.model == ""
    assert found.key == "huggingface:pipeline-default:sentiment-analysis"
    assert found.key != key("pipeline('sentiment-analysis', model='acme/sentiment')")
    assert ident("pipeline(task_name)") is None


def test_calling_a_loaded_pipeline_on_data_names_no_task():
    # pyannote-style `pipeline = Pipeline.from_pretrained(...)`, then `pipeline('audio.wav')`
    assert ident("diarization = pipeline('audio.wav')") is None
    assert ident("pipeline('The weather is nice today')") is None
    assert key("pipeline('translation_en_to_fr')") == "huggingface:pipeline-default:translation_en_to_fr"


@pytest.mark.parametrize(
    "code",
    [
        "print('acme/bert')",
        "tokenizer('hello world', return_tensors='pt')",
        "np.array([1, 2, 3])",
        "np.load('features.npy')",
        "torch.load('weights.pt')",
        "json.load(open('config.json'))",
        "tf.keras.models.load_model('saved/model')",
        "model.generate(**inputs)",
        "SentimentModel()",
        "Path('acme/dir')",
        "nn.Transformer(512, 8)",
        "AutoModel.from_pretrained(True)",
        "hub.load(model_handle)",
    ],
)
def test_non_loading_calls_have_no_identity(code):
    assert ident(code) is None


def test_a_pipeline_given_a_loaded_model_loads_nothing_itself():
    code = "m = AutoModel.from_pretrained('acme/bert')\nner = pipeline('ner', model=m, tokenizer=t)"
    assert [identify(c) is not None for c in extract_calls(code)] == [True, False]
    assert ident("pipeline('ner', m)") is None
    # a model string held in a variable is still read
    assert key("name = 'acme/bert'\npipeline('ner', model=name)") == "huggingface:acme/bert"
