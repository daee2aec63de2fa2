"""Read, validate and atomically write normalised corpora: one `<source>.jsonl` per source + manifest.json."""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from gorilla_rag.errors import CorpusError, GorillaError
from gorilla_rag.types import SOURCES, ApiDoc

__all__ = ["CorpusError", "FileFormatError", "fingerprint", "iter_jsonl", "parse_json_lines", "read_corpus",
           "write_corpus"]

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def corpus_files(path: Path) -> list[Path]:
    """The JSONL files of a corpus folder (or the file itself), sorted for a stable order."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CorpusError([f"{path}: no such corpus file or folder"])
    files = sorted(path.glob("*.jsonl"))
    if not files:
        raise CorpusError([f"{path}: folder holds no .jsonl corpus files"])
    return files


class FileFormatError(CorpusError):
    """A whole file that cannot be read as what it should be (missing, a folder, a JSON array, another format):
    one line naming the file and what was expected, instead of one problem per record."""

    def __init__(self, message: str) -> None:
        self.problems = [message]
        GorillaError.__init__(self, message)


JSON_LINES = "JSON lines: one JSON object per line"


def iter_jsonl(path: Path, problems: list[str], what: str = "file") -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed JSON) per non-blank line of a JSON-lines file; bad lines go to `problems`
    (see `parse_json_lines`). A missing or unreadable file raises FileFormatError naming it (`what`: 'question
    file', 'corpus file', …)."""
    path = Path(path)
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise FileFormatError(f"{what} {path}: no such file (expected {JSON_LINES})") from None
    except IsADirectoryError:
        raise FileFormatError(f"{what} {path} is a folder; expected a file of {JSON_LINES}") from None
    except OSError as exc:
        raise FileFormatError(f"{what} {path} cannot be read ({exc.strerror or exc})") from None
    yield from parse_json_lines(body, str(path), problems, what)


def parse_json_lines(body: bytes, where: str, problems: list[str], what: str = "file") -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed JSON) per non-blank line of `body`; a bad line goes to `problems` as
    'where:line: why', never dropped silently. Every reader of JSON lines uses this, so a malformed line is
    reported alike everywhere: the column counts characters of that line, without its line end.

    A file that is one JSON document instead of JSON lines (an array, or an object spread over several lines)
    raises FileFormatError: every line would be a problem, and the real one is the format.
    """
    first = True
    for number, raw in enumerate(body.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{where}:{number}: not UTF-8 ({exc.reason} at byte {exc.start + 1} of the line)")
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            if first:
                _refuse_one_document(body, where, what)
            problems.append(f"{where}:{number}: malformed JSON ({exc.msg} at column {exc.colno})")
            first = False
            continue
        if first and isinstance(value, list) and line.lstrip().startswith("["):
            raise FileFormatError(f"{what} {where} holds a JSON array; expected {JSON_LINES} "
                                  f"(`jq -c '.[]' {where}` converts it)")
        first = False
        yield number, value


def _refuse_one_document(body: bytes, where: str, what: str) -> None:
    """Raise FileFormatError when the whole of `body` is one JSON array or object (pretty-printed JSON)."""
    try:
        whole = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return
    if isinstance(whole, list):
        raise FileFormatError(f"{what} {where} holds a JSON array; expected {JSON_LINES} "
                              f"(`jq -c '.[]' {where}` converts it)")
    if isinstance(whole, dict):
        raise FileFormatError(f"{what} {where} holds one JSON object spread over several lines; expected "
                              f"{JSON_LINES} (`jq -c . {where}` converts it)")


REQUIRED_FIELDS = tuple(f.name for f in dataclasses.fields(ApiDoc)
                        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
_TEXT_FIELDS = ("id", "source", "domain", "api_name", "api_call", "description", "framework", "functionality",
                "example_code", "content_hash")


def doc_from_record(data: object) -> ApiDoc:
    """A normalised corpus record as an ApiDoc, checked; ValueError names every missing, unknown or ill-typed field."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(ApiDoc)}
    missing = [name for name in REQUIRED_FIELDS if name not in data]
    unknown = sorted(set(data) - known)
    why = ([f"missing required field(s) {', '.join(map(repr, missing))}"] if missing else []) + (
        [f"unknown field(s) {', '.join(map(repr, unknown))}"] if unknown else [])
    if why:
        raise ValueError("; ".join(why))
    wrong = [name for name in _TEXT_FIELDS if name in data and not isinstance(data[name], str)]
    if wrong:
        raise ValueError(f"field(s) {', '.join(map(repr, wrong))} must be strings")
    requirements = data.get("requirements")
    if requirements is not None and (not isinstance(requirements, list)
                                     or not all(isinstance(r, str) for r in requirements)):
        raise ValueError("field 'requirements' must be a list of strings")
    doc = ApiDoc.from_dict({**data, "content_hash": ""})
    _check(doc)
    return doc


