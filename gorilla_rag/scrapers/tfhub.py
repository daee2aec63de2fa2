"""TF Hub: the archived tfhub.dev doc tree (`assets/docs` of tensorflow/tfhub.dev) → one ApiDoc per model handle.

A model doc (usually `<publisher>/models/<name>/<version>.md`) starts `# Module <handle>`, a one-line summary,
then `<!-- key: value -->` metadata (task, dataset, network-architecture, format, license…), prose and code
calling `hub.load` / `hub.KerasLayer` / `hub.Module` with `https://tfhub.dev/<handle>`. Lite/TF.js/Coral docs
(`# Lite …`) are deployments of a parent model: they are noted on it, not made docs of their own.

tfhub.dev URLs now redirect to Kaggle Models, and `hub.load` follows the redirect, so the tfhub.dev handle stays
the API's identity. The Kaggle path itself is not derivable from the handle (names and version numbers were
changed in the move); where a doc names a kaggle.com/models URL it is kept in `extra["kaggle_url"]`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from gorilla_rag.scrapers import Progress, ScrapeResult, no_progress
from gorilla_rag.scrapers.fetch import Http, Page, read_pages, readable
from gorilla_rag.scrapers.markdown import code_blocks
from gorilla_rag.scrapers.pycode import arguments, find_calls, literal, string_values
from gorilla_rag.types import ApiDoc

DEFAULT_LOCATION = "https://github.com/tensorflow/tfhub.dev/archive/refs/heads/master.tar.gz"
DEFAULT_SUBDIR = "assets/docs"
LOADERS = ("hub.KerasLayer", "hub.load", "hub.Module")
_TITLE = re.compile(r"^#\s+(Module|Lite|Tfjs|Coral|Placeholder|Collection|Publisher)\s+(\S+)")
_META = re.compile(r"^<!--\s*([\w-]+)\s*:\s*(.*?)\s*-->\s*$")
_KAGGLE = re.compile(r"https://www\.kaggle\.com/models/[\w./-]+")
_HANDLE = re.compile(r"[\w.-]+(/[\w.-]+)+/\d+")
_EXTRA_KEYS = {"dataset": "dataset", "network-architecture": "architecture", "format": "format", "license": "license",
               "language": "language", "fine-tunable": "fine_tunable", "parent-model": "parent_model"}


class TfHubScraper:
    """Scrapes tfhub.dev model docs from a folder, a .tar.gz, or (by default) GitHub's archive of the repo."""

    source = "tfhub"

    def __init__(self, options: Mapping[str, Any], location: str | None = None) -> None:
        self.location = location or options.get("location") or DEFAULT_LOCATION
        self.subdir = options.get("subdir", DEFAULT_SUBDIR)
        self.http = Http.from_options(options)

    def scrape(self, previous: Mapping[str, ApiDoc] | None = None, progress: Progress = no_progress) -> ScrapeResult:
        """Every `# Module` doc as an ApiDoc; deployments (Lite, TF.js, Coral) noted on their parent model."""
        pages, origin = read_pages(self.location, (".md",), self.subdir, self.http)
        pages, warnings = readable(pages)
        docs: dict[str, ApiDoc] = {}
        deployments: dict[str, set[str]] = {}
        for page in progress(pages, "tfhub docs"):
            kind, name, meta = _head(page)
            if kind in ("Lite", "Tfjs", "Coral") and meta.get("parent-model"):
                deployments.setdefault(meta["parent-model"][0].strip("/"), set()).add(kind.lower())
            if kind != "Module":
                continue
            handle = re.sub(r"&\w+;", "", name)  # `vtab/&zwnj;rotation/1`
            if not _HANDLE.fullmatch(handle):
                warnings.append(f"{page.path}:1: '# Module {handle}' is not a <publisher>/<name>/<version> handle")
            elif handle in docs:
                warnings.append(f"{page.path}:1: handle {handle} again (first in {docs[handle].extra['page']}); skipped")
            else:
                docs[handle] = model_doc(page, handle, meta)
        latest: dict[str, int] = {}
        for handle in docs:
            family, _, version = handle.rpartition("/")
            latest[family] = max(latest.get(family, 0), int(version))
        out = []
        for handle, doc in docs.items():
            family, _, version = handle.rpartition("/")
            extra = {**doc.extra, "latest": int(version) == latest[family]}
            if handle in deployments:
                extra["deployments"] = sorted(deployments[handle])
            out.append(ApiDoc.from_dict({**doc.to_dict(), "extra": extra, "content_hash": ""}))
        return ScrapeResult(self.source, sorted(out, key=lambda d: d.id), origin, warnings)


