"""The HTTP server as clients use it: a real `gorilla-rag serve` process driven with httpx and the openai client."""

from __future__ import annotations

import asyncio
import time

import httpx
import openai
import pytest
from serverproc import API_KEY

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client:
        yield client


def test_health_and_index_describe_what_is_served(server, http):
    health = httpx.get(server.url + "/healthz")  # no key needed: liveness probes have none
    assert health.status_code == 200 and health.json()["status"] == "ok"
    info = http.get("/v1/index").json()
    assert info["kind"] == "gorilla-rag-index" and info["count"] == 70
    assert info["sources"] == {"huggingface": 24, "tfhub": 22, "torchhub": 24}
    assert info["fingerprint"] == health.json()["fingerprint"] and info["built_at"] and info["reloads"] == 0
    assert "building" in server.log.read_text()  # the first start built the index, and said so on stderr


def test_the_api_key_is_required_and_never_logged(server, http):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}):
        reply = httpx.post(server.url + "/v1/ask", json={"question": "classify images"}, headers=headers)
        assert reply.status_code == 401, headers
        assert "Authorization: Bearer" in reply.json()["error"]["message"]
    assert http.post("/v1/ask", json={"question": "classify images"}).status_code == 200
    assert API_KEY not in server.log.read_text()


def test_ask_returns_the_answer_as_json(http):
    reply = http.post("/v1/ask", json={"question": "I want to translate English text to French",
                                        "filters": {"source": "huggingface"}, "k": 3})
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["status"] == "verified" and answer["api"]["source"] == "huggingface"
    assert "opus-mt-en-fr" in answer["call"] and answer["call"] in answer["code"]
    assert len(answer["hits"]) == 3 and answer["verification"]["matched"]


def test_search_and_verify(http):
    hits = http.post("/v1/search", json={"question": "detect objects in images", "k": 4,
                                         "filters": {"source": "tfhub"}}).json()["hits"]
    assert len(hits) == 4 and {h["doc"]["source"] for h in hits} == {"tfhub"}
    torch_only = http.post("/v1/search", json={"question": "detect objects in images", "k": 6,
                                               "filters": {"framework": "pytorch"}}).json()["hits"]
    assert len(torch_only) == 6 and "tfhub" not in {h["doc"]["source"] for h in torch_only}
    ok = http.post("/v1/verify", json={"code": "m = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)"})
    assert ok.json()["status"] == "verified" and ok.json()["matched"] == ["torchhub:pytorch/vision:resnet50"]
    bad = http.post("/v1/verify", json={"code": "torch.hub.load('pytorch/vision', 'wide_resnet50_2')"}).json()
    assert bad["status"] == "hallucinated" and bad["ok"] is False
    broken = http.post("/v1/verify", json={"code": "m = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)"
                                                   "\nprint(("}).json()
    assert broken["status"] == "verified" and broken["syntax_errors"] and broken["ok"] is False  # one field to read
    assert ok.json()["ok"] is True


@pytest.mark.parametrize("body, status, message", [
    ({"question": "   "}, 400, "question is empty"),
    ({"question": "classify images", "k": 1000}, 422, "k: Input should be less than or equal to 50"),
    ({"question": "classify images", "k": 0}, 422, "k: Input should be greater than or equal to 1"),
    ({"question": "classify images", "filters": {"source": "npm"}}, 400, "unknown source 'npm'"),
    ({"question": "classify images", "filters": {"framework": "jax"}}, 400, "unknown framework 'jax'"),
    ({"question": "classify images", "retriever": "magic"}, 422, "retriever: Input should be"),
    ({"question": "classify images", "retriever": "rerank"}, 400, "no reranker: train one"),  # this index has none
    ({"question": "classify images", "filters": {"max_params": "NaN"}}, 422, "max_params: Input should be a finite"),
    ({"question": "classify images", "filters": {"min_top1": 101}}, 422, "min_top1: Input should be less than"),
    ({"k": 3}, 422, "question: Field required"),
    ({"question": "x" * 70_000}, 413, "64 KiB limit"),
])
def test_bad_requests_get_json_errors_that_say_why(http, body, status, message):
    reply = http.post("/v1/ask", json=body)
    assert reply.status_code == status
    assert message in reply.json()["error"]["message"]


