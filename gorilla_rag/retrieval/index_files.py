"""The files of an index folder that say what it is: the manifest (kind, versions) and its docs, read and checked
without loading the search parts (`verify` and `index info` need only these)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gorilla_rag.corpus.store import fingerprint
from gorilla_rag.errors import IndexLoadError
from gorilla_rag.types import ApiDoc

KIND = "gorilla-rag-index"
FORMAT_VERSION = 1
TEXT_VERSION = 2  # bump when text.bm25_text/dense_text change: old indexes then read as stale


def build_option(folder: Path, flag: str = "--name") -> str:
    """The option naming this folder (`--name` for `index build`, `--index` for `train reranker`): the name under a
    home's indexes/, else the path; nothing for the default index."""
    if folder.parent.name == "indexes":
        return "" if folder.name == "default" else f" {flag} {folder.name}"
    return f" {flag} {folder}"


def rebuild_hint(folder: Path) -> str:
    return f"rebuild it with `gorilla-rag index build{build_option(folder)}`"


def read_index_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an index folder, checked for kind and versions."""
    path = folder / "index.json"
    if not folder.is_dir():
        raise IndexLoadError(f"no index at {folder}: build one with `gorilla-rag index build{build_option(folder)}`")
    if not path.is_file():
        raise IndexLoadError(f"index {folder} is incomplete (no index.json; a build was interrupted?); "
                             f"{rebuild_hint(folder)}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexLoadError(f"index {folder} has an unreadable index.json ({exc}); {rebuild_hint(folder)}") from exc
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise IndexLoadError(f"{folder} is not a gorilla-rag index; {rebuild_hint(folder)}")
    for key, current in (("format_version", FORMAT_VERSION), ("text_version", TEXT_VERSION)):
        if manifest.get(key) != current:
            raise IndexLoadError(f"index {folder} has {key} {manifest.get(key)}, this version reads {current}; "
                                 f"{rebuild_hint(folder)}")
    return manifest


def read_index_docs(folder: Path) -> list[ApiDoc]:
    """The docs of an index folder, checked against its manifest, without loading its search parts."""
    return read_docs(folder, read_index_manifest(folder))


def read_docs(folder: Path, manifest: dict[str, Any]) -> list[ApiDoc]:
    try:
        with open(folder / "docs.jsonl", encoding="utf-8") as handle:
            docs = [ApiDoc.from_dict({**json.loads(line), "content_hash": ""}) for line in handle if line.strip()]
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise IndexLoadError(f"index {folder} has unreadable docs ({exc}); {rebuild_hint(folder)}") from exc
    if len(docs) != manifest.get("count") or fingerprint(docs) != manifest.get("fingerprint"):
        raise IndexLoadError(f"index {folder}: docs.jsonl does not match index.json (corrupt?); "
                             f"{rebuild_hint(folder)}")
    return docs
