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


def normalize_requirements(value: Any) -> tuple[str, ...]:
    """Requirements as a tuple of package names, in order, without pip noise or duplicates."""
    if isinstance(value, dict):
        parts = [f"{k} {v}" for k, v in value.items()]
    elif isinstance(value, list):
        parts = [as_text(v) for v in value]
    else:
        parts = [as_text(value)]
    names: list[str] = []
    for part in parts:
        for token in re.split(r"[,;\s]+", part):
            token = token.strip()
            if token and token.lower() not in _PIP_NOISE and not token.startswith("-") and token not in names:
                names.append(token)
    return tuple(names)


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
