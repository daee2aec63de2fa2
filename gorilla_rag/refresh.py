"""`gorilla-rag corpus refresh`: scrape → normalise → diff by content hash → write the corpus → update the index.

Crash safety. The corpus (`api_corpus/current`) and the default index (`indexes/default`) must change together
(an index whose corpus fingerprint differs is refused as stale), so after the first refresh both are links into
one *generation* folder that a single rename replaces:

    api_corpus/current     → ../indexes/.refresh/live/corpus
    indexes/default        → .refresh/live/index
    indexes/.refresh/live  → .live.v<random>/     (holds corpus/ and index/)

A refresh assembles the next generation beside the live one (`corpus.store.new_staging`) and flips `live` with
`corpus.store.swap_in`. Killed at any moment, the links show the old pair or the new pair, each whole. The first
refresh of a home converts it: it hard-links the corpus and index being served into a generation, points
`current` and `default` at it (same content, so every step is consistent) and only then flips. A lock keeps two
refreshes apart; a run deletes what a killed one left and redoes the work. `corpus import` / `index build`
replace a link with a folder of their own, which detaches it until the next refresh links it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gorilla_rag import settings
from gorilla_rag.corpus.store import fingerprint, new_staging, read_corpus, swap_in, write_corpus
from gorilla_rag.errors import CorpusError, GorillaError, IndexLoadError
from gorilla_rag.scrapers import Progress, ScrapeError, ScrapeResult, get_scraper, no_progress
from gorilla_rag.scrapers.config import config_path, enabled_sources, load_config
from gorilla_rag.types import ApiDoc

REFRESH_DIR = ".refresh"


class RefreshError(GorillaError, RuntimeError):
    """A refresh that cannot run now (another one holds the lock) or would empty a source; the message says what
    to do."""


@dataclass(frozen=True, slots=True)
class SourceDiff:
    """How one source's docs changed: ids added, changed (same id, other content hash) and removed."""

    source: str
    count: int
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int
    origin: dict[str, Any] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass
class RefreshReport:
    """What a refresh found and did."""

    diffs: list[SourceDiff]
    warnings: list[str]
    dry_run: bool
    written: bool = False
    index: Any = None  # retrieval.incremental.UpdateStats when the index was updated
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "written": self.written, "warnings": self.warnings,
                "sources": [asdict(d) for d in self.diffs], "index": asdict(self.index) if self.index else None,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def diff_docs(source: str, old: Sequence[ApiDoc], new: Sequence[ApiDoc], origin: dict[str, Any] | None = None
              ) -> SourceDiff:
    """Compare one source's previous and new docs by id and content hash."""
    before = {d.id: d.content_hash for d in old}
    after = {d.id: d.content_hash for d in new}
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(i for i in set(after) & set(before) if after[i] != before[i])
    unchanged = len(set(after) & set(before)) - len(changed)
    return SourceDiff(source, len(after), added, changed, removed, unchanged, origin or {})


