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
_NOT_TORCH = re.compile(r"keras|tensorflow|\bTF[A-Z]\w*\.from_pretrained|scikit|sklearn|joblib|onnx|ctranslate|ml-agents",
                        re.I)

# Named in a question; hub names ("TensorFlow Hub", "PyTorch Hub") are read as hubs (constraints.py), not here.
_STATED = (("tensorflow", r"\b(?:tensor ?flow|tf ?2|tf\.keras|keras)\b(?![ -]?hub)"),
           ("pytorch", r"\b(?:py ?torch|torch)\b(?![ -]?hub)(?!\.hub)(?!/)"),  # pytorch/vision: a repo
           ("scikit-learn", r"\b(?:scikit[ -]?learn|sklearn)\b"))
_NEGATED = re.compile(r"\b(?:not|no|without|instead of|rather than|except|other than|but not)\s+(?:in\s+|with\s+|using\s+)?$",
                      re.I)


def canonical_framework(name: str) -> str:
    """'Keras' → 'tensorflow'; raises ValueError listing the choices for an unknown name."""
    key = name.strip().lower().replace("-", "").replace(" ", "").replace("_", "")
    if key not in _ALIASES:
        raise ValueError(f"unknown framework {name!r}: choose one of {', '.join(FRAMEWORKS)}")
    return _ALIASES[key]


def runs_on(doc: ApiDoc, framework: str) -> bool:
    """Whether the doc's model runs on `framework` (one of FRAMEWORKS) as its call loads it."""
    said = f"{doc.framework} {doc.api_call}"
    if framework == "tensorflow":
        return doc.source == "tfhub" or bool(_TENSORFLOW.search(said))
    if framework == "pytorch":
        return doc.source == "torchhub" or (doc.source != "tfhub" and not _NOT_TORCH.search(said))
    return doc.source != "tfhub" and bool(_SCIKIT.search(said))


def stated_framework(question: str) -> str | None:
    """The one framework the question asks for ("a PyTorch model that…"), None when it names none, several
    ("convert PyTorch to TensorFlow"), or only rules one out ("not in TensorFlow")."""
    named = set()
    for framework, pattern in _STATED:
        for match in re.finditer(pattern, question, re.I):
            if not _NEGATED.search(question[max(0, match.start() - 24):match.start()]):
                named.add(framework)
    return named.pop() if len(named) == 1 else None


def framework_phrases() -> list[re.Pattern]:
    """The patterns `stated_framework` reads, to blank them out of a question."""
    return [re.compile(pattern, re.I) for _, pattern in _STATED]
