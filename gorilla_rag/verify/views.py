"""Cut a model's output into the pieces worth parsing as code, most trusted first.

A model answers in many shapes: plain code, markdown fences, Gorilla's `<<<api_call>>>: ...` fields,
Gorilla's dict-like `{'api_call': "...", 'code': '...'}`, prose with inline code, often with literal
`\\n` and `\\'` where newlines and quotes should be. Each shape yields views; the caller parses them all
and deduplicates, so a view may overlap another. `repairs` completes a line cut short;
`shell_commands` finds command lines such as `mlagents-load-from-hf --repo-id=...`.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\([nrt'\"\\])")
_ESCAPED_CHARS = {"n": "\n", "r": "\r", "t": "\t", "'": "'", '"': '"', "\\": "\\"}
_V1_MARKER = re.compile(r"<<<\s*(\w+)\s*>>>\s*:?")
_V0_KEY = re.compile(r"""(['"]?)\b(api_call|code)\1\s*:\s*(?=['"])""")
_FIELD_END = re.compile(r"\s*(?:[,}]|\Z)")
_FENCE = re.compile(r"```([^\n`]*)\n?(.*?)(?:```|\Z)", re.DOTALL)
_PYTHON_TAGS = frozenset({"", "python", "py", "python3", "py3", "ipython", "ipython3"})
_NOTEBOOK_LINE = re.compile(r"^\s*[!%]")  # IPython `!pip install ...`, `%matplotlib inline`
_INLINE = re.compile(r"`([^`\n]+)`")
_QUOTED = re.compile(r"\s*(['\"])(.*\(.*)\1\s*", re.DOTALL)  # a call written inside quotes
_CLI_LINE = re.compile(
    r"^\s*(?:[!$]\s*)?((?:\./)?[\w.-]+(?:/[\w.-]+)*)((?:\s+[^\s-]\S*)*)((?:\s+--[\w-]+(?:[= ]\S+)?)+)\s*$"
)
_CLI_OPTION = re.compile(r"--([\w-]+)(?:[= ](\S+))?")
_CLOSERS = {b"(": b")", b"[": b"]", b"{": b"}"}
# Gorilla's fields, in the order their content should be trusted.
_FIELDS = ("api_call", "code")


def looks_escaped(text: str) -> bool:
    """Whether the text carries literal `\\n`/`\\'` escapes instead of real newlines and quotes."""
    return text.count("\\n") > text.count("\n") or "\\'" in text or '\\"' in text


def unescape(text: str) -> str:
    """Turn the common backslash escapes (`\\n`, `\\t`, `\\'`, `\\"`, `\\\\`) into the characters."""
    return _ESCAPE.sub(lambda m: _ESCAPED_CHARS[m.group(1)], text)


def gorilla_v1_fields(text: str) -> dict[str, str]:
    """The `<<<name>>>: value` fields of a Gorilla v1 answer (empty when there are none)."""
    parts = _V1_MARKER.split(text)
    fields: dict[str, str] = {}
    for name, value in zip(parts[1::2], parts[2::2], strict=True):
        fields.setdefault(name.lower(), value.strip().rstrip(",").strip())
    return fields


def _quoted_value(text: str, start: int) -> str:
    """The string literal opening at `start`, ended by a quote that a field separator follows."""
    quote = text[start]
    i = start + 1
    first_end = -1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == quote:
            if first_end < 0:
                first_end = i
            if _FIELD_END.match(text, i + 1):
                return text[start + 1 : i]
        i += 1
    # No quote closes the field cleanly: take the first closing quote, else everything left.
    return text[start + 1 : first_end if first_end >= 0 else len(text)]


def gorilla_v0_fields(text: str) -> dict[str, str]:
    """The api_call and code values of a Gorilla v0 dict-like answer, escapes decoded."""
    fields: dict[str, str] = {}
    for match in _V0_KEY.finditer(text):
        if match.group(2) not in fields:
            fields[match.group(2)] = unescape(_quoted_value(text, match.end()))
    return fields


def _views_of(text: str) -> list[str]:
    views: list[str] = []
    rest = text
    for fields in (gorilla_v1_fields(text), gorilla_v0_fields(text)):
        for name in _FIELDS:
            value = fields.get(name, "")
            views.append(unescape(value) if looks_escaped(value) else value)
            rest = rest.replace(value, "\n", 1) if value else rest
    for match in _FENCE.finditer(text):
        views.append(match.group(2))
        rest = rest.replace(match.group(0), "\n", 1)
    views.append(rest)  # the rest of the text: prose may still name a call
    views += [m.group(1) for m in _INLINE.finditer(rest) if "(" in m.group(1)]
    return views


def code_views(text: str) -> list[str]:
    """Return the distinct pieces of `text` to parse as code, most trusted first.

    Gorilla's api_call field comes first, then its code field, fenced blocks, the rest of the text and
    its inline code spans (which prose around them can hide from a parse of the whole). Text that looks
    escaped is read unescaped.
    """
    return _distinct(_views_of(unescape(text) if looks_escaped(text) else text))


def raw_views(text: str) -> list[str]:
    """The views of escaped-looking text read as written: the fallback when unescaping broke it."""
    return _distinct(_views_of(text)) if looks_escaped(text) else []


def python_parts(text: str) -> list[tuple[str, str]]:
    """(where, code) of the parts of `text` meant as Python: Gorilla's api_call and code fields and the fenced
    blocks not tagged as another language, else the whole text. Shell and notebook command lines are blanked."""
    text = unescape(text) if looks_escaped(text) else text
    fields = gorilla_v1_fields(text) or gorilla_v0_fields(text)
    parts = [(f"the {name} field", fields[name]) for name in _FIELDS if fields.get(name, "").strip()]
    parts += [
        (f"code block {number}", match.group(2))
        for number, match in enumerate(_FENCE.finditer(text), 1)
        if match.group(1).strip().lower() in _PYTHON_TAGS
    ]
    parts = [(where, unescape(code) if looks_escaped(code) else code) for where, code in parts] or [("", text)]
    return [(where, _blank_commands(code)) for where, code in parts if code.strip()]


def _blank_commands(code: str) -> str:
    """The code with each shell or notebook command line emptied (kept as a line, so line numbers hold)."""
    lines = code.split("\n")
    return "\n".join("" if _CLI_LINE.match(line) or _NOTEBOOK_LINE.match(line) else line for line in lines)


def _distinct(views: list[str]) -> list[str]:
    """Non-blank views, each once; a view that is one quoted string is also read unquoted."""
    out: list[str] = []
    for view in views:
        quoted = _QUOTED.fullmatch(view)
        out += [view, quoted.group(2)] if quoted else [view]
    return [view for view in dict.fromkeys(out) if view.strip()]


def _scan(line: bytes) -> tuple[bytes, int, list[bytes]]:
    """The quote left open (and where it opened) and the closers of the brackets left open."""
    quote, opened, stack = b"", -1, []
    i = 0
    while i < len(line):
        char = line[i : i + 1]
        if quote:
            if char == b"\\":
                i += 1
            elif char == quote:
                quote = b""
        elif char in (b"'", b'"'):
            quote, opened = char, i
        elif char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif stack and char == stack[-1]:
            stack.pop()
        i += 1
    return quote, opened, stack


def repairs(line: bytes) -> list[bytes]:
    """Completions of a line cut short: close an open string (before its trailing brackets, else at
    the end), then the brackets left open."""
    quote, opened, stack = _scan(line)
    if not quote:
        return [line + b"".join(reversed(stack))] if stack else []
    cut = opened + 1 + re.search(rb"[)\]}]*[\s.,;:]*$", line[opened + 1 :]).start()
    candidates = [line[:cut] + quote + line[cut:], line + quote]
    return [c + b"".join(reversed(_scan(c)[2])) for c in candidates]


def shell_commands(view: str) -> list[tuple[int, str, str, tuple[str, ...], dict[str, str | None]]]:
    """(byte offset, line, program, words, --options) of each line that is a shell command with options."""
    found = []
    offset = 0
    for line in view.split("\n"):
        match = _CLI_LINE.match(line)
        if match:
            options = {
                m.group(1): (m.group(2) or "").strip("'\"") or None
                for m in _CLI_OPTION.finditer(match.group(3))
            }
            found.append((offset, line.strip(), match.group(1), tuple(match.group(2).split()), options))
        offset += len(line.encode("utf-8", "replace")) + 1
    return found