def _head(page: Page) -> tuple[str, str, dict[str, list[str]]]:
    """The doc's kind (`Module`, `Lite`…; '' for none), the name after it, and its `<!-- key: value -->` metadata:
    every distinct value of a key, in page order (a multilingual model repeats `language` once per language).

    Metadata is read from the first 60 lines, and on to the end of a block of metadata lines running past them
    (the XLM-R docs list 53 languages)."""
    lines = page.text.splitlines()
    match = _TITLE.match(lines[0]) if lines else None
    meta: dict[str, list[str]] = {}
    for number, line in enumerate(lines[1:], 1):
        found = _META.match(line.strip())
        if found:
            values = meta.setdefault(found.group(1).lower(), [])
            if found.group(2) not in values:
                values.append(found.group(2))
        elif number >= 60:
            break
    return (match.group(1), match.group(2), meta) if match else ("", "", meta)


def _summary(text: str) -> str:
    """The lines between the `# Module` title and the first metadata comment or heading."""
    lines = []
    for line in text.splitlines()[1:]:
        if line.strip().startswith(("<!--", "#", "```")):
            break
        lines.append(line.strip())
    return " ".join(" ".join(lines).split())


def model_doc(page: Page, handle: str, metadata: Mapping[str, list[str]]) -> ApiDoc:
    """The ApiDoc of one model doc: its loader call as the doc shows it (else the one its format implies).

    A metadata key with one value keeps it as a string ("en"); with several, `extra` keeps the list of all of them
    in page order (["ar", "as", …], as HuggingFace cards write `language`; datasets ["wikipedia", "commoncrawl"]).
    The domain is the first task (a doc has one domain; all of them are in `extra["tasks"]` when there are
    several); the functionality names every network architecture."""
    meta = {key: values[0] for key, values in metadata.items() if values}
    url = f"https://tfhub.dev/{handle}"
    loader, kwargs, example = None, {}, ""
    for block in code_blocks(page.text):
        values = string_values(block.text)
        for function in LOADERS:
            for site in find_calls(block.text, function):
                if site.call is None or site.commented:
                    continue
                args = arguments(site.call, ("handle",))
                if any(_same_handle(v, url) for v in literal(args.get("handle"), values)):
                    loader, example = function, block.text
                    kwargs = {k: ast.unparse(v) for k, v in args.items() if k != "handle"}
                    break
            if loader:
                break
        if loader:
            break
    if loader is None:
        loader = "hub.Module" if meta.get("format") == "hub" else "hub.load"
    call = f"{loader}('{url}')"
    if not example or example.count("\n") > 40:
        example = f"import tensorflow_hub as hub\nmodel = {call}"
    task = meta.get("task") or meta.get("module-type") or ""
    publisher, _, rest = handle.partition("/")
    requirements = ["tensorflow", "tensorflow-hub"]
    if "tensorflow_text" in page.text:
        requirements.append("tensorflow-text")
    extra: dict[str, Any] = {"publisher": publisher, "tfhub_url": url, "page": page.path}
    for key, name in _EXTRA_KEYS.items():
        values = [v for v in metadata.get(key, []) if v]
        if values:
            extra[name] = (values[0].lower() == "true" if name == "fine_tunable"
                           else values[0] if len(values) == 1 else values)
    if len(tasks := [v for v in metadata.get("task") or metadata.get("module-type") or [] if v]) > 1:
        extra["tasks"] = tasks
    if kaggle := _KAGGLE.search(page.text):
        extra["kaggle_url"] = kaggle.group(0)
    return ApiDoc(
        id=f"tfhub:{handle}",
        source="tfhub",
        domain=task.replace("-", " ").strip().capitalize(),
        api_name=rest.rpartition("/")[0],
        api_call=call,
        description=_summary(page.text),
        framework="TensorFlow Hub",
        functionality=", ".join(v for v in metadata.get("network-architecture", []) if v),
        arguments={"handle": url, **kwargs},
        example_code=example,
        requirements=tuple(requirements),
        extra=extra,
    )


def _same_handle(value: str, url: str) -> bool:
    value = value.strip().split("?")[0].rstrip("/")
    return value.lower().replace("http://", "https://") == url.lower()
