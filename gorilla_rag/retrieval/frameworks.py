"""Which framework a model runs on, and the framework a question asks for ("text to speech with TensorFlow").

A framework is not a hub: Hugging Face serves PyTorch models mostly, but also Keras, scikit-learn (joblib) and
ONNX ones; every TF Hub model is TensorFlow and every PyTorch Hub model PyTorch. A question that says "in
PyTorch" wants no TF Hub model, and one that says "with Keras" wants no PyTorch one: without this, such a question
was answered from whichever hub ranked first, and the user had to notice.
"""

from __future__ import annotations

import re

from gorilla_rag.types import ApiDoc

FRAMEWORKS = ("tensorflow", "pytorch", "scikit-learn")
FRAMEWORK_NAMES = {"tensorflow": "TensorFlow", "pytorch": "PyTorch", "scikit-learn": "scikit-learn"}
_ALIASES = {"tensorflow": "tensorflow", "tf": "tensorflow", "tf2": "tensorflow", "keras": "tensorflow",
            "pytorch": "pytorch", "torch": "pytorch", "scikitlearn": "scikit-learn", "sklearn": "scikit-learn"}

# What a doc's framework field or its call says when the model is not PyTorch (on Hugging Face).
_TENSORFLOW = re.compile(r"keras|tensorflow|\bTF[A-Z]\w*\.from_pretrained", re.I)
_SCIKIT = re.compile(r"scikit|sklearn|joblib", re.I)
_NOT_TORCH = re.compile(r"keras|tensorflow|\bTF[A-Z]\w*\.from_pretrained|scikit|sklearn|joblib|onnx|\bORTModel|optimum|"
                        r"ctranslate|ml-agents", re.I)
_TORCH_REQUIREMENT = re.compile(r"torch|transformers|diffusers", re.I)

# Named in a question; hub names ("TensorFlow Hub", "PyTorch Hub") are read as hubs (constraints.py), not here.
# TF Lite and TF.js count as TensorFlow: their models are TensorFlow models, converted.
_STATED = (("tensorflow", r"\btensor ?flow\b(?![ -]?hub)|\btf ?2\b|\btf\.(?:keras|js|lite)\b|\btfjs\b|\btf ?lite\b|"
                          r"\bkeras\b(?![ -]?like)|\b(?:in|with|using)\s+tf\b|\btf\s+(?:models?|code|version|weights)\b"),
           ("pytorch", r"\bpy ?torch\b(?![ -]?hub)(?!/)|\bimport\s+torch\b|\btorch\.(?!hub\b)\w+|\b(?:in|with|using)\s+torch\b|"
                       r"\btorch[- ](?:models?|code|weights|based|tensors?|modules?|implementation|version)\b|"
                       r"\b(?:torchvision|torchaudio|torchscript|pytorch[_ -]lightning)\b"),
           ("scikit-learn", r"\bscikit[ -]?learn\b|\bsklearn\b"))
# A sentence that says one of these about a framework does not ask for it ("I don't want PyTorch", "TensorFlow
# is too heavy for us"): its mention is dropped, never turned into the opposite.
_NEGATION = re.compile(r"\b(?:not?|never|without|avoid\w*|except|instead|rather|neither|nor|hate|anything\s+but|"
                       r"other\s+than|no\s+longer|(?:do|does|did|ca|is|are|wo)n'?t|cannot|too\s+(?:heavy|big|slow|large))\b|"
                       r"\bnon-|-free\b|\b(?:mov|migrat|switch|port)\w*\s+(?:\w+\s+)?(?:off|away)\b", re.I)
_SENTENCE = re.compile(r"[.;!?\n]+(?=\s|$)")
# A hub none of whose models runs on the framework.
_NEVER_ON = {"pytorch": {"tfhub"}, "tensorflow": {"torchhub"}, "scikit-learn": {"tfhub", "torchhub"}}


def canonical_framework(name: str) -> str:
    """'Keras' → 'tensorflow'; raises ValueError listing the choices for an unknown name."""
    key = name.strip().lower().replace("-", "").replace(" ", "").replace("_", "")
    if key not in _ALIASES:
        raise ValueError(f"unknown framework {name!r}: choose one of {', '.join(FRAMEWORKS)}")
    return _ALIASES[key]


def runs_on(doc: ApiDoc, framework: str) -> bool:
    """Whether the doc's model runs on `framework` (one of FRAMEWORKS) as its call loads it; a Hugging Face
    model whose requirements name joblib or scikit-learn but no torch library is a scikit-learn one, whatever
    its (sometimes generic) call says."""
    said = f"{doc.framework} {doc.api_call}"
    requirements = " ".join(doc.requirements)
    scikit = doc.source != "tfhub" and bool(
        _SCIKIT.search(said) or (_SCIKIT.search(requirements) and not _TORCH_REQUIREMENT.search(requirements)))
    if framework == "tensorflow":
        return doc.source == "tfhub" or bool(_TENSORFLOW.search(said))
    if framework == "pytorch":
        return doc.source == "torchhub" or (doc.source != "tfhub" and not scikit and not _NOT_TORCH.search(said))
    return scikit


def compatible(framework: str, sources: tuple[str, ...]) -> bool:
    """Whether some model of the hubs (all hubs when none is named) could run on the framework."""
    return not sources or any(source not in _NEVER_ON[framework] for source in sources)


def stated_framework(question: str) -> str | None:
    """The one framework the question asks for ("a PyTorch model that…"), None when it names none, several
    ("convert PyTorch to TensorFlow"), or names one in a sentence that rules it out ("not in TensorFlow")."""
    named = set()
    for sentence in _SENTENCE.split(question):
        mentioned = {framework for framework, pattern in _STATED if re.search(pattern, sentence, re.I)}
        if mentioned and not _NEGATION.search(sentence):
            named |= mentioned
    return named.pop() if len(named) == 1 else None


_ON_DEVICE = (("TF Lite", re.compile(r"\btf ?lite\b|\btf\.lite\b|\btensor ?flow[ -]lite\b", re.I),
               "tf.lite.TFLiteConverter.from_saved_model (or .from_keras_model)"),
              ("TensorFlow.js", re.compile(r"\btfjs\b|\btf\.js\b|\btensor ?flow\.js\b", re.I), "tensorflowjs_converter"))


def conversion_note(question: str, doc: ApiDoc) -> str:
    """For a TF Lite or TensorFlow.js request answered with a TensorFlow model: the call loads it in Python, and how
    to convert it ('' otherwise)."""
    if not runs_on(doc, "tensorflow"):
        return ""
    for name, asked, converter in _ON_DEVICE:
        if asked.search(question):
            return (f"The question asks for {name}: this call loads the TensorFlow model in Python; convert it with "
                    f"{converter}.")
    return ""


def framework_phrases() -> list[re.Pattern]:
    """The patterns `stated_framework` reads, to blank them out of a question."""
    return [re.compile(pattern, re.I) for _, pattern in _STATED]
