"""Abstention thresholds for encoders other than the bundled MiniLM: the defaults vs the calibration an index (or
a re-scorer) makes for itself from its remembered in-scope questions (retrieval/abstention.py).

Encoders: the bundled MiniLM (the defaults were chosen for it: the rows show what the calibration rule would pick
instead), a fine-tuned query encoder over MiniLM docs (`--tuned`, from `gorilla-rag train retriever`), and MiniLM
read with CLS pooling on both sides, a stand-in for embedders whose cosines crowd together (e5, bge): no other
model can be downloaded here. Corpora: the seed (in scope: bench/data/seed_questions.jsonl) and APIBench (in scope:
the held-out questions); out of scope: bench/data/out_of_scope.jsonl, never used by the calibration. Untrained
indexes read the task-question signal; "trained memory" rows fit a re-scorer on the APIBench training split in this
run with that encoder. No hub filter (an `ask` without a source). Writes the 'calibration' section of
docs/benchmarks.md.

    python bench/bench_calibration.py [--apibench PATH] [--tuned MODEL]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, table, write_section  # noqa: E402

from gorilla_rag import settings  # noqa: E402
from gorilla_rag.corpus.apibench import import_apibench  # noqa: E402
from gorilla_rag.corpus.store import read_corpus  # noqa: E402
from gorilla_rag.evaluation.abstention_curve import Scored, recommend  # noqa: E402
from gorilla_rag.retrieval import Index  # noqa: E402
from gorilla_rag.retrieval.abstention import DEFAULT_THRESHOLDS, TASK_DOC_MARGIN, calibrate  # noqa: E402
from gorilla_rag.retrieval.embedder import Embedder, resolve_model_path  # noqa: E402
from gorilla_rag.retrieval.index import DOC_MARGIN  # noqa: E402
from gorilla_rag.training.pairs import load_pairs, split_pairs  # noqa: E402
from gorilla_rag.training.rerank_training import fit_reranker  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
TARGET_IN = 0.03


def questions(name: str) -> list[str]:
    return [json.loads(line)["question"] for line in (DATA / name).read_text().splitlines() if line.strip()]


KINDS = [json.loads(line)["category"] for line in (DATA / "out_of_scope.jsonl").read_text().splitlines() if line.strip()]


def cls_pooled_minilm(folder: Path) -> str:
    """The bundled MiniLM's files, read with CLS pooling instead of mean pooling."""
    shutil.copytree(resolve_model_path("all-MiniLM-L6-v2"), folder)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    return str(folder)


def rates(index: Index, sets: dict[str, list[str]], threshold: float) -> list[str]:
    scores = {name: np.array([index.best_similarity(q) for q in qs]) for name, qs in sets.items()}
    return [f"{float((v < threshold).mean()):.1%}" for v in scores.values()]


def with_own_questions(index: Index, sets: dict[str, list[str]], kinds: list[str]) -> list[str]:
    """`eval abstention --save` as a user with their own sets would run it, 2-fold: the threshold recommended on
    half of the in-scope questions (by position) and half of the out-of-scope kinds, scored on the other halves."""
    scores = {name: np.array([index.best_similarity(q) for q in qs]) for name, qs in sets.items()}
    names = sorted(set(kinds))
    folds = {"out": np.array([names.index(kind) % 2 for kind in kinds]), "own": np.arange(len(sets["own"])) % 2}
    caught: dict[str, list[bool]] = {"out": [], "own": []}
    chosen = []
    for fold in (0, 1):
        fitted = Scored(scores["own"][folds["own"] != fold], np.zeros(int((folds["own"] != fold).sum()), dtype=bool))
        chosen.append(recommend(fitted, TARGET_IN))
        for name in caught:
            caught[name] += list(scores[name][folds[name] == fold] < chosen[-1])
    return [" / ".join(f"{t:.3f}" for t in chosen) + " (your questions, 2-fold)",
            f"{np.mean(caught['out']):.1%}", f"{np.mean(caught['own']):.1%}"]


def untrained_rows(label: str, corpus: str, index: Index, sets: dict[str, list[str]], before: str) -> list[list[str]]:
    """The default (or, `before`, what the index read before calibration existed) vs the calibrated threshold."""
    rows = []
    calibration = calibrate(index.task_memory, index.dense, TASK_DOC_MARGIN)
    if before == "closest doc":  # a fine-tuned query encoder used to keep the doc signal at its default
        saved, index.task_memory = index.task_memory, None
        rows.append([label, corpus, "closest doc", f"{DEFAULT_THRESHOLDS['closest doc']:.3f} (before)",
                     *rates(index, sets, DEFAULT_THRESHOLDS["closest doc"])])
        index.task_memory = saved
    else:
        default = DEFAULT_THRESHOLDS["task questions"]
        rows.append([label, corpus, "task questions", f"{default:.3f} (default{', before' if before else ''})",
                     *rates(index, sets, default)])
    how = "calibrated" if index.abstention_calibration else "calibration rule, not used: default kept"
    assert index.abstention_calibration in (None, calibration)
    rows.append([label, corpus, "task questions", f"{calibration.threshold:.3f} ({how})",
                 *rates(index, sets, calibration.threshold)])
    rows.append([label, corpus, "task questions", *with_own_questions(index, sets, KINDS)])
    print(rows[-3:], flush=True)
    return rows


