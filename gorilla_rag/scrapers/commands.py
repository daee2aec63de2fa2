"""The `gorilla-rag corpus refresh` command (thin: parse arguments, call gorilla_rag.refresh, print)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")
_STAGES = {"scraped": "scraped", "corpus-staged": "corpus written (staged)", "index-staged": "index updated (staged)",
           "linked": "links ready", "flipped": "new corpus and index are live"}


def _progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=total, file=sys.stderr, disable=None, leave=False)


def format_report(report: Any, limit: int = 10) -> str:
    """The diff, a line per source and up to `limit` ids per kind of change."""
    lines = []
    for diff in report.diffs:
        lines.append(f"{diff.source}: {diff.count} docs: {len(diff.added)} added, {len(diff.changed)} changed, "
                     f"{len(diff.removed)} removed, {diff.unchanged} unchanged")
        for mark, ids in (("+", diff.added), ("~", diff.changed), ("-", diff.removed)):
            lines += [f"  {mark} {i}" for i in ids[:limit]]
            if len(ids) > limit:
                lines.append(f"  {mark} … and {len(ids) - limit} more")
    return "\n".join(lines)


def cmd_corpus_refresh(args: argparse.Namespace) -> int:
    """Scrape the hubs again (api_corpus/sources.toml), show what changed, write the corpus, update the index.

    Only added or changed docs are embedded; the new corpus and index go live together in one atomic step, so an
    interrupted refresh leaves the previous ones serving. --dry-run shows the diff and writes nothing.
    """
    from gorilla_rag.refresh import refresh

    report = refresh(args.sources or None, home=args.home, location=args.from_, dry_run=args.dry_run,
                     config=args.config, progress=_progress, show_progress=sys.stderr.isatty(),
                     allow_removals=args.allow_removals,
                     on_stage=lambda name: print(f"gorilla-rag: {_STAGES.get(name, name)}", file=sys.stderr))
    for warning in report.warnings:
        print(f"gorilla-rag: warning: {warning}", file=sys.stderr)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    if report.dry_run:
        print("gorilla-rag: dry run: nothing written", file=sys.stderr)
    elif not report.written:
        print("gorilla-rag: corpus and index are up to date: nothing written", file=sys.stderr)
    else:
        stats = report.index
        print(f"gorilla-rag: index: {stats.count} docs, {stats.embedded} embedded, {stats.reused} vectors reused, "
              f"{stats.removed} removed ({sum(report.seconds.values()):.1f} s)", file=sys.stderr)
    return 0


def add_commands(sub, groups, command) -> None:  # noqa: ANN001
    p = command("refresh", cmd_corpus_refresh, parent=groups["corpus"])
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="huggingface, torchhub, tfhub (default: those "
                                                                 "sources.toml enables)")
    p.add_argument("--from", dest="from_", metavar="PATH", help="read the one SOURCE from this folder, archive or URL")
    p.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    p.add_argument("--allow-removals", action="store_true",
                   help="write even when a source scraped no docs or would lose more than half of them")
    p.add_argument("--config", help="sources config (default: api_corpus/sources.toml)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
