"""Plainly worded questions we wrote, labelled with the task they ask for (not an API), and how to tell whether a
doc's model does that task. The re-scorer learns from them too (rerank_training.py): APIBench questions all share
one generated style, and a re-scorer fitted on those alone ranked plainly worded questions worse than the
untrained hybrid (docs/benchmarks.md, "Memory floor").

- data/in_scope.jsonl: 120 questions written for the abstention calibration;
- data/plain_tune.jsonl: 206 questions written later by a helper, in many styles (terse, scenario, typos,
  constraints, model families), most naming no hub;
- data/more_tasks.jsonl: 120 by another helper, for the tasks the first two sets left out (tabular, reinforcement
  learning, image generation and editing, text preprocessing, pitch, style transfer, ...), so that the task
  memory of untrained indexes (retrieval/task_memory.py) can vouch for those tasks too. The re-scorer does not
  learn from them: with them, held-out APIBench top-1 fell from 33.9% to 32.3% (as 177 more plain questions
  cost 0.4 points before: every plain list pulls the weights away from APIBench's style);
- data/more_tasks_2.jsonl: 143 by another helper (one that repeated a near_miss request word for word was removed), for 18 tasks no hub's domains name (language identification,
  keyword spotting, face recognition, optical flow, forecasting, ...), so that a corpus lacking one can say so
  (retrieval/unserved_tasks.py); a doc does those only by its text, so they never join a task memory;
- data/no_model.jsonl: 198 requests no pretrained model answers (code, tooling, ML engineering how-tos, facts,
  chit-chat), by another helper who never saw bench/data/out_of_scope.jsonl (two that repeated one of its requests
  word for word were removed): labelled NO_MODEL, a "task" every corpus lacks, so a request nearer those than any
  served task gets no_match like a request for a missing task.

bench/data/plain_test.jsonl (163 more, by another helper; two that repeated a training question were removed) is
never trained on: it is the check.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
TRAINING_SETS = ("in_scope", "plain_tune")  # what the re-scorer learns from
TASK_MEMORY_SETS = (*TRAINING_SETS, "more_tasks", "more_tasks_2", "no_model")  # what an untrained index remembers (retrieval/task_memory.py)

NO_MODEL = "no-model"  # the label of data/no_model.jsonl
# What a top API's task (does_task) must say for it to do the task a plain question is labelled with.
TASK_DOMAINS = {
    "image-classification": r"image classification|^classification", "image-feature-vector": r"feature vector",
    "text-embedding": r"text embedding|sentence similarity|feature extraction", "summarization": r"summari",
    "sentiment-analysis": r"text classification", "object-detection": r"object detection",
    "image-segmentation": r"segmentation", "translation": r"translation|text2text",
    "text-generation": r"text generation|conversational", "feature-extraction": r"feature|image classification|^classification",
    "pose-estimation": r"pose", "token-classification": r"token classification",
    "question-answering": r"(?<!table )(?<!visual )(?<!document )question answering|text2text", "depth-estimation": r"depth",
    "sentence-embeddings": r"sentence similarity|text embedding|feature extraction",
    "zero-shot-classification": r"zero-shot classification", "fill-mask": r"fill-mask",
    "automatic-speech-recognition": r"speech recognition|speech-to-text", "image-captioning": r"image-to-text",
    "audio-classification": r"audio classification|audio event|audio embedding", "audio-embedding": r"audio embedding",
    "text-to-image": r"text-to-image", "text-to-speech": r"text-to-speech", "video-classification": r"video classification",
    "table-question-answering": r"table question", "zero-shot-image-classification": r"zero-shot image",
    "visual-question-answering": r"visual question", "document-question-answering": r"document question",
    "audio-to-audio": r"audio-to-audio|audio separation", "conversational": r"conversational|text generation",
    "voice-activity-detection": r"voice activity",
    "text-preprocessing": r"text preprocessing", "pitch-extraction": r"pitch", "style-transfer": r"style transfer",
    "image-generation": r"image generation|generative adversarial", "image-to-image": r"image-to-image|super-resolution",
    "tabular-classification": r"tabular classification", "tabular-regression": r"tabular regression",
    "reinforcement-learning": r"reinforcement learning", "text-to-video": r"text-to-video",
    "graph-ml": r"graph machine learning", "frame-interpolation": r"frame interpolation",
    # tasks no hub domain names: a doc does them only by its text (unserved_tasks.unserved_labels reads it)
    "language-identification": r"language (?:identification|detection|identifier|id\b)|langid|spoken language recognition",
    "keyword-spotting": r"keyword spotting|wake ?word|speech commands|hot ?word",
    "speaker-verification": r"speaker (?:verification|recognition|identification|embedding|diarization)",
    "face-recognition": r"face (?:recognition|verification|identification|embedding)",
    "optical-flow": r"optical flow", "time-series-forecasting": r"time[- ]?series|forecast",
    "anomaly-detection": r"anomal|outlier detection", "recommendation": r"recommend", "protein-modeling": r"protein",
    "music-generation": r"music generation|text-to-audio|generates? music|musicgen",
    "point-cloud": r"point cloud|lidar", "image-inpainting": r"inpaint", "colorization": r"coloriz|colouriz",
    "lip-reading": r"lip ?reading|visual speech recognition", "sign-language-recognition": r"sign language",
    "code-generation": r"code (?:generation|completion|synthesis)|program synthesis|text2code|codegen|generates? code",
    "grammar-correction": r"grammar|grammatical|spelling correction|spell ?check",
    "speech-emotion-recognition": r"emotion recognition|speech emotion|emotions? (?:from|in) (?:speech|voice|audio)",
    NO_MODEL: r"(?!)",  # requests no model answers (code, tooling, facts): no doc ever does this "task"
}


_TASK_NAMES = {"graph-ml": "graph machine learning (node, graph or molecule classification)",
               "audio-to-audio": "audio to audio (speech enhancement, source separation)",
               "reinforcement-learning": "a reinforcement-learning agent", "audio-embedding": "audio embeddings",
               "image-feature-vector": "image feature vectors", "text-embedding": "text embeddings",
               "sentence-embeddings": "sentence embeddings", "conversational": "a conversational model",
               "protein-modeling": "protein modelling (structure, embeddings)",
               "point-cloud": "3D point-cloud classification or segmentation", "recommendation": "recommendations"}


def task_name(label: str) -> str:
    """A task label in words: 'text-to-video' → 'text to video'."""
    return _TASK_NAMES.get(label, label.replace("-", " "))


# TorchHub's domain field is often not the task (MiDaS, Silero speech-to-text and Tacotron 2 are filed under
# "Classification", the fairseq translation model under "Semantic Segmentation"): there the functionality says it.
_TORCHHUB_TASK_WORDS = re.compile(r"speech|depth|voice|translation|generative|separation|synthesis", re.I)


def read_task_questions(path: Path) -> list[dict]:
    """The questions of a JSON-lines file ({"hub", "task", "question"}) whose task label TASK_DOMAINS knows."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if row["task"] in TASK_DOMAINS]


def training_task_questions(sets: tuple[str, ...] = TRAINING_SETS) -> list[dict]:
    """Every task-labelled question of the sets (default: those the re-scorer learns from), in file order."""
    return [row for name in sets for row in read_task_questions(DATA / f"{name}.jsonl")]


def does_task(doc, task: str) -> bool:  # noqa: ANN001
    """Whether the doc's model does the labelled task, by its domain (TorchHub: its functionality where that
    names a task, with the domain only when that is not a generic one)."""
    said = doc.domain
    if doc.source == "torchhub" and _TORCHHUB_TASK_WORDS.search(doc.functionality):
        # the generic domains there are wrong (MiDaS: "Classification", fairseq NMT: "Semantic Segmentation");
        # a specific one is right (WaveGlow: "Speech Synthesis" under "Text-to-Speech")
        generic = doc.domain in ("Classification", "Semantic Segmentation")
        said = doc.functionality if generic else f"{doc.functionality} | {doc.domain}"
    return bool(re.search(TASK_DOMAINS[task], said, re.I))
