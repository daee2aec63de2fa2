"""Question memory: the training questions' vectors and their gold APIs, read as soft votes at query time.

APIBench-style questions about one API resemble each other far more than they resemble the API's doc ("embed
these reviews" → the Universal Sentence Encoder, 113 of 344 TF Hub dev questions). A new question's nearest
training questions therefore vote for APIs, for their domain, and their counts give a prior. Questions of
the held-out split are never stored. Vectors are float16 in base64 so the memory travels inside the
re-scorer's JSON file (~0.9 MB for 1,137 questions).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

TEMPERATURE = 0.05  # votes are exp((cos - 1) / T): a neighbour at cos 0.9 counts e^-2 of an identical one
SCOPE_NEIGHBOURS = 5  # scope = mean cosine of this many nearest remembered questions (denser than the nearest one)


@dataclass(frozen=True, slots=True)
class Votes:
    """Per API key (indexes into QuestionMemory.keys): soft vote mass, best cosine, count; per domain: share."""

    mass: np.ndarray
    best: np.ndarray
    count: np.ndarray
    domain_share: np.ndarray  # over QuestionMemory.domain_names


class QuestionMemory:
    """Unit vectors (n, d) of questions and the API key each was answered by."""

    def __init__(self, vectors: np.ndarray, keys: list[str], domains: list[str]) -> None:
        if len(vectors) != len(keys) or len(keys) != len(domains):
            raise ValueError(f"question memory: {len(vectors)} vectors, {len(keys)} keys, {len(domains)} domains")
        # stored at float16 precision, so a memory scores the same before and after a save/load round trip
        self.vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float16), dtype=np.float32)
        self.keys = sorted(set(keys))
        self.key_ids = {key: i for i, key in enumerate(self.keys)}
        self.entry_keys = np.array([self.key_ids[k] for k in keys], dtype=np.int64)
        self.domains = domains
        self.domain_names = sorted(set(domains))
        self.domain_ids = {name: i for i, name in enumerate(self.domain_names)}
        self.entry_domains = np.array([self.domain_ids[d] for d in domains], dtype=np.int64)
        self.domain_entries = [np.flatnonzero(self.entry_domains == i) for i in range(len(self.domain_names))]

    def __len__(self) -> int:
        return len(self.domains)

    def votes(self, query: np.ndarray, allowed_keys: np.ndarray | None = None, exclude: int | None = None) -> Votes:
        """Votes of the entries whose key is allowed (boolean over self.keys), minus entry `exclude`
        (training scores each question against the memory without itself: leave-one-out)."""
        use = np.ones(len(self), dtype=bool)
        if allowed_keys is not None:
            use &= allowed_keys[self.entry_keys]
        if exclude is not None:
            use[exclude] = False
        entries = np.flatnonzero(use)
        sims = self.vectors[entries] @ query.astype(np.float32)
        weights = np.exp((sims.astype(np.float64) - 1.0) / TEMPERATURE)
        ids = self.entry_keys[entries]
        mass = np.bincount(ids, weights=weights, minlength=len(self.keys))
        best = np.zeros(len(self.keys))
        np.maximum.at(best, ids, sims)
        count = np.bincount(ids, minlength=len(self.keys)).astype(np.float64)
        share = np.bincount(self.entry_domains[entries], weights=weights, minlength=len(self.domain_names))
        return Votes(mass, best, count, share / max(float(weights.sum()), 1e-12))

    def scope_similarity(self, query: np.ndarray, exclude: int | None = None) -> float:
        """Mean cosine of the SCOPE_NEIGHBOURS remembered questions nearest to `query` (-1 when empty), without
        entry `exclude` (training: leave-one-out): how much this looks like the requests the corpus serves.
        Separates out-of-scope requests better than the single nearest question (bench/bench_abstention.py)."""
        sims = self.vectors @ query.astype(np.float32)
        if exclude is not None:
            sims = np.delete(sims, exclude)
        if not len(sims):
            return -1.0
        nearest = np.partition(sims, len(sims) - min(SCOPE_NEIGHBOURS, len(sims)))[-SCOPE_NEIGHBOURS:]
        return float(nearest.mean())

    # -- persistence -----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        keys = [self.keys[i] for i in self.entry_keys]
        packed = base64.b64encode(self.vectors.astype(np.float16).tobytes()).decode("ascii")
        return {"dimension": int(self.vectors.shape[1]), "keys": keys, "domains": self.domains, "vectors_f16": packed}

    @classmethod
    def from_dict(cls, data: dict) -> QuestionMemory:
        raw = np.frombuffer(base64.b64decode(data["vectors_f16"]), dtype=np.float16)
        vectors = raw.astype(np.float32).reshape(-1, int(data["dimension"]))
        return cls(vectors, list(data["keys"]), list(data["domains"]))
