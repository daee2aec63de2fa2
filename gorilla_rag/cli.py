"""gorilla-rag: turn "give me code to do X" into a verified API call.

Data goes to stdout, messages to stderr; --json where a program reads the output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

SOURCE_HELP = "restrict to one hub: huggingface, torchhub or tfhub"


def _emit(data: object, as_json: bool, text: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text)


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer a question with a verified API call."""
    from gorilla_rag.pipeline import Pipeline, check_question
    from gorilla_rag.rendering import answer_text
    from gorilla_rag.retrieval import Filters

    question, filters = check_question(" ".join(args.question)), Filters.make(args.source)  # fail before loading
    pipeline = Pipeline.load(home=args.home, index=args.index, generator=args.generator,
                             retriever=args.retriever, allow_unverified=args.allow_unverified,
                             min_similarity=args.min_similarity)
    answer = pipeline.ask(question, k=args.k, filters=filters)
    _emit(answer.to_dict(), args.json, answer_text(answer))
    return 0 if answer.status in ("verified", "repaired") else 1


def cmd_search(args: argparse.Namespace) -> int:
    """Show the APIs retrieved for a question, best first."""
    from gorilla_rag.indexing import open_index
    from gorilla_rag.pipeline import check_question
    from gorilla_rag.retrieval import Filters
    from gorilla_rag.retrieval.constraints import merge, parse_constraints
    from gorilla_rag.retrieval.task_direction import missing_task

    question = check_question(" ".join(args.question))
    filters = merge(Filters.make(args.source), parse_constraints(question))  # the same constraints `ask` applies
    index = open_index(args.home, args.index)
    hits = index.search(question, k=args.k, retriever=args.retriever, filters=filters)
    text = "\n".join(f"{i}. {h.score:.4f}  {h.doc.api_call}   [{h.doc.id}]"
                     + (f"\n   ranked below higher scores: {h.moved_down}" if h.moved_down else "")
                     for i, h in enumerate(hits, 1))
    if hits and len(hits) < args.k:  # stderr: the JSON on stdout stays clean
        print(f"{len(hits)} of the {args.k} APIs asked for: no more match"
              + (" the constraints" if not filters.empty else " in this index"), file=sys.stderr)
    if (missing := missing_task(question, index.docs, index.mask(filters))) is not None:
        print(f"note: the question asks for {missing.name}, and no API listed does that (`ask` answers no_match)",
              file=sys.stderr)
    if not filters.empty and not args.json:
        print(f"constraints applied: {filters.describe()}", file=sys.stderr)
    _emit([h.to_dict() for h in hits], args.json, text or "no results")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Check code (or '-' for stdin) against the corpus: which API each of its calls loads, if any.

    Exit status 0 when every API call is a corpus API and the code is valid Python; 1 when a call is hallucinated,
    of another hub, underspecified or broken, when the code does not parse, or when no API call is found.
    """
    from gorilla_rag.errors import GorillaError
    from gorilla_rag.indexing import open_index_docs
    from gorilla_rag.retrieval import canonical_source
    from gorilla_rag.verify import Verifier
    from gorilla_rag.verify.report import passes, verification_text

    text = sys.stdin.read() if args.code == ["-"] else " ".join(args.code)
    if not text.strip():  # before the index loads
        raise GorillaError("the code to verify is empty: give code, or '-' to read it from stdin")
    source = canonical_source(args.source) if args.source else None
    result = Verifier(open_index_docs(args.home, args.index)).verify(text, source=source)
    _emit(result.to_dict(), args.json, verification_text(result))
    return 0 if passes(result) else 1


def cmd_corpus_import(args: argparse.Namespace) -> int:
    """Import the APIBench API corpora (a folder, a URL, or by default the pinned upstream files)."""
    from gorilla_rag.corpus.apibench import import_apibench
    from gorilla_rag.retrieval import canonical_source
    from gorilla_rag.settings import paths

    if args.format != "apibench":
        raise ValueError(f"unknown corpus format {args.format!r}: only 'apibench' can be imported")
    sources = tuple(canonical_source(s) for s in args.sources) if args.sources else None
    target = paths(args.home).active_corpus
    counts = import_apibench(args.location, target, **({"sources": sources} if sources else {}),
                             skip_invalid=args.skip_invalid)
    print(f"imported {sum(counts.values())} docs into {target}: "
          + ", ".join(f"{s} {n}" for s, n in counts.items()), file=sys.stderr)
    print("next: gorilla-rag index build", file=sys.stderr)
    return 0


def cmd_corpus_validate(args: argparse.Namespace) -> int:
    """Check a corpus folder or file; every bad record is listed with file and line."""
    from gorilla_rag.corpus import read_corpus
    from gorilla_rag.corpus.apibench import import_hint, is_apibench_file, validate_apibench_file
    from gorilla_rag.corpus.store import corpus_files
    from gorilla_rag.settings import paths

    target = Path(args.path) if args.path else paths(args.home).corpus_for_index()
    files = corpus_files(target)
    if all(is_apibench_file(file) for file in files):  # raw APIBench API files: check them as the import reads them
        for file in files:
            source, count = validate_apibench_file(file)
            print(f"{file}: APIBench API file ({source}), {count} records, all valid; {import_hint(file)}")
        return 0
    docs = read_corpus(target)
    print(f"{target}: {len(docs)} docs, all valid")
    return 0


def cmd_index_build(args: argparse.Namespace) -> int:
    """Build the BM25 + dense index (hybrid fuses them at query time) from the home's corpus."""
    from gorilla_rag.indexing import build_index

    index = build_index(args.home, args.name, args.corpus, embedder=args.embedder,
                        show_progress=sys.stderr.isatty(), query_encoder=args.query_encoder)
    sources = ", ".join(f"{name} {count}" for name, count in index.manifest["sources"].items())
    print(f"built {index.folder}: {len(index.docs)} docs ({sources})", file=sys.stderr)
    return 0


