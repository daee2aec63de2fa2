"""What makes a call a given hub API: its loader and the exact model it names, never a substring.

- PyTorch Hub: `torch.hub.load` (or `hub.load` of a GitHub `owner/name`) + repo (lower-cased, without
  `:branch`) + model: `torchhub:{repo}:{model}`.
- TF Hub: `hub.load` / `hub.KerasLayer` / `hub.Module` / `hub.resolve` + normalised handle URL:
  `tfhub:{url}`; loading or wrapping the same handle is the same API.
- HuggingFace: a loader (`*.from_pretrained`, `pipeline`, `SentenceTransformer`, `joblib.load`, ...)
  + model id (lower-cased, without `@revision`): `huggingface:{model_id}`. A `pipeline(task)` naming no
  model gets `huggingface:pipeline-default:{task}`, which no corpus API with a model can share; one given a model
  variable (`model=model`, loaded by an earlier call) loads nothing itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from gorilla_rag.verify.calls import CallSite

PIPELINE_DEFAULT = "pipeline-default:"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_GITHUB_REPO = re.compile(r"^[\w.-]+/[\w.-]+(:[\w./-]+)?$")
_BARE_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)*$")
_TF_MODULES = frozenset({"hub", "tensorflow_hub", "tfhub", "tf_hub"})
_TF_LOADERS = frozenset({"load", "KerasLayer", "Module", "resolve", "load_module_spec"})
# Functions (last dotted name) that load a HuggingFace Hub model named by a string argument.
_HF_FUNCTIONS = _words(
    "from_pretrained from_hparams from_pretrained_keras load_from_hub load hf_hub_download "
    "snapshot_download load_model_ensemble_and_task_from_hf_hub create_model load_model "
    "get_prediction foreign_class"
)
# Classes whose constructor loads a hub model, besides *Pipeline, *Model, *Transformer...
_HF_CLASSES = _words(
    "SentenceTransformer CrossEncoder YOLO INSTRUCTOR Asteroid Inference PromptCap Parrot "
    "HappyTextToText TextToSpeech VoiceActivityDetection"
)
_HF_CLASS_SUFFIXES = ("Pipeline", "Model", "Transformer", "Encoder", "Tagger")
# `np.load('x.npy')` or `torch.load('w.pt')` load files, not hub models.
_NOT_HUB_MODULES = _words(
    "np numpy json pickle yaml torch torchaudio librosa sf soundfile cv2 Image PIL pd pandas spacy "
    "tf tensorflow keras h5py dill nltk datasets imageio scipy os io"
)
_ID_KWARGS = (
    "pretrained_model_name_or_path",
    "model",
    "repo_id",
    "model_name_or_path",
    "model_id",
    "model_name",
)
_LATE_ID_KWARGS = ("model_tag", "source", "segmentation", "checkpoint")
_CLI_ID_OPTIONS = ("repo-id", "repo_id", "download_model", "model")
_PYTHON_NAME = re.compile(r"[A-Za-z_][\w.]*")
# A transformers task name ('fill-mask', 'translation_en_to_fr'); `pipeline('audio.wav')` calls a loaded pipeline.
_TASK_NAME = re.compile(r"[A-Za-z][\w-]*")


@dataclass(frozen=True, slots=True)
class ApiIdentity:
    """The hub API a call loads: `key` is equal for two calls exactly when they load the same API."""

    source: str
    key: str
    loader: str
    model: str
    task: str | None = None


def _slot(call: CallSite, name: str | None = None, index: int | None = None) -> str | None:
    """A keyword or positional argument's string value (a literal or a variable holding one); a bare
    hub id written without quotes (`model=Lykon/DreamShaper`, `pipeline(sentiment-analysis)`) counts."""
    if name is not None and name in call.kwargs:
        value, text = call.kwargs[name], call.kwarg_texts.get(name, "")
    elif index is not None and index < len(call.args):
        value, text = call.args[index], call.arg_texts[index] if index < len(call.arg_texts) else ""
    else:
        return None
    if value == text:  # True, 3: not a name
        value = None
    if value is None and ("/" in text or "-" in text) and _BARE_ID.match(text):
        value = text
    return value.strip() if value is not None and value.strip() else None


def _first_literal(call: CallSite) -> str | None:
    """The first string found depth-first in a call's arguments and the calls inside them."""
    stack = [call]
    while stack:
        site = stack.pop()
        for index in range(len(site.args)):
            value = _slot(site, index=index)
            if value is not None:
                return value
        stack.extend(reversed(site.nested))
    return None


def _nested_in(call: CallSite, name: str | None = None, index: int | None = None) -> CallSite | None:
    """The call written as this keyword or positional argument, if it is one."""
    if name is not None:
        text = call.kwarg_texts.get(name)
    else:
        text = call.arg_texts[index] if index is not None and index < len(call.arg_texts) else None
    return next((site for site in call.nested if site.text == text), None) if text else None


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. a broken IPv6 host: not a URL we can normalise
        return urlsplit("")