def refresh(sources: Sequence[str] | None = None, home: str | Path | None = None, location: str | None = None,
            dry_run: bool = False, config: str | Path | None = None, progress: Progress = no_progress,
            on_stage: Callable[[str], None] | None = None, show_progress: bool = False,
            allow_removals: bool = False) -> RefreshReport:
    """Scrape `sources` (default: those sources.toml enables), diff against the home's corpus, and unless
    `dry_run` write the new corpus and default index as one generation (see the module docstring).

    `location` overrides where the one named source is read from; `on_stage` is called with each stage's name
    ("scraped", "corpus-staged", "index-staged", "linked", "flipped") as it completes. On a home without an
    imported corpus the seed is the starting point: its other sources are carried over. A scrape that finds no docs
    for a source that had some, or (in an imported corpus) would remove more than half of a source, is refused
    unless `allow_removals` (a wrong --from path or an unreachable hub must not empty the corpus).
    """
    from gorilla_rag.retrieval import canonical_source

    stage = on_stage or (lambda _name: None)
    table = load_config(config, home)
    names = [canonical_source(s) for s in sources] if sources else enabled_sources(table)
    if not names:
        raise ValueError(f"no sources to refresh: {config or config_path(home)} enables none")
    if location and len(names) != 1:
        raise ValueError("--from gives the location of one source: name exactly one SOURCE")
    where = settings.paths(home)
    with _lock(where) if not dry_run else contextlib.nullcontext():
        if not dry_run:
            _clean_leftovers(where)
        started = time.perf_counter()
        base = where.corpus_for_index()  # the imported corpus, else the seed the index was built from
        old_docs = _read_current(base)
        seconds = {"read": time.perf_counter() - started}
        started = time.perf_counter()
        results: list[ScrapeResult] = []
        for name in dict.fromkeys(names):
            previous = {d.id: d for d in old_docs if d.source == name}
            results.append(get_scraper(name, table.get(name, {}), location).scrape(previous, progress))
            _check_unique(results[-1])
        stage("scraped")
        report = RefreshReport(
            [diff_docs(r.source, [d for d in old_docs if d.source == r.source], r.docs, r.origin) for r in results],
            [f"{r.source}: {w}" for r in results for w in r.warnings], dry_run,
            seconds={**seconds, "scrape": time.perf_counter() - started})
        for problem in _large_removals(report.diffs, from_seed=base != where.active_corpus):
            if not (dry_run or allow_removals):
                raise RefreshError(f"{problem}; nothing written. Check --from or the source's settings, or pass "
                                   f"--allow-removals if the source really shrank")
            report.warnings.append(problem)
        if dry_run or (not any(d.any for d in report.diffs) and _serving(where)):
            return report
        generation = new_staging(where.indexes / REFRESH_DIR / "live")
        try:
            report.index = _write_generation(generation, where, base, results, report, stage, show_progress)
            _link(where)
            stage("linked")
            swap_in(generation, where.indexes / REFRESH_DIR / "live")
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        report.written = True
        stage("flipped")
    return report


def _large_removals(diffs: list[SourceDiff], from_seed: bool) -> list[str]:
    """Sources whose scrape would empty them, or remove most of an imported corpus's docs."""
    problems = []
    for diff in diffs:
        before = diff.unchanged + len(diff.changed) + len(diff.removed)
        if (diff.count == 0 and before > 0) or (not from_seed and before >= 5 and len(diff.removed) > before / 2):
            problems.append(f"{diff.source}: the scrape found {diff.count} docs and would remove {len(diff.removed)} "
                            f"of the {before} the corpus has")
    return problems


def _write_generation(generation: Path, where: settings.Paths, base: Path, results: list[ScrapeResult],
                      report: RefreshReport, stage: Callable[[str], None], show_progress: bool) -> Any:
    """Fill a generation folder: the corpus (other sources carried over from `base`) and its index, incrementally."""
    from gorilla_rag.indexing import build_index, stale_reranker
    from gorilla_rag.retrieval import Index
    from gorilla_rag.retrieval.incremental import UpdateStats, update_index

    started = time.perf_counter()
    if base == where.active_corpus and base.is_dir():
        _hardlink_tree(base.resolve(), generation / "corpus")
    elif base.is_dir():  # the seed (tracked files): copied, never linked
        shutil.copytree(base, generation / "corpus")
    write_corpus(generation / "corpus", [d for r in results for d in r.docs], {r.source: r.origin for r in results})
    stage("corpus-staged")
    docs = read_corpus(generation / "corpus")
    report.seconds["corpus"] = time.perf_counter() - started
    started = time.perf_counter()
    try:
        previous = Index.load(where.index()) if where.index().exists() else None
    except IndexLoadError as exc:
        report.warnings.append(f"index: the current one is unusable ({exc}); building a new one")
        previous = None
    if previous is not None:
        stats = update_index(docs, generation / "index", previous, corpus_path=where.active_corpus,
                             show_progress=show_progress)
    else:  # the home's usual build (embedder, trained query encoder and re-scorer as `index build` picks them)
        build_index(where.home, generation / "index", generation / "corpus", show_progress=show_progress)
        manifest = generation / "index" / "index.json"  # not live yet: name the corpus path it will be served at
        manifest.write_text(json.dumps({**json.loads(manifest.read_text(encoding="utf-8")),
                                        "corpus": {"path": str(where.active_corpus), "fingerprint": fingerprint(docs)}},
                                       indent=2) + "\n", encoding="utf-8")
        stats = UpdateStats(len(docs), len(docs), 0, 0, 0, full=True)
    report.seconds["index"] = time.perf_counter() - started
    stale = stale_reranker(generation / "index")
    if stale:
        report.warnings.append(f"index: {stale}")
    stage("index-staged")
    return stats