def read_corpus(path: str | os.PathLike[str]) -> list[ApiDoc]:
    """Load every doc of a corpus folder or file; raise CorpusError listing all bad records.

    A file of raw APIBench records is reported once (it must be imported with `corpus import apibench`)."""
    from gorilla_rag.corpus.apibench import apibench_hint, is_apibench_record

    problems: list[str] = []
    docs: list[ApiDoc] = []
    first_seen: dict[str, str] = {}
    for file in corpus_files(Path(path)):
        first = True
        for number, data in iter_jsonl(file, problems, what="corpus file"):
            where = f"{file}:{number}"
            if first and is_apibench_record(data):
                problems.append(f"{file}: {apibench_hint(file)}")
                break
            first = False
            try:
                doc = doc_from_record(data)
            except (TypeError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
                continue
            if doc.id in first_seen:
                problems.append(f"{where}: duplicate id {doc.id!r} (first at {first_seen[doc.id]})")
                continue
            first_seen[doc.id] = where
            docs.append(doc)
    if problems:
        raise CorpusError(problems, what=str(path))
    return docs


def _check(doc: ApiDoc) -> None:
    if doc.source not in SOURCES:
        raise ValueError(f"unknown source {doc.source!r} (expected one of {', '.join(SOURCES)})")
    for name in ("id", "api_call"):
        if not isinstance(getattr(doc, name), str) or not getattr(doc, name).strip():
            raise ValueError(f"field {name!r} must be a non-empty string")
    if not all(isinstance(value, dict) for value in (doc.arguments, doc.metrics, doc.extra)):
        raise ValueError("fields 'arguments', 'metrics' and 'extra' must be objects")
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in doc.metrics.values()):
        raise ValueError("field 'metrics' must map names to numbers")


def fingerprint(docs: Iterable[ApiDoc]) -> str:
    """Identifies a corpus's content: changes when any doc is added, removed or edited."""
    digest = hashlib.sha256()
    for doc_id, content in sorted((d.id, d.content_hash) for d in docs):
        digest.update(f"{doc_id}\t{content}\n".encode())
    return digest.hexdigest()[:20]


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def write_corpus(folder: str | os.PathLike[str], docs: list[ApiDoc], provenance: dict[str, Any]) -> Path:
    """Write docs of the given sources into `folder`, replacing those sources' files and keeping others.

    The new folder is assembled beside the old one and swapped in, so a crash leaves the old corpus whole.
    `provenance` maps each written source to where it came from (recorded in the manifest).
    """
    folder = Path(folder)
    staging = new_staging(folder)
    swapped = False
    try:
        manifest = read_manifest(folder) if folder.is_dir() else {}
        sources = manifest.get("sources", {})
        written = {doc.source for doc in docs} | set(provenance)
        if folder.is_dir():
            for old in folder.glob("*.jsonl"):
                if old.stem not in written:
                    shutil.copy2(old, staging / old.name)
        for source in sorted(written):
            mine = [d for d in docs if d.source == source]
            with open(staging / f"{source}.jsonl", "w", encoding="utf-8") as handle:
                for doc in mine:
                    handle.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
            sources[source] = {"count": len(mine), "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               **provenance.get(source, {})}
        all_docs = read_corpus(staging)
        manifest = {"kind": "gorilla-rag-corpus", "format_version": FORMAT_VERSION, "sources": sources,
                    "count": len(all_docs), "fingerprint": fingerprint(all_docs)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        swap_in(staging, folder)
        swapped = True
    finally:
        if not swapped:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def new_staging(target: Path) -> Path:
    """A fresh folder beside `target` to assemble its next version in (see `swap_in`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.v", dir=target.parent))


def swap_in(staging: Path, target: Path) -> None:
    """Make `target` show `staging`, atomically: `target` is a symlink flipped with one rename.

    A crash at any moment leaves `target` showing either the old or the new version, both whole.
    A real folder found at `target` (written by hand, or by an old version) is retired first.
    """
    previous = target.resolve() if target.is_symlink() else None
    if target.exists() and not target.is_symlink():
        retired = target.with_name(f".{target.name}.retired-{time.monotonic_ns()}")
        os.replace(target, retired)
        previous = retired
    link = target.with_name(f".{target.name}.link-{os.getpid()}-{time.monotonic_ns()}")
    os.symlink(staging.name, link)
    os.replace(link, target)
    if previous is not None and previous != staging.resolve():
        shutil.rmtree(previous, ignore_errors=True)
    for leftover in target.parent.glob(f".{target.name}.*"):
        if leftover.resolve() != staging.resolve() and not _in_use(leftover):
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)


def _in_use(path: Path, max_age_s: float = 3600.0) -> bool:
    """Staging folders younger than an hour may belong to a writer still running; leave them."""
    try:
        return time.time() - path.lstat().st_mtime < max_age_s
    except FileNotFoundError:
        return False
