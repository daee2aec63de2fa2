"""Find every function call in whatever text a model emits, with tree-sitter.

tree-sitter tolerates broken code, so the whole text is parsed first; where that parse has errors, each
line (closing a string or brackets left open) and each `name(` fragment is parsed again, so calls in
prose, truncated or mangled code are still found. String-valued variables (`model_id = '...'`) are
resolved where a call passes them.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from gorilla_rag.verify.views import code_views, raw_views, repairs, shell_commands

_LITERALS = frozenset({"integer", "float", "true", "false", "none"})
_FRAGMENT_START = re.compile(rb"(?<![\w.])[A-Za-z_][\w.]*\(")
_BARE_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_MAX_PARSES = 2000  # bounds the work on pathological input


@dataclass(frozen=True, slots=True)
class CallSite:
    """One function call as written.

    `args`/`kwargs` hold the unquoted value of string literals (and of variables the text assigns a
    string: the last assignment before the call, else the first anywhere), the source text of other
    literals (True, 3) and None for anything else; `arg_texts`/`kwarg_texts` hold every argument's
    source text; `nested` the calls inside the arguments. `broken`: not valid Python as written (it holds a
    syntax error, or was read only by closing a string or bracket left open).
    """

    text: str
    function: str
    args: tuple[str | None, ...] = ()
    kwargs: dict[str, str | None] = field(default_factory=dict, hash=False)
    nested: tuple[CallSite, ...] = ()
    arg_texts: tuple[str, ...] = ()
    kwarg_texts: dict[str, str] = field(default_factory=dict, hash=False)
    broken: bool = False


# name -> (offsets, values) of the string assignments to it in one view, in offset order
_Assignments = dict[str, tuple[list[int], list[str]]]


@dataclass(slots=True)
class _Unit:
    """One parsed piece of a view: `offset` is where its bytes start in the view."""

    offset: int
    source: bytes
    root: Any
    repaired: bool = False


@functools.cache
def _parser() -> Any:
    import tree_sitter_python
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_python.language()))


def _string_value(node: Any, source: bytes) -> str | None:
    if any(child.type == "interpolation" for child in node.children):
        return None
    raw = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
    prefix = re.match(r"[A-Za-z]*", raw).group(0)
    body = raw[len(prefix) :]
    quote = body[:3] if body[:3] in ("'''", '"""') else body[:1]
    body = body[len(quote) :]
    if quote and body.endswith(quote):
        body = body[: -len(quote)]
    if "r" not in prefix.lower():
        body = re.sub(r"\\(['\"\\])", r"\1", body)
    return body


def _prose(node: Any, source: bytes) -> bool:
    """Whether a "call" is prose: `the libraries (torch, ...)`, or words running into a broken call."""
    function, arguments = node.child_by_field_name("function"), node.child_by_field_name("arguments")
    if function is None or arguments is None:
        return True
    spaced = re.search(rb"\s", source[function.start_byte : arguments.start_byte]) is not None
    return spaced and (function.type == "identifier" or node.has_error)


def _assigned_value(node: Any, source: bytes) -> str | None:
    """A string assigned to a name; a hub id written without quotes (`name = acme/model`) counts."""
    if node.type == "string":
        return _string_value(node, source)
    text = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
    return text if node.type == "binary_operator" and _BARE_HUB_ID.fullmatch(text) else None


@functools.cache
def _queries() -> tuple[Any, Any]:
    from tree_sitter import Query

    language = _parser().language
    return (
        Query(language, "(call) @call"),
        Query(language, "(assignment left: (identifier) @name right: (_) @value)"),
    )


