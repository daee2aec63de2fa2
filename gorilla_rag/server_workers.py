"""`gorilla-rag serve --workers N`: N uvicorn worker processes share the port, each with its own copy of the index.

One server process keeps about one core busy (request handling holds the GIL; the encoder thread runs beside it),
so on a machine with more cores several processes serve more requests. Each worker builds its app with
`app_from_environment` from the options the parent put into the environment, loads the index itself and follows
its refreshes itself.

The listening socket uvicorn binds for its workers carries no TCP protocol number, so asyncio does not switch
Nagle's algorithm off on the connections it accepts (it checks `sock.proto`), and every small response waited for
the client's delayed ACK: 44 ms per request instead of 1 (measured). The protocol classes below set TCP_NODELAY
on each connection, as single-process uvicorn does.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from gorilla_rag.generation import DEFAULT_GENERATOR
from gorilla_rag.server import create_app

SETTINGS = {"index": "GORILLA_RAG_SERVE_INDEX", "generator": "GORILLA_RAG_SERVE_GENERATOR",
            "reload_interval": "GORILLA_RAG_SERVE_RELOAD_INTERVAL"}


def app_from_environment() -> Any:
    """The app of one worker (uvicorn calls this factory in each): options from the environment the parent set
    (home: $GORILLA_RAG_HOME; API key: $GORILLA_RAG_API_KEY)."""
    return create_app(index=os.environ.get(SETTINGS["index"]) or None,
                      generator=os.environ.get(SETTINGS["generator"]) or DEFAULT_GENERATOR,
                      reload_interval=float(os.environ.get(SETTINGS["reload_interval"]) or 2.0))


def _no_delay(transport: Any) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class H11NoDelay(H11Protocol):
    """uvicorn's h11 protocol with Nagle's algorithm off for each connection."""

    def connection_made(self, transport: Any) -> None:
        _no_delay(transport)
        super().connection_made(transport)


try:  # the faster parser, when installed (uvicorn's "auto" prefers it too)
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsNoDelay(HttpToolsProtocol):
        """uvicorn's httptools protocol with Nagle's algorithm off for each connection."""

        def connection_made(self, transport: Any) -> None:
            _no_delay(transport)
            super().connection_made(transport)

    PROTOCOL = "gorilla_rag.server_workers:HttpToolsNoDelay"
except ImportError:
    PROTOCOL = "gorilla_rag.server_workers:H11NoDelay"


def _open_index(home: str | None, index: str | None) -> str | None:
    """Open (building the default one if absent) the index; the message of what is wrong with it, or None."""
    from gorilla_rag.errors import USER_ERRORS
    from gorilla_rag.indexing import open_index

    try:
        open_index(home, index)
    except USER_ERRORS as exc:
        return str(exc)
    return None


def check_index(home: str | None, index: str | None) -> None:
    """Refuse to start (GorillaError naming the fix) when the index cannot be used, before any worker starts.

    Done in a short-lived process: opening an index (or building the first one) loads FAISS, BM25 and perhaps
    torch, which the supervisor would otherwise keep in memory for nothing (~650 MB measured).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from gorilla_rag.errors import GorillaError

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        problem = pool.submit(_open_index, home, index).result()
    if problem:
        raise GorillaError(problem)


def run_workers(workers: int, index: str | None, generator: str, reload_interval: float, **options: Any) -> None:
    """Start `workers` processes on one port (uvicorn's supervisor restarts one that dies) and wait."""
    import uvicorn

    os.environ.update({SETTINGS["index"]: index or "", SETTINGS["generator"]: generator,
                       SETTINGS["reload_interval"]: str(reload_interval)})
    uvicorn.run("gorilla_rag.server_workers:app_from_environment", factory=True, workers=workers, http=PROTOCOL,
                **options)
