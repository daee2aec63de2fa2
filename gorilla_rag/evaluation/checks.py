"""Checks that an evaluation is about to measure what was asked: questions to score, of the hub given, and
responses that answer them. Each failure is a GorillaError naming the file and the fix."""

from __future__ import annotations

import functools
import sys
from collections import Counter
from pathlib import Path

from gorilla_rag.errors import GorillaError
from gorilla_rag.evaluation.questions import Question

# Refuse when fewer than this share of the questions whose gold API is recognisable are APIs of the chosen hub.
MIN_HUB_SHARE = 0.5


def require_questions(questions: list[Question], path: str | Path, split: str = "all",
                      limit: int | None = None) -> None:
    """Raise when there is nothing to score (an empty file, or a split that keeps none of its questions)."""
    if not questions:
        raise GorillaError(f"question file {path} holds no questions: expected APIBench questions as JSON lines "
                           "(one object with a 'code' field per line)")
    if split != "all":
        from gorilla_rag.training.pairs import is_held_out

        if not any(is_held_out(q.text) == (split == "held-out") for q in questions):
            raise GorillaError(f"none of the {len(questions)} questions of {path} is in the {split} split: "
                               "nothing to score (use --split all)")


def gold_hub(question: Question) -> str | None:
    """The hub of the question's gold API, told by the verifier from the gold call (None: not recognisable)."""
    identify = _identifier()
    for call in (question.gold_call, str(question.record.get("api_data", {}).get("api_call", ""))):
        identity = identify(call) if call else None
        if identity is not None:
            return identity.source
    return None


@functools.cache
def _identifier():  # noqa: ANN202 - Verifier.identify_text: what API a call loads, which needs no corpus
    from gorilla_rag.verify import Verifier

    return Verifier(()).identify_text


def check_hub(questions: list[Question], hub: str, path: str | Path) -> None:
    """Refuse to score questions against a hub their gold APIs mostly do not belong to (every answer would be
    scored wrong); warn on stderr when only some of them belong to another hub."""
    hubs = Counter(h for h in map(gold_hub, questions) if h is not None)
    known = sum(hubs.values())
    if not known:
        return
    others = {h: n for h, n in hubs.most_common() if h != hub}
    if hubs[hub] < MIN_HUB_SHARE * known:
        likely = next(iter(others))
        counts = ", ".join(f"{n} {h}" for h, n in hubs.most_common())
        raise GorillaError(f"question file {path}: only {hubs[hub]} of its {known} questions have a {hub} gold API "
                           f"({counts}); scored against {hub}, the others would all count as wrong: "
                           f"use --hub {likely}")
    if others:
        counts = ", ".join(f"{n} {h}" for h, n in others.items())
        print(f"gorilla-rag: warning: {sum(others.values())} of {len(questions)} questions of {path} have gold APIs "
              f"of another hub ({counts}); they are scored against {hub}", file=sys.stderr)


def check_responses(questions: list[Question], texts: dict[int, str], questions_path: str | Path,
                    responses_path: str | Path) -> int:
    """The number of questions without a response; raise when no question has one (nothing was scored)."""
    missing = sum(q.question_id not in texts for q in questions)
    if missing < len(questions):
        return missing
    if not texts:
        why = "it holds no responses"
    else:
        ids = sorted(texts)
        why = (f"its {len(texts)} responses have question_ids {ids[0]}..{ids[-1]}, the questions are numbered "
               f"{questions[0].question_id}..{questions[-1].question_id} by line")
    raise GorillaError(f"response file {responses_path} answers none of the {len(questions)} questions of "
                       f"{questions_path}: {why}")


# Warn when more than this share of the questions have a gold API the corpus lacks; refuse when most do.
MAX_GOLD_MISSING_SHARE = 0.05


def check_gold_in_corpus(questions: list[Question], verifier, hub: str, corpus: str) -> int:  # noqa: ANN001
    """The number of questions whose gold API is not in the corpus scored against. Most of them missing: raise
    (the score would measure the corpus, not the answers: the seed corpus scored against APIBench questions, say);
    more than a few: warn on stderr, since those questions cannot be answered right."""
    from gorilla_rag.evaluation.scoring import gold_key

    known = [key for key in (gold_key(verifier, q) for q in questions) if key is not None]
    missing = sum(not verifier.docs_for_key(key, hub) for key in known)
    if missing > MIN_HUB_SHARE * len(known):
        raise GorillaError(f"{missing} of {len(known)} questions have a gold API that is not a {hub} API of "
                           f"{corpus}: answers to them could only be scored wrong. Score against the corpus the "
                           "questions were written for: `gorilla-rag corpus import apibench <folder>` then "
                           "`gorilla-rag index build` (or give --home / --corpus)")
    if missing > MAX_GOLD_MISSING_SHARE * len(known):
        print(f"gorilla-rag: warning: {missing} of {len(known)} questions have a gold API that is not in {corpus}; "
              "no answer to them can be scored right", file=sys.stderr)
    return missing
