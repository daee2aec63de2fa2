"""GGUF models with llama-cpp-python (the `gguf` extra), used by the local generator for `.gguf` files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gorilla_rag.generation.prompt import GeneratorError, plain_prompt


class GgufEngine:
    """Greedy completion with llama.cpp: the file's own chat template when it has one, else Gorilla's prompt."""

    def __init__(self, path: str, context: int = 4096) -> None:
        self.path = path
        self.context = context
        self._llm: Any = None

    @property
    def llm(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise GeneratorError("GGUF models need llama-cpp-python: pip install 'gorilla-rag[gguf]'") from exc
            self._llm = Llama(model_path=self.path, n_ctx=self.context, n_gpu_layers=-1, verbose=False)
        return self._llm

    def complete(self, messages: Sequence[dict[str, str]], max_new_tokens: int, stop: Sequence[str]) -> str:
        llm = self.llm
        if llm.metadata.get("tokenizer.chat_template"):
            out = llm.create_chat_completion(messages=list(messages), max_tokens=max_new_tokens, temperature=0.0,
                                             stop=list(stop))
            return out["choices"][0]["message"]["content"] or ""
        out = llm.create_completion(plain_prompt(messages), max_tokens=max_new_tokens, temperature=0.0,
                                    stop=list(stop))
        return out["choices"][0]["text"]
