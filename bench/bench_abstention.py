"""Calibrate abstention: the top candidate's cosine similarity on in-scope vs out-of-scope requests.

In scope: the held-out APIBench questions (never trained on) + the plainly worded in_scope and plain_tune sets
(bench/plain_questions.py). Out of scope: bench/data/out_of_scope.jsonl (written by us; 20 kinds of request no hub
model serves). Check: plain_test (163 plain questions nobody tuned on), scored at each chosen threshold.
With a memory, the doc cosine's margin (Index.best_similarity, DOC_MARGIN) is swept too.
Writes the trade-off curve and the chosen threshold to the 'abstention' section of docs/benchmarks.md.

    python bench/bench_abstention.py [--index FOLDER] [--apibench PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, table, write_section  # noqa: E402
from plain_questions import plain_path  # noqa: E402

from gorilla_rag.indexing import open_index  # noqa: E402
from gorilla_rag.retrieval import scope as scope_module  # noqa: E402
from gorilla_rag.retrieval.memory import QuestionMemory  # noqa: E402
from gorilla_rag.retrieval.task_memory import served_task_questions  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
MARGINS = (0.2, 0.1, 0.075, 0.05)
TARGET_OUT, TARGET_IN = 0.95, 0.03  # ≥95% of out-of-scope abstained, ≤3% of in-scope wrongly abstained


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def top_similarity(index, questions: list[str]) -> np.ndarray:  # noqa: ANN001
    """The pipeline's abstention signal for each question (Index.best_similarity); one of our task questions that
    the index's task memory holds is scored without it (leave-one-out)."""
    memory = index.task_memory
    position = {} if memory is None else {row["question"]: i for i, row in enumerate(served_task_questions(index.docs))}
    scores = []
    for question in questions:
        if question in position:
            keep = np.arange(len(memory)) != position[question]
            tasks = [memory.domains[i] for i in np.flatnonzero(keep)]
            index.task_memory = QuestionMemory(memory.vectors[keep], tasks, tasks)
        scores.append(index.best_similarity(question))
        index.task_memory = memory
    return np.array(scores)


def choose(inside: np.ndarray, outside: np.ndarray) -> tuple[float, list[list[str]]]:
    """The threshold with the most out-of-scope abstained while ≤ TARGET_IN of in-scope is abstained."""
    rows, best = [], None
    for step, threshold in enumerate(np.round(np.arange(0.05, 0.80, 0.005), 3)):
        wrongly = float((inside < threshold).mean())
        caught = float((outside < threshold).mean())
        if step % 5 == 0:  # the curve as printed: every 0.025
            rows.append([f"{threshold:.3f}", f"{caught:.1%}", f"{wrongly:.1%}"])
        if wrongly <= TARGET_IN and (best is None or caught > best[1]):
            best = (float(threshold), caught, wrongly)
    return (best[0] if best else 0.0), rows


def cross_validated(inside: np.ndarray, outside: np.ndarray, kinds: list[str]) -> tuple[float, float]:
    """Two folds by out-of-scope kind and by in-scope position: pick the threshold on one fold, measure it on the
    other (so a kind is never scored by a threshold that saw it). Returns (out abstained, in wrongly abstained)."""
    names = sorted(set(kinds))
    fold_of_kind = {name: i % 2 for i, name in enumerate(names)}
    out_fold = np.array([fold_of_kind[k] for k in kinds])
    in_fold = np.arange(len(inside)) % 2
    caught, wrongly = [], []
    for fold in (0, 1):
        threshold, _ = choose(inside[in_fold != fold], outside[out_fold != fold])
        caught += list(outside[out_fold == fold] < threshold)
        wrongly += list(inside[in_fold == fold] < threshold)
    return float(np.mean(caught)), float(np.mean(wrongly))


def abstains_unless_named(index, questions: list[str], threshold: float) -> float:  # noqa: ANN001
    """Share abstained by the pipeline's rule: below the threshold, unless the question names one of its top 5
    candidates (Pipeline._answer)."""
    from gorilla_rag.retrieval.model_names import named_model

    below = top_similarity(index, questions) < threshold
    return float(np.mean([low and named_model(q, [h.doc for h in index.search(q, 5)], index.docs) is None
                          for q, low in zip(questions, below, strict=True)]))


