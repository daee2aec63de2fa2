"""The HuggingFace Hub scraper against a local server speaking the Hub API's format (bodies written here)."""

import time

import pytest
from support import Reply

from gorilla_rag.scrapers import ScrapeError, get_scraper
from gorilla_rag.scrapers.huggingface import domain_name, loader_call
from gorilla_rag.verify import Verifier

LIST = "/api/models?pipeline_tag=text-classification&sort=downloads&direction=-1&limit=100&full=true&cardData=true"
FAST = {"backoff_s": 0.01, "timeout_s": 0.5, "retries": 2, "workers": 2, "pipeline_tags": ["text-classification"]}


def model(model_id, sha, library="transformers", task="text-classification", **extra):
    """One entry of /api/models?full=true&cardData=true, as the Hub returns it."""
    return {"_id": f"id-{sha}", "id": model_id, "modelId": model_id, "author": model_id.split("/")[0], "sha": sha,
            "lastModified": "2024-05-01T10:00:00.000Z", "createdAt": "2023-01-01T00:00:00.000Z", "private": False,
            "disabled": False, "gated": False, "downloads": 1000, "likes": 10, "library_name": library,
            "pipeline_tag": task, "tags": [library, "pytorch", task, "license:apache-2.0", "region:us"],
            "siblings": [{"rfilename": "README.md"}, {"rfilename": "config.json"}], **extra}


SENTIMENT_CARD = """---
license: apache-2.0
language: en
datasets: [sst2]
model-index:
- name: sentiment-small
  results:
  - task: {type: text-classification, name: Text Classification}
    dataset: {name: SST-2, type: sst2, split: validation}
    metrics:
    - {type: accuracy, value: 0.913, name: Accuracy}
    - {type: f1, value: 0.9}
---

# Sentiment small

A compact English sentiment classifier fine-tuned on SST-2 movie reviews; it labels text POSITIVE or NEGATIVE.

```python
from transformers import pipeline
classifier = pipeline("text-classification", model="acme/sentiment-small")
classifier("I loved it")
```
"""


def serve_listing(server, pages):
    """Queue the listing pages, chained by Link headers carrying a cursor, as the Hub pages."""
    for number, items in enumerate(pages):
        path = LIST if number == 0 else f"{LIST}&cursor=c{number}"
        headers = {"Link": f'<{server.url}{LIST}&cursor=c{number + 1}>; rel="next"'} if number + 1 < len(pages) else {}
        server.add(path, Reply(200, items, headers))


def scrape(server, previous=None, **options):
    return get_scraper("huggingface", {**FAST, **options}, server.url).scrape(previous)


def test_top_models_across_pages_with_cards_and_metadata(hub_server):
    serve_listing(hub_server, [
        [model("acme/sentiment-small", "a1", cardData={"license": "apache-2.0"}),
         model("acme/keras-thing", "a2", library="keras")],
        [model("acme/no-card", "a3"), model("acme/fourth", "a4")],
    ])
    hub_server.add("/acme/sentiment-small/resolve/a1/README.md", Reply(200, SENTIMENT_CARD))
    result = scrape(hub_server, limit_per_tag=2)
    assert [d.id for d in result.docs] == ["huggingface:acme/no-card", "huggingface:acme/sentiment-small"]
    assert hub_server.hits(f"{LIST}&cursor=c1") == 1 and hub_server.hits("/acme/fourth") == 0  # stopped at 2
    doc = result.docs[1]
    assert doc.api_call == "pipeline('text-classification', model='acme/sentiment-small')"
    assert doc.domain == "Natural Language Processing Text Classification"
    assert doc.description.startswith("A compact English sentiment classifier")
    assert 'pipeline("text-classification", model="acme/sentiment-small")' in doc.example_code
    assert doc.metrics == {"accuracy": 91.3} and doc.extra["eval"] == {"f1": 0.9}
    assert doc.extra["sha"] == "a1" and doc.extra["last_modified"].startswith("2024-05-01T10:00:00")
    assert doc.extra["license"] == "apache-2.0" and doc.extra["datasets"] == ["sst2"]
    assert doc.arguments == {"task": "text-classification", "model": "acme/sentiment-small"}
    missing = result.docs[0]  # README 404: described from the listing only
    assert missing.description == "acme/no-card: a transformers model for text-classification."
    assert missing.example_code == "from transformers import pipeline\nmodel = " + missing.api_call
    assert [m.id for m in Verifier(result.docs).verify(doc.example_code).matched] == [doc.id]


