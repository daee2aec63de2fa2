"""Metadata constraints applied before ranking: a boolean mask over the index's docs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gorilla_rag.types import SOURCES, ApiDoc

# Users say "hub"; APIBench files say tensorflowhub; accept the common spellings.
SOURCE_ALIASES = {
    "hf": "huggingface", "huggingface": "huggingface", "hugging_face": "huggingface",
    "torchhub": "torchhub", "torch": "torchhub", "pytorch": "torchhub", "pytorchhub": "torchhub",
    "tfhub": "tfhub", "tensorflowhub": "tfhub", "tensorflow": "tfhub", "tf": "tfhub",
}


def canonical_source(name: str) -> str:
    """'tensorflowhub' → 'tfhub'; raises ValueError listing the choices for an unknown name."""
    key = name.strip().lower().replace("-", "").replace(" ", "")
    if key not in SOURCE_ALIASES:
        raise ValueError(f"unknown source {name!r}: choose one of {', '.join(SOURCES)}")
    return SOURCE_ALIASES[key]


@dataclass(frozen=True, slots=True)
class Filters:
    """Which docs may be returned. Docs without a metric are excluded by a bound on that metric."""

    sources: tuple[str, ...] = ()
    domain: str | None = None
    max_params: float | None = None
    min_top1: float | None = None

    @classmethod
    def make(cls, source: str | list[str] | tuple[str, ...] | None = None, **bounds: object) -> Filters:
        names = [source] if isinstance(source, str) else list(source or [])
        return cls(sources=tuple(canonical_source(n) for n in names), **bounds)  # type: ignore[arg-type]

    @property
    def empty(self) -> bool:
        return not (self.sources or self.domain or self.max_params is not None or self.min_top1 is not None)

    def allows(self, doc: ApiDoc) -> bool:
        if self.sources and doc.source not in self.sources:
            return False
        if self.domain and self.domain.lower() not in doc.domain.lower():
            return False
        if self.max_params is not None and not doc.metrics.get("params", float("inf")) <= self.max_params:
            return False
        if self.min_top1 is not None and not doc.metrics.get("top1", float("-inf")) >= self.min_top1:
            return False
        return True

    def mask(self, docs: list[ApiDoc]) -> np.ndarray | None:
        """Boolean mask over `docs`, or None when nothing is filtered (the fast path)."""
        if self.empty:
            return None
        return np.fromiter((self.allows(d) for d in docs), dtype=bool, count=len(docs))
