import numpy as np

from gorilla_rag.retrieval.rerank import Reranker


class PoolReranker(Reranker):
    """A re-scorer whose candidates depend on the pool only: the wider pool finds an API (9) that outscores all."""

    def __init__(self) -> None:
        self.depth = 30
        self.weights, self.bias = np.array([1.0]), 0.0
        self.mean, self.scale = np.zeros(1), np.ones(1)

    def candidates(self, question, mask, query=None, exclude=None, pool=None):
        found = {1: 3.0, 2: 2.0, 3: 1.0} | ({9: 5.0} if pool else {})
        return list(found), np.array([[score] for score in found.values()])


def test_a_long_list_extends_the_usual_ranking_instead_of_reordering_it():
    reranker = PoolReranker()
    assert [p for p, _ in reranker.search("q", 3)] == [1, 2, 3]
    assert [p for p, _ in reranker.search("q", 10, pool=100)] == [1, 2, 3, 9]  # the wider pool's find comes after
    assert [p for p, _ in reranker.search("q", 2, pool=100)] == [1, 2]  # enough without widening
