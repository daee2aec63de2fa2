"""The default generator: no model; answers with the best retrieved doc's own call and example."""

from __future__ import annotations

import ast

from gorilla_rag.corpus.requirements import requirement_name
from gorilla_rag.types import ApiDoc, GeneratedCall, Hit

_IMPORTS = {
    "torchhub": "import torch",
    "tfhub": "import tensorflow_hub as hub",
}


_SENTENCE_TRANSFORMERS = {"SentenceTransformer", "CrossEncoder"}
_FUNCTIONS = {"hf_hub_download": "huggingface_hub", "snapshot_download": "huggingface_hub",
              "load_model_ensemble_and_task_from_hf_hub": "fairseq.checkpoint_utils"}
_MODULES = {"joblib", "timm", "clip", "skops", "torch", "tensorflow", "keras"}
_DIFFUSERS_MODELS = {"ControlNetModel", "UNet2DModel", "UNet2DConditionModel", "AutoencoderKL", "VQModel"}


def huggingface_import(symbol: str, requirements: tuple[str, ...]) -> str:
    """The import line for a HuggingFace doc's loader symbol, from what the symbol is (a module called directly,
    a sentence-transformers or diffusers class, else transformers), never from whichever requirement is listed
    first (APIBench lists PIL, torch or joblib first as often as not)."""
    if not symbol.isidentifier():
        return ""
    names = {requirement_name(r).lower().replace("-", "_") for r in requirements}
    if symbol in _FUNCTIONS:
        return f"from {_FUNCTIONS[symbol]} import {symbol}"
    if symbol.islower() and symbol != "pipeline":  # a module called directly (joblib.load, timm.create_model)
        return f"import {symbol}" if symbol in names | _MODULES else ""  # else unknown: no invented import
    if symbol in _SENTENCE_TRANSFORMERS:
        return f"from sentence_transformers import {symbol}"
    if "diffusers" in names and (symbol.endswith("Pipeline") or symbol in _DIFFUSERS_MODELS):
        return f"from diffusers import {symbol}"
    return f"from transformers import {symbol}"


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def example_code(doc: ApiDoc) -> str:
    """The doc's example when it uses the call and is valid Python, else a minimal snippet around the call
    (a quarter of APIBench's examples do not parse: lost indentation, unquoted strings, prose in the code)."""
    loader = doc.api_call.split("(", 1)[0].strip()
    if doc.example_code and loader and loader in doc.example_code and _parses(doc.example_code):
        return doc.example_code
    return minimal_snippet(doc)


def minimal_snippet(doc: ApiDoc, call: str | None = None) -> str:
    """The import the call (the doc's own unless given) needs and the call itself, assigned (`model = ...`
    unless the call assigns)."""
    call = call or doc.api_call
    loader = call.split("(", 1)[0].strip()
    header = _IMPORTS.get(doc.source)
    if header is None and doc.source == "huggingface":
        header = huggingface_import(loader.split("=")[-1].strip().split(".", 1)[0], doc.requirements)
    call = call if "=" in loader else f"model = {call}"
    return "\n".join(line for line in (header, call) if line)


def explain(doc: ApiDoc) -> str:
    """One or two sentences from the doc: what it is and what it was chosen for."""
    what = doc.description or doc.functionality or doc.domain
    where = f"{doc.framework} " if doc.framework else ""
    head = f"`{doc.api_name or doc.id}` ({where}{doc.domain})".replace(" )", ")")
    return f"{head}: {what}".strip()


class ExtractiveGenerator:
    """Returns the best-ranked doc's call verbatim: always a corpus API, so it verifies by construction."""

    name = "extractive"

    def generate(self, question: str, hits: list[Hit], feedback: str | None = None) -> GeneratedCall:
        if not hits:
            return GeneratedCall(raw="", call="", code="", explanation="no candidate API was retrieved")
        doc = hits[0].doc
        code = example_code(doc)
        explanation = explain(doc)
        raw = f"<<<domain>>>: {doc.domain}\n<<<api_call>>>: {doc.api_call}\n<<<api_provider>>>: {doc.framework}\n" \
              f"<<<explanation>>>: {explanation}\n<<<code>>>: {code}"
        return GeneratedCall(raw=raw, call=doc.api_call, code=code, explanation=explanation)