def _lines(data: dict, prefix: str = "") -> list[str]:
    """Nested dicts as `a.b: value` lines; lists joined with commas."""
    out = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out += _lines(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
    return out


def cmd_index_info(args: argparse.Namespace) -> int:
    """Show what an index holds and how it was built."""
    from gorilla_rag.indexing import resolve_index_folder, stale_reranker
    from gorilla_rag.retrieval.index_files import read_index_manifest
    from gorilla_rag.retrieval.rerank import RERANKER_FILE

    folder = resolve_index_folder(args.home, args.name)
    manifest = read_index_manifest(folder)
    reranker = folder / RERANKER_FILE
    if reranker.is_file():  # what was trained into it, without the weights and remembered vectors
        import json

        data = json.loads(reranker.read_text(encoding="utf-8"))
        memory = data.pop("memory", None) or {}
        manifest["reranker"] = {**{k: v for k, v in data.items() if k not in ("weights", "mean", "scale", "features")},
                                "features": len(data.get("features", [])),
                                "memory_questions": len(memory.get("keys", []))}
        manifest["retrievers"] = [*manifest.get("retrievers", []), "rerank"]
    from gorilla_rag.errors import IndexLoadError
    from gorilla_rag.retrieval import Index

    try:  # the manifest can be fine while a part is missing or corrupt
        from gorilla_rag.retrieval.abstention import describe

        index = Index.load(folder)
        manifest["abstention"] = describe(index)
        if index.unserved_memory is not None:  # requests for these get no_match naming the task
            from gorilla_rag.training.task_questions import NO_MODEL

            manifest["tasks_lacking"] = ", ".join(t for t in index.unserved_memory.domain_names if t != NO_MODEL)
        manifest["check"] = "ok: every part loads and matches the manifest"
        stale = stale_reranker(folder)
        if stale:
            manifest["check"] += f"; warning: {stale}"
    except IndexLoadError as exc:
        manifest["check"] = f"BROKEN: {exc}"
    _emit(manifest, args.json, "\n".join(_lines(manifest)))
    return 0 if manifest["check"].startswith("ok") else 1


# Modules that add their own commands: each has `add_commands(sub, groups, command)` and imports nothing heavy
# at module level. `groups` maps a group name ("corpus", "index", "eval", "train") to its subparsers.
COMMAND_MODULES = (
    "gorilla_rag.evaluation.commands",
    "gorilla_rag.training.commands",
    "gorilla_rag.training.rat_commands",
    "gorilla_rag.scrapers.commands",
    "gorilla_rag.interface_commands",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    from gorilla_rag.cli_types import positive_int, similarity

    parser = argparse.ArgumentParser(prog="gorilla-rag", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", help="folder holding api_corpus/ and indexes/ (default: $GORILLA_RAG_HOME, "
                                       "the checkout, or the user cache)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func, parent=sub, **kw) -> argparse.ArgumentParser:  # noqa: ANN001
        p = parent.add_parser(name, help=func.__doc__.splitlines()[0], description=func.__doc__, **kw)
        p.set_defaults(func=func)
        # Also accepted after the command; SUPPRESS keeps a value given before it.
        p.add_argument("--home", default=argparse.SUPPRESS, help="home folder (api_corpus/ and indexes/)")
        return p

    for name, func in (("ask", cmd_ask), ("search", cmd_search)):
        p = command(name, func)
        p.add_argument("question", nargs="+", help="what the code should do")
        p.add_argument("--source", help=SOURCE_HELP)
        p.add_argument("-k", type=positive_int, default=5, help="candidates to retrieve (default 5)")
        p.add_argument("--retriever", choices=["bm25", "dense", "hybrid", "rerank"],
                       help="default: rerank when the index has a trained reranker, else hybrid")
        p.add_argument("--index", help="index name under the home, or a folder")
        p.add_argument("--json", action="store_true", help="print JSON")
        if name == "ask":
            p.add_argument("--generator", default="extractive", help="generator spec (default: extractive)")
            p.add_argument("--allow-unverified", action="store_true",
                           help="return the generator's call even when it fails verification")
            p.add_argument("--min-similarity", type=similarity, metavar="S",
                           help="abstain (no_match) below this similarity to what the index serves; 0 never "
                                "abstains (default: the index's, as `index info` shows: for the bundled MiniLM 0.38 with a "
                                "trained question memory, 0.33 with our task questions, 0.25 with neither; other "
                                "encoders get one calibrated where the index can; `eval abstention --save` sets one)")

    p = command("verify", cmd_verify)
    p.add_argument("code", nargs="+", help="code or model output to check; '-' reads stdin")
    p.add_argument("--source", help=SOURCE_HELP)
    p.add_argument("--index", help="index whose corpus to check against")
    p.add_argument("--json", action="store_true", help="print JSON")

    groups = {}
    for name, text in (("corpus", "import, refresh and check API corpora"), ("index", "build and inspect indexes"),
                       ("eval", "measure accuracy on APIBench"), ("train", "train retrievers, rerankers and models")):
        group = sub.add_parser(name, help=text, description=text)
        group.set_defaults(group_parser=group)  # `gorilla-rag corpus` alone shows the corpus commands
        groups[name] = group.add_subparsers(dest="sub", metavar="SUB")
    corpus = groups["corpus"]
    p = command("import", cmd_corpus_import, parent=corpus)
    p.add_argument("format", help="'apibench'")
    p.add_argument("location", nargs="?", help="folder or base URL (default: pinned upstream URL, sha256-checked)")
    p.add_argument("--sources", nargs="+", help="only these hubs")
    p.add_argument("--skip-invalid", action="store_true", help="import valid lines, report the rest")
    p = command("validate", cmd_corpus_validate, parent=corpus)
    p.add_argument("path", nargs="?", help="corpus folder or JSONL file (default: the home's corpus)")

    index = groups["index"]
    p = command("build", cmd_index_build, parent=index)
    p.add_argument("--name", help="index name or folder (default: 'default')")
    p.add_argument("--corpus", help="corpus folder (default: the home's corpus, else the seed)")
    p.add_argument("--embedder", help="sentence-transformers model name or folder (default all-MiniLM-L6-v2)")
    p.add_argument("--query-encoder", help="query-side model (default: the home's trained retriever if any, else "
                                           "the embedder; '<model>:int8' quantised). Questions run in bf16 where "
                                           "the CPU has it natively ($GORILLA_RAG_QUERY_PRECISION=fp32 to not)")
    p = command("info", cmd_index_info, parent=index)
    p.add_argument("--name", help="index name or folder")
    p.add_argument("--json", action="store_true", help="print JSON")

    for module in COMMAND_MODULES:
        importlib.import_module(module).add_commands(sub, groups, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    from gorilla_rag.errors import USER_ERRORS

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from gorilla_rag import __version__

        print(__version__)
        return 0
    if getattr(args, "home", None):  # one home for every component of this process (embedder lookup too)
        os.environ["GORILLA_RAG_HOME"] = str(Path(args.home).expanduser().resolve())
    if not getattr(args, "func", None):
        getattr(args, "group_parser", parser).print_help(sys.stderr)
        return 2
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader (head, less) went away: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except USER_ERRORS as exc:
        print(f"gorilla-rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gorilla-rag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
