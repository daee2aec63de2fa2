"""The OpenAI-compatible chat route of a real `gorilla-rag serve` process: conversations, n, stream, refusals."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from serverproc import API_KEY

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {API_KEY}"}
TRANSLATE = {"role": "user", "content": "translate English text to French"}
ABOVE_75 = {"torchhub:pytorch/vision:resnet50", "torchhub:pytorch/vision:inception_v3"}  # top-1 76.1 and 77.3


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0)


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=60) as client:
        yield client


def test_a_follow_up_is_answered_with_the_earlier_messages(client):
    reply = client.chat.completions.create(model="gorilla-rag", messages=[
        {"role": "system", "content": "You write Python."}, TRANSLATE,
        {"role": "assistant", "content": "`pipeline('translation_en_to_fr', model='Helsinki-NLP/opus-mt-en-fr')`"},
        {"role": "user", "content": "now from TF Hub instead"}])
    content = reply.choices[0].message.content
    # Alone, "now from TF Hub instead" names no task (it retrieved an image upscaler): read with the request.
    assert "tfhub.dev/google/nnlm-en-dim128" in content and "status: verified" in content
    assert "Read as a follow-up to your earlier message: “translate English text to French”." in content
    extension = reply.model_extra["gorilla_rag"]
    assert extension["earlier_messages"] == [TRANSLATE["content"]] and extension["constraints"] == "from tfhub"


def test_a_new_request_in_a_conversation_is_answered_alone(client):
    reply = client.chat.completions.create(model="gorilla-rag", messages=[
        TRANSLATE, {"role": "assistant", "content": "..."},
        {"role": "user", "content": "segment the people in a street photo"}])
    content = reply.choices[0].message.content
    assert "segmentation" in content and "en-fr" not in content and "follow-up" not in content
    assert reply.model_extra["gorilla_rag"]["earlier_messages"] == []


def test_n_choices_are_the_answer_then_the_next_best_verified_apis(client):
    one = client.chat.completions.create(model="gorilla-rag", messages=[{"role": "user", "content": "classify images"}])
    three = client.chat.completions.create(model="gorilla-rag", n=3,
                                           messages=[{"role": "user", "content": "classify images"}])
    contents = [choice.message.content for choice in three.choices]
    assert [choice.index for choice in three.choices] == [0, 1, 2] and contents[0] == one.choices[0].message.content
    assert all("status: verified" in text for text in contents)
    calls = [text.split("`")[1] for text in contents]
    assert len(set(calls)) == 3 and "Alternative 2: the next-best verified API" in contents[2]
    # Only two APIs pass the filter: the third choice says so instead of repeating one.
    few = client.chat.completions.create(model="gorilla-rag", n=3, messages=[{"role": "user", "content": "classify images"}],
                                         extra_body={"filters": {"source": "torchhub", "min_top1": 75}})
    found = {text.split("api: ")[1].split()[0] for text in [c.message.content for c in few.choices[:2]]}
    assert found == ABOVE_75 and few.choices[2].message.content.startswith("No further API in the corpus fits")
    assert "status: no_match" in few.choices[2].message.content


def test_stream_n_usage_max_tokens_and_stop(client):
    stream = client.chat.completions.create(model="gorilla-rag", n=2, stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "estimate depth from one photo"}])
    chunks = list(stream)
    texts = {0: "", 1: ""}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert all("status: verified" in text for text in texts.values()) and texts[0] != texts[1]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    short = client.chat.completions.create(model="gorilla-rag", max_tokens=3, messages=[TRANSLATE])
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens == 3
    cut = client.chat.completions.create(model="gorilla-rag", stop=["```"], messages=[TRANSLATE])
    assert "```" not in cut.choices[0].message.content and cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content.startswith("`")  # the call itself, before the code block
    sampled = client.chat.completions.create(model="gorilla-rag", temperature=0.7, top_p=0.9, seed=1, user="u",
                                             messages=[TRANSLATE])  # accepted: the reply is a lookup
    assert sampled.choices[0].message.content == client.chat.completions.create(
        model="gorilla-rag", messages=[TRANSLATE]).choices[0].message.content


@pytest.mark.parametrize("extra, message", [
    ({"n": 11}, "n: Input should be less than or equal to 10"),
    ({"n": 0}, "n: Input should be greater than or equal to 1"),
    ({"logprobs": True}, "logprobs are not available"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools and functions are not"),
    ({"response_format": {"type": "json_object"}}, "response_format 'json_object' is not supported"),
    ({"frobnicate": 1}, "unsupported parameter 'frobnicate'"),
    ({"stream_options": {"include_usage": True}}, "stream_options is only allowed with stream: true"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}]},
     "message 1 has a 'image_url' part: only text is read"),
    ({"messages": [{"role": "system", "content": "You write Python."}]}, "no user message"),
    ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role: Input should be"),
])
def test_what_it_cannot_honour_is_refused_with_400(http, extra, message):
    body = {"model": "gorilla-rag", "messages": [TRANSLATE], **extra}
    reply = http.post("/v1/chat/completions", json=body)
    assert reply.status_code == 400, reply.text
    assert message in reply.json()["error"]["message"] and reply.json()["error"]["type"] == "invalid_request_error"


def test_the_openai_client_sees_bad_requests_as_such(client):
    with pytest.raises(openai.BadRequestError, match="n: Input should be less than or equal to 10"):
        client.chat.completions.create(model="gorilla-rag", n=20, messages=[TRANSLATE])


def test_min_top1_as_a_fraction_is_a_percentage_over_http(http):
    def ids(min_top1: float) -> list[str]:
        reply = http.post("/v1/search", json={"question": "classify images", "k": 10,
                                              "filters": {"source": "torchhub", "min_top1": min_top1}})
        assert reply.status_code == 200, reply.text
        return [hit["doc"]["id"] for hit in reply.json()["hits"]]

    assert ids(0.75) == ids(75) and set(ids(0.75)) <= ABOVE_75 and ids(0.75)  # 0.75% would let every classifier in
    tiny = http.post("/v1/search", json={"question": "classify images", "filters": {"min_top1": 0.005}})
    assert tiny.status_code == 400 and "reads as a fraction, 0.5%" in tiny.json()["error"]["message"]


def test_the_chat_route_documents_its_behaviour(server):
    spec = httpx.get(server.url + "/openapi.json").json()
    description = spec["paths"]["/v1/chat/completions"]["post"]["description"]
    assert "follow-up" in description and "`n` choices" in description and "refused" in description
    assert json.dumps(spec).count("a value in (0, 1] is a fraction") >= 1
