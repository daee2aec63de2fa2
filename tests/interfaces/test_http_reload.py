"""Hot reload: an index rebuilt under a running server is served next, and no request fails meanwhile."""

from __future__ import annotations

import os
import shutil
import threading
import time

import httpx
import pytest
from serverproc import API_KEY, running_server

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {API_KEY}"}
QUESTION = "Find the names of people and places in a text."  # a HuggingFace model (NER) in the seed corpus


class Traffic:
    """Clients asking one question in a loop, recording (status, answer source or error) with the time."""

    def __init__(self, url: str, clients: int = 3) -> None:
        self.url, self.results, self._stop = url, [], threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, headers=AUTH, timeout=60) as client:
            while not self._stop.is_set():
                try:
                    reply = client.post("/v1/ask", json={"question": QUESTION})
                    api = reply.json().get("api") if reply.status_code == 200 else None
                    self.results.append((time.monotonic(), reply.status_code, api["source"] if api else None))
                except httpx.HTTPError as exc:
                    self.results.append((time.monotonic(), 0, repr(exc)))

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def wait_for(predicate, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_rebuilt_index_is_served_without_failed_requests(tmp_path_factory, seed_docs, one_torch_thread):
    from gorilla_rag.retrieval import Index

    home = tmp_path_factory.mktemp("home")
    with running_server(home, "--reload-interval", "0.2") as server, \
            httpx.Client(base_url=server.url, headers=AUTH) as http:
        before = http.get("/v1/index").json()
        assert before["count"] == 70 and before["reloads"] == 0
        with Traffic(server.url) as traffic:
            wait_for(lambda: len(traffic.results) >= 5)
            # A refresh: only the PyTorch Hub docs, built beside the served index and swapped in at indexes/default.
            Index.build([d for d in seed_docs if d.source == "torchhub"], home / "indexes" / "default")
            wait_for(lambda: http.get("/v1/index").json()["reloads"] == 1)
            swapped = time.monotonic()
            wait_for(lambda: sum(t > swapped for t, _, _ in traffic.results) >= 5)
        after = http.get("/v1/index").json()
        assert after["count"] == 24 and after["sources"] == {"torchhub": 24}
        assert after["fingerprint"] != before["fingerprint"] and after["folder"] != before["folder"]
        assert [r for r in traffic.results if r[1] != 200] == []
        sources = [source for t, _, source in traffic.results]
        assert sources[0] == "huggingface" and set(sources[-5:]) <= {"torchhub", None}

        # A broken version flipped in is refused: the server says so and keeps serving the last good one.
        real = home / "indexes" / after["folder"].rsplit("/", 1)[-1]
        broken = real.with_name(".default.broken")
        shutil.copytree(real, broken)
        (broken / "docs.jsonl").write_text("{not json\n")
        link = real.with_name(".default.link-test")
        os.symlink(broken.name, link)
        os.replace(link, home / "indexes" / "default")
        wait_for(lambda: "not loaded" in server.log.read_text())
        assert http.post("/v1/ask", json={"question": QUESTION}).status_code == 200
        assert http.get("/v1/index").json()["fingerprint"] == after["fingerprint"]
