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

    def candidates(self, question: str, mask: np.ndarray | None, query: np.ndarray | None = None
                   ) -> tuple[list[int], np.ndarray]:
        """Candidate positions and their feature matrix (len(candidates), len(FEATURES)).

        `query`: the question's vector when already computed (training encodes all questions in one batch).
        """
        from gorilla_rag.retrieval.bm25 import top_k

        bm25_all = self.index.bm25.scores(question)
        bm25_top = top_k(bm25_all, self.depth, mask)
        if query is None:
            query = self.index.dense.query_vector(question)
        dense_top = self.index.dense.search_vector(query, self.depth, mask)
        positions = list(dict.fromkeys([p for p, _ in dense_top] + [p for p, _ in bm25_top]))
        if not positions:
            return [], np.zeros((0, len(FEATURES)))
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
              l2: float = 1e-3) -> Reranker:
        """Fit on (question, gold API key, mask) examples with a listwise objective: for each question, a softmax
        over its candidates, maximising the probability of the gold API's records (what top-1 needs)."""
        blank = cls(index, np.zeros(len(FEATURES)), 0.0, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), depth)
        vectors = index.dense.query_embedder.embed([question for question, _, _ in examples])
        groups = []
        for (question, key, mask), vector in zip(examples, vectors):
            positions, features = blank.candidates(question, mask, vector)
            gold = np.array([index.api_key(index.docs[p]) == key for p in positions])
            if gold.any() and not gold.all():  # only lists where the order matters teach anything
                groups.append((features, gold))
        x = np.vstack([f for f, _ in groups])
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        weights = _listwise_fit([((f - mean) / scale, g) for f, g in groups], l2)
        return cls(index, weights, 0.0, mean, scale, depth)


def _listwise_fit(groups: list[tuple[np.ndarray, np.ndarray]], l2: float) -> np.ndarray:
    """Weights minimising Σ_questions −log(Σ_gold softmax(Xw)) + l2·|w|², by L-BFGS (torch, CPU; tiny problem)."""
    import torch

    features = [torch.from_numpy(f) for f, _ in groups]
    golds = [torch.from_numpy(g) for _, g in groups]
    weights = torch.zeros(features[0].shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = l2 * (weights ** 2).sum()
        for f, g in zip(features, golds):
            scores = f @ weights
            loss = loss + (torch.logsumexp(scores, 0) - torch.logsumexp(scores[g], 0)) / len(features)
        loss.backward()
        return loss

    optimizer.step(closure)
    return weights.detach().numpy()