def normalize_handle(handle: str) -> str:
    """TF Hub handle as a key: trimmed, https, lower-case host, no trailing slash or tf-hub-format."""
    handle = handle.strip()
    parts = _split(handle)
    if not parts.scheme or not parts.netloc:
        return handle.rstrip("/")
    scheme = "https" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "tf-hub-format"])
    return urlunsplit((scheme, parts.netloc.lower(), parts.path.rstrip("/"), query, ""))


def normalize_model_id(model_id: str) -> str:
    """HuggingFace model id as a key: lower-case, no `hf_hub:` prefix, `@revision` or URL around it."""
    model_id = model_id.strip().removeprefix("hf_hub:")
    parts = _split(model_id)
    if parts.netloc.lower() in ("huggingface.co", "www.huggingface.co"):
        segments = [s for s in parts.path.split("/") if s]
        model_id = "/".join(segments[:2] if len(segments) > 1 and segments[1] != "resolve" else segments[:1])
    if "@" in model_id and "/" not in model_id.rsplit("@", 1)[1]:
        model_id = model_id.rsplit("@", 1)[0]
    return model_id.rstrip("/").lower()


def _torchhub(call: CallSite) -> ApiIdentity | None:
    repo = _slot(call, "repo_or_dir", 0)
    if repo is None:
        return None
    model = _slot(call, "model", 0 if "repo_or_dir" in call.kwargs else 1)
    repo = repo.lower().removeprefix("https://github.com/").split(":", 1)[0].rstrip("/")
    return ApiIdentity("torchhub", f"torchhub:{repo}:{model or ''}", call.function, model or "")


def _tfhub(call: CallSite) -> ApiIdentity | None:
    handle = _slot(call, "handle", 0) or _slot(call, "module_spec")
    if handle is None:
        return None
    if call.function.endswith(".load") and _GITHUB_REPO.match(handle) and "://" not in handle:
        return _torchhub(call)  # `from torch import hub; hub.load('owner/repo', 'model')`
    return ApiIdentity("tfhub", f"tfhub:{normalize_handle(handle)}", call.function, handle.strip())


def _model_variable(call: CallSite, index: int) -> bool:
    """Whether a pipeline's model is a variable (`model=model`): a model an earlier call loaded, checked there."""
    if "model" in call.kwargs:
        return call.kwarg_texts.get("model", "").isidentifier()
    return index < len(call.arg_texts) and call.arg_texts[index].isidentifier()


def _pipeline(call: CallSite) -> ApiIdentity | None:
    task_from_kwarg = "task" in call.kwargs
    task = _slot(call, "task") if task_from_kwarg else _slot(call, index=0)
    model_index = 0 if task_from_kwarg else 1
    model = _slot(call, "model", model_index)
    if model is None:
        inner = _nested_in(call, "model") if "model" in call.kwargs else _nested_in(call, index=model_index)
        model = _first_literal(inner) if inner is not None else None
    if model is None:
        if _model_variable(call, model_index) or task is None or not _TASK_NAME.fullmatch(task):
            return None
        return ApiIdentity(
            "huggingface", f"huggingface:{PIPELINE_DEFAULT}{task.lower()}", call.function, "", task
        )
    return ApiIdentity("huggingface", f"huggingface:{normalize_model_id(model)}", call.function, model, task)


def _is_hf_loader(call: CallSite) -> bool:
    module, _, name = call.function.rpartition(".")
    if name in ("load", "load_model") and module.split(".", 1)[0] in _NOT_HUB_MODULES:
        return False
    if name in _HF_FUNCTIONS or any(_slot(call, k) for k in _ID_KWARGS):
        return True
    return name[:1].isupper() and (name in _HF_CLASSES or name.endswith(_HF_CLASS_SUFFIXES))


def _huggingface(call: CallSite) -> ApiIdentity | None:
    if not _PYTHON_NAME.fullmatch(call.function):  # a shell command, e.g. mlagents-load-from-hf
        model = next((call.kwargs[o] for o in _CLI_ID_OPTIONS if call.kwargs.get(o)), None)
    elif not _is_hf_loader(call):
        return None
    else:
        values = [v for v in (_slot(call, index=i) for i in range(len(call.args))) if v is not None]
        model = (
            next((v for k in _ID_KWARGS if (v := _slot(call, k))), None)
            or next((v for v in values if "/" in v), None)
            or next(iter(values), None)
            or next((v for k in _LATE_ID_KWARGS if (v := _slot(call, k))), None)
            or _first_literal(call)
        )
    if not model:
        return None
    return ApiIdentity("huggingface", f"huggingface:{normalize_model_id(model)}", call.function, model)


def identify(call: CallSite) -> ApiIdentity | None:
    """The hub API `call` loads, or None when it loads none (print(), tokenizer(...), np.array)."""
    module, _, name = call.function.rpartition(".")
    if module.endswith("torch.hub") and name == "load":
        return _torchhub(call)
    if module.rsplit(".", 1)[-1] in _TF_MODULES and name in _TF_LOADERS:
        return _tfhub(call)
    if name == "pipeline" and module in ("", "transformers"):
        return _pipeline(call)
    return _huggingface(call)
