"""Calibrate abstention for indexes without a trained question memory (the README's main job, any corpus before
`train reranker`): the closest doc's cosine alone vs our task questions (retrieval/task_memory.py).

Two corpora, calibrated together: the seed corpus (in scope: bench/data/seed_questions.jsonl, ours) and APIBench
(in scope: the held-out questions). On both, our task questions the corpus serves are in scope too, each scored
against the others (leave-one-out: they are the memory). Out of scope: bench/data/out_of_scope.jsonl on both.
The threshold kept is the one catching the most out-of-scope requests on the worse corpus while wrongly abstaining
on at most 3% of each in-scope set. Check: plain_test (163 plain questions; caveat in the section).
Writes the 'abstention-untrained' section of docs/benchmarks.md.

    python bench/bench_abstention_untrained.py [--apibench PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_abstention import DATA, TARGET_IN, TARGET_OUT, read_jsonl  # noqa: E402
from common import apibench_docs, machine, table, write_section  # noqa: E402
from plain_questions import plain_path  # noqa: E402

from gorilla_rag import settings  # noqa: E402
from gorilla_rag.corpus.store import read_corpus  # noqa: E402
from gorilla_rag.retrieval import Index  # noqa: E402
from gorilla_rag.retrieval.abstention import DEFAULT_THRESHOLDS, TASK_DOC_MARGIN  # noqa: E402
from gorilla_rag.retrieval.task_memory import build_task_memory, served_task_questions  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402

MARGINS = (0.0, 0.05, 0.1, 0.15)
THRESHOLDS = np.round(np.arange(0.15, 0.50, 0.005), 3)


def signals(index: Index, questions: list[str], margin: float | None) -> np.ndarray:
    """The closest doc's cosine (margin None), else max(that - margin, mean cosine of the 5 nearest task
    questions other than the question itself)."""
    saved, index.task_memory = index.task_memory, None
    doc = np.array([index.best_similarity(q) for q in questions])
    index.task_memory = saved
    if margin is None:
        return doc
    position = {row["question"]: i for i, row in enumerate(served_task_questions(index.docs))}
    assert len(position) == len(saved), "the memory is not this version's task questions: rebuild the index"
    scope = np.array([saved.scope_similarity(index.dense.query_vector(q), exclude=position.get(q)) for q in questions])
    return np.maximum(doc - margin, scope)


def corpus_sets(index: Index, own: dict[str, list[str]]) -> dict[str, list[str]]:
    """In-scope sets of one corpus: its own questions and our task questions it serves; "out"; "plain_test"."""
    return {**own, "task questions (leave-one-out)": [r["question"] for r in served_task_questions(index.docs)],
            "out": [r["question"] for r in read_jsonl(DATA / "out_of_scope.jsonl")],
            "plain_test": [r["question"] for r in read_jsonl(plain_path("plain_test"))]}


def rates(scores: dict[str, np.ndarray], threshold: float) -> dict[str, float]:
    return {name: float((values < threshold).mean()) for name, values in scores.items()}


def worst_in_scope_rate(scores: dict[str, np.ndarray], threshold: float) -> float:
    """The larger wrongful-abstention rate of the corpus's two in-scope sets (its own questions, ours)."""
    return max(float((v < threshold).mean()) for name, v in scores.items() if name not in ("out", "plain_test"))


def choose(per_corpus: list[dict[str, np.ndarray]]) -> float:
    """The threshold with the most out-of-scope caught on the worse corpus, every in-scope set ≤ TARGET_IN."""
    best = (0.0, -1.0)
    for threshold in THRESHOLDS:
        if all(worst_in_scope_rate(scores, threshold) <= TARGET_IN for scores in per_corpus):
            caught = min(rates(scores, threshold)["out"] for scores in per_corpus)
            if caught > best[1]:
                best = (float(threshold), caught)
    return best[0]


def cross_validated(per_corpus: list[dict[str, np.ndarray]], kinds: list[str]) -> list[tuple[float, float]]:
    """Per corpus (out-of-scope caught, in-scope wrongly abstained) with the threshold chosen on the other fold:
    out-of-scope split by kind, in-scope by position, so no kind is scored by a threshold that saw it."""
    names = sorted(set(kinds))
    out_fold = np.array([names.index(kind) % 2 for kind in kinds])
    caught: list[list[bool]] = [[] for _ in per_corpus]
    wrongly: list[list[bool]] = [[] for _ in per_corpus]
    for fold in (0, 1):
        def part(scores: dict[str, np.ndarray], keep: int) -> dict[str, np.ndarray]:
            own = {k: v[(np.arange(len(v)) % 2 == keep)] for k, v in scores.items() if k not in ("out", "plain_test")}
            return {**own, "out": scores["out"][out_fold == keep], "plain_test": scores["plain_test"]}
        threshold = choose([part(scores, 1 - fold) for scores in per_corpus])
        for i, scores in enumerate(per_corpus):
            tested = part(scores, fold)
            caught[i] += list(tested["out"] < threshold)
            wrongly[i] += list(np.concatenate([v for k, v in tested.items() if k not in ("out", "plain_test")])
                               < threshold)
    return [(float(np.mean(c)), float(np.mean(w))) for c, w in zip(caught, wrongly, strict=True)]


