"""Requests for a task the corpus has no model for (retrieval/unserved_tasks.py): `ask` with the check off and on.

Two corpora: the seed corpus (the README's main job, 70 APIs) and APIBench (1,726 records; untrained hybrid, and
the re-scorer fitted in this run on the training split). Questions, none of them remembered by the check:
- bench/data/near_miss.jsonl: 130 requests written for this by a helper who saw none of our questions: 90 for ten
  task labels the seed corpus lacks (APIBench serves all ten: there they are in scope), 40 for tasks outside our
  labels ("other": language ID, keyword spotting, optical flow, ...; no right answer is judged for them);
- plain_test (never trained on), split by whether the corpus serves the question's task;
- each corpus's own questions (seed questions; APIBench held-out split) and bench/data/out_of_scope.jsonl.
A served request counts as wrongly abstained when `ask` says no_match. Writes the 'unserved' section of
docs/benchmarks.md.

    python bench/bench_unserved.py [--apibench PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_abstention import DATA, read_jsonl  # noqa: E402
from common import apibench_docs, machine, percentiles_ms, table, write_section  # noqa: E402
from plain_questions import plain_path  # noqa: E402

from gorilla_rag import settings  # noqa: E402
from gorilla_rag.corpus.store import read_corpus  # noqa: E402
from gorilla_rag.pipeline import Pipeline  # noqa: E402
from gorilla_rag.retrieval import Index  # noqa: E402
from gorilla_rag.retrieval.unserved_tasks import MARGIN, build_unserved_memory, unserved_labels  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402
from gorilla_rag.training.rerank_training import fit_reranker  # noqa: E402

SET_NAMES = ("near_miss, task lacking", "plain_test, task lacking", "near_miss, other tasks", "near_miss, task served",
             "plain_test, task served", "own questions", "out of scope")


def question_sets(index: Index, own: list[str]) -> dict[str, tuple[list[str], bool | None]]:
    """name → (questions, whether `ask` should abstain: True, False, or None when not judged)."""
    lacking = unserved_labels(index.docs)
    near = read_jsonl(DATA / "near_miss.jsonl")
    plain = read_jsonl(plain_path("plain_test"))
    sets = {
        "near_miss, task lacking": ([r["question"] for r in near if r["task"] in lacking], True),
        "plain_test, task lacking": ([r["question"] for r in plain if r["task"] in lacking], True),
        "near_miss, other tasks": ([r["question"] for r in near if r["task"].startswith("other:")], None),
        "near_miss, task served": ([r["question"] for r in near if not r["task"].startswith("other:")
                                    and r["task"] not in lacking], False),
        "plain_test, task served": ([r["question"] for r in plain if r["task"] not in lacking], False),
        "own questions": (own, False),
        "out of scope": ([r["question"] for r in read_jsonl(DATA / "out_of_scope.jsonl")], True),
    }
    return {name: value for name, value in sets.items() if value[0]}


def run(index: Index, own: list[str]) -> tuple[dict[str, tuple[int, int]], float]:
    """Per set (no_match answers, questions), and the ask p50 in ms over the own questions."""
    import time

    pipe = Pipeline(index)
    counts, samples = {}, []
    for name, (questions, _) in question_sets(index, own).items():
        abstained = 0
        for question in questions:
            started = time.perf_counter()
            abstained += pipe.ask(question).status == "no_match"
            if name == "own questions":
                samples.append(time.perf_counter() - started)
        counts[name] = (abstained, len(questions))
    return counts, percentiles_ms(samples)["p50"]


def main() -> None:
    apibench, work, docs = apibench_docs(__doc__, "gorilla-bench-unserved-")
    seed = Index.build(read_corpus(settings.seed_corpus_dir()), work / "seed-index")
    api = Index.build(docs, work / "apibench-index")
    train, held = split_pairs(load_pairs(apibench, api.verifier))
    setups = [("seed", "hybrid (untrained)", seed, [r["question"] for r in read_jsonl(DATA / "seed_questions.jsonl")]),
              ("APIBench", "hybrid (untrained)", api, [p.question.text for p in held])]
    rows, judged = [], {}
    for corpus, ranker, index, own in setups + [("APIBench", "re-scorer (trained on the training split)", api, None)]:
        if own is None:
            index.reranker, own = fit_reranker(index, train), setups[1][3]
        checked = index.unserved_memory or build_unserved_memory(index.docs, index.dense.query_embedder)
        sets = question_sets(index, own)
        judged[corpus] = {name: len(questions) for name, (questions, _) in sets.items()}
        for check in (False, True):
            index.unserved_memory = checked if check else None
            counts, p50 = run(index, own)
            cells = {name: f"{counts[name][0] / counts[name][1]:.1%}" + (" ✗" if should is False else "")
                     for name, (_, should) in sets.items()}
            rows.append([corpus, ranker, "on" if check else "off", *(cells.get(n, "–") for n in SET_NAMES),
                         f"{p50:.1f}"])
            print(rows[-1], flush=True)
    headers = ["corpus", "ranker", "check", *SET_NAMES, "ask p50 ms"]
    counts = "; ".join(f"{corpus}: " + ", ".join(f"{k} {v}" for k, v in sets.items()) for corpus, sets in judged.items())
    body = f"""## Requests for a task the corpus lacks (bench/bench_unserved.py)

Machine: {machine()}. `ask` with the unserved-task check off and on (retrieval/unserved_tasks.py: a question whose
3 nearest task questions of one task no doc does are, on average, at least {MARGIN} closer than those of every
task the corpus serves gets no_match naming that task). Cells: share answered no_match; ✗ marks in-scope sets,
where every no_match is wrong; "other tasks" are tasks outside our labels (not judged). Questions: {counts}.
The near_miss requests were written after the check and its margin were chosen, by a helper who had seen none of
our questions; APIBench serves all ten of their labelled tasks, so there they are in scope.

{table(headers, rows)}
"""
    write_section("unserved", body)
    print(body)


if __name__ == "__main__":
    main()