def _read_current(corpus: Path) -> list[ApiDoc]:
    return read_corpus(corpus) if corpus.is_dir() and any(corpus.glob("*.jsonl")) else []


def _check_unique(result: ScrapeResult) -> None:
    seen: set[str] = set()
    for doc in result.docs:
        if doc.id in seen:
            raise ScrapeError(f"{result.source}: the scraper returned id {doc.id!r} twice")
        seen.add(doc.id)


def _links(where: settings.Paths) -> dict[Path, str]:
    """Each served path → the relative link text that routes it through the live generation."""
    live = where.indexes / REFRESH_DIR / "live"
    return {where.active_corpus: os.path.relpath(live / "corpus", where.active_corpus.parent),
            where.index(): os.path.relpath(live / "index", where.index().parent)}


def _linked(where: settings.Paths) -> bool:
    return (where.indexes / REFRESH_DIR / "live").is_symlink() and all(
        path.is_symlink() and os.readlink(path) == text for path, text in _links(where).items())


def _serving(where: settings.Paths) -> bool:
    """Is the live generation linked and its index built from its corpus (nothing to do when nothing changed)?"""
    from gorilla_rag.indexing import corpus_fingerprint
    from gorilla_rag.retrieval.index_files import read_index_manifest

    try:
        built_from = read_index_manifest(where.index()).get("corpus", {}).get("fingerprint")
        return _linked(where) and built_from == corpus_fingerprint(where.active_corpus)
    except (IndexLoadError, CorpusError, OSError):
        return False


def _link(where: settings.Paths) -> None:
    """Route `current` and `default` through `live`, each step showing the same corpus and index as before."""
    if _linked(where):
        return
    live = where.indexes / REFRESH_DIR / "live"
    snapshot = new_staging(live)
    for path, part in ((where.active_corpus, "corpus"), (where.index(), "index")):
        if path.is_dir():
            _hardlink_tree(path.resolve(), snapshot / part)
    swap_in(snapshot, live)
    for path, text in _links(where).items():
        if not (path.is_symlink() and os.readlink(path) == text):
            _relink(path, text)


def _relink(target: Path, text: str) -> None:
    """Make `target` a symlink reading `text`. What it showed is deleted if it was a version folder beside it
    (`.current.v…`, as corpus.store writes them) or a real folder (retired first, as swap_in does)."""
    previous = target.resolve() if target.is_symlink() else None
    if target.exists() and not target.is_symlink():
        previous = target.with_name(f".{target.name}.retired-{time.monotonic_ns()}")
        os.replace(target, previous)
    link = target.with_name(f".{target.name}.link-{os.getpid()}-{time.monotonic_ns()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(text, link)
    os.replace(link, target)
    if previous is not None and previous.parent == target.parent.resolve() and previous.name.startswith(f".{target.name}."):
        shutil.rmtree(previous, ignore_errors=True)


def _hardlink_tree(source: Path, target: Path) -> None:
    """Copy a folder by hard links (files are never rewritten in place, so sharing them is safe)."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:  # another file system, or links not supported
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)


def _clean_leftovers(where: settings.Paths) -> None:
    """Delete generations a killed refresh left (we hold the lock: nothing else is writing them)."""
    folder = where.indexes / REFRESH_DIR
    live = (folder / "live").resolve() if (folder / "live").is_symlink() else None
    for leftover in folder.glob(".live.*"):
        if leftover.resolve() != live:
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() and not leftover.is_symlink() \
                else leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def _lock(where: settings.Paths) -> Iterator[None]:
    """One refresh per home at a time (an OS file lock: a killed holder releases it)."""
    folder = where.indexes / REFRESH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "a+") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RefreshError(f"another `gorilla-rag corpus refresh` is running on {where.home}; "
                               f"wait for it (lock: {folder / 'lock'})") from exc
        yield