def test_unchanged_sha_reuses_the_previous_doc_without_fetching_the_card(hub_server):
    serve_listing(hub_server, [[model("acme/sentiment-small", "a1"), model("acme/other", "b1")]])
    hub_server.add("/acme/sentiment-small/resolve/a1/README.md", Reply(200, SENTIMENT_CARD))
    first = scrape(hub_server)
    before = hub_server.hits("/acme/")
    serve_listing(hub_server, [[model("acme/sentiment-small", "a1"), model("acme/other", "b2")]])
    again = scrape(hub_server, previous={d.id: d for d in first.docs})
    assert again.reused == 1 and hub_server.hits("/acme/") - before == 1  # only acme/other's card
    assert again.docs[1] == first.docs[1] and again.docs[0].extra["sha"] == "b2"


def test_hf_endpoint_points_at_a_mirror_unless_from_is_given(hub_server, monkeypatch):
    # huggingface_hub's mirror setting: it wins over sources.toml's endpoint; --from (location) wins over it
    serve_listing(hub_server, [[model("acme/sentiment-small", "a1")]])
    hub_server.add("/acme/sentiment-small/resolve/a1/README.md", Reply(200, SENTIMENT_CARD))
    monkeypatch.setenv("HF_ENDPOINT", hub_server.url + "/")
    scraper = get_scraper("huggingface", {**FAST, "endpoint": "http://nonexistent.invalid"})
    assert scraper.endpoint == hub_server.url
    assert [d.id for d in scraper.scrape().docs] == ["huggingface:acme/sentiment-small"]
    assert get_scraper("huggingface", FAST, "http://elsewhere.invalid").endpoint == "http://elsewhere.invalid"


def test_rate_limit_and_server_errors_on_the_listing_are_retried(hub_server):
    hub_server.add(LIST, Reply(429, {"error": "rate limited"}, {"Retry-After": "1"}), Reply(503),
                   Reply(200, [model("acme/sentiment-small", "a1")]))
    started = time.monotonic()
    result = scrape(hub_server)
    assert [d.id for d in result.docs] == ["huggingface:acme/sentiment-small"] and hub_server.hits(LIST) == 3
    assert time.monotonic() - started >= 1.0


def test_a_listing_that_stays_broken_is_an_error_naming_the_url(hub_server):
    hub_server.add(LIST, Reply(500, "internal error"))
    with pytest.raises(ScrapeError, match=r"/api/models\?pipeline_tag=text-classification.*HTTP 500"):
        scrape(hub_server)
    hub_server.add(LIST, Reply(200, '[{"id": "acme/a", '))
    with pytest.raises(ScrapeError, match="malformed JSON"):
        scrape(hub_server)
    hub_server.add(LIST, Reply(200, {"error": "not a list"}))
    with pytest.raises(ScrapeError, match="expected a JSON list of models, got dict"):
        scrape(hub_server)
    hub_server.add(LIST, Reply(200, [], delay_s=1.0))
    with pytest.raises(ScrapeError, match="timed out after 0.5 s"):
        scrape(hub_server, retries=0)


def test_an_offline_machine_fails_fast_naming_the_hub_host():
    started = time.monotonic()
    scraper = get_scraper("huggingface", {"pipeline_tags": ["text-classification"]}, "http://nonexistent.invalid")
    with pytest.raises(ScrapeError, match=r"HuggingFace Hub at http://nonexistent.invalid: cannot resolve host "
                                          r"'nonexistent.invalid'; this machine appears to be offline, or the endpoint "
                                          r"is wrong"):
        scraper.scrape()  # default retries and backoff: ~18 s if the lookup failure were retried
    assert time.monotonic() - started < 10


