"""One retrieval-aware fine-tuning run per session: a tiny LLaMA built here, trained with `gorilla-rag train rat`
on a handful of APIBench-format questions over the seed corpus."""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from gorilla_rag.generation.prompt import SYSTEM_PROMPT, doc_json

# (question, gold call) over seed-corpus HuggingFace APIs (for most, the retriever ranks the gold API in its top 3).
QUESTIONS = [
    ("Translate this English paragraph into French.", "MarianMTModel.from_pretrained('Helsinki-NLP/opus-mt-en-fr')"),
    ("Summarize a long news article into a few sentences.",
     "BartForConditionalGeneration.from_pretrained('facebook/bart-large-cnn')"),
    ("Tell me whether each tweet about our brand is positive or negative.",
     "pipeline('sentiment-analysis', model='cardiffnlp/twitter-roberta-base-sentiment-latest')"),
    ("Find the names of people and places in a text.",
     "pipeline('ner', model='dslim/bert-base-NER', aggregation_strategy='simple')"),
    ("Detect the objects in a photo of a street.", "pipeline('object-detection', model='facebook/detr-resnet-50')"),
    ("Transcribe a recorded meeting to text.", "pipeline('automatic-speech-recognition', model='openai/whisper-small')"),
    ("Write a caption for an image.",
     "BlipForConditionalGeneration.from_pretrained('Salesforce/blip-image-captioning-base')"),
    ("Generate a picture from a text description.",
     "StableDiffusionPipeline.from_pretrained('stable-diffusion-v1-5/stable-diffusion-v1-5')"),
    ("Estimate how far away things are in a single photo.", "pipeline('depth-estimation', model='Intel/dpt-large')"),
    ("Answer questions about a table of sales figures.",
     "pipeline('table-question-answering', model='google/tapas-base-finetuned-wtq')"),
]
# LoRA on every linear layer and the embeddings: a random base has nothing to build on, unlike a real 7B model.
TINY_RECIPE = ["--epochs", "60", "--lr", "1e-2", "--batch-size", "4", "--grad-accum", "1", "--lora-r", "16",
               "--lora-alpha", "32", "--lora-dropout", "0", "--warmup", "0.1", "--target-modules",
               "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head,embed_tokens"]


@dataclass
class RatRun:
    questions_file: Path
    base: Path
    output: Path
    summary: dict
    seconds: float
    accuracy_before: dict


def write_question_file(path: Path, docs_by_call: dict) -> Path:
    """The questions in APIBench's format (`###Instruction` … `###Output` with v1 fields, api_data)."""
    with open(path, "w", encoding="utf-8") as handle:
        for question, call in QUESTIONS:
            doc = docs_by_call[call]
            output = (f"<<<domain>>>: {doc.domain}, <<<api_call>>>: {call}, <<<api_provider>>>: {doc.framework}, "
                      f"<<<explanation>>>: Loads {doc.api_name} for this task., <<<code>>>: model = {call}")
            record = {"code": f"###Instruction: {question}\n###Output: {output}", "api_call": call,
                      "provider": doc.framework, "api_data": {"domain": doc.domain, "api_call": call,
                                                             "api_name": doc.api_name}}
            handle.write(json.dumps(record) + "\n")
    return path


def run_cli(*args: str) -> str:
    """`gorilla-rag ARGS` in this process (torch stays loaded between calls); returns stdout."""
    from gorilla_rag.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    assert code == 0, out.getvalue()
    return out.getvalue()


@contextlib.contextmanager
def one_thread():
    """Training a tiny model is faster on one thread than on CPU cores that other work shares."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session")
def rat_run(tmp_path_factory, seed_index) -> RatRun:
    from gorilla_rag.generation.local_model import LocalModelGenerator
    from gorilla_rag.training.rat_data import examples_from_questions, score_examples
    from gorilla_rag.training.tiny import build_tiny_model

    folder = tmp_path_factory.mktemp("rat")
    questions = write_question_file(folder / "questions.json", {d.api_call: d for d in seed_index.docs})
    texts = [SYSTEM_PROMPT, *(doc_json(d) for d in seed_index.docs), questions.read_text()]
    base = build_tiny_model(folder / "base", texts)
    examples, _ = examples_from_questions([questions], seed_index, "huggingface")
    output = folder / "gorilla-tiny"
    with one_thread():
        before = score_examples(LocalModelGenerator(str(base), max_new_tokens=48).complete, examples)
        started = time.perf_counter()
        summary = json.loads(run_cli("train", "rat", "--base", str(base), "--output", str(output), "--questions",
                                     str(questions), "--hub", "huggingface", "--index", str(seed_index.folder),
                                     "--holdout", "0", "--json", *TINY_RECIPE))
    return RatRun(questions, base, output, summary, time.perf_counter() - started, before)
