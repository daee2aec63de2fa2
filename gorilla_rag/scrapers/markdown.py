"""The bits of Markdown the doc pages use: YAML front matter, fenced code blocks, tables, the first paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")


class MarkdownError(ValueError):
    """Unparseable page content; the message starts with `line N:`."""


@dataclass(frozen=True, slots=True)
class CodeBlock:
    lang: str
    text: str
    line: int  # 1-based line of the block's first code line in the page


def front_matter(text: str) -> tuple[dict[str, Any], int]:
    """The YAML between leading `---` lines (or {}), and the 0-based line index where the body starts."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise MarkdownError("line 1: front matter opened with '---' is never closed")
    import yaml

    try:
        data = yaml.load("\n".join(lines[1:end]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)  # where the bad part starts
        where = mark.line + 2 if mark is not None else 1
        raise MarkdownError(f"line {where}: front matter is not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(data, dict):
        raise MarkdownError(f"line 2: front matter is a {type(data).__name__}, not a mapping")
    return data, end + 1


def code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced code block, in order (an unclosed fence runs to the end of the page)."""
    blocks: list[CodeBlock] = []
    fence, lang, start, body = None, "", 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence, lang, start, body = match.group(1), match.group(2).lower(), number + 1, []
        elif match and match.group(1).startswith(fence[:3]) and not match.group(2):
            blocks.append(CodeBlock(lang, "\n".join(body), start))
            fence = None
        else:
            body.append(line)
    if fence is not None:
        blocks.append(CodeBlock(lang, "\n".join(body), start))
    return blocks


def prose(text: str) -> str:
    """The page without code blocks, HTML comments and tags."""
    text = re.sub(r"^\s*(```|~~~).*?^\s*(```|~~~)\s*$", "", text, flags=re.S | re.M)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"<[^>]+>", "", text)


def first_paragraph(text: str, limit: int = 400) -> str:
    """The first paragraph of prose (no heading, list, table, image or badge), links reduced to their text."""
    for block in re.split(r"\n\s*\n", prose(text)):
        lines = [ln.strip() for ln in block.strip().splitlines()]
        if not lines or not lines[0] or lines[0][0] in "#|-*>![=" or lines[0][:2].isdigit():
            continue
        paragraph = " ".join(lines)
        paragraph = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", paragraph)
        paragraph = re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", paragraph)
        if len(paragraph) >= 20:
            return paragraph if len(paragraph) <= limit else paragraph[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""


def tables(text: str) -> list[list[list[str]]]:
    """Every pipe table as rows of cells (header first, the `---` separator row dropped)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in prose(text).splitlines() + [""]:
        stripped = line.strip()
        if stripped.startswith("|") and stripped.count("|") >= 2:
            cells = [c.strip().strip("`*") for c in stripped.strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells if c):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found