def test_malformed_and_streamed_oversized_bodies(http):
    broken = http.post("/v1/ask", content=b'{"question": ', headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "not JSON" in broken.json()["error"]["message"]
    chunks = (b'{"question": "' + b"y" * 8192 for _ in range(10))  # no Content-Length: counted as it arrives
    streamed = http.post("/v1/ask", content=chunks, headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413


def test_openapi_docs_are_served(server):
    spec = httpx.get(server.url + "/openapi.json").json()
    assert {"/v1/ask", "/v1/search", "/v1/verify", "/v1/index", "/v1/chat/completions"} <= set(spec["paths"])
    assert httpx.get(server.url + "/docs").status_code == 200


def test_the_openai_client_uses_it_as_a_chat_model(server):
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)
    assert "gorilla-rag" in [model.id for model in client.models.list()]
    reply = client.chat.completions.create(model="gorilla-rag", messages=[
        {"role": "system", "content": "You write Python."},
        {"role": "user", "content": "Load a pretrained ResNet-50 from PyTorch Hub"}])
    content = reply.choices[0].message.content
    assert "torch.hub.load('pytorch/vision', 'resnet50'" in content and "```python" in content
    assert "status: verified" in content and reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 0 and reply.usage.total_tokens > reply.usage.prompt_tokens
    stream = client.chat.completions.create(model="gorilla-rag", stream=True, extra_body={"filters": {"source": "tfhub"}},
                                            messages=[{"role": "user", "content": [{"type": "text",
                                                                                     "text": "detect objects in a photo"}]}])
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert "hub.load('https://tfhub.dev/" in streamed and "status: verified" in streamed
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "classify images"}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.url + "/v1", api_key="wrong", max_retries=0).models.list()


QUESTIONS = ["I want to translate English text to French", "segment the people in a street photo",
             "estimate depth from one photo", "detect objects in images", "classify the sentiment of tweets",
             "load a pretrained resnet50 image classifier"]


def test_concurrent_questions_get_the_answers_they_get_alone(server, one_torch_thread):
    """Questions asked at the same time must each get the answer they get alone (the server's own index, read
    in this process), and the event loop stays free."""
    from gorilla_rag.pipeline import Pipeline
    from gorilla_rag.retrieval import Index

    questions = [f"{q} (variant {i})" for i in range(4) for q in QUESTIONS]  # unique: no query-cache hits
    alone = Pipeline(Index.load(server.home / "indexes" / "default"))
    expected = {q: alone.ask(q) for q in questions}

    async def run() -> tuple[list[httpx.Response], float, float]:
        async with httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=120) as client:
            started = time.perf_counter()
            asks = asyncio.gather(*(client.post("/v1/ask", json={"question": q}) for q in questions))
            await asyncio.sleep(0.02)
            sent = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            health_latency = time.perf_counter() - sent
            return await asks, health_latency, time.perf_counter() - started

    replies, health_latency, total = asyncio.run(run())
    assert [r.status_code for r in replies] == [200] * len(questions)
    for question, reply in zip(questions, replies):
        got, want = reply.json(), expected[question]
        assert (got["status"], got["call"]) == (want.status, want.call), question
    # The pipeline works in threads, so /healthz (on the event loop) does not queue behind the questions.
    assert health_latency < total / 2, (health_latency, total)


def test_the_index_default_retriever_is_used_and_reported(http):
    described = http.get("/v1/index").json()
    assert described["default_retriever"] == "hybrid" and described["retrievers"] == ["bm25", "dense", "hybrid"]
    hits = http.post("/v1/ask", json={"question": "classify images"}).json()["hits"]
    assert hits and set(hits[0]["ranks"]) <= {"bm25", "dense"}  # hybrid's ranks, not one retriever's
