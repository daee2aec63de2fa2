"""A causal LM run in-process with transformers (a folder, a hub id, or a PEFT adapter over its base).

`local:PATH_OR_HUB_ID` — a Gorilla checkpoint, gorilla-openfunctions, any Llama/Qwen instruct model, or an
adapter written by `gorilla-rag train rat`. A `.gguf` file runs with llama-cpp-python instead.
The model loads on first use; decoding is greedy and stops at EOS, Gorilla's turn markers or max_new_tokens.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gorilla_rag import settings
from gorilla_rag.generation.prompt import (
    PROMPT_DOCS,
    STOP,
    GeneratorError,
    build_messages,
    parse_output,
    prompt_docs,
    render_prompt,
)
from gorilla_rag.types import GeneratedCall, Hit

_DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float16": "float16", "fp16": "float16", "half": "float16"}
DTYPE_NAMES = tuple(_DTYPES)
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")


def resolve_device(device: str | None = None) -> str:
    """The device asked for, else cuda, then mps, then cpu."""
    import torch

    if device and device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if _mps_available():
        return "mps"
    return "cpu"


def _mps_available() -> bool:
    import torch

    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def check_device(device: str, quantize: str | None = None) -> None:
    """Refuse a device this machine lacks (no CUDA, cuda:N past the GPUs present, no Apple GPU), and quantized
    loading without a CUDA GPU and bitsandbytes."""
    from importlib.util import find_spec

    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GeneratorError(f"device {device}: this machine has no CUDA GPU that torch can use")
    if device.startswith("cuda:") and int(device.split(":")[1]) >= torch.cuda.device_count():
        raise GeneratorError(f"device {device}: this machine has {torch.cuda.device_count()} CUDA GPU(s), "
                             f"numbered from 0")
    if device == "mps" and not _mps_available():
        raise GeneratorError("device mps: this machine has no Apple GPU that torch can use")
    if quantize and (not device.startswith("cuda") or find_spec("bitsandbytes") is None):
        raise GeneratorError(f"{quantize} loading needs a CUDA GPU and bitsandbytes (pip install bitsandbytes)")


def resolve_dtype(dtype: str | None, device: str) -> Any:
    """A torch dtype: the one named, else bf16 (fp16 without bf16 support) on GPUs and fp32 on CPU."""
    import torch

    if dtype and dtype != "auto":
        if dtype not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}: choose one of float32, bfloat16, float16")
        return getattr(torch, _DTYPES[dtype])
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float16 if device == "mps" else torch.float32


def model_location(spec: str) -> tuple[str, str]:
    """(kind, location): kind is 'folder', 'adapter', 'gguf' or 'hub'; a missing local path is an error."""
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return "gguf", str(path)
    if path.is_dir():
        if (path / "adapter_config.json").is_file():
            return "adapter", str(path)
        if (path / "config.json").is_file():
            return "folder", str(path)
        raise GeneratorError(f"{path} has neither config.json nor adapter_config.json: not a model folder")
    if path.exists() or not _HUB_ID.fullmatch(spec):
        raise GeneratorError(f"no model folder or .gguf file at {spec} (nor is it a hub id like 'org/name')")
    return "hub", spec


def check_hub_reachable(repo_id: str) -> None:
    """A hub model that is not in the local Hugging Face cache needs the Hub: when its host does not resolve
    (offline), fail at once instead of letting the download retry for most of a minute."""
    import os
    import socket
    import urllib.parse

    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
            return
    except Exception:  # noqa: BLE001 - an unusual cache layout: let transformers decide
        return
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        raise GeneratorError(f"{repo_id} is not a local folder nor in the Hugging Face cache, and HF_HUB_OFFLINE "
                             f"is set: give a local model folder, or unset HF_HUB_OFFLINE where there is a network")
    host = urllib.parse.urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or ""
    try:
        socket.getaddrinfo(host, 443)
    except (socket.gaierror, UnicodeError) as exc:
        raise GeneratorError(f"{repo_id} is not a local folder nor in the Hugging Face cache, and the Hub host "
                             f"{host!r} does not resolve ({exc}): this machine appears to be offline. Give a local "
                             f"model folder, or download the model where there is a network") from exc


def adapter_base(adapter: str | Path) -> str:
    """The base model a PEFT adapter folder was trained on (a path is resolved against the folder)."""
    config = json.loads((Path(adapter) / "adapter_config.json").read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path")
    if not base:
        raise GeneratorError(f"adapter {adapter} does not name its base model (base_model_name_or_path)")
    candidate = (Path(adapter) / base).resolve()
    return str(candidate) if candidate.is_dir() else base


def load_model(spec: str, device: str | None = None, dtype: str | None = None,
               quantize: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) from a folder, hub id or adapter folder (merged into its base unless quantized), on
    `device`, in eval mode."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kind, location = model_location(spec)
    if kind == "gguf":
        raise GeneratorError(f"{location} is a GGUF file: run it with the local generator, not transformers")
    base = adapter_base(location) if kind == "adapter" else location
    if kind == "adapter" and Path(base).is_absolute() and not Path(base).is_dir():
        raise GeneratorError(f"adapter {location} was trained on {base}, which is not there any more")
    if not Path(base).is_dir():
        check_hub_reachable(base)
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    # transformers 4.56 renamed torch_dtype to dtype (the old name warns from then on)
    old = tuple(int(p) for p in transformers.__version__.split(".")[:2]) < (4, 56)
    options: dict[str, Any] = {"torch_dtype" if old else "dtype": torch_dtype}
    if quantize:
        options["quantization_config"] = _quantization(quantize, device, torch_dtype)
        options["device_map"] = {"": 0}
    try:
        tokenizer_from = location if Path(location, "tokenizer_config.json").is_file() else base
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_from)
        model = AutoModelForCausalLM.from_pretrained(base, **options)
        if kind == "adapter":
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, location)
            if not quantize:
                model = model.merge_and_unload()
    except ImportError as exc:
        raise GeneratorError(f"{exc}; install the extras: pip install 'gorilla-rag[llm,train]'") from exc
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = " (no such folder here; tried it as a hub id)" if kind == "hub" else ""
        raise GeneratorError(f"cannot load model {spec!r}{where}: {first}") from exc
    if not quantize:
        model = model.to(device)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.eval(), tokenizer


def _quantization(quantize: str, device: str, dtype: Any) -> Any:
    from transformers import BitsAndBytesConfig

    if quantize not in ("4bit", "8bit"):
        raise ValueError(f"unknown quantization {quantize!r}: choose 4bit or 8bit")
    check_device(device, quantize)  # quantized loading needs a CUDA GPU and bitsandbytes
    if quantize == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype,
                              bnb_4bit_use_double_quant=True)


def encode_prompt(tokenizer: Any, prompt: str) -> list[int]:
    """Token ids of a rendered prompt; special tokens (BOS) are added unless a chat template wrote them."""
    return tokenizer(prompt, add_special_tokens=not getattr(tokenizer, "chat_template", None))["input_ids"]


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """The text before the first stop sequence."""
    ends = [i for s in stop if (i := text.find(s)) >= 0]
    return text[: min(ends)] if ends else text


class TransformersEngine:
    """Greedy completion with a loaded transformers model."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model = model
        self.tokenizer = tokenizer

    def complete(self, messages: Sequence[dict[str, str]], max_new_tokens: int, stop: Sequence[str]) -> str:
        import torch

        ids = encode_prompt(self.tokenizer, render_prompt(messages, self.tokenizer))
        inputs = torch.tensor([ids], device=self.model.device)
        with torch.no_grad():
            out = self.model.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs),
                                      max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id,
                                      stop_strings=list(stop) or None, tokenizer=self.tokenizer)
        text = self.tokenizer.decode(out[0, len(ids):], skip_special_tokens=True)
        return cut_at_stop(text, stop)


