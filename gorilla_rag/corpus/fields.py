"""One field of a raw record as text: APIBench fields are str, list, dict or None at random."""

from __future__ import annotations

import json
import re
from typing import Any

_EMPTY = {"", "n/a", "na", "none", "null", "-"}


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


_BARE_TASK = re.compile(r"^(\s*(?:\w+\s*=\s*)?pipeline\(\s*)([a-z][a-z0-9]*(?:-[a-z0-9]+)+)(\s*[,)])")


def clean_call(call: str) -> str:
    """An API call as written in a doc, with two slips of APIBench's records undone: a sentence's full stop after
    the call (`from_pretrained('x').`) and a pipeline task left unquoted (`pipeline(sentiment-analysis, ...)`,
    which Python reads as a subtraction)."""
    call = call.strip()
    if call.endswith(")."):
        call = call[:-1]
    return _BARE_TASK.sub(lambda m: f"{m.group(1)}'{m.group(2)}'{m.group(3)}", call, count=1)
