"""`gorilla-rag train retriever|reranker` — thin over training/retriever.py and retrieval/rerank.py."""

from __future__ import annotations

import argparse
import json
import sys


def cmd_train_retriever(args: argparse.Namespace) -> int:
    """Fine-tune the query encoder on APIBench (question, gold API) pairs; the held-out split is never trained on."""
    from gorilla_rag import settings
    from gorilla_rag.indexing import open_index
    from gorilla_rag.training.retriever import train_retriever

    out = settings.paths(args.home).models / args.name
    card = train_retriever(open_index(args.home, args.index), _apibench(args), out, base=args.base, epochs=args.epochs,
                           batch_size=args.batch_size)
    print(json.dumps(card, indent=2))
    print(f"saved {out}; next: gorilla-rag index build (uses it by default)", file=sys.stderr)
    return 0


def _apibench(args: argparse.Namespace):  # noqa: ANN202
    from pathlib import Path

    from gorilla_rag import settings
    from gorilla_rag.errors import GorillaError

    apibench = Path(args.apibench) if args.apibench else settings.apibench_dir()
    if apibench is None or not (apibench / "api").is_dir():
        raise GorillaError("no APIBench data: pass --apibench PATH (the folder with api/, eval/, train/)")
    return apibench


def cmd_train_reranker(args: argparse.Namespace) -> int:
    """Fit the learned re-scorer on APIBench questions, save it, and install it into the index."""
    from gorilla_rag import settings
    from gorilla_rag.indexing import open_index
    from gorilla_rag.training.rerank_training import train_reranker

    index = open_index(args.home, args.index, with_reranker=False)  # replaced: an old or broken one is no obstacle
    out = settings.paths(args.home).models / settings.TRAINED_RERANKER
    card = train_reranker(index, _apibench(args), out, hold_out=args.hold_out)
    print(json.dumps(card, indent=2))
    print(f"saved {out} and installed it in {index.folder}; `ask` now uses --retriever rerank", file=sys.stderr)
    return 0


def add_commands(sub, groups, command) -> None:  # noqa: ANN001
    from gorilla_rag.cli_types import positive_int

    p = command("reranker", cmd_train_reranker, parent=groups["train"])
    p.add_argument("--apibench", help="APIBench folder (default: $GORILLA_RAG_APIBENCH or ../shared/apibench)")
    p.add_argument("--index", help="index whose query encoder the reranker is trained for (default: the home's)")
    p.add_argument("--hold-out", action="store_true",
                   help="leave the fixed 30%% held-out split out (to score it with `eval apibench --split held-out`)")

    p = command("retriever", cmd_train_retriever, parent=groups["train"])
    p.add_argument("--apibench", help="APIBench folder (default: $GORILLA_RAG_APIBENCH or ../shared/apibench)")
    p.add_argument("--name", default="apibench-retriever", help="model name under <home>/models/")
    p.add_argument("--base", default="all-MiniLM-L6-v2", help="model to start from")
    p.add_argument("--index", help="index whose document vectors to train against (default: the home's)")
    p.add_argument("--epochs", type=positive_int, default=2, help="passes over the training pairs (2)")
    p.add_argument("--batch-size", type=positive_int, default=32,
                   help="pairs per step; the other pairs of a batch are its in-batch negatives (32)")
