"""`serve --workers 2`: two server processes share the port, each answers with its own copy of the index."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from serverproc import API_KEY, running_server

from gorilla_rag.cli import main

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def children(pid: int) -> set[int]:
    """Live child processes of `pid`, from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def test_two_worker_processes_answer_on_one_port(tmp_path):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    with running_server(home, "--workers", "2", "--reload-interval", "0") as server:
        workers = children(server.process.pid)
        seen = set()
        for attempt in range(40):  # a new connection each time: the kernel hands it to either worker
            with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client:
                if attempt < 4:
                    answer = client.post("/v1/ask", json={"question": "translate English text to French"}).json()
                    assert answer["status"] == "verified" and "en-fr" in answer["call"]  # either en→fr model
                seen.add(client.get("/v1/index").json()["process"])
        # uvicorn's supervisor has the workers (and a resource tracker) as children; every answer came from a worker
        spawned = {pid for pid in workers if "multiprocessing.spawn" in Path(f"/proc/{pid}/cmdline").read_text()}
        assert len(spawned) == 2 and seen and seen <= spawned


def test_a_worker_count_below_one_or_a_broken_index_is_refused_before_workers_start(tmp_path, capsys):
    with pytest.raises(SystemExit) as usage_error:
        main(["--home", str(tmp_path), "serve", "--workers", "0"])
    assert usage_error.value.code == 2 and "--workers: must be at least 1, got 0" in capsys.readouterr().err
    broken = tmp_path / "indexes" / "default"
    broken.mkdir(parents=True)
    (broken / "index.json").write_text("{broken")
    # the index is opened in a short-lived process; its message comes back as ours before any port is bound
    # (the port given is taken, so a server that tried to start would fail differently instead of hanging)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert main(["--home", str(tmp_path), "serve", "--workers", "2", "--port", port]) == 2
    assert "unreadable index.json" in capsys.readouterr().err


def test_worker_connections_have_nagle_switched_off():
    from gorilla_rag.server_workers import PROTOCOL, _no_delay

    class Transport:
        def __init__(self, sock):
            self.sock = sock

        def get_extra_info(self, name):
            return self.sock if name == "socket" else None

    listener = socket.socket(socket.AF_INET)  # as uvicorn binds for its workers: no protocol number
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    with listener, socket.create_connection(listener.getsockname()):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # what asyncio leaves
            _no_delay(Transport(accepted))
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    assert PROTOCOL.startswith("gorilla_rag.server_workers:")
