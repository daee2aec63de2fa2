"""Generators turn a question plus retrieved docs into a proposed API call; found by name in one table."""

from __future__ import annotations

import importlib
from typing import Protocol

from gorilla_rag.types import GeneratedCall, Hit

# name → "module:Class"; a spec "name:argument" passes the argument (a model path, a server URL) to the class.
GENERATORS: dict[str, str] = {
    "extractive": "gorilla_rag.generation.extractive:ExtractiveGenerator",
    "local": "gorilla_rag.generation.local_model:LocalModelGenerator",
    "openai": "gorilla_rag.generation.openai_server:OpenAIServerGenerator",
}
DEFAULT_GENERATOR = "extractive"


class Generator(Protocol):
    name: str

    def generate(self, question: str, hits: list[Hit], feedback: str | None = None) -> GeneratedCall:
        """Propose a call for the question given the retrieved docs (best first) and optional verifier feedback."""
        ...


def load_generator(spec: str = DEFAULT_GENERATOR) -> Generator:
    """Instantiate a generator from a spec such as 'extractive', 'local:/path/to/model' or 'openai:URL'."""
    name, _, argument = spec.partition(":")
    if name not in GENERATORS:
        raise ValueError(f"unknown generator {name!r}: choose one of {', '.join(sorted(GENERATORS))}")
    module_name, _, class_name = GENERATORS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(argument) if argument else cls()


__all__ = ["DEFAULT_GENERATOR", "GENERATORS", "Generator", "load_generator"]