def trained_rows(label: str, index: Index, train: list, sets: dict[str, list[str]]) -> list[list[str]]:
    index.reranker = fit_reranker(index, train)
    calibration = index.reranker.calibration or calibrate(index.reranker.memory, index.dense, DOC_MARGIN, index.task_memory)
    how = "calibrated" if index.reranker.calibration else "calibration rule, not used: default kept"
    rows = [[label, "APIBench", "trained memory", f"{DEFAULT_THRESHOLDS['memory']:.3f} (default)",
             *rates(index, sets, DEFAULT_THRESHOLDS["memory"])],
            [label, "APIBench", "trained memory", f"{calibration.threshold:.3f} ({how})",
             *rates(index, sets, calibration.threshold)],
            [label, "APIBench", "trained memory", *with_own_questions(index, sets, KINDS)]]
    index.reranker = None
    print(rows, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apibench", type=Path, default=settings.apibench_dir())
    parser.add_argument("--tuned", help="a fine-tuned query encoder (model name under <home>/models/ or folder)")
    args = parser.parse_args()
    if args.apibench is None:
        sys.exit("APIBench not found: pass --apibench or set GORILLA_RAG_APIBENCH")
    work = Path(tempfile.mkdtemp(prefix="gorilla-bench-calibration-"))
    import_apibench(args.apibench, work / "corpus")
    corpora = {"seed": read_corpus(settings.seed_corpus_dir()), "APIBench": read_corpus(work / "corpus")}
    cls = cls_pooled_minilm(work / "minilm-cls")
    out = questions("out_of_scope.jsonl")
    rows, trained = [], []
    for corpus, docs in corpora.items():
        base = Index.build(docs, work / f"{corpus}-base")
        train, held = split_pairs(load_pairs(args.apibench, base.verifier)) if corpus == "APIBench" else ([], [])
        own = [p.question.text for p in held] if held else questions("seed_questions.jsonl")
        sets = {"out": out, "own": own}
        rows += untrained_rows("MiniLM (bundled)", corpus, base, sets, before="")
        if held:
            trained += trained_rows("MiniLM (bundled)", base, train, sets)
        if args.tuned:
            base.use_query_encoder(Embedder(args.tuned, precision="auto"))  # re-encodes and recalibrates
            rows += untrained_rows("fine-tuned query encoder", corpus, base, sets, before="closest doc")
            if held:
                trained += trained_rows("fine-tuned query encoder", base, train, sets)
        crowded = Index.build(docs, work / f"{corpus}-cls", Embedder(cls))
        rows += untrained_rows("MiniLM, CLS pooling", corpus, crowded, sets, before="default")
        if held:
            trained += trained_rows("MiniLM, CLS pooling", crowded, train, sets)
    body = f"""## Abstention thresholds for other encoders (bench/bench_calibration.py)

Machine: {machine()}. The default thresholds ({DEFAULT_THRESHOLDS['memory']} trained memory, {DEFAULT_THRESHOLDS['task questions']} task questions, {DEFAULT_THRESHOLDS['closest doc']} closest doc) were
chosen for the bundled MiniLM. An index read by any other encoder now calibrates its own: the 2% quantile of its
remembered in-scope questions' signal, each scored without itself (retrieval/abstention.py); the out-of-scope set
below never took part. "MiniLM, CLS pooling" is the bundled model read with CLS pooling on both sides: unrelated
sentences sit at cosine ~0.55, as with e5 or bge models (none can be downloaded here). The fine-tuned query encoder
reads questions against MiniLM doc vectors; before, its indexes kept the closest-doc signal at 0.25. In scope: the
seed questions (seed corpus) and the {len(held)} held-out APIBench questions; no hub filter. "Your questions, 2-fold":
what `gorilla-rag eval abstention --save` gives a user who has in-scope and out-of-scope sets of their own: the
threshold recommended (in-scope wrongly abstained ≤ 3%) on half of the in-scope questions and half of the
out-of-scope kinds, scored on the other halves, both ways (the two thresholds shown).

{table(["encoder", "corpus", "signal", "threshold", "out-of-scope abstained (goal ≥ 95%)", "in-scope wrongly abstained (goal ≤ 3%)"], rows + trained)}
"""
    write_section("calibration", body)
    print(body)


if __name__ == "__main__":
    main()
