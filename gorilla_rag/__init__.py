"""gorilla-rag: turn "give me code to do X" into a verified API call.

Only the public API lives here, and importing it loads nothing heavy (no torch, faiss, transformers).
"""

from __future__ import annotations

__version__ = "0.1.0"
