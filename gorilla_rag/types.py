"""The value types that flow through the pipeline: frozen, slotted, JSON round-trippable."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

SOURCES: tuple[str, ...] = ("huggingface", "torchhub", "tfhub")
Source = Literal["huggingface", "torchhub", "tfhub"]
AnswerStatus = Literal["verified", "repaired", "unverified", "no_match"]
# A call: a corpus API; no corpus API; a corpus API of another hub than asked; a pipeline task naming no model;
# a call that is not valid Python as written. A text: one of those (its worst call), or no API call at all.
CallStatus = Literal["verified", "hallucinated", "other_hub", "underspecified", "syntax_error"]
VerificationStatus = Literal["verified", "hallucinated", "other_hub", "underspecified", "syntax_error",
                             "no_api_call", "unparseable"]

# Fields whose content defines a doc; the hash changes exactly when one of them does.
_CONTENT_FIELDS = (
    "source", "domain", "framework", "functionality", "api_name", "api_call", "description",
    "arguments", "example_code", "requirements", "metrics", "extra",
)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class ApiDoc:
    """One API, normalised: every field has one type whatever the raw record had."""

    id: str
    source: str
    domain: str
    api_name: str
    api_call: str
    description: str = ""
    framework: str = ""
    functionality: str = ""
    arguments: dict[str, str] = field(default_factory=dict, hash=False)
    example_code: str = ""
    requirements: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict, hash=False)
    extra: dict[str, Any] = field(default_factory=dict, hash=False)
    content_hash: str = ""

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", self.compute_hash())

    def compute_hash(self) -> str:
        content = {name: getattr(self, name) for name in _CONTENT_FIELDS}
        content["requirements"] = list(self.requirements)
        return hashlib.sha256(_canonical(content).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["requirements"] = list(self.requirements)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApiDoc:
        """Build from a normalised record (what `to_dict` wrote); unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        values = dict(data)
        values["requirements"] = tuple(values.get("requirements") or ())
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved doc with its fused score and its rank in each retriever (1-based); `moved_down` says why it
    may sit below hits that score lower (a rule: it does the opposite of what the question asks; or only a wider
    search found it)."""

    doc: ApiDoc
    score: float
    ranks: dict[str, int] = field(default_factory=dict, hash=False)
    moved_down: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"doc": self.doc.to_dict(), "score": self.score, "ranks": dict(self.ranks), "moved_down": self.moved_down}


@dataclass(frozen=True, slots=True)
class GeneratedCall:
    """What a generator produced: its raw output, the call it proposes and the code around it."""

    raw: str
    call: str
    code: str
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class CallCheck:
    """The verifier's finding for one API-loading call. `matched`: the corpus docs it loads (other_hub: those of
    the other hub; underspecified: a few corpus APIs its task could mean)."""

    status: CallStatus
    call: str
    key: str
    matched: tuple[ApiDoc, ...] = ()
    detail: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "call": self.call, "key": self.key,
                "matched": [doc.id for doc in self.matched], "detail": list(self.detail)}


@dataclass(frozen=True, slots=True)
class Verification:
    """The verifier's finding for one text: every API-loading call is checked (`calls`, in order); status, call,
    key and matched are those of the call that decides (the first of the worst status); `syntax_errors` lists
    where the code does not parse."""

    status: VerificationStatus
    call: str = ""
    key: str = ""
    matched: tuple[ApiDoc, ...] = ()
    detail: tuple[str, ...] = ()
    calls: tuple[CallCheck, ...] = ()
    syntax_errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the text passes: every API call it makes is a corpus API and its code is valid Python (a
        `verified` status with syntax errors elsewhere in the code does not pass)."""
        return self.status == "verified" and not self.syntax_errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "call": self.call,
            "key": self.key,
            "matched": [doc.id for doc in self.matched],
            "detail": list(self.detail),
            "calls": [check.to_dict() for check in self.calls],
            "syntax_errors": list(self.syntax_errors),
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """The pipeline's reply to one question."""

    question: str
    status: AnswerStatus
    call: str
    code: str
    api: ApiDoc | None
    verification: Verification | None
    hits: tuple[Hit, ...] = ()
    explanation: str = ""
    raw_output: str = ""
    constraints: str = ""  # the filters applied, in words ('' when none): given ones and those read from the question

    @property
    def alternatives(self) -> list[ApiDoc]:
        """Other candidate APIs, best first, one per distinct call."""
        chosen = self.api.api_call if self.api else None
        seen = {chosen}
        out = []
        for hit in self.hits:
            if hit.doc.api_call not in seen:
                seen.add(hit.doc.api_call)
                out.append(hit.doc)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "status": self.status,
            "call": self.call,
            "code": self.code,
            "api": self.api.to_dict() if self.api else None,
            "explanation": self.explanation,
            "constraints": self.constraints,
            "verification": self.verification.to_dict() if self.verification else None,
            "alternatives": [
                {"id": d.id, "api_call": d.api_call, "api_name": d.api_name, "domain": d.domain}
                for d in self.alternatives
            ],
            "hits": [{"id": h.doc.id, "score": h.score, "ranks": dict(h.ranks), "moved_down": h.moved_down}
                     for h in self.hits],
            "raw_output": self.raw_output,
        }

    def _repr_markdown_(self) -> str:
        from gorilla_rag.rendering import answer_markdown

        return answer_markdown(self)

    def _repr_html_(self) -> str:
        from gorilla_rag.rendering import answer_html

        return answer_html(self)
