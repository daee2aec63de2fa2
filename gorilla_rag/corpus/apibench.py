"""Import the APIBench API corpora (Gorilla's `data/api/*_api.jsonl`) from a folder or a URL."""

from __future__ import annotations

import hashlib
import sys
import urllib.request
from pathlib import Path

from gorilla_rag.corpus.normalize import doc_id, normalize_apibench
from gorilla_rag.corpus.store import CorpusError, iter_jsonl, parse_json_lines, write_corpus
from gorilla_rag.types import SOURCES, ApiDoc

# Upstream files at a pinned commit; the sha256 pins their bytes (the files are unchanged since 816f60c0).
APIBENCH_COMMIT = "6ea57973c7a6097fd7c5915698c54c17c5b1b6c8"
DEFAULT_URL = f"https://raw.githubusercontent.com/ShishirPatil/gorilla/{APIBENCH_COMMIT}/data/api"
APIBENCH_FILES = {
    "huggingface": ("huggingface_api.jsonl", "6757c59091abcf6d0f32f878a765b4ae28a9db7f88c7a1a4ee8bfeda72472f6d"),
    "torchhub": ("torchhub_api.jsonl", "30c762a4f8ae1be605aa45c74669e8b64a806fa4f3be52bd625199000540b080"),
    "tfhub": ("tensorflowhub_api.jsonl", "bed9819b8d54cda1709fb0942f18d7cd5f39788b22ba03c9f89e9fc0287b2c0a"),
}


def _fetch(url: str, expected_sha256: str | None, timeout: float = 60.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
    except OSError as exc:
        raise CorpusError([f"{url}: download failed ({exc})"], what="APIBench download") from exc
    digest = hashlib.sha256(body).hexdigest()
    if expected_sha256 and digest != expected_sha256:
        raise CorpusError([f"{url}: sha256 {digest} does not match the pinned {expected_sha256}"],
                          what="APIBench download")
    return body


def _local_file(location: Path, name: str) -> Path | None:
    for candidate in (location / name, location / "api" / name, location):
        if candidate.is_file() and candidate.name == name:
            return candidate
    return None


def parse_records(body: bytes, source: str, where: str) -> tuple[list[ApiDoc], list[str]]:
    """Normalise every line; returns (docs, problems as 'where:line: why'). Ids are made unique with #n."""
    docs: list[ApiDoc] = []
    problems: list[str] = []
    counts: dict[str, int] = {}
    for number, record in parse_json_lines(body, where, problems, what="APIBench API file"):
        try:
            doc = normalize_apibench(record, source)
        except ValueError as exc:
            problems.append(f"{where}:{number}: {exc}")
            continue
        base = doc_id(source, doc.api_name, doc.api_call)
        counts[base] = counts.get(base, 0) + 1
        if counts[base] > 1:
            doc = ApiDoc.from_dict({**doc.to_dict(), "id": f"{base}#{counts[base]}", "content_hash": ""})
        docs.append(doc)
    return docs, problems


# What APIBench's raw API records have and a normalised corpus record does not.
APIBENCH_ONLY_FIELDS = frozenset({"api_arguments", "python_environment_requirements", "performance"})


def is_apibench_record(record: object) -> bool:
    """Whether a JSON record is a raw APIBench API record (to import) rather than a normalised corpus record."""
    return (isinstance(record, dict) and "api_call" in record and "id" not in record and "source" not in record
            and bool(APIBENCH_ONLY_FIELDS & set(record)))


def apibench_hint(file: Path) -> str:
    """What to say about a file of raw APIBench records found where a normalised corpus was expected."""
    return (f"raw APIBench API records (fields such as {', '.join(sorted(APIBENCH_ONLY_FIELDS))}), not a "
            f"normalised gorilla-rag corpus file: {import_hint(file)}")


def import_hint(file: Path) -> str:
    """How to import a raw APIBench API file (`corpus import apibench` finds the files by their upstream names)."""
    names = [name for name, _ in APIBENCH_FILES.values()]
    rename = "" if file.name in names else f" (named {', '.join(names[:-1])} or {names[-1]})"
    return f"import the folder holding it{rename} with `gorilla-rag corpus import apibench {file.parent}`"


def is_apibench_file(path: Path) -> bool:
    """Whether the first record of a JSON-lines file is a raw APIBench API record."""
    records = iter_jsonl(Path(path), [], what="corpus file")
    first = next(records, None)
    records.close()
    return first is not None and is_apibench_record(first[1])


def apibench_source(path: Path, records: list[dict]) -> str | None:
    """The hub of an APIBench API file: from its upstream name, else from what most of its api_calls load."""
    from collections import Counter

    from gorilla_rag.verify import Verifier

    for source, (name, _) in APIBENCH_FILES.items():
        if path.name == name:
            return source
    identify = Verifier(()).identify_text
    hubs = Counter(ident.source for r in records[:50] if (ident := identify(str(r.get("api_call", "")))))
    return hubs.most_common(1)[0][0] if hubs else None


def validate_apibench_file(path: Path) -> tuple[str, int]:
    """Check a raw APIBench API file as `corpus import apibench` would read it: (hub, records); CorpusError
    listing every bad line."""
    body = Path(path).read_bytes()
    problems: list[str] = []
    records = [r for _, r in parse_json_lines(body, str(path), problems) if isinstance(r, dict)]
    source = apibench_source(Path(path), records)
    if source is None:
        raise CorpusError([f"{path}: no record loads a HuggingFace, PyTorch Hub or TF Hub API"],
                          what=f"APIBench API file {path}")
    docs, problems = parse_records(body, source, str(path))
    if problems:
        raise CorpusError(problems, what=f"APIBench API file {path} ({source})")
    return source, len(docs)


def import_apibench(
    location: str | Path | None,
    corpus_dir: Path,
    sources: tuple[str, ...] = SOURCES,
    skip_invalid: bool = False,
) -> dict[str, int]:
    """Import APIBench corpora into `corpus_dir`, replacing the imported sources; returns counts per source.

    `location`: a folder holding the `*_api.jsonl` files (or their parent), a base URL, or None for the
    pinned upstream URL (checked by sha256). Any bad line aborts the import with every problem listed,
    unless `skip_invalid`, which imports the rest and reports the skipped lines on stderr.
    """
    docs: list[ApiDoc] = []
    problems: list[str] = []
    provenance: dict[str, dict[str, str]] = {}
    for source in sources:
        name, pinned = APIBENCH_FILES[source]
        text_location = str(location) if location is not None else DEFAULT_URL
        if text_location.startswith(("http://", "https://")):
            url = f"{text_location.rstrip('/')}/{name}"
            body = _fetch(url, pinned if location is None else None)
            where = url
        else:
            path = _local_file(Path(text_location), name)
            if path is None:
                raise CorpusError([f"{text_location}: no {name} there (nor in its api/ folder)"], what="APIBench import")
            body = path.read_bytes()
            where = str(path)
        found, bad = parse_records(body, source, where)
        docs.extend(found)
        problems.extend(bad)
        provenance[source] = {"origin": where, "sha256": hashlib.sha256(body).hexdigest(), "format": "apibench"}
    if problems and not skip_invalid:
        raise CorpusError(problems, what="APIBench import (nothing was written; --skip-invalid imports the rest)")
    for problem in problems:
        print(f"skipped {problem}", file=sys.stderr)
    write_corpus(corpus_dir, docs, provenance)
    return {source: sum(d.source == source for d in docs) for source in sources}
