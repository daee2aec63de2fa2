"""Whether a text's code is valid Python, and where not, in Python's own words.

Only the parts meant as Python are checked (`views.python_parts`): Gorilla's api_call/code fields and fenced
blocks when there are any, else the whole text; shell and notebook command lines are not Python and are
skipped. The running interpreter's own parser decides (tree-sitter, which reads the calls, tolerates errors by
design) and names the first error of each part precisely ("'(' was never closed").
"""

from __future__ import annotations

import ast
import textwrap
import warnings

from gorilla_rag.verify.views import python_parts

_SHOWN = 60  # characters of the offending line quoted in a message


def _first_error(code: str) -> str | None:
    """Python's message for the first syntax error of `code` (line, column, what), None when it parses."""
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning for an invalid escape: valid, if untidy
            warnings.simplefilter("ignore")
            ast.parse(textwrap.dedent(code))  # a snippet cut out of an indented block is fine
    except SyntaxError as exc:
        where = f"line {exc.lineno}, column {exc.offset}: " if exc.lineno and exc.offset else ""
        line = (exc.text or "").strip()
        quoted = f" in {line[:_SHOWN] + ('…' if len(line) > _SHOWN else '')!r}" if line else ""
        return f"{where}{exc.msg}{quoted}"
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return str(exc) or type(exc).__name__
    return None


def syntax_errors(text: str) -> tuple[str, ...]:
    """One message per part of `text` meant as Python that does not parse; empty when all of it does."""
    messages = []
    for where, code in python_parts(text):
        error = _first_error(code)
        if error is not None:
            messages.append(f"{where}: {error}" if where else error)
    return tuple(messages)
