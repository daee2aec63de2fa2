"""A light question encoder: BERT-family sentence-transformers folders run by a small torch module of our own.

`import sentence_transformers` pulls in transformers and scikit-learn: ~5 of the ~7 s a cold `gorilla-rag ask`
took. For the usual (BERT Transformer, mean Pooling, Normalize) folder (all-MiniLM-L6-v2 and what `train
retriever` writes) the encoder is small enough to run directly: weights from safetensors, token ids from the Rust
`tokenizers` library, attention from torch. `LightEncoder.open` returns None for anything else (other
architectures, CLS pooling, missing files), and the sentence-transformers path is used; a test checks that both
give the same vectors.
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from pathlib import Path

import numpy as np

_MODULES = ["Transformer", "Pooling", "Normalize"]  # class names; the module paths moved in sentence-transformers 6


def _read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _mean_pooling(config: dict) -> bool:
    """Both ways sentence-transformers writes it: {"pooling_mode": "mean"} (v6) or pooling_mode_*_tokens flags."""
    if "pooling_mode" in config:
        return config["pooling_mode"] == "mean"
    return [key for key, on in config.items() if key.startswith("pooling_mode") and on is True] == \
        ["pooling_mode_mean_tokens"]


def _eligible(folder: Path) -> dict | None:
    """The BERT config of a (Transformer, mean Pooling, Normalize) folder with the files we read, else None."""
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list) or [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules] != _MODULES \
            or modules[0].get("path"):
        return None
    config = _read_json(folder / "config.json")
    if not _mean_pooling(_read_json(folder / modules[1]["path"] / "config.json") or {}) \
            or not isinstance(config, dict) or config.get("model_type") != "bert":
        return None
    if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        return None
    if not (folder / "model.safetensors").is_file() or not (folder / "tokenizer.json").is_file():
        return None
    return config


def _max_tokens(folder: Path, config: dict) -> int:
    """What sentence-transformers truncates to: max_seq_length, else the tokenizer's model_max_length."""
    limit = (_read_json(folder / "sentence_bert_config.json") or {}).get("max_seq_length")
    if not limit:
        limit = (_read_json(folder / "tokenizer_config.json") or {}).get("model_max_length")
    positions = int(config["max_position_embeddings"])
    return min(int(limit), positions) if isinstance(limit, int | float) and limit > 0 else positions


