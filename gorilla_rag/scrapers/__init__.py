"""Scrapers turn a hub's published docs into ApiDocs: one `Scraper` protocol, one module per hub.

A scraper is built from its `[source]` table of `api_corpus/sources.toml` (plus a location override) and
`scrape`s once. It never writes anything: `gorilla_rag.refresh` diffs, writes and re-indexes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gorilla_rag.errors import GorillaError
from gorilla_rag.types import ApiDoc

# name → "module:class"; each module imports its heavy dependencies inside functions.
SCRAPERS: dict[str, str] = {
    "huggingface": "gorilla_rag.scrapers.huggingface:HuggingFaceScraper",
    "torchhub": "gorilla_rag.scrapers.torchhub:TorchHubScraper",
    "tfhub": "gorilla_rag.scrapers.tfhub:TfHubScraper",
}

T = TypeVar("T")


class Progress(Protocol):
    """Wraps an iterable to show progress (tqdm on stderr in the CLI, nothing in the library)."""

    def __call__(self, items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
        ...


def no_progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    """Shows nothing."""
    return items


class ScrapeError(GorillaError, RuntimeError):
    """A source that cannot be scraped as configured (unreachable, unreadable, empty); the message says where."""


@dataclass(frozen=True, slots=True)
class ScrapeResult:
    """What one scrape found: the docs, where they came from, and every record it had to skip (`file:line: why`)."""

    source: str
    docs: list[ApiDoc]
    origin: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    reused: int = 0  # docs taken over unchanged from the previous corpus (e.g. a HF model whose sha did not change)


class Scraper(Protocol):
    """Built from its config table; `scrape` returns this hub's docs, reusing `previous` docs where it can."""

    source: str

    def scrape(self, previous: Mapping[str, ApiDoc] | None = None, progress: Progress = no_progress) -> ScrapeResult:
        ...


def get_scraper(name: str, options: Mapping[str, Any], location: str | None = None) -> Scraper:
    """The scraper registered under `name`, configured by `options` (its sources.toml table).

    `location` (a folder, an archive file or a URL) overrides the configured one.
    """
    if name not in SCRAPERS:
        raise ValueError(f"no scraper for source {name!r}: choose one of {', '.join(SCRAPERS)}")
    module, _, cls = SCRAPERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)(dict(options), location)