class _Extractor:
    """Parses the views of one text and turns their call nodes into CallSites."""

    def __init__(self) -> None:
        self.parses = 0
        self.assigned: dict[str, str] = {}  # first string assigned to each name, in any view

    def parse(self, source: bytes, offset: int = 0, repaired: bool = False) -> _Unit | None:
        if self.parses >= _MAX_PARSES:
            return None
        self.parses += 1
        return _Unit(offset, source, _parser().parse(source).root_node, repaired)

    def call_nodes(self, unit: _Unit) -> list[Any]:
        from tree_sitter import QueryCursor

        nodes = QueryCursor(_queries()[0]).captures(unit.root).get("call", [])
        return sorted(
            (n for n in nodes if not _prose(n, unit.source)), key=lambda n: (n.start_byte, -n.end_byte)
        )

    def units(self, view: str) -> list[_Unit]:
        """The whole view, plus line and `name(` fragments where calls the whole parse saw broken or
        missed may hide."""
        source = view.encode("utf-8", "replace")
        whole = self.parse(source)
        if whole is None or not whole.root.has_error:
            return [whole] if whole else []
        units = [whole]
        covered = self._clean_starts(whole)
        offset = 0
        for line in source.split(b"\n"):
            starts = [offset + m.start() for m in _FRAGMENT_START.finditer(line)]
            if any(start not in covered for start in starts):
                units += self._line_units(line, offset, starts, covered)
            offset += len(line) + 1
        return units

    def _clean_starts(self, unit: _Unit) -> set[int]:
        return {unit.offset + n.start_byte for n in self.call_nodes(unit) if not n.has_error}

    def _line_units(self, line: bytes, offset: int, starts: list[int], covered: set[int]) -> list[_Unit]:
        units: list[_Unit] = []

        def add(unit: _Unit | None) -> bool:
            """Keep the unit; say whether every call start of the line is now covered."""
            if unit is not None:
                units.append(unit)
                covered.update(self._clean_starts(unit))
            return all(start in covered for start in starts)

        if add(self.parse(line, offset)) or add(self._repaired(line, offset)):
            return units
        for start in starts:
            if start not in covered and start > offset:
                fragment = line[start - offset :]
                if add(self.parse(fragment, start)) or add(self._repaired(fragment, start)):
                    break
        return units

    def _repaired(self, line: bytes, offset: int) -> _Unit | None:
        for candidate in repairs(line):
            unit = self.parse(candidate, offset, repaired=True)
            if unit is not None and not unit.root.has_error:
                return unit
        return None

    def collect_assignments(self, units: list[_Unit]) -> _Assignments:
        from tree_sitter import QueryCursor

        found = []
        for unit in units:
            for _, match in QueryCursor(_queries()[1]).matches(unit.root):
                name, value = match["name"][0], _assigned_value(match["value"][0], unit.source)
                if value is not None:
                    text = unit.source[name.start_byte : name.end_byte].decode("utf-8", "replace")
                    found.append((unit.offset + name.start_byte, text, value))
                    self.assigned.setdefault(text, value)
        assignments: _Assignments = {}
        for offset, name, value in sorted(found):
            offsets, values = assignments.setdefault(name, ([], []))
            offsets.append(offset)
            values.append(value)
        return assignments

    def calls(self, unit: _Unit, assignments: _Assignments) -> list[tuple[int, int, CallSite, bool]]:
        """(start, end, CallSite, clean) for every call of the unit, outermost first."""
        nodes = self.call_nodes(unit)
        enclosing: dict[int, int] = {}  # call index -> index of the call whose arguments hold it
        open_calls: list[int] = []
        for i, node in enumerate(nodes):
            while open_calls and nodes[open_calls[-1]].end_byte <= node.start_byte:
                open_calls.pop()
            for j in reversed(open_calls):
                arguments = nodes[j].child_by_field_name("arguments")
                if arguments is not None and arguments.start_byte <= node.start_byte < arguments.end_byte:
                    enclosing[i] = j
                    break
            open_calls.append(i)
        children: dict[int, list[CallSite]] = {}
        sites: list[CallSite | None] = [None] * len(nodes)
        for i in reversed(range(len(nodes))):  # innermost first, so nested calls exist when needed
            sites[i] = self._site(nodes[i], unit, assignments, tuple(reversed(children.pop(i, []))))
            if i in enclosing:
                children.setdefault(enclosing[i], []).append(sites[i])
        return [
            (unit.offset + n.start_byte, unit.offset + n.end_byte, site, not n.has_error)
            for n, site in zip(nodes, sites, strict=True)
        ]

    def _site(
        self, node: Any, unit: _Unit, assignments: _Assignments, nested: tuple[CallSite, ...]
    ) -> CallSite:
        source = unit.source

        def text(n: Any) -> str:
            return source[n.start_byte : n.end_byte].decode("utf-8", "replace")

        def value(n: Any) -> str | None:
            if n.type == "string":
                return _string_value(n, source)
            if n.type == "concatenated_string":
                parts = [_string_value(c, source) for c in n.named_children if c.type == "string"]
                return None if None in parts else "".join(parts)  # type: ignore[arg-type]
            if n.type in _LITERALS or (n.type == "unary_operator" and text(n).lstrip("-+ ").isdigit()):
                return text(n)
            if n.type == "identifier":
                return self._resolve(text(n), unit.offset + n.start_byte, assignments)
            return None

        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        args, arg_texts, kwargs, kwarg_texts = [], [], {}, {}
        if arguments is not None and arguments.type == "argument_list":
            for child in arguments.named_children:
                if child.type == "keyword_argument":
                    name, val = child.child_by_field_name("name"), child.child_by_field_name("value")
                    if name is not None and val is not None:
                        kwargs[text(name)] = value(val)
                        kwarg_texts[text(name)] = text(val)
                elif child.type not in ("comment", "ERROR", "list_splat", "dictionary_splat"):
                    args.append(value(child))
                    arg_texts.append(text(child))
        return CallSite(
            text=text(node),
            function=re.sub(r"\s+", "", text(function)) if function is not None else "",
            args=tuple(args),
            kwargs=kwargs,
            nested=nested,
            arg_texts=tuple(arg_texts),
            kwarg_texts=kwarg_texts,
            broken=node.has_error or unit.repaired,
        )

    def _resolve(self, name: str, offset: int, assignments: _Assignments) -> str | None:
        """The string last assigned to `name` before `offset` in this view, else anywhere in the text."""
        offsets, values = assignments.get(name, ((), ()))
        earlier = bisect.bisect_left(offsets, offset)
        return values[earlier - 1] if earlier else self.assigned.get(name)


