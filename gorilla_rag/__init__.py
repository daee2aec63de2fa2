"""gorilla-rag: turn "give me code to do X" into a verified API call.

Only the public API lives here, and importing it loads nothing heavy (no torch, faiss, transformers):
everything else is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "ask": "gorilla_rag.pipeline",
    "Pipeline": "gorilla_rag.pipeline",
    "Answer": "gorilla_rag.types",
    "ApiDoc": "gorilla_rag.types",
    "Hit": "gorilla_rag.types",
    "Verification": "gorilla_rag.types",
    "Filters": "gorilla_rag.retrieval.constraints",
    "Verifier": "gorilla_rag.verify",
    "build_index": "gorilla_rag.indexing",
    "open_index": "gorilla_rag.indexing",
}

__all__ = ["Answer", "ApiDoc", "Filters", "Hit", "Pipeline", "Verification", "Verifier", "__version__", "ask",
           "build_index", "open_index"]

if TYPE_CHECKING:
    from gorilla_rag.indexing import build_index, open_index
    from gorilla_rag.pipeline import Pipeline, ask
    from gorilla_rag.retrieval.constraints import Filters
    from gorilla_rag.types import Answer, ApiDoc, Hit, Verification
    from gorilla_rag.verify import Verifier


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext gorilla_rag`: adds the %gorilla and %%gorilla magics (nothing loads until the first one runs)."""
    from gorilla_rag.notebook import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gorilla_rag' has no attribute {name!r}")