def main() -> None:
    apibench, work, docs = apibench_docs(__doc__, "gorilla-bench-abstain-")
    corpora = {}
    seed = Index.build(read_corpus(settings.seed_corpus_dir()), work / "seed-index")
    corpora["seed"] = (seed, {"seed questions": [r["question"] for r in read_jsonl(DATA / "seed_questions.jsonl")]})
    api = Index.build(docs, work / "apibench-index")
    _, held = split_pairs(load_pairs(apibench, api.verifier))
    corpora["APIBench"] = (api, {"held-out APIBench": [p.question.text for p in held]})
    for index, _ in corpora.values():
        if index.task_memory is None:  # built by this version, it has one; keep the bench honest if not
            index.task_memory = build_task_memory(index.docs, index.dense.query_embedder)
    scores = {(name, margin): {k: signals(index, v, margin) for k, v in corpus_sets(index, own).items()}
              for name, (index, own) in corpora.items() for margin in (None, *MARGINS)}
    kinds = [r["category"] for r in read_jsonl(DATA / "out_of_scope.jsonl")]
    rows = []
    for margin in (None, *MARGINS):
        per_corpus = [scores[(name, margin)] for name in corpora]
        chosen = choose(per_corpus)
        cv = cross_validated(per_corpus, kinds)
        shipped = DEFAULT_THRESHOLDS["closest doc" if margin is None else "task questions"]
        thresholds = [(chosen, "chosen")]
        if margin in (None, TASK_DOC_MARGIN):  # the signals an index gives (an old one: the closest doc)
            thresholds = [(chosen, "chosen = default")] if shipped == chosen else thresholds + [(shipped, "default")]
        signal = "closest doc" if margin is None else f"task questions, or closest doc - {margin}"
        for threshold, how in thresholds:
            for (name, (out_cv, in_cv)) in zip(corpora, cv, strict=True):
                got = rates(scores[(name, margin)], threshold)
                own = [k for k in got if k not in ("out", "plain_test")]
                rows.append([signal, name, f"{threshold:.3f} ({how})", f"{got['out']:.1%}",
                             " / ".join(f"{got[k]:.1%}" for k in own),
                             f"{out_cv:.1%} / {in_cv:.1%}" if how != "default" else "–", f"{got['plain_test']:.1%}"])
        print(rows[-2:], flush=True)
    counts = {name: ", ".join(f"{k} {len(v)}" for k, v in corpus_sets(index, own).items())
              for name, (index, own) in corpora.items()}
    body = f"""## Abstention without a trained memory (bench/bench_abstention_untrained.py)

Machine: {machine()}. Indexes with no trained re-scorer (the seed corpus of the README's main job; any corpus before
`gorilla-rag train reranker`) used to judge "is this in scope?" by the closest doc's cosine alone. They now also
remember our task-labelled plain questions whose task one of their docs does (retrieval/task_memory.py): the
signal is max(mean cosine of the 5 nearest, closest doc cosine - margin). Questions, seed: {counts['seed']};
APIBench: {counts['APIBench']}. Task questions are scored leave-one-out. The threshold is chosen for both corpora at once:
the most out-of-scope requests caught on the worse corpus while no in-scope set (a corpus's own questions, our task
questions) is wrongly abstained on more than {TARGET_IN:.0%} (goal for out of scope: ≥ {TARGET_OUT:.0%}). Cross-validated: the threshold picked on half of
the out-of-scope kinds and half of the in-scope questions, scored on the other half (both ways). plain_test is a check, never used to choose;
caveat: its questions are closer to our task questions than those are to each other (against one half of the
in_scope + plain_tune sets, the nearest is at a median cosine of 0.64 for plain_test and 0.58 for the other half;
above 0.8 for 19% vs 6%), so its rate under the task signal is optimistic.

{table(["signal", "corpus", "threshold", "out-of-scope abstained", "in-scope wrongly abstained (own questions / task questions)", "cross-validated out / in", "plain_test wrongly abstained"], rows)}
"""
    write_section("abstention-untrained", body)
    print(body)


if __name__ == "__main__":
    main()
