"""One field of a raw record as text: APIBench fields are str, list, dict or None at random."""

from __future__ import annotations

import json
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
