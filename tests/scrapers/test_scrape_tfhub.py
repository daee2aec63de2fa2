"""The TF Hub scraper on a hand-written doc tree (tests/scrapers/fixtures/tfhub) and, if present, the real one."""

import pytest
from support import FIXTURES, assert_ids_verify, by_id, real_source

from gorilla_rag.scrapers import get_scraper

DOCS = FIXTURES / "tfhub"


@pytest.fixture(scope="module")
def scraped():
    return get_scraper("tfhub", {}, str(DOCS)).scrape()


def test_one_doc_per_module_handle(scraped):
    assert sorted(by_id(scraped.docs)) == ["tfhub:acme/imagenet/tinynet/classification/1",
                                      "tfhub:acme/imagenet/tinynet/classification/2", "tfhub:acme/textenc/3",
                                      "tfhub:vtab/jigsaw/1"]
    assert_ids_verify(scraped.docs)


def test_the_loader_is_the_one_the_doc_uses_else_the_one_its_format_implies(scraped):
    docs = by_id(scraped.docs)
    keras = docs["tfhub:acme/imagenet/tinynet/classification/2"]
    assert keras.api_call == "hub.KerasLayer('https://tfhub.dev/acme/imagenet/tinynet/classification/2')"
    assert keras.arguments == {"handle": "https://tfhub.dev/acme/imagenet/tinynet/classification/2",
                               "trainable": "False"}
    assert "tf.keras.Sequential" in keras.example_code
    assert docs["tfhub:acme/textenc/3"].api_call == "hub.load('https://tfhub.dev/acme/textenc/3')"  # via a variable
    assert docs["tfhub:acme/textenc/3"].requirements == ("tensorflow", "tensorflow-hub", "tensorflow-text")
    old = docs["tfhub:acme/imagenet/tinynet/classification/1"]  # no code: TF1 format → hub.Module
    assert old.api_call == "hub.Module('https://tfhub.dev/acme/imagenet/tinynet/classification/1')"
    assert old.example_code == f"import tensorflow_hub as hub\nmodel = {old.api_call}"
    assert docs["tfhub:vtab/jigsaw/1"].api_name == "jigsaw"  # `vtab/&zwnj;jigsaw/1` in the title


def test_metadata_versions_deployments_and_kaggle(scraped):
    docs = by_id(scraped.docs)
    new, old = docs["tfhub:acme/imagenet/tinynet/classification/2"], docs["tfhub:acme/imagenet/tinynet/classification/1"]
    assert new.domain == "Image classification" and new.functionality == "tinynet"
    assert new.description == "TinyNet ImageNet classifier, as a Keras layer."
    assert new.extra["dataset"] == "imagenet-ilsvrc-2012-cls" and new.extra["fine_tunable"] is False
    assert new.extra["license"] == "apache-2.0" and new.extra["format"] == "saved_model_2"
    assert new.extra["latest"] is True and old.extra["latest"] is False
    assert new.extra["deployments"] == ["lite"] and "deployments" not in old.extra
    assert new.extra["kaggle_url"] == "https://www.kaggle.com/models/acme/tinynet/tensorFlow2/classification/1"
    assert docs["tfhub:acme/textenc/3"].domain == "Text embedding" and docs["tfhub:acme/textenc/3"].extra["language"] == "en"


def test_bad_titles_are_warnings_naming_the_file(scraped):
    assert scraped.warnings == ["acme/models/bad/1.md:1: '# Module not' is not a <publisher>/<name>/<version> handle"]


def test_the_real_tfhub_doc_tree():
    result = get_scraper("tfhub", {}, str(real_source("tfhub-docs"))).scrape()
    docs = by_id(result.docs)
    assert len(docs) > 1500 and not result.warnings
    doc = docs["tfhub:google/imagenet/mobilenet_v2_100_224/classification/5"]
    assert doc.api_call.startswith("hub.KerasLayer(") and doc.domain == "Image classification"
    assert_ids_verify(result.docs[::20])