def _cli_calls(view: str) -> list[tuple[int, CallSite]]:
    """Shell commands with `--options` (e.g. `mlagents-load-from-hf --repo-id=...`) as calls."""
    return [
        (offset, CallSite(line, program, words, options, (), words, {k: v or "" for k, v in options.items()}))
        for offset, line, program, words, options in shell_commands(view)
    ]


def _signature(site: CallSite) -> str:
    text = site.text.replace("\\'", "'").replace('\\"', '"').replace("\\n", "").replace('"', "'")
    return re.sub(r"\s+", "", text)


def _score(site: CallSite, clean: bool, unit: _Unit) -> tuple[int, bool, bool]:
    filled = sum(v is not None for v in site.args) + sum(v is not None for v in site.kwargs.values())
    return (filled, clean, not unit.repaired)


def _extract_views(views: list[str]) -> list[CallSite]:
    extractor = _Extractor()
    parsed = [(view, extractor.units(view)) for view in views]
    view_assignments = [extractor.collect_assignments(units) for _, units in parsed]
    out: dict[str, CallSite] = {}
    for (view, units), assignments in zip(parsed, view_assignments, strict=True):
        best: dict[tuple[int, str], tuple[tuple[int, bool, bool], int, CallSite]] = {}
        for unit in units:
            for start, end, site, clean in extractor.calls(unit, assignments):
                key, score = (start, site.function), _score(site, clean, unit)
                if key not in best or score > best[key][0]:
                    best[key] = (score, end, site)
        found = [(start, -end, site) for (start, _), (_, end, site) in best.items()]
        found += [(start, 0, site) for start, site in _cli_calls(view)]
        for _, _, site in sorted(found, key=lambda item: item[:2]):
            signature = _signature(site)
            if site.function and (signature not in out or out[signature].broken > site.broken):
                out[signature] = site  # a call read whole elsewhere is not broken
    return list(out.values())


def extract_calls(text: str) -> list[CallSite]:
    """Return every function call in `text` (code, markdown, Gorilla output, prose), in order.

    Gorilla's api_call field and code inside fences come before the rest of the text; a call seen
    through several views is returned once. Never raises: any text gives a (possibly empty) list.
    """
    try:
        return _extract_views(code_views(text)) or _extract_views(raw_views(text))
    except Exception:  # a verifier must report on any text, never crash on it
        return []
