"""What the task words (retrieval/task_words.py) add, measured side by side: the same corpus indexed with and
without them, on three question sets.

- seed: bench/data/seed_questions.jsonl, plainly worded questions over the seed corpus with their gold APIs
  (written by us after the task words; the most biased set, reported for what the README's main job sees);
- plain: plainly worded questions over the APIBench corpus (bench/plain_questions.py: in_scope, written by us
  before the task words existed; plain_tune and plain_test, written later by helpers who had not seen them);
  scored on whether the top API does the labelled task;
- APIBench held-out: the 492 held-out questions (strict@1 / recall@5, untrained hybrid, per hub).

    python bench/bench_task_words.py [--apibench PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import apibench_docs as load_apibench_docs
from common import machine, table, write_section  # noqa: E402
from plain_questions import DATA, PLAIN_SETS, plain_questions, read_jsonl, task_accuracy  # noqa: E402

import gorilla_rag.retrieval.text as indexed_text  # noqa: E402
from gorilla_rag import settings  # noqa: E402
from gorilla_rag.corpus import read_corpus  # noqa: E402
from gorilla_rag.retrieval import Filters, Index  # noqa: E402

RETRIEVERS = ("bm25", "dense", "hybrid")


def build(docs: list, with_words: bool, folder: Path) -> Index:
    original = indexed_text.task_words
    indexed_text.task_words = original if with_words else (lambda doc: "")
    try:
        return Index.build(docs, folder)
    finally:
        indexed_text.task_words = original


def seed_scores(index: Index) -> dict[str, str]:
    questions = read_jsonl(DATA / "seed_questions.jsonl")
    out = {}
    for retriever in RETRIEVERS:
        tops = [[h.doc.id for h in index.search(q["question"], 5, retriever)] for q in questions]
        top1 = np.mean([t[0] in q["gold"] for t, q in zip(tops, questions)])
        top5 = np.mean([any(i in q["gold"] for i in t) for t, q in zip(tops, questions)])
        out[retriever] = f"{top1:.1%} / {top5:.1%}"
    return out


def plain_scores(index: Index) -> dict[str, str]:
    """Top API does the labelled task, per retriever, for each plain set (bench/plain_questions.py)."""
    return {retriever: " / ".join(f"{task_accuracy(index, plain_questions(name), retriever, True):.1%}"
                                  for name in PLAIN_SETS) for retriever in RETRIEVERS}


def apibench_scores(index: Index, apibench: Path) -> dict[str, str]:
    from gorilla_rag.training.pairs import load_pairs, split_pairs

    _, held = split_pairs(load_pairs(apibench, index.verifier))
    out = {}
    for hub in ("huggingface", "torchhub", "tfhub"):
        pairs = [p for p in held if p.hub == hub]
        tops = [[index.api_key(h.doc) for h in index.search(p.question.text, 5, "hybrid", Filters.make(hub))]
                for p in pairs]
        out[hub] = (f"{np.mean([t[0] == p.key for t, p in zip(tops, pairs)]):.1%} / "
                    f"{np.mean([p.key in t for t, p in zip(tops, pairs)]):.1%}")
    return out


def main() -> None:
    apibench, work, apibench_docs = load_apibench_docs(__doc__.split("\n")[0], "task-words-")
    seed_docs = read_corpus(settings.seed_corpus_dir())
    rows = []
    for with_words in (False, True):
        label = "with task words" if with_words else "without"
        seed = seed_scores(build(seed_docs, with_words, work / f"seed-{with_words}"))
        big = build(apibench_docs, with_words, work / f"apibench-{with_words}")
        plain, held = plain_scores(big), apibench_scores(big, apibench)
        rows.append([label, *(seed[r] for r in RETRIEVERS), *(plain[r] for r in RETRIEVERS),
                     *(held[h] for h in ("huggingface", "torchhub", "tfhub"))])
        print(rows[-1], flush=True)
    n_seed = len(read_jsonl(DATA / "seed_questions.jsonl"))
    n_plain = [len(plain_questions(name)) for name in PLAIN_SETS]
    body = "\n".join([
        "## Task words (bench/bench_task_words.py)", "",
        f"Machine: {machine()}. The same corpora indexed with and without the everyday task phrasings that",
        "retrieval/task_words.py adds to each doc's BM25 text. Seed: top-1 / top-5 gold on "
        f"{n_seed} plainly worded seed-corpus questions (bench/data/seed_questions.jsonl, written after the task",
        "words: biased in their favour). Plain: top API does the labelled task (hub filter on), on plainly worded",
        f"questions over the APIBench corpus: in_scope ({n_plain[0]}, written by us before the task words) / plain_tune",
        f"({n_plain[1]}) / plain_test ({n_plain[2]}), both written later by helpers who had not seen them; the task words",
        "learn nothing, so all three are unseen here. APIBench: held-out strict@1 / recall@5 of",
        "untrained hybrid retrieval, per hub.", "",
        table(["index", *(f"seed {r}" for r in RETRIEVERS), *(f"plain {r}" for r in RETRIEVERS),
               "APIBench HF", "APIBench TorchHub", "APIBench TF Hub"], rows),
    ])
    write_section("task-words", body)


if __name__ == "__main__":
    main()
