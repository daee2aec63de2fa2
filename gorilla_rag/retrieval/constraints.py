"""Metadata constraints applied before ranking: a boolean mask over the index's docs."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

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
        if self.min_top1 is not None:
            # Top-1 accuracy, or the doc's single accuracy figure when it reports no top-1.
            score = doc.metrics.get("top1", doc.metrics.get("accuracy", float("-inf")))
            if not score >= self.min_top1:
                return False
        return True

    def describe(self) -> str:
        """The constraints in words, for explanations."""
        parts = []
        if self.sources:
            parts.append("from " + " or ".join(self.sources))
        if self.domain:
            parts.append(f"domain contains {self.domain!r}")
        if self.max_params is not None:
            parts.append(f"at most {self.max_params:,.0f} parameters")
        if self.min_top1 is not None:
            parts.append(f"top-1 accuracy at least {self.min_top1:g}%")
        return ", ".join(parts) or "no constraints"

    def mask(self, docs: list[ApiDoc]) -> np.ndarray | None:
        """Boolean mask over `docs`, or None when nothing is filtered (the fast path)."""
        if self.empty:
            return None
        return np.fromiter((self.allows(d) for d in docs), dtype=bool, count=len(docs))


_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6, "b": 1e9, "bn": 1e9,
          "billion": 1e9}
_LESS = r"(?:under|below|less than|fewer than|smaller than|at most|no more than|not more than|max(?:imum)?(?: of)?|<=?|≤|up to)"
_MORE = r"(?:above|over|more than|greater than|higher than|at least|no less than|minimum(?: of)?|>=?|≥|exceeding)"
_PARAMS = re.compile(
    rf"{_LESS}\s*(\d+(?:\.\d+)?)\s*(k|thousand|m|mn|million|millions|b|bn|billion)?\s*(?:trainable\s+)?(?:param(?:eter)?s?|weights)\b",
    re.I)
_PARAMS_AFTER = re.compile(
    rf"(?:param(?:eter)?s?|parameter count|model size)\s*(?:of\s*|count\s*)?{_LESS}\s*(\d+(?:\.\d+)?)\s*(k|thousand|m|mn|million|millions|b|bn|billion)?\b",
    re.I)
_TOP1 = re.compile(
    rf"(?:top-?1|top one|accuracy)[^.,;]{{0,30}}?{_MORE}\s*(\d+(?:\.\d+)?)\s*(%|percent)?|"
    rf"{_MORE}\s*(\d+(?:\.\d+)?)\s*(%|percent)?\s*(?:top-?1\s*)?(?:accuracy|top-?1)", re.I)
_AFTER_ACCURACY = {"on", "in", "for", "and", "or", "with", "top", "accuracy", "at", "when", "while"}
_HUBS = (("tfhub", r"\b(?:tensorflow[ -]?hub|tf[ -]?hub|tfhub)\b"),
         ("torchhub", r"\b(?:pytorch[ -]?hub|torch[ -]?hub|torchhub)\b"),
         ("huggingface", r"\b(?:hugging ?face|hf hub|🤗)\b"))


def parse_constraints(question: str) -> Filters:
    """Requirements stated in the question: parameter count, top-1 accuracy, and an explicitly named hub."""
    max_params = min_top1 = None
    for pattern in (_PARAMS, _PARAMS_AFTER):
        match = pattern.search(question)
        if match:
            max_params = float(match.group(1)) * _SCALE.get((match.group(2) or "").lower(), 1.0)
            break
    for match in _TOP1.finditer(question):
        if re.search(r"top[-\s]?(?:5|five)", question[max(0, match.start() - 12):match.end()], re.I):
            continue  # a top-5 figure bounds no top-1 accuracy
        number, percent = float(match.group(1) or match.group(3)), bool(match.group(2) or match.group(4))
        after = re.match(r"\s*([A-Za-z]+)", question[match.end():])
        counts_something = not percent and match.group(1) and after is not None \
            and after.group(1).lower() not in _AFTER_ACCURACY  # "good accuracy over 100 languages": a count
        if counts_something or number > 100:
            continue
        min_top1 = number * 100 if number <= 1 and not percent else number
        break
    sources = tuple(name for name, pattern in _HUBS if re.search(pattern, question, re.I))
    return Filters(sources=sources if len(sources) == 1 else (), max_params=max_params, min_top1=min_top1)


def merge(explicit: Filters, stated: Filters) -> Filters:
    """Explicit filters win; what the question states fills the rest."""
    return replace(
        explicit,
        sources=explicit.sources or stated.sources,
        max_params=explicit.max_params if explicit.max_params is not None else stated.max_params,
        min_top1=explicit.min_top1 if explicit.min_top1 is not None else stated.min_top1,
    )
