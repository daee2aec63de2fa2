"""`gorilla-rag serve` as a real process on a free 127.0.0.1 port with its own home (tests and bench/ use it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

API_KEY = "test-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "GORILLA_RAG_HOME": str(home), "HF_HUB_OFFLINE": "1", **extra}


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    home: Path


@contextmanager
def running_server(home: Path, *args: str, api_key: str = API_KEY, start_timeout: float = 240) -> Iterator[Server]:
    """Start the server (its first start builds the home's index), wait until /healthz answers, stop it after."""
    port = free_port()
    log = home.parent / f"server-{port}.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "gorilla_rag.cli", "serve", "--port", str(port), *args],
                                   env=server_env(home, GORILLA_RAG_API_KEY=api_key), stdout=out, stderr=out)
    server = Server(f"http://127.0.0.1:{port}", process, log, home)
    try:
        deadline = time.monotonic() + start_timeout
        while not _healthy(server.url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start (exit code {process.poll()}):\n{log.read_text()}")
            time.sleep(0.25)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
