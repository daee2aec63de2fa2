"""Retrieval-aware training data (Gorilla's RAT): question + retrieved docs in the prompt, the v1 answer as target.

Each question's prompt shows what the real retriever returns for it, with the gold doc put in when retrieval
missed it, so the model learns to pick the right doc among realistic distractors. A fixed share of questions
(10% by default, as the Hammer work found best) become irrelevance examples: the gold API is taken out of the
docs and the target is the explicit "no matching API" answer.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gorilla_rag.generation.prompt import PROMPT_DOCS, answer_text, build_messages, no_match_text, parse_output
from gorilla_rag.types import ApiDoc

IRRELEVANT_SHARE = 0.1
SEARCH_K = 5  # what the pipeline retrieves by default; the prompt shows the first PROMPT_DOCS


@dataclass(frozen=True, slots=True)
class GoldPair:
    """A question whose gold call is a corpus API: the doc to find, its identity key and the answer to learn."""

    question: str
    gold: ApiDoc
    key: str
    target: str


@dataclass(frozen=True, slots=True)
class SftExample:
    """One supervised example: the prompt's question and docs, and the answer (v1 text) to learn."""

    question: str
    docs: tuple[ApiDoc, ...]
    target: str
    gold_id: str = ""  # empty for an irrelevance example

    def messages(self) -> list[dict[str, str]]:
        """The chat messages the model sees for this example, exactly as at inference time."""
        return build_messages(self.question, self.docs)

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "docs": [d.to_dict() for d in self.docs], "target": self.target,
                "gold_id": self.gold_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SftExample:
        return cls(str(data["question"]), tuple(ApiDoc.from_dict(d) for d in data["docs"]), str(data["target"]),
                   str(data.get("gold_id") or ""))


def question_target(record_code: str, gold: ApiDoc, key: str, verifier: Any) -> str:
    """The answer to learn: the question's own APIBench output when it calls the gold API, else the doc's."""
    parsed = parse_output(record_code.split("###Output:", 1)[-1])
    ident = verifier.identify_text(parsed.call) if parsed.call else None
    if ident is None or ident.key != key:
        return answer_text(gold)
    return answer_text(gold, explanation=parsed.explanation or None, code=parsed.code or None, call=parsed.call)


def gold_pairs(questions: Iterable[Any], verifier: Any, source: str | None = None) -> tuple[list[GoldPair], int]:
    """(pairs, skipped): APIBench questions whose gold call identifies a corpus API (of `source`, if given)."""
    pairs, skipped = [], 0
    for q in questions:
        ident = verifier.identify_text(q.gold_call) if q.gold_call else None
        docs = verifier.docs_for_key(ident.key, source) if ident else []
        if not docs or not q.text.strip():
            skipped += 1
            continue
        code = str(q.record.get("code", ""))
        pairs.append(GoldPair(q.text, docs[0], ident.key, question_target(code, docs[0], ident.key, verifier)))
    return pairs, skipped


def build_examples(pairs: Sequence[GoldPair], index: Any, docs: int = PROMPT_DOCS, irrelevant: float = IRRELEVANT_SHARE,
                   retriever: str | None = None, source: str | None = None, seed: int = 0) -> list[SftExample]:
    """One example per pair, its docs from `index.search`; round(len * irrelevant) of them irrelevance examples.

    The search is the pipeline's own (k=5, the index's default retriever unless one is named), so a trained
    model sees at inference the prompts it was trained on.
    """
    from gorilla_rag.retrieval import Filters
    from gorilla_rag.verify import Verifier

    if not 0 <= irrelevant <= 1:
        raise ValueError(f"the irrelevance share must be between 0 and 1, not {irrelevant}")
    verifier = Verifier(index.docs)
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    no_gold = set(order[: round(len(pairs) * irrelevant)])
    search = {"filters": Filters.make(source), **({"retriever": retriever} if retriever else {})}
    examples = []
    for i, pair in enumerate(pairs):
        hits = index.search(pair.question, k=max(SEARCH_K, docs), **search)
        shown = [h.doc for h in hits[:docs]]
        distractors = [h.doc for h in hits if verifier.key_of(h.doc) != pair.key]
        if len(distractors) < docs:  # records of the gold API took several places: look further
            more = index.search(pair.question, k=max(SEARCH_K, docs) + 20, **search)
            distractors = [h.doc for h in more if verifier.key_of(h.doc) != pair.key]
        if i in no_gold:
            examples.append(SftExample(pair.question, tuple(distractors[:docs]), no_match_text()))
            continue
        if all(verifier.key_of(d) != pair.key for d in shown):  # retrieval missed it: put the gold doc in
            shown = distractors[: docs - 1]
            shown.insert(rng.randrange(len(shown) + 1), pair.gold)
        examples.append(SftExample(pair.question, tuple(shown), pair.target, pair.gold.id))
    return examples


