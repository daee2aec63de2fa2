"""APIBench question files and Gorilla response files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gorilla_rag.corpus.store import iter_jsonl
from gorilla_rag.errors import CorpusError


@dataclass(frozen=True, slots=True)
class Question:
    """One APIBench question: 1-based line id, the user's text, the gold call and gold doc."""

    question_id: int
    text: str
    gold_call: str
    domain: str
    record: dict[str, Any]


_V1 = re.compile(r"###\s*Instruction:\s*(.*?)\s*(?:###\s*Output|$)", re.S)
_V0 = re.compile(r"""['"]?Instruction['"]?\s*:\s*(.*?)\s*,\s*['"]Output['"]\s*:""", re.S)


def question_text(code: str) -> str:
    """The user's question: text after `###Instruction:` up to `###Output` (or the v0 dict's Instruction)."""
    for pattern in (_V1, _V0):
        match = pattern.search(code)
        if match and match.group(1).strip():
            return match.group(1).strip()
    return code.strip()


def load_questions(path: str | Path) -> list[Question]:
    """Every question of a JSON-lines APIBench question file; bad lines are reported with their number."""
    problems: list[str] = []
    questions = []
    for number, record in iter_jsonl(Path(path), problems, what="question file"):
        if not isinstance(record, dict) or "code" not in record:
            problems.append(f"{path}:{number}: not an APIBench question (no 'code' field)")
            continue
        api_data = record.get("api_data") if isinstance(record.get("api_data"), dict) else {}
        gold = str(record.get("api_call") or api_data.get("api_call") or "")
        questions.append(Question(number, question_text(str(record["code"])), gold,
                                  str(api_data.get("domain", "")), record))
    if problems:
        raise CorpusError(problems, what=f"question file {path}")
    return questions


def load_responses(path: str | Path) -> dict[int, str]:
    """A Gorilla response file: question_id → the model's text."""
    problems: list[str] = []
    responses: dict[int, str] = {}
    for number, record in iter_jsonl(Path(path), problems, what="response file"):
        try:
            responses[int(record["question_id"])] = str(record["text"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"{path}:{number}: expected {{'question_id': int, 'text': str}}")
    if problems:
        raise CorpusError(problems, what=f"response file {path}")
    return responses


def write_responses(path: str | Path, responses: dict[int, str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for question_id in sorted(responses):
            handle.write(json.dumps({"question_id": question_id, "text": responses[question_id]}) + "\n")