class LightEncoder:
    """`encode(texts)` → float32 unit vectors (len(texts), hidden), mean-pooled over real tokens in float32."""

    def __init__(self, model, tokenizer, hidden: int) -> None:  # noqa: ANN001 - a _Bert and a tokenizers.Tokenizer
        self.model, self.tokenizer, self.hidden = model, tokenizer, hidden
        self._calls = {"single": 0, "batch": 0}
        self._traced: dict[str, object] = {}  # path → checked trace, or False when tracing failed
        self._lock = threading.Lock()

    @classmethod
    def open(cls, folder: str | Path) -> LightEncoder | None:
        folder = Path(folder)
        config = _eligible(folder)
        if config is None:
            return None
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(_max_tokens(folder, config))
        import torch

        weights = {key.removeprefix("bert."): value for key, value in load_file(folder / "model.safetensors").items()}
        with torch.device("meta"):  # no random initialisation: every parameter comes from the file
            model = _Bert(config)
        if set(model.state_dict()) - set(weights):
            return None
        model.load_state_dict({key: weights[key] for key in model.state_dict()}, assign=True)
        return cls(model.eval(), tokenizer, int(config["hidden_size"]))

    def to(self, dtype) -> LightEncoder:  # noqa: ANN001 - a torch dtype
        import copy

        return LightEncoder(copy.deepcopy(self.model).to(dtype), self.tokenizer, self.hidden)

    def encode_one(self, text: str) -> np.ndarray:
        """One text's unit vector, as `encode([text])[0]`. From the second call on it runs a TorchScript trace of
        the encoder (frozen and optimised: ~2 ms less per question here, bench/bench_query_latency.py), made once
        and kept only if it matches the eager pass on probe texts; a one-question CLI run never pays for it."""
        import torch

        ids = torch.tensor([self.tokenizer.encode(text).ids], dtype=torch.long)
        with torch.inference_mode():
            hidden = self._runner("single")(ids, None)[0].float()
        vector = hidden.mean(0).numpy()  # one text: no padding, every token counts
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _runner(self, path: str):  # noqa: ANN202 - (ids, mask) → hidden states
        """The eager module, or from this path's second call on its checked trace ("single": one text, no mask;
        "batch": padded texts with their mask)."""
        with self._lock:
            self._calls[path] += 1
            if path not in self._traced and self._calls[path] >= 2:
                self._traced[path] = _trace(self.model, self.tokenizer, masked=path == "batch") or False
        traced = self._traced.get(path)
        if not traced:
            return self.model
        return (lambda ids, mask: traced(ids, mask)) if path == "batch" else (lambda ids, mask: traced(ids))

    def encode(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        import torch

        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch: less padding
        starts = range(0, len(order), batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch")
        for start in starts:
            chosen = order[start:start + batch_size]
            ids = [e.ids for e in self.tokenizer.encode_batch([texts[i] for i in chosen])]
            width = max(len(row) for row in ids)
            tokens = torch.zeros((len(ids), width), dtype=torch.long)
            mask = torch.zeros((len(ids), width), dtype=torch.bool)
            for row, row_ids in enumerate(ids):
                tokens[row, :len(row_ids)] = torch.tensor(row_ids)
                mask[row, :len(row_ids)] = True
            with torch.inference_mode():
                padded = width * len(ids) != int(mask.sum())
                hidden = (self._runner("batch") if padded else self.model)(tokens, mask if padded else None).float()
                weights = mask.unsqueeze(-1).float()
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
                out[chosen] = torch.nn.functional.normalize(pooled, dim=1).numpy()
        return out


_PROBES = ("classify images of cats and dogs",
           "We run a small online shop and want to tag every product photo with the objects it shows, quickly.", "")


def _trace(model, tokenizer, masked: bool):  # noqa: ANN001, ANN202 - a torch.jit.ScriptModule | None
    """The forward pass (one text without a mask, or padded texts with one) traced, frozen and optimised, if it
    matches the eager pass on probes of other lengths (fp32: to 1e-4; bf16: to 2% of the largest activation, on real
    tokens); None otherwise or with GORILLA_RAG_TRACE=0."""
    if os.environ.get("GORILLA_RAG_TRACE", "1") == "0":
        return None
    import torch

    class Single(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.inner(ids, None)

    class Masked(Single):
        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            return self.inner(ids, mask)

    def inputs(texts: tuple[str, ...]) -> tuple[torch.Tensor, ...]:
        rows = [e.ids for e in tokenizer.encode_batch(list(texts))]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [0] * (width - len(r)) for r in rows], dtype=torch.long)
        mask = torch.tensor([[True] * len(r) + [False] * (width - len(r)) for r in rows])
        return (ids, mask) if masked else (ids,)

    # batches of other widths and paddings than the one traced
    probes = [_PROBES, (_PROBES[0], _PROBES[2]), _PROBES[::-1]] if masked else [(p,) for p in _PROBES]
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # TracerWarnings about shapes: the probes below check them
            wrapper = (Masked if masked else Single)(model).eval()
            traced = torch.jit.trace(wrapper, inputs(probes[0]), check_trace=False)
            traced = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
            precise = next(model.parameters()).dtype == torch.float32
            for texts in probes:
                given = inputs(texts)
                got, want = traced(*given).float(), wrapper(*given).float()
                real = (given[1] if masked else torch.ones_like(given[0], dtype=torch.bool)).unsqueeze(-1)
                error = float(((got - want).abs() * real).max())  # padded positions are never used
                if got.shape != want.shape or error > (1e-4 if precise else 0.02 * float(want.abs().max())):
                    return None
    except Exception:  # noqa: BLE001 - any tracing failure means: keep the eager pass
        return None
    return traced


def _Bert(config: dict):  # noqa: ANN202, N802 - builds the torch module lazily (torch is imported here)
    import torch
    from torch import nn
    from torch.nn import functional

    eps = float(config.get("layer_norm_eps", 1e-12))
    size, heads = int(config["hidden_size"]), int(config["num_attention_heads"])

    class Embeddings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word_embeddings = nn.Embedding(int(config["vocab_size"]), size)
            self.position_embeddings = nn.Embedding(int(config["max_position_embeddings"]), size)
            self.token_type_embeddings = nn.Embedding(int(config.get("type_vocab_size", 2)), size)
            self.LayerNorm = nn.LayerNorm(size, eps=eps)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            positions = torch.arange(ids.shape[1], device=ids.device)
            summed = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings.weight[0]
            return self.LayerNorm(summed)

    class SelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key, self.value = nn.Linear(size, size), nn.Linear(size, size), nn.Linear(size, size)

    class Projection(nn.Module):  # BERT's "output" blocks: dense, then LayerNorm over the residual sum
        def __init__(self, width: int) -> None:
            super().__init__()
            self.dense = nn.Linear(width, size)
            self.LayerNorm = nn.LayerNorm(size, eps=eps)

        def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
            return self.LayerNorm(self.dense(x) + residual)

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.self, self.output = SelfAttention(), Projection(size)

    class Intermediate(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dense = nn.Linear(size, int(config["intermediate_size"]))

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention, self.intermediate = Attention(), Intermediate()
            self.output = Projection(int(config["intermediate_size"]))

        def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
            batch, length, _ = x.shape
            attn = self.attention.self

            def split(t: torch.Tensor) -> torch.Tensor:
                return t.view(batch, length, heads, size // heads).transpose(1, 2)

            context = functional.scaled_dot_product_attention(
                split(attn.query(x)), split(attn.key(x)), split(attn.value(x)),
                attn_mask=None if mask is None else mask[:, None, None, :], scale=1 / math.sqrt(size // heads))
            x = self.attention.output(context.transpose(1, 2).reshape(batch, length, size), x)
            return self.output(functional.gelu(self.intermediate.dense(x)), x)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.ModuleList(Layer() for _ in range(int(config["num_hidden_layers"])))

    class Bert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embeddings, self.encoder = Embeddings(), Encoder()

        def forward(self, ids: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
            x = self.embeddings(ids)
            for layer in self.encoder.layer:
                x = layer(x, mask)
            return x

    return Bert()
