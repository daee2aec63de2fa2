"""The `gorilla-rag eval …` commands (thin: parse arguments, call run.py, print)."""

from __future__ import annotations

import argparse
import json
import sys


def cmd_eval_apibench(args: argparse.Namespace) -> int:
    """Run the pipeline over an APIBench question file and print strict/official accuracy and recall@k."""
    from gorilla_rag.evaluation.checks import check_gold_in_corpus, check_hub, require_questions
    from gorilla_rag.evaluation.questions import load_questions, write_responses
    from gorilla_rag.evaluation.run import evaluate_pipeline
    from gorilla_rag.evaluation.scoring import format_report
    from gorilla_rag.generation import load_generator
    from gorilla_rag.indexing import open_index
    from gorilla_rag.pipeline import Pipeline
    from gorilla_rag.retrieval import canonical_source

    hub = canonical_source(args.hub)
    questions = load_questions(args.questions)
    require_questions(questions, args.questions, args.split)
    check_hub(questions, hub, args.questions)
    if args.split != "all":  # the fixed split training uses: numbers on trained-on questions are not results
        from gorilla_rag.training.pairs import is_held_out

        questions = [q for q in questions if is_held_out(q.text) == (args.split == "held-out")]
    questions = questions[: args.limit]
    index = open_index(args.home, args.index)
    retriever = config_retriever(args.config) if args.config else args.retriever or index.default_retriever
    if retriever != "rerank":  # the stack evaluated has no re-scorer: nor its question memory (abstention)
        index.reranker = None
    learned = getattr(index.reranker, "split", None)  # None: no re-scorer, nothing learned from questions
    if args.split != "all" and learned == "all":
        from gorilla_rag.errors import GorillaError

        raise GorillaError(f"index {index.folder}: its re-scorer remembers every APIBench question, the held-out "
                           f"ones too, so --split {args.split} with it would score questions it learned; retrain "
                           "it with `gorilla-rag train reranker --hold-out` first, or evaluate a stack without it "
                           "(--retriever hybrid)")
    if args.config:
        apply_config(index, args.config)
    pipeline = Pipeline(index, load_generator(args.generator), retriever=retriever)
    not_in_corpus = check_gold_in_corpus(questions, pipeline.verifier, hub, f"index {index.folder}")
    report, texts = evaluate_pipeline(pipeline, questions, hub, progress=not args.json)
    report.update({"hub": hub, "config": args.config or pipeline.retriever, "generator": args.generator,
                   "split": args.split, "reranker_learned": learned, "gold_not_in_corpus": not_in_corpus})
    caveat = trained_on_caveat(args.questions, args.split, learned)
    if caveat:
        report["caveat"] = caveat
    if args.responses_out:
        write_responses(args.responses_out, texts)
        print(f"wrote {len(texts)} responses to {args.responses_out}", file=sys.stderr)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def trained_on_caveat(questions: str, split: str, learned: str | None) -> str | None:
    """What to say when the index's re-scorer learned some of the questions being scored (a file `train reranker`
    reads: same name), so the numbers are partly on training data; None when it did not."""
    from pathlib import Path

    from gorilla_rag.training.pairs import QUESTION_FILES

    if learned is None or Path(questions).name not in {Path(f).name for f in QUESTION_FILES.values()}:
        return None
    if learned == "all":
        return ("the index's re-scorer learned every question of this file (`train reranker`): these numbers are on "
                "training data, not a result; train with --hold-out and score --split held-out")
    if split != "held-out":
        return (f"the index's re-scorer learned the {'train' if split == 'train' else 'non-held-out'} questions of "
                "this file: only --split held-out scores questions it never saw")
    return None