def test_a_dns_failure_while_fetching_cards_stops_the_scrape(hub_server):
    """Cards described from metadata only would replace good ones: an offline machine is an error, not warnings."""
    from gorilla_rag.scrapers.fetch import HostNotFound

    serve_listing(hub_server, [[model("acme/sentiment-small", "a1"), model("acme/other", "b1")]])
    scraper = get_scraper("huggingface", FAST, hub_server.url)
    listing = scraper.http

    class GoesOffline:
        def get(self, url, missing_ok=False):
            if "/resolve/" in url:
                raise HostNotFound(url, "127.0.0.1", "Name or service not known")
            return listing.get(url, missing_ok)

    scraper.http = GoesOffline()
    with pytest.raises(ScrapeError, match=r"cannot resolve host '127.0.0.1'; this machine appears to be offline"):
        scraper.scrape()


def test_card_problems_are_warnings_and_the_model_is_kept(hub_server):
    serve_listing(hub_server, [[model("acme/slow", "s1"), model("acme/plain", "p1"), model("acme/badyaml", "y1"),
                                {"modelId": "acme/no-id"}]])
    hub_server.add("/acme/slow/resolve/s1/README.md", Reply(200, SENTIMENT_CARD, delay_s=1.0))
    hub_server.add("/acme/plain/resolve/p1/README.md",
                   Reply(200, "# Plain\n\nA card with no metadata block at all, only a sentence of prose.\n"))
    hub_server.add("/acme/badyaml/resolve/y1/README.md", Reply(200, "---\nlicense: [mit\n---\nSome words here ok.\n"))
    result = scrape(hub_server, retries=0)
    docs = {d.id: d for d in result.docs}
    assert set(docs) == {"huggingface:acme/slow", "huggingface:acme/plain", "huggingface:acme/badyaml"}
    assert docs["huggingface:acme/plain"].description == "A card with no metadata block at all, only a sentence of prose."
    warnings = "\n".join(result.warnings)
    assert "acme/slow: card not fetched (GET " in warnings and "timed out" in warnings
    assert "acme/badyaml/README.md:2: front matter is not valid YAML" in warnings
    assert "item 3: not a model entry" in warnings


def test_library_and_license_filters(hub_server):
    serve_listing(hub_server, [[model("acme/mit", "m1", cardData={"license": "mit"}),
                                model("acme/st", "s1", library="sentence-transformers", task="sentence-similarity",
                                      cardData={"license": "mit"}),
                                model("acme/apache", "a1", cardData={"license": "apache-2.0"})]])
    result = scrape(hub_server, licenses=["MIT"])
    assert [d.id for d in result.docs] == ["huggingface:acme/mit", "huggingface:acme/st"]
    assert result.docs[1].api_call == "SentenceTransformer('acme/st')"
    # One library is filtered by the Hub itself (several are ANDed there, so those are checked here).
    hub_server.add(f"{LIST}&filter=sentence-transformers", Reply(200, [
        model("acme/st", "s1", library="sentence-transformers", task="sentence-similarity")]))
    only = scrape(hub_server, libraries=["sentence-transformers"])
    assert [d.id for d in only.docs] == ["huggingface:acme/st"]


def test_loader_calls_and_domains():
    assert loader_call("a/b", "transformers", "text-ranking", "AutoModelForSequenceClassification")[0] == \
        "AutoModelForSequenceClassification.from_pretrained('a/b')"
    assert loader_call("a/b", "transformers", "text-ranking", None)[0] == "AutoModel.from_pretrained('a/b')"
    assert loader_call("a/b", "diffusers", "text-to-image", None)[0] == "DiffusionPipeline.from_pretrained('a/b')"
    assert loader_call("a/b", "timm", "image-classification", None)[0] == "timm.create_model('hf_hub:a/b', pretrained=True)"
    assert loader_call("a/b", "peft", "", None)[0] == "snapshot_download(repo_id='a/b')"
    assert domain_name("text-to-image") == "Multimodal Text-to-Image"
    assert domain_name("zero-shot-classification") == "Natural Language Processing Zero-Shot Classification"
    assert domain_name("fill-mask") == "Natural Language Processing Fill-Mask"
    assert domain_name("text2text-generation") == "Natural Language Processing Text2Text Generation"
    assert domain_name("automatic-speech-recognition") == "Audio Automatic Speech Recognition"
