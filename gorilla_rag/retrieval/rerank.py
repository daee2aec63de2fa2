"""A learned re-scorer over the fused candidates: logistic regression on cheap per-candidate features.

A cross-encoder over 10 candidates costs ~0.4 s per question on 2 CPU cores; these features cost microseconds,
because they reuse what retrieval already computed (the query vector, the BM25 score of every doc).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gorilla_rag.retrieval.text import tokenize

FEATURES = ("dense_cos", "dense_gap", "dense_rrank", "bm25_norm", "bm25_rrank", "bm25_log", "name_overlap", "rrf")
RERANKER_FILE = "reranker.json"


class Reranker:
    """Scores the union of the BM25 and dense top-`depth` candidates; a drop-in retriever (`search`)."""

    name = "rerank"

    def __init__(self, index, weights: np.ndarray, bias: float, mean: np.ndarray, scale: np.ndarray,  # noqa: ANN001
                 depth: int = 30) -> None:
        self.index = index
        self.weights, self.bias, self.mean, self.scale = weights, bias, mean, scale
        self.depth = depth
        self._name_tokens: dict[int, set[str]] = {}

    def candidates(self, question: str, mask: np.ndarray | None) -> tuple[list[int], np.ndarray]:
        """Candidate positions and their feature matrix (len(candidates), len(FEATURES))."""
        bm25_all = self.index.bm25.scores(question)
        bm25_top = self.index.bm25.search(question, self.depth, mask)
        dense_top = self.index.dense.search(question, self.depth, mask)
        positions = list(dict.fromkeys([p for p, _ in dense_top] + [p for p, _ in bm25_top]))
        if not positions:
            return [], np.zeros((0, len(FEATURES)))
        query = self.index.dense.query_vector(question)
        cos = self.index.dense.vectors_for(positions) @ query
        dense_rank = {p: r for r, (p, _) in enumerate(dense_top, start=1)}
        bm25_rank = {p: r for r, (p, _) in enumerate(bm25_top, start=1)}
        best_bm25 = max(float(bm25_all.max()), 1e-6)
        words = set(tokenize(question))
        rows = []
        for p, c in zip(positions, cos):
            dr, br = dense_rank.get(p, self.depth * 2), bm25_rank.get(p, self.depth * 2)
            bm = float(bm25_all[p])
            rows.append([c, c - cos.max(), 1 / dr, bm / best_bm25, 1 / br, np.log1p(bm), self._overlap(p, words),
                         1 / (60 + dr) + 1 / (60 + br)])
        return positions, np.array(rows, dtype=np.float64)

    def _overlap(self, position: int, words: set[str]) -> float:
        """Share of the API's name tokens (e.g. 'bert', 'base', 'ner') that the question mentions."""
        if position not in self._name_tokens:
            doc = self.index.docs[position]
            self._name_tokens[position] = set(tokenize(doc.api_name.replace("/", " ")))
        name = self._name_tokens[position]
        return len(name & words) / len(name) if name else 0.0

    def score(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.weights + self.bias

    def search(self, question: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        positions, features = self.candidates(question, mask)
        if not positions:
            return []
        scores = self.score(features)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(positions[i], float(scores[i])) for i in order]

    # -- persistence and training ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "weights": self.weights.tolist(), "bias": self.bias,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "depth": self.depth}

    def save(self, path: Path, info: dict | None = None) -> None:
        path.write_text(json.dumps({**self.to_dict(), **(info or {})}, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, index, path: Path) -> Reranker:  # noqa: ANN001
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES):
            raise ValueError(f"{path}: reranker features {data.get('features')} differ from this version's "
                             f"{list(FEATURES)}; retrain it with `gorilla-rag train reranker`")
        return cls(index, np.array(data["weights"]), float(data["bias"]), np.array(data["mean"]),
                   np.array(data["scale"]), int(data.get("depth", 30)))

    @classmethod
    def train(cls, index, examples: list[tuple[str, str, np.ndarray | None]], depth: int = 30,  # noqa: ANN001
              l2: float = 1.0, steps: int = 300) -> Reranker:
        """Fit on (question, gold API key, mask) examples: logistic regression, gold candidates positive."""
        blank = cls(index, np.zeros(len(FEATURES)), 0.0, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), depth)
        rows, labels = [], []
        for question, key, mask in examples:
            positions, features = blank.candidates(question, mask)
            gold = [index.api_key(index.docs[p]) == key for p in positions]
            if any(gold):  # a list without the gold API teaches nothing about ranking it
                rows.append(features)
                labels.extend(gold)
        x = np.vstack(rows)
        y = np.array(labels, dtype=np.float64)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        weights, bias = _logistic_regression((x - mean) / scale, y, l2=l2, steps=steps)
        return cls(index, weights, bias, mean, scale, depth)


def _logistic_regression(x: np.ndarray, y: np.ndarray, l2: float, steps: int) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression by Newton's method (small, dense problem)."""
    n, d = x.shape
    sample = np.where(y > 0, 0.5 / max(y.sum(), 1), 0.5 / max(n - y.sum(), 1)) * n
    design = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.eye(d + 1) * l2
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ theta))
        gradient = design.T @ (sample * (p - y)) + penalty @ theta
        hessian = (design * (sample * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])