class LocalModelGenerator:
    """Generates with a causal LM in this process: Gorilla's retrieval-aware prompt in, v1 answer out."""

    name = "local"

    def __init__(self, model: str | None = None, device: str | None = None, dtype: str | None = None,
                 quantize: str | None = None, max_new_tokens: int = 256, stop: Sequence[str] = STOP,
                 docs: int = PROMPT_DOCS) -> None:
        model = model or settings.local_model()
        if not model:
            raise ValueError("the local generator needs a model: local:PATH_OR_HUB_ID (or $GORILLA_RAG_LOCAL_MODEL)")
        self.kind, self.model = model_location(model)
        self.device = device or settings.local_device()
        self.dtype = dtype or settings.local_dtype()
        self.quantize = quantize
        self.max_new_tokens = max_new_tokens
        self.stop = tuple(stop)
        self.docs = docs
        self._engine: Any = None
        self._loading = threading.Lock()  # a server may ask from several threads at once: load one copy

    @property
    def engine(self) -> Any:
        """The loaded model (transformers, or llama.cpp for a .gguf file), loaded on first use."""
        with self._loading:
            if self._engine is None:
                if self.kind == "gguf":
                    from gorilla_rag.generation.gguf import GgufEngine

                    self._engine = GgufEngine(self.model)
                else:
                    self._engine = TransformersEngine(*load_model(self.model, self.device, self.dtype,
                                                                  self.quantize))
        return self._engine

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        """The model's raw answer to chat messages (rendered with its chat template, or Gorilla's)."""
        return self.engine.complete(messages, self.max_new_tokens, self.stop)

    def generate(self, question: str, hits: list[Hit], feedback: str | None = None) -> GeneratedCall:
        return parse_output(self.complete(build_messages(question, prompt_docs(hits, self.docs), feedback)))


__all__ = ["LocalModelGenerator", "TransformersEngine", "encode_prompt", "load_model", "model_location",
           "resolve_device", "resolve_dtype"]
