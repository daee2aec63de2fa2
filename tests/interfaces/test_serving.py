"""Serving many callers: batched question embeddings, the pipeline swap, and a CLI that stays light."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from gorilla_rag.serving import BatchingEmbedder


class SlowEmbedder:
    """A stand-in whose vector is the text's number, and which records the batches it is given."""

    name = "slow"
    dimension = 1

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.release = threading.Event()

    def embed(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        self.batches.append(len(texts))
        self.release.wait(5)  # the first batch waits, so the others queue up meanwhile
        if "boom" in texts:
            raise RuntimeError("model failed")
        return np.array([[float(t)] for t in texts], dtype=np.float32)


def test_concurrent_questions_are_batched_and_each_gets_its_own_vector():
    inner = SlowEmbedder()
    batcher = BatchingEmbedder(inner, max_batch=8)
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(batcher.embed, [str(i)]) for i in range(20)]
        while sum(inner.batches) == 0:
            threading.Event().wait(0.01)
        threading.Event().wait(0.2)  # the other 19 are waiting in the queue by now
        inner.release.set()
        vectors = [f.result() for f in futures]
    assert [v.tolist() for v in vectors] == [[[float(i)]] for i in range(20)]
    assert max(inner.batches) == 8 and sum(inner.batches) == 20
    assert batcher.embed(["1", "2"]).shape == (2, 1)  # many texts at once (index builds) go straight through


def test_an_int8_encoder_is_never_batched_so_a_vector_does_not_depend_on_its_neighbours():
    class Int8(SlowEmbedder):
        name = "model:int8"

        def __init__(self) -> None:
            super().__init__()
            self.alone: list[str] = []

        def embed_one(self, text: str) -> np.ndarray:
            self.alone.append(text)
            return np.array([float(text)], dtype=np.float32)

    inner = Int8()
    batcher = BatchingEmbedder(inner, max_batch=8)
    with ThreadPoolExecutor(10) as pool:
        vectors = list(pool.map(lambda i: batcher.embed([str(i)]), range(10)))
    assert [v.tolist() for v in vectors] == [[[float(i)]] for i in range(10)]
    assert inner.batches == [] and sorted(inner.alone, key=int) == [str(i) for i in range(10)]
    assert batcher.embed_one("3").tolist() == [3.0]


def test_a_failed_batch_fails_only_its_own_requests():
    inner = SlowEmbedder()
    inner.release.set()
    batcher = BatchingEmbedder(inner)
    with pytest.raises(RuntimeError, match="model failed"):
        batcher.embed(["boom"])
    assert batcher.embed(["3"]).tolist() == [[3.0]]


@pytest.mark.slow
def test_the_server_embeds_questions_through_the_batcher(seed_index):
    from gorilla_rag.pipeline import Pipeline
    from gorilla_rag.retrieval import Index
    from gorilla_rag.serving import Serving

    index = Index.load(seed_index.folder)  # its own copy: the session's index stays as it is
    serving = Serving()
    serving.install(Pipeline(index), None)
    assert isinstance(index.dense.query_embedder, BatchingEmbedder) and serving.pipeline.index is index
    assert serving.pipeline.ask("load a pretrained resnet50 from pytorch hub").status == "verified"


def test_the_cli_and_the_extension_hook_import_no_server_library():
    code = ("import sys, gorilla_rag, gorilla_rag.cli; gorilla_rag.cli.build_parser(); gorilla_rag.load_ipython_extension; "
            "print([m for m in ('fastapi', 'uvicorn', 'mcp', 'IPython', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
def test_serve_without_an_index_says_so_in_one_line_before_binding(tmp_path):
    from serverproc import server_env

    result = subprocess.run([sys.executable, "-m", "gorilla_rag.cli", "serve", "--index", "missing", "--port", "9"],
                            capture_output=True, text=True, env=server_env(tmp_path), timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no index at" in result.stderr and "gorilla-rag index build" in result.stderr


def test_a_reranker_installed_in_place_is_a_new_version(tmp_path):
    """`train reranker` writes reranker.json into the live folder without touching index.json: still a reload."""
    import os

    from gorilla_rag.serving import Serving

    folder = tmp_path / "index"
    folder.mkdir()
    (folder / "index.json").write_text("{}")
    os.utime(folder / "index.json", ns=(1_000_000_000, 1_000_000_000))
    serving = Serving(index=str(folder))
    before = serving.folder_version()
    (folder / "reranker.json").write_text("{}")
    assert serving.folder_version() != before and serving.folder_version()[0] == before[0]