def held_out(question: str, share: float, seed: int = 0) -> bool:
    """Whether a question belongs to the held-out split: a fixed hash of seed and text, so every example of
    one question lands on the same side whatever the order or the run."""
    digest = hashlib.sha256(f"{seed}:{question.strip().lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def split_by_question(examples: Sequence[SftExample], holdout: float = 0.1,
                      seed: int = 0) -> tuple[list[SftExample], list[SftExample]]:
    """(train, held-out), split by question text with a fixed seed."""
    if not 0 <= holdout < 1:
        raise ValueError(f"the held-out share must be in [0, 1), not {holdout}")
    train = [e for e in examples if not held_out(e.question, holdout, seed)]
    return train, [e for e in examples if held_out(e.question, holdout, seed)]


def write_examples(path: str | Path, examples: Iterable[SftExample]) -> int:
    """Write examples as JSON lines; returns how many."""
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_examples(path: str | Path) -> list[SftExample]:
    """Examples written by `write_examples`; a bad line is an error naming it."""
    out = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                out.append(SftExample.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a training example ({exc})") from exc
    return out


def score_examples(complete: Callable[[list[dict[str, str]]], str], examples: Sequence[SftExample]) -> dict[str, Any]:
    """How often a model reproduces the gold API (its call identifies it) or, on irrelevance examples, abstains.

    `complete` maps chat messages to the model's raw answer (e.g. `LocalModelGenerator.complete`).
    """
    from gorilla_rag.verify import Verifier

    identity = Verifier(())
    gold_right = gold_total = abstained = irrelevant_total = 0
    for example in examples:
        parsed = parse_output(complete(example.messages()))
        if not example.gold_id:
            irrelevant_total += 1
            abstained += not parsed.call
            continue
        gold_total += 1
        gold = next(d for d in example.docs if d.id == example.gold_id)
        found = identity.identify_text(parsed.call) if parsed.call else None
        gold_right += found is not None and found.key == identity.key_of(gold)
    total = gold_total + irrelevant_total
    return {"examples": total, "accuracy": (gold_right + abstained) / total if total else 0.0,
            "gold_accuracy": gold_right / gold_total if gold_total else None,
            "abstention_accuracy": abstained / irrelevant_total if irrelevant_total else None}


def examples_from_questions(paths: Sequence[str | Path], index: Any, source: str | None = None,
                            irrelevant: float = IRRELEVANT_SHARE, retriever: str | None = None, seed: int = 0,
                            limit: int | None = None) -> tuple[list[SftExample], int]:
    """(examples, skipped questions) from APIBench question files, gold docs and distractors from `index`."""
    from gorilla_rag.evaluation.questions import load_questions
    from gorilla_rag.verify import Verifier

    questions = [q for path in paths for q in load_questions(path)][: limit or None]
    pairs, skipped = gold_pairs(questions, Verifier(index.docs), source)
    return build_examples(pairs, index, irrelevant=irrelevant, retriever=retriever, source=source, seed=seed), skipped
