"""(question, gold API doc) pairs from APIBench question files, and a deterministic held-out split."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from gorilla_rag.evaluation.questions import Question, load_questions
from gorilla_rag.types import ApiDoc

# The APIBench question files available for training, per hub (relative to the APIBench folder).
QUESTION_FILES = {"huggingface": "eval/huggingface_dev.json", "tfhub": "eval/tensorflow_dev.json",
                  "torchhub": "train/torchhub_train.json"}
HELD_OUT_PERCENT = 30


def is_held_out(question: str, percent: int = HELD_OUT_PERCENT) -> bool:
    """A fixed split by question text: no state to store, and every tool agrees on it."""
    digest = hashlib.sha256(question.strip().lower().encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


@dataclass(frozen=True, slots=True)
class Pair:
    hub: str
    question: Question
    gold: ApiDoc
    key: str


def gold_doc(question: Question, candidates: list[ApiDoc]) -> ApiDoc:
    """Of the corpus docs with the gold identity, the record the question was written from (else the first)."""
    data = question.record.get("api_data") or {}
    for doc in candidates:
        if doc.api_name == str(data.get("api_name", "")).strip() and doc.description[:60] == str(
                data.get("description", "")).strip()[:60]:
            return doc
    return candidates[0]


def load_pairs(apibench: str | Path, verifier, hubs: tuple[str, ...] = tuple(QUESTION_FILES)) -> list[Pair]:  # noqa: ANN001
    """Every question whose gold call identifies a corpus API, paired with that API's doc."""
    from gorilla_rag.evaluation.scoring import gold_key

    pairs = []
    for hub in hubs:
        for question in load_questions(Path(apibench) / QUESTION_FILES[hub]):
            key = gold_key(verifier, question)
            docs = [d for d in verifier.docs_for_key(key) if d.source == hub] if key else []
            if docs:
                pairs.append(Pair(hub, question, gold_doc(question, docs), key))
    return pairs


def split_pairs(pairs: list[Pair], percent: int = HELD_OUT_PERCENT) -> tuple[list[Pair], list[Pair]]:
    """(train, held_out) by question text."""
    train = [p for p in pairs if not is_held_out(p.question.text, percent)]
    held = [p for p in pairs if is_held_out(p.question.text, percent)]
    return train, held
