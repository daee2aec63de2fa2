"""Verification: find the calls in a model's output and match them to corpus APIs by identity.

Importing this package is cheap: tree-sitter loads on the first parse.
"""

from __future__ import annotations

from gorilla_rag.verify.calls import CallSite, extract_calls
from gorilla_rag.verify.identity import ApiIdentity, identify
from gorilla_rag.verify.verifier import Verifier

__all__ = ["ApiIdentity", "CallSite", "Verifier", "extract_calls", "identify"]
