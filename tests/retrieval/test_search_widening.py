"""Index.search: when the records fetched hold fewer than k APIs, a wider search extends the first answer."""

from gorilla_rag.retrieval.index import Index
from gorilla_rag.types import ApiDoc, Hit


def doc(name: str, call: str) -> ApiDoc:
    return ApiDoc(id=f"tfhub:{name}", source="tfhub", domain="Text embedding", api_name=name, api_call=call)


USE = [doc(f"use-{i}", "hub.load('https://tfhub.dev/google/universal-sentence-encoder/4')") for i in range(3)]
NNLM = doc("nnlm", "hub.load('https://tfhub.dev/google/nnlm-en-dim128/2')")
BERT = doc("bert", "hub.load('https://tfhub.dev/tensorflow/bert_en_uncased_L-12_H-768_A-12/4')")


class FakeIndex(Index):
    """An index whose engine returns, per depth, a fixed ranking: the first pass holds one API in 3 records and
    one more; only a wider search finds a third API, and scores it above the first pass's second."""

    def __init__(self) -> None:
        padding = [doc(f"other-{i}", f"hub.load('https://tfhub.dev/acme/other-{i}/1')") for i in range(200)]
        self.docs, self._verifier, self._masks = [*USE, NNLM, BERT, *padding], None, {}
        self.calls: list[tuple[int, bool]] = []

    def retriever(self, name):  # noqa: ANN001, ANN201
        return None

    def _ranked(self, engine, question, depth, mask, wider):  # noqa: ANN001
        self.calls.append((depth, wider))
        first = [Hit(USE[0], 3.0), Hit(USE[1], 2.9), Hit(USE[2], 2.8), Hit(NNLM, 1.0)]
        return first if not wider else [Hit(USE[0], 3.0), Hit(BERT, 2.0), Hit(NNLM, 1.0), *first[1:3]]


def test_too_few_apis_among_the_records_fetched_searches_wider_and_extends_the_first_answer():
    index = FakeIndex()
    hits = index.search("embed sentences", k=3, retriever="x")
    assert [h.doc for h in hits] == [USE[0], NNLM, BERT]  # the first pass's order kept; BERT appended
    assert hits[2].moved_down == "found by a wider search, after the first results" and hits[1].moved_down is None
    assert [wider for _, wider in index.calls] == [False, True]


def test_enough_apis_in_the_first_pass_searches_once():
    index = FakeIndex()
    assert [h.doc for h in index.search("embed sentences", k=2, retriever="x")] == [USE[0], NNLM]
    assert index.calls == [(50, False)]