def measure(index, in_scope: list[str], out_rows: list[dict]) -> dict:  # noqa: ANN001
    inside = top_similarity(index, in_scope)
    outside = top_similarity(index, [r["question"] for r in out_rows])
    threshold, rows = choose(inside, outside)
    per_kind: dict[str, list[bool]] = {}
    for row, sim in zip(out_rows, outside, strict=True):
        per_kind.setdefault(row["category"], []).append(sim < threshold)
    cv = cross_validated(inside, outside, [r["category"] for r in out_rows])
    return {"threshold": threshold, "rows": rows, "per_kind": per_kind, "cv": cv,
            "caught": float((outside < threshold).mean()), "wrongly": float((inside < threshold).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", help="index folder (default: the home's default index)")
    parser.add_argument("--apibench", default=str(REPO.parent / "shared" / "apibench"))
    args = parser.parse_args()
    index = open_index(index=args.index)
    _, held = split_pairs(load_pairs(args.apibench, index.verifier))
    more_tasks = {row["question"] for row in read_jsonl(plain_path("more_tasks"))}
    in_scope = [p.question.text for p in held] + [r["question"] for name in ("in_scope", "plain_tune")
                                                  for r in read_jsonl(plain_path(name))]
    # the rarer tasks' questions, where the corpus does the task: the trained memory alone abstained on many
    in_scope += [r["question"] for r in served_task_questions(index.docs) if r["question"] in more_tasks]
    check = [r["question"] for r in read_jsonl(plain_path("plain_test"))]
    out_rows = read_jsonl(DATA / "out_of_scope.jsonl")
    reranker = index.reranker
    if reranker is not None and reranker.split == "all":
        sys.exit(f"the re-scorer of {index.folder} remembers the held-out questions this bench scores as in scope; "
                 "train it with `gorilla-rag train reranker --hold-out` first")
    results, task_memory = {}, index.task_memory
    index.reranker, index.task_memory = None, None  # the closest doc alone (bench_abstention_untrained.py: the rest)
    results["closest doc"] = measure(index, in_scope, out_rows)
    results["closest doc"]["check"] = float((top_similarity(index, check) < results["closest doc"]["threshold"]).mean())
    default_margin = scope_module.DOC_MARGIN
    if reranker is not None and len(reranker.memory):
        index.reranker = reranker
        for margin in MARGINS:
            scope_module.DOC_MARGIN = margin
            name = f"memory: 5 nearest questions, or closest doc - {margin}"
            results[name] = measure(index, in_scope, out_rows)
            results[name]["check"] = float((top_similarity(index, check) < results[name]["threshold"]).mean())
        scope_module.DOC_MARGIN = default_margin
        index.task_memory = task_memory
        name = (f"memory: 5 nearest questions, nearest task of our task questions, or closest doc - {default_margin}"
                " (default)")
        results[name] = measure(index, in_scope, out_rows)
        results[name]["check"] = float((top_similarity(index, check) < results[name]["threshold"]).mean())
    summary = [[name, f"{r['threshold']:.3f}", f"{r['caught']:.1%}", f"{r['wrongly']:.1%}",
                f"{r['cv'][0]:.1%} / {r['cv'][1]:.1%}", f"{r['check']:.1%}"] for name, r in results.items()]
    default = next(r for name, r in results.items() if name.endswith("(default)") or len(results) == 1)
    naming = [abstains_unless_named(index, questions, default["threshold"])
              for questions in ([r["question"] for r in out_rows], in_scope, check)]
    summary.append(["the default, but a question naming a candidate model is answered (retrieval/model_names.py)",
                    f"{default['threshold']:.3f}", f"{naming[0]:.1%}", f"{naming[1]:.1%}", "–", f"{naming[2]:.1%}"])
    kinds = sorted(next(iter(results.values()))["per_kind"])
    per_kind = [[k] + [f"{np.mean(r['per_kind'][k]):.0%}" for r in results.values()] for k in kinds]
    curves = [[row[0]] + [x for r in results.values() for x in r["rows"][i][1:]]
              for i, row in enumerate(next(iter(results.values()))["rows"])]
    curve_head = ["threshold"] + [f"{name}: {what}" for name in results for what in ("out abstained", "in wrongly")]
    query = index.manifest["embedder"].get("query_encoder") or index.manifest["embedder"]["name"]
    body = f"""## Abstention (bench/bench_abstention.py)

Signal (`Index.best_similarity`): without a memory, the cosine of the closest API doc; with a trained question
memory, the larger of the mean cosine of the 5 nearest remembered training questions and the closest doc's cosine
minus a margin, and (the default) how near the question is to the 3 nearest of our task questions of one task the
corpus serves (retrieval/unserved_tasks.py, task_closeness; query encoder: `{query}`).
In scope: {len(in_scope)} questions ({len(held)} held-out APIBench, never in the memory, + {len(in_scope) - len(held)} plainly worded ones
written by us and helpers: in_scope, plain_tune, and the more_tasks questions whose task the corpus does; each
scored without itself where the task memory holds it); check: {len(check)} plainly worded questions nobody tuned on (plain_test);
out of scope: {len(out_rows)} requests written by us in {len(kinds)} kinds. Goal: ≥ {TARGET_OUT:.0%} of out-of-scope
abstained with ≤ {TARGET_IN:.0%} of in-scope wrongly abstained. The chosen threshold is the best one on all the data;
the cross-validated column picks it on half of the kinds (and half of the in-scope questions) and scores the other
half, so no kind is scored by a threshold that saw it.

{table(["signal", "chosen threshold", "out-of-scope abstained", "in-scope wrongly abstained", "cross-validated out / in",
        "plain_test wrongly abstained"], summary)}

Out-of-scope abstained at the chosen threshold, per kind:

{table(["kind"] + list(results), per_kind)}

Trade-off curves:

{table(curve_head, curves)}
"""
    write_section("abstention", body)
    print(body)


if __name__ == "__main__":
    main()
