"""Requirements as pip-style specs, from the many shapes APIBench and model pages write them in."""

from __future__ import annotations

import re
from typing import Any

from gorilla_rag.corpus.fields import as_text

_PIP_NOISE = {"pip", "install", "pip3", "-q", "-u", "--upgrade", "python", "-m", "and", "or"}

_VERSION = re.compile(r"(?:[<>=!~]=?=?)?\s*\d+(?:\.(?:\d+|x|\*))*(?:\.?(?:a|b|rc|post|dev)\d*)?")
_REQUIREMENT = re.compile(r"(?P<name>[A-Za-z][\w.\-]*(?:\[[\w,\-]+\])?)\s*(?P<spec>(?:[<>=!~]=?=?)\s*[\w.*+]+)?")
_ALIASES = {"pytorch": "torch", "tensorflow hub": "tensorflow_hub", "sklearn": "scikit-learn",
            "hugging face transformers": "transformers", "huggingface transformers": "transformers"}


def _version_spec(value: str) -> str:
    """'>=2.0' → '>=2.0', '1.0.0' and 'v1.0.0' → '==1.0.0', '2.x' → '==2.*'; '' for 'latest', prose and the like."""
    value = value.strip().removeprefix("v")
    if not _VERSION.fullmatch(value):
        return ""
    value = value.replace(".x", ".*")
    return value if value[0] in "<>=!~" else f"=={value}"


def _requirements_in_text(text: str) -> list[str]:
    """Requirement specs in free text: 'pip install -U a b>=1', 'import x as y', 'a, b>=2', 'TensorFlow Hub'.

    Only a pip command is split on spaces; elsewhere items are comma-separated and a multi-word item that is no
    package name ('PyTorch on XLA Devices') is kept as written rather than cut into words."""
    imported = re.fullmatch(r"\s*(?:from\s+([\w.]+)\s+)?import\s+([\w.]+).*", text)
    if imported:
        return [_alias((imported.group(1) or imported.group(2)).split(".")[0])]
    text = re.sub(r"\([^)]*\)", " ", text)  # "xformers (optional, for memory efficient attention)"
    text = re.sub(r"\s*([<>=!~]=?=?)\s*", r"\1", text)  # 'tensorflow >= 2.0' → one token
    pip = re.search(r"\bpip3?\s+install\b", text)
    items = re.split(r"[,;\s]+" if pip else r"[,;]+", text[pip.end():] if pip else text)
    specs: list[str] = []
    for item in (" ".join(i.strip().lstrip("!").split()) for i in items):
        if not item or item.startswith("-") or re.search(r"://|\.git\b", item):
            continue
        words = item.split()
        lowercase_names = all(re.fullmatch(r"[a-z][\w.\-]*(?:[<>=!~]=?=?[\w.*+]+)?", w) for w in words)
        for candidate in words if len(words) > 1 and lowercase_names and _alias(item) == item else [item]:
            spec = _one_requirement(candidate)
            if spec:
                specs.append(spec)
    return specs


def _one_requirement(item: str) -> str | None:
    """'torch>=1.9' → itself, 'sklearn.model_selection' → 'scikit-learn', 'pip' → None, prose → kept as written."""
    match = _REQUIREMENT.fullmatch(item)
    if match is None:
        return _alias(item) if " " in item else None
    name = match.group("name")
    if name.lower() in _PIP_NOISE:
        return None
    if re.fullmatch(r"[a-z_]+(?:\.[a-z_]+)+", name) and not match.group("spec"):
        name = name.split(".")[0]  # a module path
    return _alias(name) + re.sub(r"\s+", "", match.group("spec") or "")


def _alias(name: str) -> str:
    """The package name for a prose or import name ('PyTorch' → 'torch'); anything else unchanged."""
    return _ALIASES.get(name.lower(), name)


def requirement_name(spec: str) -> str:
    """The distribution name of a requirement spec ('tensorflow_hub>=0.12' → 'tensorflow_hub'; prose unchanged)."""
    match = _REQUIREMENT.fullmatch(spec.strip())
    return match.group("name").split("[")[0] if match else spec.strip()


def normalize_requirements(value: Any) -> tuple[str, ...]:
    """Requirements as pip-style specs ('tensorflow>=2.0', 'transformers'), in order, one per package.

    APIBench writes them as a list, a comma list, a pip command, an import line, or a {package: version} dict
    whose values may be a version, 'latest', or prose; versions are kept when they are versions."""
    specs: list[str] = []
    if isinstance(value, dict):
        for key, version in value.items():
            if isinstance(version, list):
                specs += normalize_requirements(version)
            elif _REQUIREMENT.fullmatch(str(key).strip()) and str(key).strip().lower() not in _PIP_NOISE:
                specs.append(str(key).strip() + _version_spec(as_text(version)))
    elif isinstance(value, list):
        for item in value:
            specs += normalize_requirements(item)
    elif as_text(value):
        specs = _requirements_in_text(as_text(value))
    unique: dict[str, str] = {}
    for spec in specs:
        unique.setdefault(requirement_name(spec).lower(), spec)
    return tuple(unique.values())
