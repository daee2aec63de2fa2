"""LoRA fine-tuning of a causal LM on retrieval-aware examples (peft + transformers, a plain torch loop).

The loss covers the answer tokens only: the prompt (system, question, docs) is rendered and tokenised exactly as
the local generator does at inference time, and masked out. bf16 on a GPU, fp32 on CPU; optional 4-bit base
(QLoRA) and gradient checkpointing for 7B models on one GPU. The output folder holds the adapter (or the merged
model), the tokenizer and `gorilla_rag_training.json`; `local:OUTPUT` loads it.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gorilla_rag.generation.local_model import DTYPE_NAMES
from gorilla_rag.training.rat_data import SftExample

MANIFEST = "gorilla_rag_training.json"
KIND = "gorilla-rag-rat"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class TrainSettings:
    """How to fine-tune; the defaults are the 7B recipe of docs/training.md."""

    epochs: float = 3.0
    max_steps: int | None = None  # optimizer steps; overrides epochs
    learning_rate: float = 2e-4
    batch_size: int = 4
    grad_accum: int = 4
    max_length: int = 2048
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: str | tuple[str, ...] = "all-linear"
    warmup: float = 0.03  # share of the steps
    device: str | None = None
    dtype: str | None = None  # default: bfloat16 on a GPU that has it, else float32
    quantize: str | None = None  # "4bit" for QLoRA (CUDA + bitsandbytes)
    gradient_checkpointing: bool = False
    merge: bool = False  # save the merged model instead of the adapter
    seed: int = 0

    def __post_init__(self) -> None:
        """Refuse impossible settings now, not after minutes of loading a model."""
        problems = [message for bad, message in (
            (not (self.epochs > 0 and math.isfinite(self.epochs)), f"epochs must be a number above 0, got {self.epochs}"),
            (self.max_steps is not None and self.max_steps < 1, f"max steps must be at least 1, got {self.max_steps}"),
            (not (self.learning_rate > 0 and math.isfinite(self.learning_rate)),
             f"learning rate must be a number above 0, got {self.learning_rate}"),
            (self.batch_size < 1 or self.grad_accum < 1, "batch size and gradient accumulation must be at least 1"),
            (self.max_length < 1, f"max length must be at least 1 token, got {self.max_length}"),
            (self.lora_r < 1 or self.lora_alpha < 1, "LoRA rank and alpha must be at least 1"),
            (not 0 <= self.lora_dropout < 1, f"LoRA dropout must be in [0, 1), got {self.lora_dropout}"),
            (not 0 <= self.warmup < 1, f"warmup is a share of the steps in [0, 1), got {self.warmup}"),
            (self.dtype not in (None, "auto", *DTYPE_NAMES), f"unknown dtype {self.dtype!r}: choose one of "
             "float32, bfloat16, float16"),
            (self.quantize not in (None, "4bit", "8bit"), f"unknown quantization {self.quantize!r}: choose 4bit or 8bit"),
            (self.device is not None and not re.fullmatch(r"auto|cpu|mps|cuda(?::\d+)?", self.device),
             f"unknown device {self.device!r}: choose cpu, cuda (or cuda:N) or mps"),
            (self.target_modules != "all-linear" and not (self.target_modules and all(self.target_modules)),
             "target modules must be 'all-linear' or comma-separated module names"),
        ) if bad]
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(slots=True)
class TrainResult:
    """What a run did: where it wrote, how many examples and steps, the loss, the time."""

    output: Path
    base: str
    examples: int
    skipped: int
    steps: int
    seconds: float
    first_loss: float
    final_loss: float
    losses: list[float] = field(default_factory=list)


def tokenize(tokenizer: Any, example: SftExample, max_length: int) -> tuple[list[int], list[int]] | None:
    """(input ids, labels) with the prompt masked (-100); None when the prompt alone leaves no room for an answer."""
    from gorilla_rag.generation.local_model import encode_prompt
    from gorilla_rag.generation.prompt import render_prompt

    prompt = encode_prompt(tokenizer, render_prompt(example.messages(), tokenizer))
    answer = tokenizer(example.target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    if len(prompt) + min(len(answer), 16) > max_length:
        return None
    ids = (prompt + answer)[:max_length]
    return ids, ([-100] * len(prompt) + answer)[:max_length]


def _batches(rows: list[tuple[list[int], list[int]]], size: int, pad: int, rng: random.Random) -> list[Any]:
    import torch

    order = list(range(len(rows)))
    rng.shuffle(order)
    out = []
    for start in range(0, len(order), size):
        chunk = [rows[i] for i in order[start : start + size]]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.tensor([r[0] + [pad] * (width - len(r[0])) for r in chunk])
        labels = torch.tensor([r[1] + [-100] * (width - len(r[1])) for r in chunk])
        mask = torch.tensor([[1] * len(r[0]) + [0] * (width - len(r[0])) for r in chunk])
        out.append((ids, mask, labels))
    return out


def _training_dtype(dtype: str | None, device: str) -> str:
    import torch

    if dtype:
        return dtype
    return "bfloat16" if device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"


def _peft_model(model: Any, settings: TrainSettings) -> Any:
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if settings.quantize:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=settings.gradient_checkpointing)
    elif settings.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    model.config.use_cache = False  # no KV cache while training (it conflicts with checkpointing)
    targets = settings.target_modules if isinstance(settings.target_modules, str) else list(settings.target_modules)
    config = LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                        target_modules=targets, task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def check_output(output: str | Path) -> None:
    """Refuse to write over a folder that is not an earlier training output."""
    output = Path(output)
    if output.exists() and (not output.is_dir() or (any(output.iterdir()) and not (output / MANIFEST).is_file())):
        raise ValueError(f"{output} exists and is not a gorilla-rag training output: choose another --output")


def train_lora(examples: Sequence[SftExample], base: str, output: str | Path,
               settings: TrainSettings = TrainSettings(),
               progress: Callable[[int, int, float], None] | None = None) -> TrainResult:
    """Fine-tune `base` (folder or hub id) with LoRA on the examples and save to `output`.

    `progress(step, total_steps, loss)` is called after each optimizer step.
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    from gorilla_rag.generation.local_model import load_model, resolve_device

    output = Path(output)
    check_output(output)
    if settings.merge and settings.quantize:
        raise ValueError("cannot merge into a quantized base: train without --quantize, or keep the adapter")
    started = time.perf_counter()
    torch.manual_seed(settings.seed)
    base = str(Path(base).expanduser().resolve()) if Path(base).expanduser().is_dir() else base
    device = resolve_device(settings.device)
    model, tokenizer = load_model(base, device, _training_dtype(settings.dtype, device), settings.quantize)
    rows = [row for e in examples if (row := tokenize(tokenizer, e, settings.max_length)) is not None]
    if not rows:
        raise ValueError(f"no example fits in max_length={settings.max_length} tokens: raise --max-length")
    model = _peft_model(model, settings)
    model.train()
    per_epoch = math.ceil(math.ceil(len(rows) / settings.batch_size) / settings.grad_accum)
    total = settings.max_steps or max(1, math.ceil(per_epoch * settings.epochs))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=0.0)
    schedule = get_linear_schedule_with_warmup(optimizer, math.ceil(total * settings.warmup), total)
    rng = random.Random(settings.seed)
    losses: list[float] = []
    step, pending, accumulated = 0, [], 0.0
    while step < total:
        if not pending:
            pending = _batches(rows, settings.batch_size, tokenizer.pad_token_id, rng)
        for _ in range(settings.grad_accum):
            if not pending:
                break
            ids, mask, labels = (t.to(model.device) for t in pending.pop(0))
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss / settings.grad_accum
            loss.backward()
            accumulated += loss.item()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append(accumulated)
        accumulated = 0.0
        if progress:
            progress(step, total, losses[-1])
    model.eval()
    model.config.use_cache = True  # what a saved (merged) model should generate with
    _save(model, tokenizer, output, settings.merge)
    result = TrainResult(output, base, len(rows), len(examples) - len(rows), step, time.perf_counter() - started,
                         losses[0], sum(losses[-5:]) / len(losses[-5:]), losses)
    write_manifest(result, settings)
    return result


def _save(model: Any, tokenizer: Any, output: Path, merge: bool) -> None:
    """Write beside the target, then replace it: a failed save leaves an earlier output whole."""
    staging = output.with_name(f".{output.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    if merge:
        model.merge_and_unload().save_pretrained(staging)
    else:
        model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    if output.exists():
        shutil.rmtree(output)
    staging.rename(output)


def write_manifest(result: TrainResult, settings: TrainSettings, evaluation: dict[str, Any] | None = None) -> None:
    """`gorilla_rag_training.json`: what was trained, from what, how, and how well."""
    from gorilla_rag import __version__

    manifest = {
        "kind": KIND, "format_version": FORMAT_VERSION, "package_version": __version__,
        "base_model": result.base, "saved": "merged" if settings.merge else "adapter",
        "settings": asdict(settings),
        "examples": result.examples, "skipped_too_long": result.skipped, "steps": result.steps,
        "seconds": round(result.seconds, 1), "first_loss": result.first_loss, "final_loss": result.final_loss,
        "evaluation": evaluation or {},
    }
    (result.output / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
