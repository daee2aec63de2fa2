"""Plainly worded questions over the APIBench corpus, labelled with the task they ask for (not an API), shared by
the benchmark scripts:

- bench/data/in_scope.jsonl: 120 questions written by us for the abstention calibration, before the task words
  and the task rules; later read while writing those rules (biased in their favour);
- bench/data/plain_test.jsonl: 165 questions written by a helper who had not seen the rules, the task words or
  the other sets, after they were written; not read while tuning anything since (the fair check).

A question counts as answered right when the top API does the labelled task (`does_task`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
PLAIN_SETS = ("in_scope", "plain_test")

# What a top API's task (does_task) must say for it to do the task a plain question is labelled with.
TASK_DOMAINS = {
    "image-classification": r"image classification|^classification", "image-feature-vector": r"feature vector",
    "text-embedding": r"text embedding|sentence similarity|feature extraction", "summarization": r"summari",
    "sentiment-analysis": r"text classification", "object-detection": r"object detection",
    "image-segmentation": r"segmentation", "translation": r"translation|text2text",
    "text-generation": r"text generation|conversational", "feature-extraction": r"feature|classification",
    "pose-estimation": r"pose", "token-classification": r"token classification",
    "question-answering": r"question answering|text2text", "depth-estimation": r"depth",
    "sentence-embeddings": r"sentence similarity|embedding|feature extraction",
    "zero-shot-classification": r"zero-shot classification", "fill-mask": r"fill-mask",
    "automatic-speech-recognition": r"speech recognition|speech-to-text", "image-captioning": r"image-to-text",
    "audio-classification": r"audio classification|audio event|audio embedding", "audio-embedding": r"audio embedding",
    "text-to-image": r"text-to-image", "text-to-speech": r"text-to-speech", "video-classification": r"video classification",
    "table-question-answering": r"table question", "zero-shot-image-classification": r"zero-shot image",
    "visual-question-answering": r"visual question", "document-question-answering": r"document question",
    "audio-to-audio": r"audio-to-audio|audio separation", "conversational": r"conversational|text generation",
    "voice-activity-detection": r"voice activity",
}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# TorchHub's domain field is often not the task (MiDaS, Silero speech-to-text and Tacotron 2 are filed under
# "Classification", the fairseq translation model under "Semantic Segmentation"): there the functionality says it.
_TORCHHUB_TASK_WORDS = re.compile(r"speech|depth|voice|translation|generative|separation|synthesis", re.I)


def plain_questions(name: str) -> list[dict]:
    """The questions of bench/data/<name>.jsonl whose task label TASK_DOMAINS knows."""
    return [q for q in read_jsonl(DATA / f"{name}.jsonl") if q["task"] in TASK_DOMAINS]


def does_task(doc, task: str) -> bool:  # noqa: ANN001
    """Whether the doc's model does the labelled task, by its domain (TorchHub: its functionality where that names
    the task)."""
    said = doc.functionality if doc.source == "torchhub" and _TORCHHUB_TASK_WORDS.search(doc.functionality) else doc.domain
    return bool(re.search(TASK_DOMAINS[task], said, re.I))


def task_accuracy(index, questions: list[dict], retriever: str, hub_filter: bool) -> float:  # noqa: ANN001
    """Share of the questions whose top API does the labelled task, searched with or without the question's hub
    as a filter."""
    from gorilla_rag.retrieval import Filters

    tops = [index.search(q["question"], 1, retriever, Filters.make(q["hub"]) if hub_filter else None)[0].doc
            for q in questions]
    return float(np.mean([does_task(doc, q["task"]) for doc, q in zip(tops, questions)]))
