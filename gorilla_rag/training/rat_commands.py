"""`gorilla-rag train rat`: retrieval-aware LoRA fine-tuning of a causal LM on APIBench questions."""

from __future__ import annotations

import argparse
import json
import sys


def cmd_train_rat(args: argparse.Namespace) -> int:
    """Fine-tune a causal LM (LoRA) on retrieval-aware examples; `--generator local:OUTPUT` then uses it."""
    from gorilla_rag.generation.local_model import LocalModelGenerator
    from gorilla_rag.indexing import open_index
    from gorilla_rag.retrieval import canonical_source
    from gorilla_rag.training.lora import TrainSettings, check_output, train_lora, write_manifest
    from gorilla_rag.training.rat_data import (
        examples_from_questions,
        read_examples,
        score_examples,
        split_by_question,
        write_examples,
    )

    if bool(args.questions) == bool(args.examples):
        raise ValueError("give either --questions (APIBench question files) or --examples (a JSONL of examples)")
    for name, share in (("--irrelevant", args.irrelevant), ("--holdout", args.holdout)):
        if not 0 <= share < 1:
            raise ValueError(f"{name} is a share of the questions in [0, 1), got {share}")
    settings = TrainSettings(
        epochs=args.epochs, max_steps=args.max_steps, learning_rate=args.lr, batch_size=args.batch_size,
        grad_accum=args.grad_accum, max_length=args.max_length, lora_r=args.lora_r, lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout, warmup=args.warmup, device=args.device, dtype=args.dtype,
        quantize=args.quantize, gradient_checkpointing=args.gradient_checkpointing, merge=args.merge, seed=args.seed,
        target_modules=args.target_modules if args.target_modules == "all-linear" else
        tuple(args.target_modules.split(",")))
    check_output(args.output)
    check_base(args.base, settings)  # before minutes of retrieval over the questions
    skipped = 0
    if args.examples:
        examples = read_examples(args.examples)
    else:
        source = canonical_source(args.hub) if args.hub else None
        examples, skipped = examples_from_questions(args.questions, open_index(args.home, args.index), source,
                                                    args.irrelevant, args.retriever, args.seed, args.limit)
    train, heldout = split_by_question(examples, args.holdout, args.seed)
    print(f"{len(train)} training and {len(heldout)} held-out examples ({skipped} questions skipped: gold call "
          "not in the corpus)", file=sys.stderr)
    def progress(step: int, total: int, loss: float) -> None:
        if step % max(1, total // 20) == 0 or step == total:
            print(f"step {step}/{total}  loss {loss:.4f}", file=sys.stderr)

    result = train_lora(train, args.base, args.output, settings, progress)
    write_examples(result.output / "rat_train.jsonl", train)
    write_examples(result.output / "rat_heldout.jsonl", heldout)
    scored = heldout[: args.eval_limit]
    evaluation = {}
    if scored:
        generator = LocalModelGenerator(str(result.output), device=args.device, dtype=args.dtype)
        evaluation = score_examples(generator.complete, scored)
    write_manifest(result, settings, evaluation)
    summary = {"output": str(result.output), "train_examples": result.examples, "heldout_examples": len(heldout),
               "skipped_questions": skipped, "skipped_too_long": result.skipped, "steps": result.steps,
               "seconds": round(result.seconds, 1), "first_loss": result.first_loss, "final_loss": result.final_loss,
               "heldout": evaluation}
    print(json.dumps(summary, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in summary.items()))
    print(f"next: gorilla-rag ask \"...\" --generator local:{result.output}", file=sys.stderr)
    return 0


_WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.safetensors.index.json", "*.bin.index.json")


def check_base(base: str, settings) -> None:  # noqa: ANN001 - lora.TrainSettings
    """Fail now on a base model that cannot load: a missing folder, one without weights, a GGUF file, a hub id
    while offline, a device this machine lacks, or quantization without a CUDA GPU and bitsandbytes."""
    from pathlib import Path

    from gorilla_rag.generation.local_model import check_device, check_hub_reachable, model_location, resolve_device
    from gorilla_rag.generation.prompt import GeneratorError

    kind, location = model_location(base)
    if kind == "gguf":
        raise GeneratorError(f"{location} is a GGUF file: training needs a transformers model folder or hub id")
    if kind == "hub":
        check_hub_reachable(location)
    elif not any(any(Path(location).glob(pattern)) for pattern in _WEIGHTS):
        raise GeneratorError(f"{location} has no model weights (*.safetensors, *.bin, *.pt): not a usable base")
    check_device(resolve_device(settings.device), settings.quantize)


def add_commands(sub, groups, command) -> None:  # noqa: ANN001
    from gorilla_rag.cli_types import positive_int

    p = command("rat", cmd_train_rat, parent=groups["train"])
    p.add_argument("--base", required=True, help="base model: a folder or a hub id (e.g. a Llama/Qwen 7B instruct)")
    p.add_argument("--output", required=True, help="folder for the adapter (or merged model) and its manifest")
    p.add_argument("--questions", nargs="+", help="APIBench question files (JSON lines)")
    p.add_argument("--examples", help="examples written by an earlier run (rat_train.jsonl) instead of questions")
    p.add_argument("--hub", help="huggingface, torchhub or tfhub: gold docs and distractors from this hub only")
    p.add_argument("--index", help="index name or folder giving docs and distractors (default: the home's)")
    p.add_argument("--retriever", help="retriever giving the prompt's docs (default: the index's, as the pipeline)")
    p.add_argument("--irrelevant", type=float, default=0.1, help="share of 'no matching API' examples (0.1)")
    p.add_argument("--holdout", type=float, default=0.1, help="share of questions held out for evaluation (0.1)")
    p.add_argument("--limit", type=positive_int, help="only the first N questions")
    p.add_argument("--epochs", type=float, default=3.0, help="passes over the training examples (3)")
    p.add_argument("--max-steps", type=positive_int, help="optimizer steps (overrides --epochs)")
    p.add_argument("--lr", type=float, default=2e-4, help="learning rate (2e-4)")
    p.add_argument("--batch-size", type=positive_int, default=4, help="examples per forward pass (4)")
    p.add_argument("--grad-accum", type=positive_int, default=4, help="batches per optimizer step (4)")
    p.add_argument("--max-length", type=int, default=2048, help="tokens per example; longer prompts are skipped")
    p.add_argument("--lora-r", type=positive_int, default=16, help="LoRA rank (16)")
    p.add_argument("--lora-alpha", type=positive_int, default=32, help="LoRA scaling numerator (32)")
    p.add_argument("--lora-dropout", type=float, default=0.05, help="dropout on the LoRA path (0.05)")
    p.add_argument("--target-modules", default="all-linear", help="'all-linear' or comma-separated module names")
    p.add_argument("--warmup", type=float, default=0.03, help="share of steps spent warming up (0.03)")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--dtype", help="float32, bfloat16 or float16 (default: bf16 on a GPU, fp32 on CPU)")
    p.add_argument("--quantize", choices=["4bit", "8bit"], help="load the base quantized (QLoRA; CUDA + bitsandbytes)")
    p.add_argument("--gradient-checkpointing", action="store_true", help="trade compute for memory (7B on 24 GB)")
    p.add_argument("--merge", action="store_true", help="save the merged model instead of the adapter")
    p.add_argument("--eval-limit", type=positive_int, default=100, help="held-out examples to score after training (100)")
    p.add_argument("--seed", type=int, default=0, help="random seed for the split, shuffling and init (0)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
