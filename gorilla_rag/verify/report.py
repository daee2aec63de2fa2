"""A Verification as terminal text: the deciding call and its status, every call when there are several, the
matched APIs, notes and syntax errors."""

from __future__ import annotations

from gorilla_rag.types import Verification

APIS_SHOWN = 5


def passes(result: Verification) -> bool:
    """Whether the text passes: every API call it makes is a corpus API and its code is valid Python."""
    return result.ok


def verification_text(result: Verification) -> str:
    """`[status] call`, then the APIs, each call's status (when there are several), notes and syntax errors."""
    lines = [f"[{result.status}] {result.call}".rstrip()]
    if result.status != "underspecified":  # its candidates are named in its note
        lines += [f"api: {doc.id}" + (f"  ({doc.source})" if result.status == "other_hub" else "")
                  for doc in result.matched[:APIS_SHOWN]]
    if len(result.calls) > 1:
        lines.append(f"calls ({len(result.calls)}):")
        lines += [f"  {i}. [{check.status}] {check.call}" + (f"  -> {check.key}" if check.key else "")
                  for i, check in enumerate(result.calls, 1)]
    lines += [f"note: {detail}" for detail in result.detail]
    lines += [f"syntax error: {error}" for error in result.syntax_errors]
    if result.status == "verified" and result.syntax_errors:
        lines.append("warning: the API calls verify, but the code is not valid Python as written")
    return "\n".join(lines)
