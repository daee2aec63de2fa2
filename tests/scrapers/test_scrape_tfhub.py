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


def test_every_language_tag_is_kept_even_past_the_first_60_lines(tmp_path):
    """Multilingual docs repeat `<!-- language: … -->` once per language (the XLM-R ones 53 times, past line 60)."""
    many = [f"l{i:02d}" for i in range(60)]
    pages = {"multi/1.md": ["Sentence encoder for three languages.", "", "<!-- task: text-embedding -->",
                            "<!-- language: en -->", "<!-- language: de -->", "<!-- language: fr -->",
                            "<!-- language: en -->", "<!-- format: saved_model_2 -->"],
             "many/1.md": ["Encoder for sixty languages.", "", "<!-- task: text-embedding -->",
                           *[f"<!-- language: {code} -->" for code in many], "", "## Overview"],
             "one/1.md": ["English only.", "", "<!-- task: text-embedding -->", "<!-- language: en -->"]}
    for name, lines in pages.items():
        path = tmp_path / "acme" / "models" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([f"# Module acme/{name.removesuffix('.md')}", *lines, ""]))
    docs = by_id(get_scraper("tfhub", {}, str(tmp_path)).scrape().docs)
    assert docs["tfhub:acme/multi/1"].extra["language"] == ["en", "de", "fr"]  # page order, each once
    assert docs["tfhub:acme/multi/1"].extra["format"] == "saved_model_2"
    assert docs["tfhub:acme/many/1"].extra["language"] == many
    assert docs["tfhub:acme/one/1"].extra["language"] == "en"  # a single tag stays a plain string


def test_every_value_of_a_repeated_key_is_kept(tmp_path):
    lines = ["Image model.", "", "<!-- task: image-classification -->", "<!-- task: image-style-transfer -->",
             "<!-- dataset: wikipedia -->", "<!-- dataset: commoncrawl -->", "<!-- network-architecture: transformer -->",
             "<!-- network-architecture: bert -->", "<!-- fine-tunable: true -->", "<!-- license: apache-2.0 -->"]
    path = tmp_path / "acme" / "models" / "both" / "1.md"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(["# Module acme/both/1", *lines, ""]))
    doc = get_scraper("tfhub", {}, str(tmp_path)).scrape().docs[0]
    assert doc.domain == "Image classification" and doc.extra["tasks"] == ["image-classification", "image-style-transfer"]
    assert doc.extra["dataset"] == ["wikipedia", "commoncrawl"] and doc.functionality == "transformer, bert"
    assert doc.extra["fine_tunable"] is True and doc.extra["license"] == "apache-2.0"


def test_the_real_multilingual_docs_keep_all_their_languages():
    docs = by_id(get_scraper("tfhub", {}, str(real_source("tfhub-docs"))).scrape().docs)
    xlmr = docs["tfhub:jeongukjae/xlm_roberta_multi_cased_preprocess/1"].extra["language"]
    assert len(xlmr) == 53 and xlmr[0] == "ar" and xlmr[-1] == "zh-tw"
    assert "zh-cn" in docs["tfhub:google/universal-sentence-encoder-multilingual/3"].extra["language"]
