"""A learned re-scorer over the fused candidates: a listwise linear model on cheap per-candidate features.

Features reuse what retrieval already computed (the query vector, every doc's BM25 score) plus the votes of
the question memory (retrieval/memory.py): the training questions nearest to this one, their APIs, their
domains. Every feature also has a per-hub copy (zero outside that hub), so one model can learn that TF Hub
questions follow the memory's prior closely while HuggingFace questions mostly ask about unseen APIs.
A cross-encoder over 10 candidates costs ~0.4 s per question on 2 CPU cores; these cost well under 1 ms.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gorilla_rag.retrieval.abstention import Calibration
from gorilla_rag.retrieval.memory import QuestionMemory

if TYPE_CHECKING:
    from gorilla_rag.types import ApiDoc

BASE_FEATURES = ("dense_cos", "dense_gap", "bm25_norm", "bm25_log", "memory_prior", "memory_votes",
                 "memory_votes_gap", "memory_best", "memory_domain")
HUB_BLOCKS = ("huggingface", "torchhub", "tfhub")
# Each base feature also times the question's scope similarity (memory.scope_similarity): how far to trust the
# memory depends on how like the remembered questions this one is (plainly worded ones are not).
FEATURES = (BASE_FEATURES + tuple(f"{hub}:{name}" for hub in HUB_BLOCKS for name in BASE_FEATURES)
            + tuple(f"scope*{name}" for name in BASE_FEATURES))
RERANKER_FILE = "reranker.json"
MEMORY_CANDIDATES = 10  # the APIs with the most memory votes join the candidates even if neither ranker found them
# Below this scope similarity (memory.scope_similarity) a question is unlike every remembered one, and the memory's
# votes are noise: Index.search ranks it with the untrained hybrid instead. Chosen on the APIBench held-out split and
# the plain questions we train on (training/task_questions.py); bench/bench_memory_floor.py measures it.
MEMORY_FLOOR = 0.45
_NO_VOTES = 1e-4


class Reranker:
    """Scores the union of the BM25 and dense top-`depth` candidates and the memory's favourite APIs;
    a drop-in retriever (`search`)."""

    name = "rerank"

    def __init__(self, index, weights: np.ndarray, bias: float, mean: np.ndarray, scale: np.ndarray,  # noqa: ANN001
                 depth: int = 30, memory: QuestionMemory | None = None) -> None:
        self.index = index
        self.weights, self.bias, self.mean, self.scale = weights, bias, mean, scale
        self.depth = depth
        self.memory = memory if memory is not None else QuestionMemory(np.zeros((0, index.dense.dimension)), [], [])
        self.split = "train"  # which questions it learned from: "train" (held-out split left out) or "all"
        self.calibration: Calibration | None = None  # the memory's abstention threshold for a non-default encoder
        self._layout: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]] | None = None

    def _doc_layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
        """Per doc position: API group id (records of one API share it), memory key id (-1: no question in
        memory), memory domain id (-1), hub block (-1); per memory key: its doc positions. Computed once."""
        if self._layout is None:
            docs, memory = self.index.docs, self.memory
            api_keys = [self.index.api_key(d) for d in docs]
            groups = {key: i for i, key in enumerate(dict.fromkeys(api_keys))}
            group_ids = np.array([groups[k] for k in api_keys], dtype=np.int64)
            key_ids = np.array([memory.key_ids.get(k, -1) for k in api_keys], dtype=np.int64)
            domain_ids = np.array([memory.domain_ids.get(d.domain, -1) for d in docs], dtype=np.int64)
            hubs = np.array([HUB_BLOCKS.index(d.source) if d.source in HUB_BLOCKS else -1 for d in docs])
            grouped: list[list[int]] = [[] for _ in memory.keys]
            for position, key in enumerate(key_ids):
                if key >= 0:
                    grouped[key].append(position)
            positions = [np.array(p, dtype=np.int64) for p in grouped]
            self._layout = group_ids, key_ids, domain_ids, hubs, positions
        return self._layout

    def _allowed_keys(self, mask: np.ndarray | None) -> np.ndarray | None:
        """The memory keys with at least one doc that `mask` allows (None: all)."""
        if mask is None:
            return None
        key_ids = self._doc_layout()[1]
        allowed = np.zeros(len(self.memory.keys), dtype=bool)
        allowed[key_ids[mask & (key_ids >= 0)]] = True
        return allowed

    def candidates(self, question: str, mask: np.ndarray | None, query: np.ndarray | None = None,
                   exclude: int | None = None, pool: int | None = None) -> tuple[list[int], np.ndarray]:
        """Candidate APIs, each as its best-matching record's position, and their features
        (len(candidates), len(FEATURES)); an API's features pool (max) over its candidate records.

        `query`: the question's vector when already computed; `exclude`: a memory entry to leave out (training);
        `pool`: records taken from each ranker when more than the trained depth are wanted (a long result list).
        """
        from gorilla_rag.retrieval.bm25 import top_k

        group_ids, key_ids, domain_ids, hubs, key_positions = self._doc_layout()
        bm25_all = self.index.bm25.scores(question, plain=True)
        if query is None:
            query = self.index.dense.query_vector(question)
        votes = self.memory.votes(query, self._allowed_keys(mask), exclude)
        favourites = [k for k in np.argsort(-votes.mass)[:MEMORY_CANDIDATES] if votes.mass[k] > 0]
        depth = max(self.depth, pool or 0)
        found = [p for p, _ in self.index.dense.search_vector(query, depth, mask)]
        found += [p for p, _ in top_k(bm25_all, depth, mask)]
        for k in favourites:
            found += [int(p) for p in key_positions[k] if mask is None or mask[p]]
        if not found:
            return [], np.zeros((0, len(FEATURES)))
        where = np.array(list(dict.fromkeys(found)))
        cos = self.index.dense.vectors_for(where) @ query
        bm = np.maximum(bm25_all[where], 0.0)
        _, first, api = np.unique(group_ids[where], return_index=True, return_inverse=True)
        n = len(first)
        best_cos, best_bm, domain_share = np.full(n, -2.0), np.zeros(n), np.zeros(n)
        np.maximum.at(best_cos, api, cos)
        np.maximum.at(best_bm, api, bm)
        domains = domain_ids[where]
        if len(votes.domain_share):
            np.maximum.at(domain_share, api, np.where(domains >= 0, votes.domain_share[domains], 0.0))
        # the API's representative: its record closest to the question
        order = np.lexsort((-cos, api))
        representative = where[order[np.r_[0, np.flatnonzero(np.diff(api[order])) + 1]]]
        keys = key_ids[where[first]]  # -1 (no question in memory) reads the appended 0 below
        mass, count, best = (np.append(v, 0.0)[keys] for v in (votes.mass, votes.count, votes.best))
        top_mass = float(votes.mass.max(initial=0.0))
        base = np.column_stack([
            best_cos, best_cos - best_cos.max(), best_bm / max(float(best_bm.max()), 1e-6), np.log1p(best_bm),
            np.log1p(count), np.log(mass + _NO_VOTES), np.log(mass + _NO_VOTES) - np.log(top_mass + _NO_VOTES),
            best, domain_share,
        ])
        hub = hubs[where[first]]
        scope = self.memory.scope_similarity(query, exclude)
        blocks = [base] + [base * (hub == b)[:, None] for b in range(len(HUB_BLOCKS))]
        blocks.append(base * scope)
        return [int(p) for p in representative], np.hstack(blocks).astype(np.float64)

    def knows_questions_like(self, query: np.ndarray) -> bool:
        """Whether the memory holds questions like this one (a query vector), so its votes mean something; always
        true without a memory (the re-scorer then reads retrieval features only)."""
        return not len(self.memory) or self.memory.scope_similarity(query) >= MEMORY_FLOOR

    def score(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.weights + self.bias

    def search(self, question: str, k: int, mask: np.ndarray | None = None,
               pool: int | None = None) -> list[tuple[int, float]]:
        """The k best-scored candidate records; `pool` (records from each ranker) widens the candidates beyond
        the trained depth, for a long list (Index.search keeps the usual ranking first)."""
        positions, features = self.candidates(question, mask, pool=pool)
        if not positions:
            return []
        scores = self.score(features)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(positions[i], float(scores[i])) for i in order]

    # -- persistence and training ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "weights": self.weights.tolist(), "bias": self.bias,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "depth": self.depth,
                "memory": self.memory.to_dict(),
                **({"abstention_calibration": self.calibration.to_dict()} if self.calibration is not None else {})}

    def save(self, path: Path, info: dict | None = None) -> None:
        path.write_text(json.dumps({**self.to_dict(), **(info or {})}, indent=2) + "\n", encoding="utf-8")

    @staticmethod
    def fits_this_version(data: dict) -> bool:
        """Whether a saved re-scorer (its JSON) was trained on this version's features."""
        return data.get("features") == list(FEATURES)

    @classmethod
    def load(cls, index, path: Path) -> Reranker:  # noqa: ANN001
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not cls.fits_this_version(data):
            raise ValueError(f"{path}: the re-scorer was trained on other features ({len(data.get('features') or [])} "
                             f"vs this version's {len(FEATURES)}: another gorilla-rag version)")
        trained = {key: data[key] for key in ("embedder", "query_encoder") if key in data}
        reads = index.manifest["embedder"]
        built = {key: reads.get("name" if key == "embedder" else key) for key in trained}
        if trained != built:  # its features and memory live in another model's space
            raise ValueError(f"{path}: the re-scorer was trained with {trained}, the index reads with {built}")
        memory = QuestionMemory.from_dict(data["memory"]) if data.get("memory") else None
        if memory is not None and memory.vectors.shape[1] != index.dense.dimension:
            raise ValueError(f"{path}: question memory has dimension {memory.vectors.shape[1]}, the index "
                             f"{index.dense.dimension}")
        reranker = cls(index, np.array(data["weights"]), float(data["bias"]), np.array(data["mean"]),
                       np.array(data["scale"]), int(data.get("depth", 30)), memory)
        reranker.split = str(data.get("split", "train"))
        if data.get("abstention_calibration") is not None:
            reranker.calibration = Calibration.from_dict(data["abstention_calibration"])
        return reranker

    @classmethod
    def train(cls, index, examples: list[tuple[str, str, str, np.ndarray | None]], depth: int = 30,  # noqa: ANN001
              l2: float = 1e-3, memory: QuestionMemory | None = None,
              task_lists: Sequence[tuple[str, np.ndarray | None, Callable[[ApiDoc], bool]]] = ()) -> Reranker:
        """Fit on (question, gold API key, gold domain, mask) examples with a listwise objective: per question, a
        softmax over its candidates, maximising the probability of the gold API (what top-1 needs).

        The examples also become the question memory (unless `memory` is given, e.g. an empty one for an
        ablation); each example is then scored against the memory without itself (leave-one-out).
        `task_lists`: (question, mask, does) for questions labelled with a task, not an API: every candidate that
        `does` counts as gold. They teach the weights only; the memory never holds them."""
        vectors = index.dense.query_embedder.embed([question for question, _, _, _ in examples])
        own = memory is None
        if own:
            memory = QuestionMemory(vectors, [k for _, k, _, _ in examples], [d for _, _, d, _ in examples])
        width = len(FEATURES)
        blank = cls(index, np.zeros(width), 0.0, np.zeros(width), np.ones(width), depth, memory)
        groups = []
        for number, ((question, key, _, mask), vector) in enumerate(zip(examples, vectors)):
            positions, features = blank.candidates(question, mask, vector, exclude=number if own else None)
            gold = np.array([index.api_key(index.docs[p]) == key for p in positions])
            if gold.any() and not gold.all():  # only lists where the order matters teach anything
                groups.append((features, gold))
        for question, mask, does in task_lists:
            positions, features = blank.candidates(question, mask)
            gold = np.array([does(index.docs[p]) for p in positions])
            if gold.any() and not gold.all():
                groups.append((features, gold))
        x = np.vstack([f for f, _ in groups])
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        weights = _listwise_fit([((f - mean) / scale, g) for f, g in groups], l2)
        return cls(index, weights, 0.0, mean, scale, depth, memory)


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
