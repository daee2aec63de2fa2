"""Fixtures of the scraper tests: a local Hub-like HTTP server per test."""

import pytest
from support import HubServer


@pytest.fixture
def hub_server():
    server = HubServer()
    yield server
    server.close()
