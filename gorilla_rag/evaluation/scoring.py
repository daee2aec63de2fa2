"""Strict scoring (the call identifies the gold API) and the table/JSON report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gorilla_rag.evaluation.questions import Question

OUTCOMES = ("correct", "wrong_api", "hallucination", "no_call")


@dataclass(frozen=True, slots=True)
class Judgement:
    question_id: int
    outcome: str  # one of OUTCOMES
    gold_key: str | None
    predicted_key: str | None


def gold_key(verifier, question: Question) -> str | None:  # noqa: ANN001
    """The identity of the gold API, from the gold call (or the gold doc's call when that fails)."""
    for call in (question.gold_call, str(question.record.get("api_data", {}).get("api_call", ""))):
        identity = verifier.identify_text(call) if call else None
        if identity is not None and identity.key:
            return identity.key
    return None


def judge(verifier, question: Question, text: str | None, source: str | None) -> Judgement:  # noqa: ANN001
    """Classify one response: the first corpus API it identifies is the gold one, another one, none."""
    gold = gold_key(verifier, question)
    if not text:
        return Judgement(question.question_id, "no_call", gold, None)
    calls = verifier.verify(text, source=source).calls
    if not calls:
        return Judgement(question.question_id, "no_call", gold, None)
    # The first call that loads a corpus API is the answer, whatever else the response loads.
    first = next((c for c in calls if verifier.docs_for_key(c.key, source)), None)
    if first is None:
        return Judgement(question.question_id, "hallucination", gold, calls[0].key or None)
    outcome = "correct" if first.key == gold else "wrong_api"
    return Judgement(question.question_id, outcome, gold, first.key)


def strict_metrics(judgements: list[Judgement]) -> dict[str, float | int]:
    n = len(judgements)
    counts = Counter(j.outcome for j in judgements)
    rate = {o: (counts[o] / n if n else 0.0) for o in OUTCOMES}
    return {"accuracy": rate["correct"], "wrong_api": rate["wrong_api"], "hallucination": rate["hallucination"],
            "no_call": rate["no_call"], "n": n}


def recall_at(ranked_keys: list[list[str | None]], gold: list[str | None], ks: tuple[int, ...] = (1, 3, 5, 10)
              ) -> dict[str, float]:
    """Share of questions whose gold API is among the first k retrieved docs."""
    out = {}
    for k in ks:
        hits = sum(1 for keys, g in zip(ranked_keys, gold) if g is not None and g in keys[:k])
        out[f"recall@{k}"] = hits / len(gold) if gold else 0.0
    return out


def format_report(report: dict) -> str:
    """A readable table of a report dict (what --json prints)."""
    strict, official = report["strict"], report.get("apibench_official", {})
    split = f" ({report['split']} split)" if report.get("split", "all") != "all" else ""
    lines = [f"questions: {strict['n']}{split}"]
    if "missing_responses" in report:
        missing = report["missing_responses"]
        lines.append(f"missing responses: {missing} of {strict['n']}" + (" (scored as no call)" if missing else ""))
    if report.get("gold_not_in_corpus"):
        lines.append(f"gold API not in the corpus: {report['gold_not_in_corpus']} of {strict['n']} (scored wrong)")
    lines += ["",
              f"{'metric':<28}{'value':>8}",
              f"{'strict accuracy':<28}{strict['accuracy']:>8.1%}",
              f"{'wrong API':<28}{strict['wrong_api']:>8.1%}",
              f"{'hallucination':<28}{strict['hallucination']:>8.1%}",
              f"{'no call / abstained':<28}{strict['no_call']:>8.1%}"]
    if official:
        lines += [f"{'apibench_official accuracy':<28}{official['accuracy']:>8.1%}",
                  f"{'apibench_official halluc.':<28}{official['hallucination']:>8.1%}"]
    if "latency_ms" in report:
        lat = report["latency_ms"]
        lines.append(f"{'ask latency p50 / p95':<28}{lat['p50']:>6.1f} / {lat['p95']:.1f} ms")
    retrieval = report.get("retrieval")
    if retrieval:
        ks = list(next(iter(retrieval.values())))
        lines += ["", f"{'retriever':<10}" + "".join(f"{k:>11}" for k in ks)]
        for name, values in retrieval.items():
            lines.append(f"{name:<10}" + "".join(f"{values[k]:>11.1%}" for k in ks))
    if report.get("caveat"):
        lines += ["", f"caveat: {report['caveat']}"]
    return "\n".join(lines)
