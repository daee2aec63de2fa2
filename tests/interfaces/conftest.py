"""Real clients against real processes: the HTTP server, the MCP server over stdio, a Jupyter kernel."""

from __future__ import annotations

import pytest
from serverproc import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One server per test module, over a fresh home (the seed index is built at its first start)."""
    home = tmp_path_factory.mktemp("home")
    with running_server(home) as started:
        yield started


@pytest.fixture
def one_torch_thread():
    """Embed in this process with one torch thread, as the server does (two are 40x slower on a busy 2-core box)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
