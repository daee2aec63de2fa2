"""The default generator: no model; answers with the best retrieved doc's own call and example."""

from __future__ import annotations

from gorilla_rag.corpus.requirements import requirement_name
from gorilla_rag.types import ApiDoc, GeneratedCall, Hit

_IMPORTS = {
    "torchhub": "import torch",
    "tfhub": "import tensorflow_hub as hub",
}


def example_code(doc: ApiDoc) -> str:
    """The doc's example when it actually uses the call, else a minimal snippet around the call."""
    loader = doc.api_call.split("(", 1)[0].strip()
    if doc.example_code and loader and loader in doc.example_code:
        return doc.example_code
    header = _IMPORTS.get(doc.source)
    if header is None and doc.source == "huggingface":
        symbol = loader.split(".", 1)[0]
        module = requirement_name(doc.requirements[0]) if doc.requirements else "transformers"
        header = f"from {module} import {symbol}" if symbol.isidentifier() else ""
    call = doc.api_call if "=" in doc.api_call.split("(", 1)[0] else f"model = {doc.api_call}"
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
