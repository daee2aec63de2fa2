"""Encoding one question fast: a direct forward pass instead of `SentenceTransformer.encode`, traced and frozen.

`encode` sorts, pads, batches and converts even for one text (~2 ms on 2 CPU cores); the TorchScript trace of the
encoder, frozen and optimised for inference, saves another ~2 ms per question (bench/bench_query_latency.py). A
trace is only kept when it reproduces the eager forward pass on probe texts of different lengths; anything else
(another architecture, a failed trace, $GORILLA_RAG_TRACE=0) falls back to the eager pass, same numbers.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import numpy as np

_FORWARD: dict[int, Callable[[str], np.ndarray] | None] = {}  # by id(model): models are cached for the process
_PROBES = ("classify images of cats and dogs",
           "We run a small online shop and want to tag every product photo with the objects it shows, quickly.")


def single_text_forward(model) -> Callable[[str], np.ndarray] | None:  # noqa: ANN001
    """text → unit vector for a (Transformer, mean Pooling, Normalize) SentenceTransformer, else None.

    Made once per loaded model (kept by id, not as an attribute, which a deepcopy would carry into an int8 copy).
    """
    if id(model) not in _FORWARD:
        _FORWARD[id(model)] = _make(model)
    return _FORWARD[id(model)]


def _make(model) -> Callable[[str], np.ndarray] | None:  # noqa: ANN001
    modules = list(model)
    names = [type(m).__name__ for m in modules]
    if names != ["Transformer", "Pooling", "Normalize"] or getattr(modules[1], "pooling_mode", None) != "mean" \
            or not hasattr(modules[0], "auto_model") or not hasattr(modules[0], "tokenizer"):
        return None
    import torch

    encoder, tokenizer, limit = modules[0].auto_model, modules[0].tokenizer, model.max_seq_length

    def eager(ids, mask):  # noqa: ANN001, ANN202
        return encoder(input_ids=ids, attention_mask=mask).last_hidden_state

    run = _traced(encoder, tokenizer, eager) if os.environ.get("GORILLA_RAG_TRACE", "1") != "0" else None
    run = run or eager
    token_ids = _fast_token_ids(tokenizer, limit)

    def forward(text: str) -> np.ndarray:
        ids = torch.tensor([token_ids(text)], dtype=torch.long)
        with torch.inference_mode():
            tokens = run(ids, torch.ones_like(ids))[0]  # one text: no padding, every token attends
        vector = tokens.mean(0).numpy().astype(np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    return forward


def _fast_token_ids(tokenizer, limit: int) -> Callable[[str], list[int]]:  # noqa: ANN001
    """text → token ids, truncated to `limit`: the Rust tokenizer called directly when the tokenizer has one and it
    gives the same ids as the transformers call on the probes (it skips ~0.5 ms of Python per question)."""
    def slow(text: str) -> list[int]:
        return tokenizer([text], truncation=True, max_length=limit)["input_ids"][0]

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return slow
    try:
        from tokenizers import Tokenizer

        fast = Tokenizer.from_str(backend.to_str())  # a private copy: transformers re-configures its own per call
        fast.no_padding()
        fast.enable_truncation(limit)
        if any(fast.encode(p).ids != slow(p) for p in (*_PROBES, "word " * (limit + 50), "")):
            return slow
    except Exception:  # noqa: BLE001 - anything unexpected: the transformers call
        return slow
    return lambda text: fast.encode(text).ids


def _traced(encoder, tokenizer, eager):  # noqa: ANN001, ANN202
    """The encoder traced, frozen and optimised for inference, if it matches `eager` on the probes; else None."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.inner(input_ids=ids, attention_mask=mask).last_hidden_state

    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # TracerWarnings about shape-dependent Python branches, checked below
            example = tokenizer([_PROBES[0]], return_tensors="pt")
            traced = torch.jit.trace(Hidden(encoder).eval(), (example["input_ids"], example["attention_mask"]),
                                     check_trace=False)
            traced = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
            for probe in _PROBES:
                batch = tokenizer([probe], return_tensors="pt")
                got = traced(batch["input_ids"], batch["attention_mask"])
                want = eager(batch["input_ids"], batch["attention_mask"])
                if got.shape != want.shape or float((got - want).abs().max()) > 1e-4:
                    return None
    except Exception:  # noqa: BLE001 - any tracing failure means: use the eager pass
        return None
    return traced
