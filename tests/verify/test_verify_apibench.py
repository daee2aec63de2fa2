"""The real APIBench corpora: (almost) every record gets an identity and verifies as itself.

Reads the shared data in place (never copied into the repo); skips when it is absent.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from gorilla_rag.types import ApiDoc
from gorilla_rag.verify import Verifier

pytestmark = pytest.mark.slow

FILES = {
    "huggingface": "huggingface_api.jsonl",
    "torchhub": "torchhub_api.jsonl",
    "tfhub": "tensorflowhub_api.jsonl",
}


def _apibench_api_dir() -> Path:
    env = os.environ.get("GORILLA_RAG_APIBENCH")
    root = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "apibench"
    if not all((root / "api" / name).is_file() for name in FILES.values()):
        pytest.skip(
            f"APIBench api/*.jsonl not found under {root}: set GORILLA_RAG_APIBENCH to the apibench folder"
        )
    return root / "api"


def _arguments(value: object) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(v): "" for v in value}
    return {}


@pytest.fixture(scope="module")
def corpus() -> list[ApiDoc]:
    folder = _apibench_api_dir()
    docs = []
    for source, name in FILES.items():
        for number, line in enumerate((folder / name).read_text().splitlines()):
            if line.strip():
                record = json.loads(line)
                docs.append(
                    ApiDoc(
                        id=f"{source}:{number}",
                        source=source,
                        domain=str(record.get("domain") or ""),
                        api_name=str(record.get("api_name") or ""),
                        api_call=str(record.get("api_call") or ""),
                        arguments=_arguments(record.get("api_arguments")),
                    )
                )
    return docs


@pytest.fixture(scope="module")
def verifier(corpus) -> Verifier:
    return Verifier(corpus)


def test_almost_every_record_has_an_identity(corpus, verifier):
    missing = {
        source: [d.api_call for d in corpus if d.source == source and verifier.key_of(d) is None]
        for source in FILES
    }
    total = len(corpus)
    assert sum(map(len, missing.values())) <= 0.01 * total, missing
    assert missing["torchhub"] == []
    for source, calls in missing.items():
        assert len(calls) <= 0.02 * sum(d.source == source for d in corpus), (source, calls)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def test_every_identified_record_verifies_as_itself(corpus, verifier):
    """Every call in a record's api_call (a component passed in too) is a corpus API. Only a call naming just a
    pipeline task is not one API (underspecified), and only a call that is not valid Python is a syntax_error."""
    failures, broken = [], []
    for doc in corpus:
        key = verifier.key_of(doc)
        if key is None:
            continue
        result = verifier.verify(doc.api_call, source=doc.source)
        if key.startswith("huggingface:pipeline-default:"):
            ok = result.status == "underspecified" and result.matched
        elif result.status == "syntax_error":
            broken.append(doc.api_call)
            ok = not _parses(doc.api_call) and doc in result.matched and result.syntax_errors
        else:
            ok = result.status == "verified" and doc in result.matched
        if not ok or result.key != key:
            failures.append((doc.api_call, result.status, result.key))
    assert failures == []
    assert len(broken) <= 3, broken  # APIBench has a couple, e.g. model=SG161222/Realistic_Vision_V1.4


def test_keys_are_source_prefixed(corpus, verifier):
    for doc in corpus:
        key = verifier.key_of(doc)
        assert key is None or key.startswith(f"{doc.source}:")
