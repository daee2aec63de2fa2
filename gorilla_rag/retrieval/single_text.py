"""Encoding questions fast on the sentence-transformers path (models the light encoder does not run, int8 ones, or
$GORILLA_RAG_LIGHT_ENCODER=0): a direct forward pass instead of `SentenceTransformer.encode`, traced and frozen.

`encode` sorts, pads, batches and converts even for one text (~2 ms on 2 CPU cores); the TorchScript trace of the
encoder, frozen and optimised for inference, saves another ~2 ms per question (bench/bench_query_latency.py). A
trace is only kept when it reproduces the eager forward pass on probe texts of different lengths, alone and
padded into one batch; anything else (another architecture, a failed trace, $GORILLA_RAG_TRACE=0) falls back to
the eager pass, same numbers. Mean pooling is done in float32 whatever the model's dtype (a bf16 query encoder).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import numpy as np

_FORWARD: dict[int, Forward | None] = {}  # by id(model): models are cached for the process
_PROBES = ("classify images of cats and dogs",
           "We run a small online shop and want to tag every product photo with the objects it shows, quickly.")


class Forward:
    """`forward(text)` → one unit vector; `forward.many(texts)` → a (len(texts), dim) array of them."""

    def __init__(self, one: Callable[[str], np.ndarray], many: Callable[[list[str]], np.ndarray]) -> None:
        self._one, self.many = one, many

    def __call__(self, text: str) -> np.ndarray:
        return self._one(text)


def single_text_forward(model) -> Forward | None:  # noqa: ANN001
    """The fast forward passes for a (Transformer, mean Pooling, Normalize) SentenceTransformer, else None.

    Made once per loaded model (kept by id, not as an attribute, which a deepcopy would carry into an int8 copy).
    """
    if id(model) not in _FORWARD:
        _FORWARD[id(model)] = _make(model)
    return _FORWARD[id(model)]


def _make(model) -> Forward | None:  # noqa: ANN001
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
        vector = tokens.float().mean(0).numpy()
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def many(texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Texts sorted by length and padded per batch (less padding), vectors put back in the given order."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            batch = tokenizer([texts[i] for i in chosen], padding=True, truncation=True, max_length=limit,
                              return_tensors="pt")
            with torch.inference_mode():
                tokens = run(batch["input_ids"], batch["attention_mask"]).float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            vectors = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out[chosen] = torch.nn.functional.normalize(vectors, dim=1).numpy()
        return out

    return Forward(forward, many)


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
            precise = next(encoder.parameters()).dtype == torch.float32
            for probe in (*([p] for p in _PROBES), list(_PROBES)):  # each alone, then both padded into one batch
                batch = tokenizer(probe, padding=True, return_tensors="pt")
                got = traced(batch["input_ids"], batch["attention_mask"]).float()
                want = eager(batch["input_ids"], batch["attention_mask"]).float()
                real = batch["attention_mask"].unsqueeze(-1).bool()  # padded positions' outputs are never used
                error = float(((got - want).abs() * real).max())
                # fp32: the same numbers up to summation order; bf16 keeps ~3 significant digits
                if got.shape != want.shape or error > (1e-4 if precise else 0.02 * float(want.abs().max())):
                    return None
    except Exception:  # noqa: BLE001 - any tracing failure means: use the eager pass
        return None
    return traced