def cmd_eval_responses(args: argparse.Namespace) -> int:
    """Score a Gorilla-format response file (another system's output) against a question file."""
    from gorilla_rag.evaluation.checks import check_gold_in_corpus, check_hub, check_responses, require_questions
    from gorilla_rag.evaluation.questions import load_questions, load_responses
    from gorilla_rag.evaluation.run import corpus_docs_for, evaluate_responses
    from gorilla_rag.evaluation.scoring import format_report
    from gorilla_rag.retrieval import canonical_source
    from gorilla_rag.verify import Verifier

    hub = canonical_source(args.hub)
    questions = load_questions(args.questions)
    require_questions(questions, args.questions)
    check_hub(questions, hub, args.questions)
    texts = load_responses(args.responses)
    check_responses(questions, texts, args.questions, args.responses)
    docs = corpus_docs_for(hub, args.corpus, args.home)
    verifier = Verifier(docs)
    not_in_corpus = check_gold_in_corpus(questions, verifier, hub, args.corpus or "the home corpus")
    report = evaluate_responses(verifier, questions, texts, docs, hub)
    report.update({"hub": hub, "gold_not_in_corpus": not_in_corpus})
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def cmd_eval_abstention(args: argparse.Namespace) -> int:
    """How well the index's abstention tells your in-scope questions from your out-of-scope requests: the curve, the
    rates at its threshold, the threshold your bound gives (--save keeps it as the index's)."""
    from gorilla_rag.evaluation import abstention_curve as curve
    from gorilla_rag.indexing import open_index
    from gorilla_rag.retrieval import canonical_source

    source = canonical_source(args.source) if args.source else None
    in_scope = curve.load_question_lines(args.in_scope)
    out_of_scope = curve.load_question_lines(args.out_of_scope) if args.out_of_scope else None
    index = open_index(args.home, args.index)
    result = curve.report(index, curve.score(index, in_scope, source),
                          curve.score(index, out_of_scope, source) if out_of_scope else None, args.max_in_scope)
    if args.save:
        curve.save(index, result)
        result["saved"] = (f"saved: {index.folder} abstains below {result['recommended']['threshold']:.3f} from now on "
                           f"(for the {result['signal']} signal; `index build` starts afresh)")
    print(json.dumps(result, indent=2) if args.json else curve.format_report(result))
    return 0


# Retrieval stacks for ablations: "-base" reads questions with the untrained base model instead of the
# index's fine-tuned query encoder.
CONFIGS = ("bm25", "dense-base", "hybrid-base", "dense", "hybrid", "rerank")


def config_retriever(config: str) -> str:
    """The retriever a named retrieval stack searches with."""
    if config not in CONFIGS:
        raise ValueError(f"unknown config {config!r}: choose one of {', '.join(CONFIGS)}")
    return config.partition("-")[0]


def apply_config(index, config: str) -> str:  # noqa: ANN001
    """Set the index up for a named retrieval stack; returns the retriever name to search with."""
    from gorilla_rag.retrieval.embedder import Embedder

    name = config_retriever(config)
    if config.endswith("-base"):
        index.use_query_encoder(Embedder(index.manifest["embedder"]["name"]))
    return name


def add_commands(sub, groups, command) -> None:  # noqa: ANN001
    from gorilla_rag.cli_types import positive_int, share

    evaluate = groups["eval"]
    p = command("apibench", cmd_eval_apibench, parent=evaluate)
    p.add_argument("--questions", required=True, help="APIBench question file (JSON lines)")
    p.add_argument("--hub", required=True, help="huggingface, torchhub or tfhub (retrieval is restricted to it)")
    p.add_argument("--responses-out", help="write Gorilla-format responses here")
    p.add_argument("--retriever", choices=["bm25", "dense", "hybrid", "rerank"],
                       help="default: rerank when the index has a trained reranker, else hybrid")
    p.add_argument("--config", choices=CONFIGS, help="retrieval stack to evaluate (overrides --retriever)")
    p.add_argument("--generator", default="extractive", help="generator spec (default: extractive)")
    p.add_argument("--index", help="index name or folder")
    p.add_argument("--split", choices=["all", "held-out", "train"], default="all",
                   help="only the questions of this side of the fixed 30%% held-out split (see `train`)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="only the first N questions (N ≥ 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = command("abstention", cmd_eval_abstention, parent=evaluate)
    p.add_argument("--in-scope", required=True, metavar="FILE",
                   help="questions the corpus should answer: text, one per line, or JSON lines with 'question'")
    p.add_argument("--out-of-scope", metavar="FILE", help="requests it should decline (same formats)")
    p.add_argument("--max-in-scope", type=share, default=0.03, metavar="SHARE",
                   help="the share of in-scope questions the recommended threshold may abstain on (default 0.03)")
    p.add_argument("--source", help="restrict to one hub, as `ask --source` does")
    p.add_argument("--index", help="index name or folder")
    p.add_argument("--save", action="store_true", help="keep the recommended threshold as the index's own")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = command("responses", cmd_eval_responses, parent=evaluate)
    p.add_argument("--questions", required=True, help="APIBench question file (JSON lines)")
    p.add_argument("--hub", required=True, help="huggingface, torchhub or tfhub")
    p.add_argument("--responses", required=True, help="Gorilla-format response file (JSON lines)")
    p.add_argument("--corpus", help="API corpus file or folder to match against (default: the home's corpus)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
