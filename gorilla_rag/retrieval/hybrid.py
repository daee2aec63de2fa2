"""Reciprocal-rank fusion of several retrievers."""

from __future__ import annotations

from typing import Protocol

import numpy as np

RRF_K = 60


class Ranker(Protocol):
    name: str

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]: ...


class HybridRetriever:
    """RRF over its parts: score(d) = Σ weight / (RRF_K + rank_part(d)); each part ranks `depth` docs."""

    name = "hybrid"

    def __init__(self, parts: list[Ranker], weights: list[float] | None = None, depth: int = 100) -> None:
        self.parts = parts
        self.weights = weights or [1.0] * len(parts)
        self.depth = depth

    def search_with_ranks(
        self, question: str, k: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float, dict[str, int]]]:
        """The k best (doc position, fused score, rank in each part), best first; ties by best single rank."""
        fused: dict[int, float] = {}
        ranks: dict[int, dict[str, int]] = {}
        for part, weight in zip(self.parts, self.weights):
            for rank, (position, _score) in enumerate(part.search(question, max(k, self.depth), mask), start=1):
                fused[position] = fused.get(position, 0.0) + weight / (RRF_K + rank)
                ranks.setdefault(position, {})[part.name] = rank
        order = sorted(fused, key=lambda p: (-fused[p], min(ranks[p].values()), p))
        return [(p, fused[p], ranks[p]) for p in order[:k]]

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        return [(p, s) for p, s, _ in self.search_with_ranks(question, k, mask)]
