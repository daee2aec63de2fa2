"""Turn raw API records (APIBench fields are str/list/dict/None at random) into ApiDocs, once."""

from __future__ import annotations

import json
import re
from typing import Any

from gorilla_rag.types import ApiDoc

_EMPTY = {"", "n/a", "na", "none", "null", "-"}
_PIP_NOISE = {"pip", "install", "pip3", "-q", "-u", "--upgrade", "python", "-m", "and", "or"}


def as_text(value: Any) -> str:
    """A field as one string: lists joined, dicts as compact JSON, None and 'N/A' as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        return "" if text.lower() in _EMPTY else text
    if isinstance(value, list):
        return ", ".join(t for t in (as_text(v) for v in value) if t)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def normalize_arguments(value: Any) -> dict[str, str]:
    """Arguments as name → description (or default value)."""
    if isinstance(value, dict):
        return {str(k): as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, str] = {}
        for item in value:
            if isinstance(item, dict):
                name = as_text(item.get("name")) or as_text(item)
                out[name] = as_text(item.get("description") or item.get("type") or "")
            elif as_text(item):
                out[as_text(item)] = ""
        return out
    text = as_text(value)
    if not text:
        return {}
    return {part.strip(): "" for part in text.split(",") if part.strip()}


_VERSION = re.compile(r"(?:[<>=!~]=?=?)?\s*\d+(?:\.(?:\d+|x|\*))*(?:\.?(?:a|b|rc|post|dev)\d*)?")
_REQUIREMENT = re.compile(r"(?P<name>[A-Za-z][\w.\-]*(?:\[[\w,\-]+\])?)\s*(?P<spec>(?:[<>=!~]=?=?)\s*[\w.*]+)?")
_ALIASES = {"pytorch": "torch", "tensorflow hub": "tensorflow_hub", "sklearn": "scikit-learn"}


def _version_spec(value: str) -> str:
    """'>=2.0' → '>=2.0', '1.0.0' and 'v1.0.0' → '==1.0.0', '2.x' → '==2.*'; '' for 'latest', prose and the like."""
    value = value.strip().removeprefix("v")
    if not _VERSION.fullmatch(value):
        return ""
    value = value.replace(".x", ".*")
    return value if value[0] in "<>=!~" else f"=={value}"


def _requirements_in_text(text: str) -> list[str]:
    """Requirement specs named in free text: 'pip install -U a b>=1', 'import x as y', 'a, b', 'TensorFlow Hub'."""
    for alias, name in _ALIASES.items():
        text = re.sub(rf"\b{alias}\b", name, text, flags=re.IGNORECASE)
    imported = re.fullmatch(r"\s*(?:from\s+([\w.]+)\s+)?import\s+([\w.]+).*", text)
    if imported:
        return [(imported.group(1) or imported.group(2)).split(".")[0]]
    specs: list[str] = []
    text = re.sub(r"\s*([<>=!~]=?=?)\s*", r"\1", text)  # 'tensorflow >= 2.0' → one token
    for token in re.split(r"[,;\s]+", text):
        token = token.strip().lstrip("!")
        match = _REQUIREMENT.fullmatch(token)
        if match and not token.startswith("-") and match.group("name").lower() not in _PIP_NOISE:
            specs.append(token)
    return specs


def requirement_name(spec: str) -> str:
    """The distribution name of a requirement spec ('tensorflow_hub>=0.12' → 'tensorflow_hub')."""
    match = _REQUIREMENT.match(spec.strip())
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


def normalize_example(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(as_text(v) for v in value if as_text(v))
    if isinstance(value, dict):
        return "\n".join(as_text(v) for v in value.values() if as_text(v))
    return as_text(value)


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _NUMBER.search(value.replace(",", ""))
        if match and len(value) < 40:
            return float(match.group())
    return None


def _metric_name(path: str) -> tuple[str, float] | None:
    """Map a performance key path to (metric, scale); scale -1 means 'error: store 100 - value'."""
    key = path.lower().replace("_", "-").replace(" ", "-")
    if "param" in key:
        if re.search(r"\(m\)|-m$|million", key):
            return "params", 1e6
        if re.search(r"\(b\)|-b$|billion", key):
            return "params", 1e9
        return "params", 1.0
    if "flop" in key:
        return "flops_g", 1.0
    is_error = "err" in key
    for name, pattern in (("top1", r"top-?1|acc@1|acc1"), ("top5", r"top-?5|acc@5|acc5")):
        if re.search(pattern, key):
            return name, -1.0 if is_error else 1.0
    if key.endswith("accuracy") or key.endswith("acc") or key.endswith("acc."):
        return "accuracy", 1.0
    return None


def normalize_metrics(performance: Any) -> dict[str, float]:
    """Numbers from a free-form performance field: params (absolute count), top1/top5 %, accuracy..."""
    metrics: dict[str, float] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, f"{path}.{key}" if path else str(key))
            return
        number = _number(value)
        named = _metric_name(path.rsplit(".", 1)[-1]) or _metric_name(path)
        if number is None or named is None:
            return
        name, scale = named
        if name == "params" and isinstance(value, str) and re.search(r"\d\s*[mM]\b", value):
            scale = 1e6
        if name in ("top1", "top5", "accuracy") and 0 < number <= 1.0 and not (isinstance(value, str) and "%" in value):
            number *= 100.0  # fractions and percentages both occur; store percent
        result = 100.0 - number if scale < 0 else number * scale
        metrics.setdefault(name, round(result, 4))

    walk(performance, "")
    return metrics


def doc_id(source: str, api_name: str, api_call: str) -> str:
    """Stable id from what identifies the API (repo+model, handle, model id), before de-duplication."""
    if source == "torchhub":
        match = re.search(r"load\(\s*(?:repo_or_dir\s*=\s*)?['\"]([^'\"]+)['\"]\s*,\s*(?:model\s*=\s*)?['\"]([^'\"]+)", api_call)
        if match:
            return f"torchhub:{match.group(1).split(':')[0].lower()}:{match.group(2)}"
    if source == "tfhub":
        match = re.search(r"https?://tfhub\.dev/([^'\"\s)]+)", api_call)
        if match:
            return f"tfhub:{match.group(1).rstrip('/')}"
    return f"{source}:{api_name or api_call}"


def normalize_apibench(record: dict[str, Any], source: str, doc_id_: str | None = None) -> ApiDoc:
    """One APIBench record → ApiDoc. Raises ValueError naming the problem when it is unusable."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    api_call = as_text(record.get("api_call"))
    if not api_call:
        raise ValueError("record has no api_call")
    api_name = as_text(record.get("api_name"))
    performance = record.get("performance")
    extra: dict[str, Any] = {}
    if performance not in (None, "", {}):
        extra["performance"] = performance
        if isinstance(performance, dict) and as_text(performance.get("dataset")):
            extra["dataset"] = as_text(performance.get("dataset"))
    return ApiDoc(
        id=doc_id_ or doc_id(source, api_name, api_call),
        source=source,
        domain=as_text(record.get("domain")),
        api_name=api_name,
        api_call=api_call,
        description=as_text(record.get("description")),
        framework=as_text(record.get("framework")),
        functionality=as_text(record.get("functionality")),
        arguments=normalize_arguments(record.get("api_arguments")),
        example_code=normalize_example(record.get("example_code")),
        requirements=normalize_requirements(record.get("python_environment_requirements")),
        metrics=normalize_metrics(performance),
        extra=extra,
    )
