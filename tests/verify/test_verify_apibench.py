"""The real APIBench corpora: (almost) every record gets an identity and verifies as itself.

Reads the shared data in place (never copied into the repo); skips when it is absent.
"""

from __future__ import annotations

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


def test_every_identified_record_verifies_as_itself(corpus, verifier):
    failures = []
    for doc in corpus:
        key = verifier.key_of(doc)
        if key is None:
            continue
        result = verifier.verify(doc.api_call, source=doc.source)
        if result.status != "verified" or result.key != key or doc not in result.matched:
            failures.append((doc.api_call, result.status, result.key))
    assert failures == []


def test_keys_are_source_prefixed(corpus, verifier):
    for doc in corpus:
        key = verifier.key_of(doc)
        assert key is None or key.startswith(f"{doc.source}:")
