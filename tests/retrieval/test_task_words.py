"""Task words: everyday phrasings of a doc's task, indexed for BM25 so plain questions meet hub taxonomies."""

from __future__ import annotations

import pytest

from gorilla_rag.retrieval.task_words import task_words
from gorilla_rag.retrieval.text import bm25_text
from gorilla_rag.types import ApiDoc


def doc(domain: str, functionality: str = "") -> ApiDoc:
    return ApiDoc(id=f"huggingface:x/{domain}", source="huggingface", domain=domain, api_name="x",
                  api_call="pipeline('x', model='x/y')", functionality=functionality)


@pytest.mark.parametrize(("domain", "expected", "absent"), [
    ("Natural Language Processing Token Classification", "names of people", "transcribe"),
    ("Audio Automatic Speech Recognition", "transcribe spoken audio", "read text aloud"),
    ("Audio Text-to-Speech", "read text aloud", "transcribe"),
    ("Natural Language Processing Text2Text Generation", "paraphrase", "chatbot"),  # not 'text generation'
    ("Natural Language Processing Fill-Mask", "missing or masked word", "chatbot"),  # not a 'language model'
    ("Multimodal Image-to-Text", "describe a picture in words", "from a written description"),
    ("Multimodal Text-to-Image", "from a written description", "describe a picture in words"),
    ("Natural Language Processing Table Question Answering", "table, spreadsheet", "reading comprehension"),
])
def test_each_task_gets_its_own_words(domain, expected, absent):
    words = task_words(doc(domain))
    assert expected in words and absent not in words


def test_functionality_is_read_only_when_the_domain_names_no_task():
    # HF functionality is free text: a fill-mask model 'Feature Extraction' is still a fill-mask model
    assert "sentences or text into vectors" not in task_words(doc("Natural Language Processing Fill-Mask",
                                                                   "Feature Extraction"))
    assert "vectors" in task_words(doc("Transformers", "Feature Extraction"))
    assert task_words(doc("Something unheard of", "nothing either")) == ""


def test_bm25_reads_the_task_words(seed_index):
    ner = next(d for d in seed_index.docs if d.api_name == "bert-base-NER")
    assert "names of people" in bm25_text(ner)
    hits = seed_index.search("Find the names of people and places in a text.", k=1, retriever="bm25")
    assert hits[0].doc.id == ner.id  # no field of the doc says 'names' or 'places': the task words do


def test_the_re_scorer_reads_bm25_without_the_task_words(seed_index):
    # Its features were fitted on BM25 over the docs alone (better on held-out APIBench questions), so the index
    # keeps a plain engine beside the one that retrieves.
    ner = next(i for i, d in enumerate(seed_index.docs) if d.api_name == "bert-base-NER")
    question = "names of people and places"
    assert seed_index.bm25.scores(question, plain=True)[ner] < seed_index.bm25.scores(question)[ner] / 10
    assert "names of people" not in bm25_text(seed_index.docs[ner], with_task_words=False)
