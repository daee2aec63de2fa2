"""Turn raw API records (APIBench fields are str/list/dict/None at random) into ApiDocs, once."""

from __future__ import annotations

import re
from typing import Any

from gorilla_rag.corpus.fields import as_text, clean_call
from gorilla_rag.corpus.metrics import normalize_metrics
from gorilla_rag.corpus.requirements import normalize_requirements, requirement_name
from gorilla_rag.types import ApiDoc

__all__ = ["as_text", "doc_id", "normalize_apibench", "normalize_arguments", "normalize_example", "normalize_metrics",
           "normalize_requirements", "requirement_name"]


_LITERAL = re.compile(r"""\s*(?:'[^']*'|"[^"]*"|[-+]?\d+(?:\.\d+)?|True|False|None)\s*""")


def normalize_arguments(value: Any, positional: tuple[str, ...] = ()) -> dict[str, str]:
    """Arguments as name → description (or default value), from a dict, a list of names, 'name: description',
    'name=value' or {'name': …, 'description': …} items, or a comma list. Bare literals ("'pytorch/vision'") are
    positional values: named from `positional` (torch.hub.load's repo_or_dir, model), else argument 1, 2, …"""
    if isinstance(value, dict):
        return {str(k): as_text(v) for k, v in value.items()}
    items = value if isinstance(value, list) else as_text(value).split(",")
    out: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict):
            if "name" in item:
                out[as_text(item.get("name"))] = as_text(item.get("description") or item.get("type") or "")
            else:
                out.update(normalize_arguments(item))
            continue
        text = as_text(item)
        if not text:
            continue
        if _LITERAL.fullmatch(text):
            index = sum(1 for key in out if key in positional or key.startswith("argument "))
            out[positional[index] if index < len(positional) else f"argument {index + 1}"] = text.strip()
            continue
        named = re.fullmatch(r"\s*([A-Za-z_][\w.]*)\s*[=:]\s*(.*)", text, re.S)
        if named:
            out[named.group(1)] = named.group(2).strip()
        else:
            out[text.strip()] = ""
    return out


def normalize_example(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(as_text(v) for v in value if as_text(v))
    if isinstance(value, dict):
        return "\n".join(as_text(v) for v in value.values() if as_text(v))
    return as_text(value)


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
        api_call=clean_call(api_call),
        description=as_text(record.get("description")),
        framework=as_text(record.get("framework")),
        functionality=as_text(record.get("functionality")),
        arguments=normalize_arguments(record.get("api_arguments"),
                                      ("repo_or_dir", "model") if source == "torchhub" else ()),
        example_code=normalize_example(record.get("example_code")),
        requirements=normalize_requirements(record.get("python_environment_requirements")),
        metrics=normalize_metrics(performance),
        extra=extra,
    )
