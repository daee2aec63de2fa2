"""A pipeline served to many concurrent callers (the HTTP and MCP servers) from one index folder.

`Serving` loads the pipeline once, embeds the questions that arrive together in one batch (`BatchingEmbedder`),
and follows the index folder: a new version (a refresh flips the symlink at indexes/<name>) is loaded in the
background and swapped in with one assignment, so requests in flight finish on the old pipeline and later ones
get the new one. A version that does not load is refused and the old one keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from gorilla_rag.generation import DEFAULT_GENERATOR
from gorilla_rag.indexing import resolve_index_folder
from gorilla_rag.pipeline import Pipeline
from gorilla_rag.retrieval.rerank import RERANKER_FILE

log = logging.getLogger("gorilla_rag.serving")


class BatchingEmbedder:
    """Wraps an Embedder: single questions embedded at the same time by many threads share one forward pass.

    On a CPU a batch of 32 short questions costs about 4 times one, so under load this multiplies throughput;
    an idle server pays only the hand-over to the worker thread.
    """

    def __init__(self, inner: Any, max_batch: int = 32) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_batch = max_batch
        # int8 encoders quantise activations with one scale per batch, so a question's vector would depend on the
        # questions it was batched with: the worker encodes their questions one at a time. (bf16 questions move
        # with their batch's padding only at the rounding level, cos > 0.9999: batched.) Still one worker:
        # on 2 cores, encoding in the 32 request threads cost 2.3x the CPU per request, and 2 workers 1.4x.
        self.unbatched = str(inner.name).endswith(":int8") and hasattr(inner, "embed_one")
        self._queue: queue.SimpleQueue[tuple[str, Future]] = queue.SimpleQueue()
        threading.Thread(target=self._work, name="gorilla-rag-embed", daemon=True).start()

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> Any:
        if len(texts) != 1:
            return self.inner.embed(texts, batch_size=batch_size, show_progress=show_progress)
        future: Future = Future()
        self._queue.put((texts[0], future))
        return future.result()

    def embed_one(self, text: str) -> Any:
        return self.embed([text])[0]

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            while not self.unbatched and len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get())
            try:
                if len(batch) == 1 and hasattr(self.inner, "embed_one"):  # an idle server: the single-text path
                    vectors = self.inner.embed_one(batch[0][0])[None, :]
                elif hasattr(self.inner, "embed_queries"):
                    vectors = self.inner.embed_queries([text for text, _ in batch])
                else:
                    vectors = self.inner.embed([text for text, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request threads
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for i, (_, future) in enumerate(batch):
                future.set_result(vectors[i : i + 1])


class Serving:
    """The pipeline being served, replaced by a fresh one when the index folder shows a new version."""

    def __init__(self, home: str | Path | None = None, index: str | Path | None = None,
                 generator: str = DEFAULT_GENERATOR) -> None:
        self.home, self.index, self.generator = home, index, generator
        self.folder = resolve_index_folder(home, index)
        self.pipeline: Pipeline | None = None
        self.version: tuple[str, int] | None = None
        self.loaded_at = ""
        self.reloads = 0
        self._refused: tuple[str, int] | None = None
        self._batchers: dict[str, BatchingEmbedder] = {}
        self._loading = threading.Lock()

    def folder_version(self) -> tuple[str, int] | None:
        """Where the index folder points now, and when its manifest (or its re-scorer, which `train reranker`
        installs in place) was last written (None while there is no manifest)."""
        try:
            real = self.folder.resolve()
            written = (real / "index.json").stat().st_mtime_ns
        except OSError:
            return None
        with contextlib.suppress(OSError):  # no re-scorer
            written = max(written, (real / RERANKER_FILE).stat().st_mtime_ns)
        return str(real), written

    def load(self) -> Pipeline:
        """The pipeline, loaded on the first call (the default index is built then if absent); thread-safe.

        Raises the IndexLoadError naming the fix when the index cannot be used; a later call tries again.
        """
        with self._loading:
            if self.pipeline is None:
                import torch

                # One intra-op thread: concurrency comes from requests, and on a busy 2-core machine two threads
                # made a single-question embedding 40 times slower (480 ms, not 11 ms) through OpenMP contention.
                torch.set_num_threads(1)
                before = self.folder_version()
                pipeline = Pipeline.load(home=self.home, index=self.index, generator=self.generator)
                self.install(pipeline, before or self.folder_version())
            return self.pipeline

    def load_in_background(self) -> None:
        """Start loading now, so the first request waits less; a failure is logged, and raised by `load` later."""

        def run() -> None:
            try:
                self.load()
            except Exception as exc:  # noqa: BLE001 - the first request reports it to its caller
                log.warning("index not loaded: %s", exc)

        threading.Thread(target=run, name="gorilla-rag-load", daemon=True).start()

    def install(self, pipeline: Pipeline, version: tuple[str, int] | None) -> None:
        """Serve `pipeline` from now on (its questions embedded in shared batches), once it is warm."""
        dense = pipeline.index.dense
        name = dense.query_embedder.name
        if name not in self._batchers:
            self._batchers[name] = BatchingEmbedder(dense.query_embedder)
        dense.query_embedder = self._batchers[name]
        # warm up: verifier tables, parser, embedder; a second question makes the light encoder's trace
        for question in ("load a pretrained image classifier", "translate English text to French"):
            pipeline.ask(question)
        self.pipeline, self.version = pipeline, version
        self.loaded_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def reload(self) -> bool:
        """Serve the folder's current version if it is new and loads; else keep serving the old one."""
        from gorilla_rag.retrieval import Index

        version = self.folder_version()
        if self.pipeline is None or version is None or version in (self.version, self._refused):
            return False
        try:
            self.install(Pipeline(Index.load(Path(version[0])), self.pipeline.generator), version)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the old index keeps serving
            self._refused = version
            log.warning("new index at %s not loaded, still serving the old one: %s", version[0], exc)
            return False
        self.reloads += 1
        log.info("now serving index %s (%s docs)", version[0], self.pipeline.index.manifest.get("count"))
        return True

    async def watch(self, interval: float) -> None:
        """Check the index folder every `interval` seconds; load a new version in a thread when one appears."""
        while True:
            await asyncio.sleep(interval)
            if self.folder_version() not in (self.version, self._refused, None):
                await asyncio.to_thread(self.reload)

    def describe(self) -> dict[str, Any]:
        """The manifest of the index being served, with where it was loaded from, when, and how many reloads."""
        folder = self.version[0] if self.version else str(self.folder)
        index = self.pipeline.index
        retrievers = [*index.manifest.get("retrievers", []), *(["rerank"] if index.reranker is not None else [])]
        return {**index.manifest, "retrievers": retrievers, "default_retriever": index.default_retriever,
                "folder": folder, "loaded_at": self.loaded_at, "reloads": self.reloads, "process": os.getpid()}
