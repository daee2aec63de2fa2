"""The MCP server as a coding agent uses it: `gorilla-rag mcp` over stdio, driven by the MCP SDK's client."""

from __future__ import annotations

import json
import sys

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from serverproc import server_env

pytestmark = pytest.mark.slow


async def session_calls(params: StdioServerParameters, errlog) -> dict:  # noqa: ANN001
    """List the tools and call each, as an agent would; returns what came back."""
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        init = await session.initialize()
        tools = await session.list_tools()
        calls = {
            "find": ("find_api_call", {"task": "load a pretrained ResNet-50 image classifier", "source": "torchhub"}),
            "find_hf": ("find_api_call", {"task": "I want to translate English text to French"}),
            "search": ("search_apis", {"query": "detect objects in images", "source": "tfhub", "k": 3}),
            "verify": ("verify_code", {"code": "m = torch.hub.load('pytorch/vision', 'wide_resnet50_2')"}),
            "empty": ("find_api_call", {"task": "   "}),
            "bad_source": ("search_apis", {"query": "classify images", "source": "npm"}),
            "k_0": ("search_apis", {"query": "classify images", "k": 0}),
            "k_51": ("search_apis", {"query": "classify images", "k": 51}),
            "top1_fraction": ("search_apis", {"query": "classify images", "source": "torchhub", "min_top1": 0.75, "k": 10}),
            "top1_percent": ("search_apis", {"query": "classify images", "source": "torchhub", "min_top1": 75, "k": 10}),
            "top1_over": ("search_apis", {"query": "classify images", "min_top1": 120}),
            "keras": ("search_apis", {"query": "classify images", "framework": "keras", "k": 4}),
        }
        results = {key: await session.call_tool(name, args) for key, (name, args) in calls.items()}
        return {"init": init, "tools": tools, **results}


def test_agent_finds_searches_and_verifies_over_stdio(tmp_path):
    home = tmp_path / "mcp-home"
    home.mkdir()
    stdout_copy, stderr_log = tmp_path / "stdout.jsonl", tmp_path / "stderr.log"
    # `tee` keeps a copy of everything the server writes to stdout, to check it is nothing but protocol.
    params = StdioServerParameters(command="sh", args=["-c", '"$0" -m gorilla_rag.cli mcp | tee "$1"',
                                                       sys.executable, str(stdout_copy)], env=server_env(home))
    with open(stderr_log, "w") as errlog:
        got = anyio.run(lambda: _bounded(session_calls(params, errlog)))

    assert got["init"].server_info.name == "gorilla-rag"
    assert {t.name for t in got["tools"].tools} == {"find_api_call", "search_apis", "verify_code"}
    find = got["find"].structured_content
    assert not got["find"].is_error and find["status"] == "verified"
    assert find["call"].startswith("torch.hub.load('pytorch/vision', 'resnet50'") and find["call"] in find["code"]
    assert find["api"]["id"] == "torchhub:pytorch/vision:resnet50" and "hits" not in find
    assert json.loads(got["find"].content[0].text) == find  # the same, as text, for clients without structure
    assert any(m in got["find_hf"].structured_content["call"] for m in ("opus-mt-en-fr", "wmt14.en-fr"))
    hits = got["search"].structured_content["result"]
    assert len(hits) == 3 and all(h["id"].startswith("tfhub:") for h in hits)
    assert got["verify"].structured_content["status"] == "hallucinated"
    assert got["empty"].is_error and "question is empty" in got["empty"].content[0].text
    assert got["bad_source"].is_error and "unknown source 'npm'" in got["bad_source"].content[0].text
    # A k out of range is refused, as over HTTP, not silently clamped.
    assert got["k_0"].is_error and "k must be from 1 to 50, got 0" in got["k_0"].content[0].text
    assert got["k_51"].is_error and "k must be from 1 to 50, got 51" in got["k_51"].content[0].text
    # min_top1 0.75 is a fraction: 75%, as the corpus stores accuracies (0.75% would let every classifier in).
    above = {"torchhub:pytorch/vision:resnet50", "torchhub:pytorch/vision:inception_v3"}  # top-1 76.1 and 77.3
    fraction = [h["id"] for h in got["top1_fraction"].structured_content["result"]]
    assert fraction and set(fraction) <= above
    assert fraction == [h["id"] for h in got["top1_percent"].structured_content["result"]]
    assert got["top1_over"].is_error and "from 0 to 100 percent" in got["top1_over"].content[0].text
    keras = [h["id"] for h in got["keras"].structured_content["result"]]
    assert len(keras) == 4 and all(hit.startswith("tfhub:") for hit in keras)  # the seed's Keras models: TF Hub

    lines = stdout_copy.read_text().splitlines()
    assert lines and all(json.loads(line)["jsonrpc"] == "2.0" for line in lines)
    assert "building" in stderr_log.read_text()  # the first use built the index, and said so on stderr


async def _bounded(work, seconds: float = 300):  # noqa: ANN001, ANN202
    with anyio.fail_after(seconds):
        return await work
