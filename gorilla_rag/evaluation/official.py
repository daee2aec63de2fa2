"""Gorilla's official APIBench AST scoring (``eval/eval-scripts/ast_eval_{hf,th,tf}.py``), re-implemented.

Our own code. It reproduces what the official scripts (ShishirPatil/gorilla) do, quirks included:

* The api_call is cut out of the response text with ``split("api_call")`` then ``split("api_provider")``.
  It runs from two characters after the first ``:`` to the last ``)``; if there is no ``)`` the end is
  ``[:-1]``. The same cut serves the dict-like v0 text (``'api_call': "f(x)", 'api_provider': ...``) and
  the v1 text (``<<<api_call>>>: f(x), <<<api_provider>>>: ...``). If a text has no ``api_call``,
  HF/TF parse the whole text; TorchHub scores it as neither correct nor a hallucination.
* Each corpus ``api_call`` is parsed and its callee text (``pipeline``, ``hub.load`` ...) is looked up
  among the response's sub-trees: the first node, in the scripts' stack DFS order, whose first child
  has that text. If no node has it, the *last* node of the DFS is used (the search loop's variable
  leaks out of the loop).
* The corpus call's arguments must all occur, stripped of ``'``, as substrings of that node's text.
  Which arguments count depends on the hub (see ``_args``). Corpus entries with no argument are skipped.
* The first corpus entry that matches decides. No match at all is a hallucination. A match is *correct*
  when that entry's ``domain`` equals the ``domain`` of the question's gold ``api_data``. So any API of
  the right domain counts, not only the gold one. The question is ``questions[question_id - 1]``
  (by id, not by position). The denominator is the number of responses.

Grammar: the scripts ran tree-sitter 0.20 with the Python grammar of that time. Error recovery on badly
formed prose differs between grammar versions, and so do a few verdicts. So when the ``official`` extra
(``tree-sitter-languages``, whose wheels bundle that old grammar) is installed, we parse with its grammar;
it gives the official numbers on all 16 published response files, but for one response of 6,360 (the
modern tree-sitter runtime recovers from that error differently). Otherwise we use the modern
``tree_sitter_python``: there a string node's escapes sit inside ``string_content`` nodes, which are left
out of the DFS to keep the old shape, and a few badly formed responses get another verdict (up to 0.013
on a file). ``grammar_name()`` says which grammar is in use.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import importlib.util
import json
from functools import lru_cache
from pathlib import Path

import tree_sitter
import tree_sitter_python

__all__ = ["extract_api_call", "grammar_name", "load_jsonl", "official_score"]

_HUBS = {"huggingface": "hf", "torchhub": "th", "tfhub": "tf", "tensorflowhub": "tf",
         "hf": "hf", "th": "th", "tf": "tf"}

# (corpus index, callee text, argument strings that must all occur in the response's sub-tree)
_Entry = tuple[int, bytes, list[str]]


# tree-sitter-languages releases whose bundled Python grammar we checked: with it, the official scripts
# print the published numbers. 1.10 bundles a newer grammar that does not (up to 5 responses off a file).
_OFFICIAL_GRAMMAR_RELEASES = ("1.5.0", "1.6.1", "1.7.0", "1.8.0", "1.9.1")
# PyCapsule name that tree_sitter.Language expects; module-level so the bytes outlive every capsule.
_CAPSULE_NAME = b"tree_sitter.Language"


def _old_language() -> tuple[tree_sitter.Language, str] | None:
    """The Python grammar bundled in tree-sitter-languages, loaded into the modern binding; None when
    that package is missing, of another release, or its library cannot be loaded."""
    try:
        version = importlib.metadata.version("tree-sitter-languages")
        # find_spec locates the package without running its __init__, which imports a compiled module
        # written for the tree_sitter 0.20 API. We only want the grammar library next to it.
        spec = importlib.util.find_spec("tree_sitter_languages")
        if version not in _OFFICIAL_GRAMMAR_RELEASES or spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations)))
        # languages.so (languages.dll on Windows): every grammar of the release, compiled together
        lib = ctypes.CDLL(str(next(f for f in folder.iterdir() if f.stem == "languages")))
        lib.tree_sitter_python.restype = ctypes.c_void_p
        # tree_sitter 0.26 wants the TSLanguage pointer in a capsule (a bare int is deprecated). Our own
        # prototype of PyCapsule_New, so that the shared ctypes.pythonapi is left as it is.
        new_capsule = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)(
            ("PyCapsule_New", ctypes.pythonapi))
        language = tree_sitter.Language(new_capsule(lib.tree_sitter_python(), _CAPSULE_NAME, None))
        return language, f"tree-sitter-languages {version} python (as used by the official scripts)"
    except Exception:  # noqa: BLE001 - anything wrong with the optional library: use the modern grammar
        return None


@lru_cache(maxsize=1)
def _grammar() -> tuple[tree_sitter.Language, str]:
    """Loaded at the first scoring call, not at import: the old library is 50 MB."""
    old = _old_language()
    if old is not None:
        return old
    version = importlib.metadata.version("tree-sitter-python")
    name = f"tree-sitter-python {version} (modern; official numbers may differ by a few responses)"
    return tree_sitter.Language(tree_sitter_python.language()), name


def grammar_name() -> str:
    """Which Python grammar the scoring parses with, for reports."""
    return _grammar()[1]


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(_grammar()[0])


def _parse(code: str) -> tree_sitter.Node:
    # The scripts do bytes(code, "utf8"), which crashes on lone surrogates; we encode them instead.
    return _parser().parse(code.encode("utf8", "surrogatepass")).root_node


def _decode(raw: bytes | None) -> str:
    return (raw or b"").decode("utf8", "replace")


def load_jsonl(path: str | Path) -> list[dict]:
    """Read a JSON-lines file (APIBench questions, API corpora and response files all are)."""
    with open(path, encoding="utf8") as f:
        return [json.loads(line) for line in f if line.strip()]


def extract_api_call(text: str, hub: str) -> str | None:
    """Cut the api_call out of a response text as the scripts do. Returns None if TorchHub skips the text."""
    parts = text.split("api_call")
    if len(parts) == 1:
        return None if _HUBS[hub] == "th" else text
    seg = parts[1].split("api_provider")[0]
    start = seg.index(":") if ":" in seg else 0
    end = seg.rindex(")") if ")" in seg else -2
    return seg[start + 2:end + 1]


def _sub_trees(root: tree_sitter.Node) -> list[tuple[tree_sitter.Node, bytes | None]]:
    """Nodes in the scripts' DFS order (a stack; only nodes with children are pushed), with first-child
    text."""
    out: list[tuple[tree_sitter.Node, bytes | None]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        children = node.children
        out.append((node, children[0].text if children else None))
        # string_content is only in the modern grammar (in the old one escapes were the string's children)
        stack.extend(c for c in children if c.child_count and c.type != "string_content")
    return out


def _args(call: tree_sitter.Node, kind: str) -> list[str] | None:
    """Argument strings a response must contain for this corpus call. None where the scripts crash."""
    if call.child_count < 2:
        return None  # the scripts: IndexError on children[1]
    raw: list[bytes | None] = []
    for child in call.children[1].children:
        text = _decode(child.text)
        if kind == "th":  # only repo_or_dir=/model= values; a positional argument never counts
            keyed, plain = "repo_or_dir" in text or "model" in text, False
        elif kind == "tf":  # model= values and every positional argument
            keyed, plain = "model=" in text or "model =" in text, text not in ("(", ")", ",")
        else:  # hf: the value of anything containing "=", and every positional argument
            keyed, plain = "=" in text, text not in ("(", ")", ",")
        if keyed:
            if child.child_count < 3:
                return None  # the scripts: IndexError on children[2]
            raw.append(child.children[2].text)
        elif plain:
            raw.append(child.text)
    return [_decode(a).lstrip("'").rstrip("'") for a in raw]


def _database(api_records: list[dict], kind: str) -> list[_Entry]:
    """The corpus entries that can match, in corpus order."""
    entries: list[_Entry] = []
    for idx, record in enumerate(api_records):
        root = _parse(str(record.get("api_call", "")))
        if not root.children or not root.children[0].children:
            continue  # the scripts crash here; no published corpus entry does this
        call = root.children[0].children[0]
        if call.child_count == 0:
            continue
        args = _args(call, kind)
        if args:  # no argument: skipped by the scripts; None: they would crash, we skip
            entries.append((idx, call.children[0].text or b"", args))
    return entries


def _match(api_call: str, database: list[_Entry]) -> int:
    """Corpus index of the first entry the api_call matches, or -1 (a hallucination)."""
    subs = _sub_trees(_parse(api_call))
    first: dict[bytes | None, tree_sitter.Node] = {}
    for node, head in subs:
        first.setdefault(head, node)
    last = subs[-1][0]
    texts: dict[int, str] = {}
    for idx, api_name, args in database:
        node = first.get(api_name, last)
        if node.id not in texts:
            texts[node.id] = _decode(node.text)
        if all(arg in texts[node.id] for arg in args):
            return idx
    return -1


def _is_correct(index: int, response: dict, questions: list[dict], api_records: list[dict]) -> bool:
    qid = response.get("question_id")
    # The scripts index qa_pairs[question_id - 1] (so 0 means the last question); a bad id crashes
    # there, and we count the response as wrong.
    if not isinstance(qid, int) or not -len(questions) <= qid - 1 < len(questions):
        return False
    question = questions[qid - 1]
    gold = question.get("api_data") if isinstance(question, dict) else None
    domain = gold.get("domain") if isinstance(gold, dict) else None
    return domain is not None and api_records[index].get("domain") == domain


def official_score(questions: list[dict], responses: list[dict], api_records: list[dict], hub: str) -> dict:
    """Score Gorilla-format responses the way Gorilla's official ast_eval_{hf,th,tf}.py do.
    questions: the APIBench question records (one dict per line of the eval/train file, keys code,
    api_call, provider, api_data).
    responses: dicts {"question_id": int (1-based line in the question file), "text": str}.
    api_records: the raw API corpus records of that hub (dicts from *_api.jsonl).
    hub: "huggingface" | "torchhub" | "tfhub".
    Returns {"accuracy": float, "hallucination": float, "n_responses": int}."""
    if hub not in _HUBS:
        raise ValueError(f"unknown hub {hub!r}; expected huggingface, torchhub or tfhub")
    database = _database(api_records, _HUBS[hub])
    correct = hallucination = 0
    for response in responses:
        if not isinstance(response, dict) or "text" not in response:
            continue  # the scripts print "cannot parse line" and go on; it stays in the denominator
        text = response["text"]
        if not isinstance(text, str):
            hallucination += 1  # the scripts crash in text.split(); we count it as matching no API
            continue
        api_call = extract_api_call(text, hub)
        if api_call is None:
            continue  # TorchHub: no "api_call" in the text, neither correct nor a hallucination
        index = _match(api_call, database)
        if index == -1:
            hallucination += 1
        elif _is_correct(index, response, questions, api_records):
            correct += 1
    n = len(responses)
    return {"accuracy": correct / n if n else 0.0, "hallucination": hallucination / n if n else 0.0,
            "n_responses": n}
