"""PyTorch Hub: the model pages of the `pytorch/hub` repository → one ApiDoc per entry point.

A page is YAML front matter (title, summary, tags, github-id…) and Markdown whose python blocks call
`torch.hub.load(repo, model, …)`, often with more variants in comments (`# model = torch.hub.load(…)`) or a
variable chosen among commented alternatives (`model_type = "DPT_Large"  #model_type = "DPT_Hybrid"`). Every
call found is parsed with `ast` (never run); an entry point seen on several pages belongs to the page named
after it. Optionally each repo's `hubconf.py` is read (also with `ast`) for docstrings and unlisted entry points.

Helper entry points (`nvidia_ssd_processing_utils`, MiDaS `transforms`, the transformers `tokenizer`…) return
pre/post-processing objects, not models: they get no doc of their own; the docs of the models on the same page list
their calls in `extra["helpers"]`, so code that loads them next to the model still verifies.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gorilla_rag.corpus.normalize import normalize_requirements
from gorilla_rag.scrapers import Progress, ScrapeResult, no_progress
from gorilla_rag.scrapers.fetch import Http, Page, read_pages, readable
from gorilla_rag.scrapers.markdown import (
    CodeBlock,
    MarkdownError,
    code_blocks,
    first_paragraph,
    front_matter,
)
from gorilla_rag.scrapers.pycode import arguments, find_calls, literal, string_values
from gorilla_rag.scrapers.results import entry_metrics
from gorilla_rag.types import ApiDoc

DEFAULT_LOCATION = "https://github.com/pytorch/hub/archive/refs/heads/master.tar.gz"
# Ordered: the first pattern found in title + summary (else in the page body) names the domain.
_DOMAINS = (
    ("Voice Activity Detection", r"voice activity"),
    ("Text-to-Speech", r"text[- ]to[- ]speech|\btts\b|mel spectrogram|speech from mel|vocoder"),
    ("Speech-to-Text", r"speech[- ]to[- ]text|\bstt\b|speech recognition"),
    ("Audio Separation", r"source separation|unmix"),
    ("Video Classification", r"video|kinetics"),
    ("Machine Translation", r"translat"),
    ("Image Generation", r"\bgans?\b|generative|image generation"),
    ("Object Detection", r"detect|\byolo"),
    ("Semantic Segmentation", r"segment"),
    ("Depth Estimation", r"depth"),
    ("Natural Language Processing", r"\bnlp\b|language|\bbert\b"),
    ("Image Classification", r"classif|imagenet"),
)
# Names a hubconf.py imports from these are its helpers, not models (torch.hub.list would still show them).
_NOT_ENTRY_MODULES = frozenset({"__future__", "torch", "typing", "os", "sys", "functools", "warnings", "collections",
                                "pathlib", "urllib", "copy", "math", "json", "re"})
# Entry points returning helpers (pre/post-processing utilities, transforms, tokenizers, configs), not models.
_HELPER = re.compile(r"(?:^|_)(?:utils?|transforms?|tokenizer|config)$", re.IGNORECASE)
_TAG_DOMAINS = {"vision": "Computer Vision", "audio": "Audio", "nlp": "Natural Language Processing",
                "generative": "Image Generation"}


@dataclass
class _Entry:
    """One entry point as found on one page (the best page's entry becomes the doc)."""

    repo: str
    ref: str
    model: str
    calls: list[str]
    commented: bool
    block: CodeBlock
    page: Page
    meta: dict[str, Any]
    line: int
    kwargs: dict[str, str] = field(default_factory=dict)
    siblings: tuple[str, ...] = ()  # the model entry points of the page (for matching its results tables)
    helpers: list[str] = field(default_factory=list)  # calls of the page's helper entry points


class TorchHubScraper:
    """Scrapes pytorch/hub model pages from a folder, a .tar.gz, or (by default) GitHub's archive of the repo."""

    source = "torchhub"

    def __init__(self, options: Mapping[str, Any], location: str | None = None) -> None:
        self.location = location or options.get("location") or DEFAULT_LOCATION
        self.subdir = options.get("subdir", "")
        self.hubconf_url = options.get("hubconf_url", "")
        self.http = Http.from_options(options)

    def scrape(self, previous: Mapping[str, ApiDoc] | None = None, progress: Progress = no_progress) -> ScrapeResult:
        """Every entry point called on the model pages (and, with `hubconf_url`, listed in each repo's hubconf)."""
        pages, origin = read_pages(self.location, (".md",), self.subdir, self.http)
        pages, warnings = readable(pages)
        best: dict[str, tuple[tuple, _Entry]] = {}
        for index, page in enumerate(progress([p for p in pages if "/" not in p.path], "torchhub pages")):
            try:
                meta, _ = front_matter(page.text)
            except MarkdownError as exc:
                warnings.append(f"{page.path}:{str(exc).removeprefix('line ')}")
                continue
            if not meta.get("github-id") and meta.get("layout") != "hub_detail":
                continue  # README.md, CONTRIBUTING.md…: not a model page
            entries = page_entries(page, meta, warnings)
            if not entries:
                warnings.append(f"{page.path}:1: model page without a literal torch.hub.load(...) call")
            helpers = [e.calls[0] for e in entries if is_helper(e.model)]
            entries = [e for e in entries if not is_helper(e.model)]
            for entry in entries:
                entry.siblings, entry.helpers = tuple(e.model for e in entries), helpers
            for entry in entries:
                key = doc_key(entry.repo, entry.model)
                score = (_named_after(page, meta, entry.model), not entry.commented, -index)
                if key not in best or score > best[key][0]:
                    if key in best:
                        entry.calls += [c for c in best[key][1].calls if c not in entry.calls]
                    best[key] = (score, entry)
                else:
                    best[key][1].calls.extend(c for c in entry.calls if c not in best[key][1].calls)
        docs = [entry_doc(entry) for _, entry in best.values()]
        if self.hubconf_url:
            docs = self._with_hubconf(docs, [e for _, e in best.values()], warnings, progress)
        return ScrapeResult(self.source, sorted(docs, key=lambda d: d.id), origin, warnings)

    def _with_hubconf(self, docs: list[ApiDoc], entries: list[_Entry], warnings: list[str],
                      progress: Progress) -> list[ApiDoc]:
        """Docstrings for the documented entry points; docs for the ones only hubconf.py lists."""
        by_id = {d.id: d for d in docs}
        repos = {(e.repo, e.ref): e for e in sorted(entries, key=lambda e: e.page.path)}
        for (repo, ref), example in progress(list(repos.items()), "torchhub hubconf.py"):
            where = self.hubconf_url.format(repo=repo, ref=ref or "HEAD")
            text = self._read(where)
            if text is None:
                warnings.append(f"{where}: no hubconf.py")
                continue
            try:
                points = parse_hubconf(text)
            except SyntaxError as exc:
                warnings.append(f"{where}:{exc.lineno}: hubconf.py does not parse ({exc.msg})")
                continue
            for name, (doc, takes_pretrained) in points.items():
                if is_helper(name):
                    continue
                key = doc_key(repo, name)
                if key in by_id:
                    if doc:
                        by_id[key] = ApiDoc.from_dict({**by_id[key].to_dict(), "content_hash": "",
                                                       "extra": {**by_id[key].extra, "docstring": doc}})
                    continue
                extra_kwargs = ", pretrained=True" if takes_pretrained else ""
                call = f"torch.hub.load({_repo_arg(repo, ref)!r}, {name!r}{extra_kwargs})"
                meta = {"tags": example.meta.get("tags") or []}  # the page's title is another model's
                entry = _Entry(repo, ref, name, [call], True, CodeBlock("python", "", 0), example.page, meta, 0,
                               siblings=example.siblings)
                summary = " ".join(doc.split("\n\n")[0].split()) or f"Entry point {name} of {repo} (from its hubconf.py)."
                by_id[key] = entry_doc(entry, summary, {"from_hubconf": True, **({"docstring": doc} if doc else {})})
        return list(by_id.values())

    def _read(self, where: str) -> str | None:
        if re.match(r"https?://", where):
            answer = self.http.get(where, missing_ok=True)
            return answer.body.decode("utf-8", errors="replace") if answer else None
        path = Path(where).expanduser()
        return path.read_text(encoding="utf-8") if path.is_file() else None


def doc_key(repo: str, model: str) -> str:
    """`torchhub:{repo lower, no :ref}:{model}`, the id the verifier computes for the same call."""
    return f"torchhub:{repo.lower()}:{model}"


def is_helper(model: str) -> bool:
    """Does entry point `model` return a helper (`*_utils`, `transforms`, `tokenizer`, `config`) rather than a model?"""
    return bool(_HELPER.search(model))


def _repo_arg(repo: str, ref: str) -> str:
    return f"{repo}:{ref}" if ref else repo


def _named_after(page: Page, meta: Mapping[str, Any], model: str) -> bool:
    """Is this page about `model` (its file or title names it), rather than using it as a helper?"""
    core = re.sub(r"[^a-z0-9]", "", model.lower())
    stem = Path(page.path).stem.lower().split("_")[-1].replace("-", "")
    title = re.sub(r"[^a-z0-9]", "", str(meta.get("title", "")).lower())
    return bool(stem and stem in core) or bool(title and title in core)


def page_entries(page: Page, meta: Mapping[str, Any], warnings: list[str]) -> list[_Entry]:
    """Every `torch.hub.load` call on a page (commented variants included), one entry per entry point."""
    found: dict[str, _Entry] = {}
    for block in code_blocks(page.text):
        if block.lang not in ("python", "py", "python3", ""):
            continue
        values = string_values(block.text)
        for site in find_calls(block.text, "torch.hub.load"):
            where = f"{page.path}:{block.line + site.line}"
            if site.call is None:
                warnings.append(f"{where}: torch.hub.load(...) call does not parse")
                continue
            for repo, ref, model, text, kwargs in _resolve(site.call, values, where, warnings):
                key = doc_key(repo, model)
                if key not in found:
                    found[key] = _Entry(repo, ref, model, [], site.commented, block, page, dict(meta),
                                        block.line + site.line, kwargs)
                if text not in found[key].calls:
                    found[key].calls.append(text)
    return list(found.values())


def _resolve(call: ast.Call, values: dict[str, list[str]], where: str,
             warnings: list[str]) -> list[tuple[str, str, str, str, dict[str, str]]]:
    """(repo, ref, model, call text, arguments) per model the call can load (a variable may hold several)."""
    slots = arguments(call, ("repo_or_dir", "model"))
    repos, models = literal(slots.get("repo_or_dir"), values), literal(slots.get("model"), values)
    if len(repos) != 1 or not models:
        bad = "repo" if len(repos) != 1 else "model"
        node = slots.get("repo_or_dir" if bad == "repo" else "model")
        shown = ast.unparse(node) if node is not None else "missing"
        warnings.append(f"{where}: torch.hub.load {bad} is {shown}, not a string (or a variable set to one); skipped")
        return []
    repo, _, ref = repos[0].partition(":")
    model_node = slots["model"]
    out = []
    for model in models:
        concrete = ast.Call(call.func, [ast.Constant(model) if a is model_node else a for a in call.args],
                            [ast.keyword(k.arg, ast.Constant(model)) if k.value is model_node else k
                             for k in call.keywords])
        kwargs = {name: ast.unparse(node) for name, node in arguments(concrete, ("repo_or_dir", "model")).items()}
        out.append((repo, ref, model, ast.unparse(concrete), kwargs))
    return out


def entry_doc(entry: _Entry, description: str = "", extra: Mapping[str, Any] | None = None) -> ApiDoc:
    """The ApiDoc of one entry point."""
    meta, text = entry.meta, entry.page.text
    title, summary = str(meta.get("title", "")).strip().strip('"'), " ".join(str(meta.get("summary", "")).split())
    body = first_paragraph(text)
    call = entry.calls[0]
    literal_call = rf"torch\.hub\.load\([^)]*['\"]{re.escape(entry.model)}['\"]"
    shown = not entry.commented and re.search(literal_call, entry.block.text) and entry.block.text.count("\n") < 40
    example = entry.block.text if shown else f"import torch\nmodel = {call}"
    pip_lines = [ln.split("pip install", 1)[1].split("#")[0] for b in code_blocks(text) for ln in b.text.splitlines()
                 if "pip install" in ln]
    requirements = ("torch", *(("torchvision",) if entry.repo.lower() == "pytorch/vision" else ()),
                    *(r for r in normalize_requirements(pip_lines) if re.fullmatch(r"[A-Za-z][\w.\-\[\]=<>]*", r)))
    return ApiDoc(
        id=doc_key(entry.repo, entry.model),
        source="torchhub",
        domain=_domain(title, summary, text, meta.get("tags") or []),
        api_name=entry.model,
        api_call=call,
        description=description or summary or body,
        framework="PyTorch",
        functionality=title,
        arguments=entry.kwargs or {"repo_or_dir": repr(_repo_arg(entry.repo, entry.ref)), "model": repr(entry.model)},
        example_code=example,
        requirements=normalize_requirements(list(requirements)),
        metrics=entry_metrics(text, entry.model, entry.siblings),
        extra={"repo": entry.repo, **({"ref": entry.ref} if entry.ref else {}), "page": entry.page.path,
               **({"github_link": meta["github-link"]} if meta.get("github-link") else {}),
               "tags": [str(t) for t in meta.get("tags") or []],
               **({"variants": entry.calls[1:6]} if len(entry.calls) > 1 else {}),
               **({"helpers": entry.helpers} if entry.helpers else {}), **(extra or {})},
    )


def _domain(title: str, summary: str, text: str, tags: list[Any]) -> str:
    """The first domain pattern in title + summary, else the one most often on the page, else by tag."""
    for name, pattern in _DOMAINS:
        if re.search(pattern, f"{title} {summary}", re.I):
            return name
    counts = {name: len(re.findall(pattern, text, re.I)) for name, pattern in _DOMAINS}
    name = max(counts, key=lambda n: counts[n])
    if counts[name]:
        return name
    return next((_TAG_DOMAINS[str(t)] for t in tags if str(t) in _TAG_DOMAINS), "")


def parse_hubconf(text: str) -> dict[str, tuple[str, bool]]:
    """Public entry points of a hubconf.py (functions defined or imported at top level), read with `ast`.

    Maps name → (docstring, whether it takes a `pretrained` argument). Raises SyntaxError.
    """
    points: dict[str, tuple[str, bool]] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            params = {a.arg for a in node.args.args + node.args.kwonlyargs}
            points[node.name] = ((ast.get_docstring(node) or "").strip(), "pretrained" in params)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] not in _NOT_ENTRY_MODULES:
            for alias in node.names:
                name = alias.asname or alias.name
                if name != "*" and not name.startswith("_") and name[:1].islower():
                    points.setdefault(name, ("", False))
    return points
