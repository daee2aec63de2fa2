"""Metadata constraints applied before ranking: a boolean mask over the index's docs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from gorilla_rag.retrieval.frameworks import (
    FRAMEWORK_NAMES,
    canonical_framework,
    compatible,
    framework_phrases,
    runs_on,
    stated_framework,
)
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


def top1_percent(value: float) -> float:
    """A top-1 accuracy bound in percent: a value in (0, 1] is a fraction (0.8 → 80.0), as the corpus reads its
    accuracies and the question parser reads "accuracy above 0.8"; anything else is taken as a percentage."""
    return round(float(value) * 100, 6) if 0 < value <= 1 else value


@dataclass(frozen=True, slots=True)
class Filters:
    """Which docs may be returned. Docs without a metric are excluded by a bound on that metric.

    `min_top1` is in percent, as the corpus stores accuracies; a value in (0, 1] is read as a fraction and
    converted (0.8 → 80.0), here and by `make`, the HTTP server and the MCP server alike. A fraction of 0.01 or
    less (a bound of 1% or less) is refused: it is ambiguous once converted, and 0 already means "any model with
    an accuracy figure".
    """

    sources: tuple[str, ...] = ()
    domain: str | None = None
    max_params: float | None = None
    min_top1: float | None = None
    framework: str | None = None  # one of frameworks.FRAMEWORKS: the model must run on it

    def __post_init__(self) -> None:
        if self.min_top1 is not None and 0 < self.min_top1 <= 1:
            percent = top1_percent(self.min_top1)
            if percent <= 1:  # would read as a fraction again: conversion must be idempotent (merge, replace)
                raise ValueError(f"min_top1={self.min_top1:g} reads as a fraction, {percent:g}%: give a bound "
                                 f"above 1% (e.g. 80 or 0.8), or 0 for any model with an accuracy figure")
            object.__setattr__(self, "min_top1", percent)

    @classmethod
    def make(cls, source: str | list[str] | tuple[str, ...] | None = None, *, domain: str | None = None,
             max_params: float | None = None, min_top1: float | None = None, framework: str | None = None) -> Filters:
        """Filters from user values, checked: unknown hubs or frameworks, a non-positive `max_params` or a `min_top1`
        outside 0 to 100 raise ValueError saying why; `min_top1` in (0, 1] is a fraction (0.8 means 80%);
        `framework`: tensorflow (or keras), pytorch or scikit-learn."""
        names = [source] if isinstance(source, str) else list(source or [])
        if max_params is not None and not (math.isfinite(max_params) and max_params > 0):
            raise ValueError(f"max_params must be a number of parameters above 0, got {max_params!r}")
        if min_top1 is not None and not (math.isfinite(min_top1) and 0 <= min_top1 <= 100):
            raise ValueError(f"min_top1 is a top-1 accuracy from 0 to 100 percent (or a fraction up to 1), "
                             f"got {min_top1!r}")
        return cls(sources=tuple(canonical_source(n) for n in names), domain=domain, max_params=max_params,
                   min_top1=min_top1, framework=canonical_framework(framework) if framework else None)

    @property
    def empty(self) -> bool:
        return not (self.sources or self.domain or self.max_params is not None or self.min_top1 is not None
                    or self.framework)

    def allows(self, doc: ApiDoc) -> bool:
        if self.sources and doc.source not in self.sources:
            return False
        if self.domain and self.domain.lower() not in doc.domain.lower():
            return False
        if self.framework and not runs_on(doc, self.framework):
            return False
        if self.max_params is not None and not doc.metrics.get("params", float("inf")) <= self.max_params:
            return False
        if self.min_top1 is not None:
            # Top-1 accuracy, or the doc's single accuracy figure when it reports no top-1.
            score = doc.metrics.get("top1", doc.metrics.get("accuracy", float("-inf")))
            if not score >= self.min_top1:
                return False
        return True

    def failed_by(self, doc: ApiDoc) -> list[str]:
        """Each constraint `doc` fails, in words ("its docs state no parameter count"); empty when `allows(doc)`."""
        reasons = []
        if self.sources and doc.source not in self.sources:
            reasons.append(f"it is on {doc.source}")
        if self.domain and self.domain.lower() not in doc.domain.lower():
            reasons.append(f"its domain is {doc.domain!r}")
        if self.framework and not runs_on(doc, self.framework):
            reasons.append(f"it does not run on {FRAMEWORK_NAMES[self.framework]}")
        if self.max_params is not None and not doc.metrics.get("params", float("inf")) <= self.max_params:
            params = doc.metrics.get("params")
            reasons.append(f"it has {params:,.0f} parameters" if params is not None
                           else "its docs state no parameter count")
        if self.min_top1 is not None:
            score = doc.metrics.get("top1", doc.metrics.get("accuracy"))
            if score is None or not score >= self.min_top1:
                reasons.append(f"its top-1 accuracy is {score:g}%" if score is not None
                               else "its docs state no top-1 accuracy")
        return reasons

    def describe(self) -> str:
        """The constraints in words, for explanations."""
        parts = []
        if self.sources:
            parts.append("from " + " or ".join(self.sources))
        if self.domain:
            parts.append(f"domain contains {self.domain!r}")
        if self.framework:
            parts.append(f"runs on {FRAMEWORK_NAMES[self.framework]}")
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
    """Requirements stated in the question: parameter count, top-1 accuracy, an explicitly named hub, and the
    framework the model must run on ("with TensorFlow")."""
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
        value = number if percent else top1_percent(number)  # "above 0.8": a fraction, as Filters reads one
        if counts_something or number > 100 or 0 < value <= 1:  # "at least 1%" bounds nothing worth a filter
            continue
        min_top1 = value
        break
    named = tuple(name for name, pattern in _HUBS if re.search(pattern, question, re.I))
    sources = named if len(named) == 1 else ()
    framework = stated_framework(question)
    if framework and not compatible(framework, sources):  # "a PyTorch … from TF Hub": the hub, named outright, wins
        framework = None
    return Filters(sources=sources, max_params=max_params, min_top1=min_top1, framework=framework)


def without_constraints(question: str) -> str:
    """The question with the phrases `parse_constraints` reads (parameter and accuracy bounds, hub names) blanked
    out: what is left says the task, if anything ("TF Hub only, under 10M parameters" leaves "only ,")."""
    for pattern in (_PARAMS, _PARAMS_AFTER, _TOP1, *(re.compile(hub, re.I) for _, hub in _HUBS), *framework_phrases()):
        question = pattern.sub(" ", question)
    return question


def overridden(explicit: Filters, stated: Filters) -> str:
    """What the question states that the explicit filters contradict and `merge` drops, in words ('' if nothing):
    "an image classifier from TF Hub" asked with source torchhub."""
    def contradicted(mine: float | None, theirs: float | None) -> float | None:
        return theirs if None not in (mine, theirs) and mine != theirs else None

    dropped = Filters(sources=stated.sources if explicit.sources and set(stated.sources) - set(explicit.sources) else (),
                      max_params=contradicted(explicit.max_params, stated.max_params),
                      min_top1=contradicted(explicit.min_top1, stated.min_top1),
                      framework=stated.framework if explicit.framework not in (None, stated.framework) or (
                          stated.framework and not compatible(stated.framework, explicit.sources)) else None)
    return "" if dropped.empty else dropped.describe()


def merge(explicit: Filters, stated: Filters) -> Filters:
    """Explicit filters win; what the question states fills the rest (a stated framework none of the given hubs'
    models runs on is dropped: `overridden` says so)."""
    framework = stated.framework if stated.framework and compatible(stated.framework, explicit.sources) else None
    return replace(
        explicit,
        sources=explicit.sources or stated.sources,
        max_params=explicit.max_params if explicit.max_params is not None else stated.max_params,
        min_top1=explicit.min_top1 if explicit.min_top1 is not None else stated.min_top1,
        framework=explicit.framework or framework,
    )
