"""Python in doc pages, read with `ast` and never run: loader calls (commented-out ones too) and string variables."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_STRING_ASSIGN = re.compile(r"^\s*#?\s*([A-Za-z_]\w*)\s*=\s*(['\"])([^'\"\n]+)\2")


@dataclass(frozen=True, slots=True)
class FoundCall:
    """A call of the wanted function in a code block: its 0-based line in the block, whether it is commented out,
    and the parsed call (None when it does not parse)."""

    line: int
    commented: bool
    call: ast.Call | None


def find_calls(code: str, function: str) -> list[FoundCall]:
    """Every call of `function` (dotted, e.g. 'torch.hub.load'), one per line it starts on, commented ones too."""
    pattern = re.compile(re.escape(function) + r"\s*\(")
    lines = code.splitlines()
    found = []
    for i, line in enumerate(lines):
        for match in pattern.finditer(line):
            if match.start() and (line[match.start() - 1].isalnum() or line[match.start() - 1] in "_."):
                continue  # e.g. `my_hub.load(` when looking for `hub.load`
            commented = line[: match.start()].lstrip().startswith("#")
            found.append(FoundCall(i, commented, _parse_call(lines, i, match.start(), commented, function)))
    return found


def _parse_call(lines: list[str], i: int, column: int, commented: bool, function: str) -> ast.Call | None:
    """The call starting at lines[i][column:], read over as many lines as it spans (un-commenting them)."""
    snippet = lines[i][column:]
    for extra in range(1, 12):
        try:
            tree = ast.parse(snippet.strip(), mode="eval")
        except SyntaxError:
            if i + extra >= len(lines):
                return None
            nxt = lines[i + extra].strip()
            snippet += "\n" + (nxt.lstrip("#") if commented else nxt)
            continue
        return next((n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == function), None)
    return None


def string_values(code: str) -> dict[str, list[str]]:
    """name → the string literals assigned to it in the block (commented alternatives too), in order."""
    values: dict[str, list[str]] = {}
    for line in code.splitlines():
        if (match := _STRING_ASSIGN.match(line)) and match.group(3) not in values.setdefault(match.group(1), []):
            values[match.group(1)].append(match.group(3))
    return values


def literal(node: ast.expr | None, values: dict[str, list[str]]) -> list[str]:
    """The strings an argument can be: a literal, or every value a variable was set to; [] when unknown."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name):
        return values.get(node.id, [])
    return []


def arguments(call: ast.Call, positional: tuple[str, ...]) -> dict[str, ast.expr]:
    """The call's arguments by name (positional ones named by `positional`, the rest `args[i]`)."""
    names = list(positional) + [f"args[{n}]" for n in range(len(positional), len(call.args))]
    found: dict[str, ast.expr] = dict(zip(names, call.args))
    found.update({k.arg or "**": k.value for k in call.keywords})
    return found
