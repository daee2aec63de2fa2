"""MCP server for coding agents, over stdio: find a verified API call, search APIs, verify a snippet.

Only protocol reaches stdout: while it serves, the SDK's stdio transport points fd 1 at stderr, so messages,
progress bars and warnings from building the index or loading the embedder go to stderr with the logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from gorilla_rag import __version__
from gorilla_rag.errors import GorillaError
from gorilla_rag.generation import DEFAULT_GENERATOR

MAX_K = 50
INSTRUCTIONS = (
    "Use these tools before writing code that loads a model from HuggingFace Hub, PyTorch Hub or TensorFlow Hub. "
    "find_api_call returns a call checked against real API documentation (status 'verified' or 'repaired'), or "
    "'no_match' when no documented API fits: then say so rather than inventing one. verify_code tells whether a "
    "snippet calls a documented API ('hallucinated' when it does not)."
)


def create_server(home: str | Path | None = None, index: str | Path | None = None,
                  generator: str = DEFAULT_GENERATOR, reload_interval: float = 2.0) -> Any:
    """An MCPServer with the tools. When it runs, the index starts loading at once (the first call waits less)
    and is watched every `reload_interval` s (0: never) for a new version to swap in."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:
        raise GorillaError("the MCP server needs the mcp SDK 2.x: pip install 'gorilla-rag[mcp]'") from exc
    from gorilla_rag.pipeline import check_question
    from gorilla_rag.retrieval.constraints import Filters, canonical_source
    from gorilla_rag.serving import Serving

    serving = Serving(home, index, generator)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[dict]:
        # Only now: the transport has claimed stdout, so nothing that loading prints can reach it.
        serving.load_in_background()
        watcher = asyncio.create_task(serving.watch(reload_interval)) if reload_interval > 0 else None
        yield {}
        if watcher:
            watcher.cancel()

    server = MCPServer("gorilla-rag", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan)

    def refuse(exc: Exception) -> ToolError:
        return ToolError(str(exc))  # our errors say what to change; the SDK would hide their text

    @server.tool()
    def find_api_call(task: str, source: str | None = None) -> dict[str, Any]:
        """Find a verified API call for a task, with example code.

        Args:
            task: what the code should do, in words (e.g. "segment the people in a street photo").
            source: only this hub: huggingface, torchhub or tfhub.
        """
        try:
            answer = serving.load().ask(task, source=source)
        except (GorillaError, ValueError) as exc:
            raise refuse(exc) from exc
        data = answer.to_dict()
        del data["hits"], data["raw_output"]
        return data

    @server.tool()
    def search_apis(query: str, source: str | None = None, domain: str | None = None, max_params: float | None = None,
                    min_top1: float | None = None, framework: str | None = None, k: int = 5) -> list[dict[str, Any]]:
        """The documented APIs most relevant to a query, best first, among those the filters allow.

        Args:
            query: what the model should do.
            source: only this hub: huggingface, torchhub or tfhub.
            domain: only APIs whose domain contains this (e.g. "Image Classification").
            max_params: only models with at most this many parameters.
            min_top1: only models with top-1 accuracy at least this: a percentage (80), or a fraction (0.8).
            framework: only models that run on it: tensorflow (or keras), pytorch or scikit-learn.
            k: how many (1 to 50); another value is an error, as over HTTP.
        """
        try:
            if not 1 <= k <= MAX_K:  # refused, not clamped: the agent learns its k was not used
                raise ValueError(f"k must be from 1 to {MAX_K}, got {k}")
            filters = Filters.make(source, domain=domain, max_params=max_params, min_top1=min_top1, framework=framework)
            hits = serving.load().index.search(check_question(query), k=k, filters=filters)
        except (GorillaError, ValueError) as exc:
            raise refuse(exc) from exc
        return [{"id": h.doc.id, "api_call": h.doc.api_call, "api_name": h.doc.api_name, "domain": h.doc.domain,
                 "description": h.doc.description, "score": round(h.score, 6),
                 **({"moved_down": h.moved_down} if h.moved_down else {})} for h in hits]

    @server.tool()
    def verify_code(code: str, source: str | None = None) -> dict[str, Any]:
        """Check code (or model output) against the documentation: which API it calls, or 'hallucinated'.

        Args:
            code: the code to check.
            source: only match APIs of this hub: huggingface, torchhub or tfhub.
        """
        try:
            hub = canonical_source(source) if source else None
            return serving.load().verifier.verify(code, source=hub).to_dict()
        except (GorillaError, ValueError) as exc:
            raise refuse(exc) from exc

    return server
