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
