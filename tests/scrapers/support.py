"""Scraper test support: a real HTTP server on 127.0.0.1 (free port) answering each path with the replies a test
queued, the fixture folder, and checks every scraper's docs must pass."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, str, or anything JSON-serialisable
    headers: dict[str, str] | None = None
    delay_s: float = 0.0

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return (self.body if isinstance(self.body, str) else json.dumps(self.body)).encode()


class HubServer:
    """Routes are a path (with or without the query) → replies served in order; the last one repeats."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[str] = []
        self.times: list[float] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def hits(self, prefix: str) -> int:
        return sum(r.startswith(prefix) for r in self.requests)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(self.path)
                server.times.append(time.monotonic())
                queue = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply(404, "not found")
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = reply.payload()
                try:
                    self.send_response(reply.status)
                    for key, value in (reply.headers or {}).items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def by_id(docs: list) -> dict:
    return {d.id: d for d in docs}


def assert_ids_verify(docs: list) -> None:
    """Each doc's id is the one the normaliser derives from its call, and the verifier matches the call to it."""
    from gorilla_rag.corpus.normalize import doc_id
    from gorilla_rag.verify import Verifier

    verifier = Verifier(docs)
    for doc in docs:
        assert doc.id == doc_id(doc.source, doc.api_name, doc.api_call)
        assert [m.id for m in verifier.verify(doc.api_call).matched] == [doc.id]


def real_source(name: str) -> Path:
    """A folder of the shared raw sources (../shared/sources/<name>); the test is skipped when it is absent."""
    import pytest

    from gorilla_rag import settings

    folder = settings.sources_dir()
    if folder is None or not (folder / name).is_dir():
        pytest.skip(f"no ../shared/sources/{name} (set GORILLA_RAG_SOURCES to a folder holding {name}/)")
    return folder / name
