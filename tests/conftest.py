"""Shared fixtures: a temp home per test, the seed corpus, one real seed index per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gorilla_rag import settings
from gorilla_rag.corpus import read_corpus

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty home, so nothing touches the checkout's indexes."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GORILLA_RAG_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


@pytest.fixture(scope="session")
def seed_docs():
    return read_corpus(settings.seed_corpus_dir())


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, seed_docs):
    """The seed corpus indexed with the real default embedder (built once per test session)."""
    from gorilla_rag.retrieval import Index

    return Index.build(seed_docs, tmp_path_factory.mktemp("indexes") / "seed")


@pytest.fixture(scope="session")
def apibench_dir() -> Path:
    found = settings.apibench_dir()
    if found is None:
        pytest.skip("APIBench data not found: set GORILLA_RAG_APIBENCH or put it at ../shared/apibench")
    return found


def env_without_home() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "GORILLA_RAG_HOME"}


@pytest.fixture(scope="session")
def cls_pooled_minilm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second real embedder: the bundled MiniLM read with CLS pooling instead of mean pooling. Its cosines
    crowd together (unrelated sentences at ~0.55), as e5 and bge models' do: thresholds made for MiniLM do not fit it."""
    import json

    from gorilla_rag.retrieval.embedder import resolve_model_path

    source = Path(resolve_model_path("all-MiniLM-L6-v2"))
    folder = tmp_path_factory.mktemp("models") / "minilm-cls"
    for path in source.rglob("*"):
        target = folder / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.unlink()
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    return str(folder)
