"""Fine-tune the query encoder on (question, gold API) pairs against the fixed document vectors of an index.

Written as a plain torch loop over the SentenceTransformer modules, so training needs nothing beyond what
retrieval already installs (no `datasets`, no Trainer).
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gorilla_rag.training.pairs import Pair
from gorilla_rag.types import ApiDoc

SCALE = 20.0  # cosine similarities × SCALE are the logits (as in MultipleNegativesRankingLoss)


@dataclass(frozen=True, slots=True)
class Example:
    query: str
    positive: ApiDoc
    key: str


def pseudo_query(doc: ApiDoc) -> str:
    """A question-like text from the doc alone (task + first sentence), so APIs without questions are learned."""
    first = re.split(r"(?<=[.!?])\s", doc.description.strip(), maxsplit=1)[0][:200]
    task = doc.functionality or doc.domain
    return f"{task}: {first}" if first else task


def make_examples(pairs: list[Pair], pseudo_docs: list[ApiDoc], key_of) -> list[Example]:  # noqa: ANN001
    """Training examples: the question pairs, plus one pseudo-query per distinct API."""
    examples = [Example(p.question.text, p.gold, p.key) for p in pairs]
    for doc in pseudo_docs:
        query = pseudo_query(doc)
        if query:
            examples.append(Example(query, doc, key_of(doc)))
    return examples


def train_query_encoder(examples: list[Example], base_path: str, doc_vectors, doc_keys: list[str],  # noqa: ANN001
                        doc_positions: dict[str, int], out: Path, epochs: int = 2, batch_size: int = 32,
                        lr: float = 5e-5, max_length: int = 64, seed: int = 13, progress: bool = True) -> dict:
    """Fine-tune the query side only; documents keep their (base-model) vectors from the index.

    Every document of the corpus is a negative in a full softmax over `doc_vectors` (cheap: they are fixed),
    except the other records of the gold API, which are masked out. Mined hard negatives are therefore
    already included. Saves a SentenceTransformer to `out`; returns training stats.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = SentenceTransformer(base_path, device="cpu")
    model.max_seq_length = max_length
    docs = torch.from_numpy(doc_vectors)
    key_ids = {key: i for i, key in enumerate(sorted(set(doc_keys)))}
    doc_key_ids = torch.tensor([key_ids[k] for k in doc_keys])
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(examples) + batch_size - 1) // batch_size)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    model.train()
    started, losses, step = time.time(), [], 0
    for epoch in range(epochs):
        order = examples[:]
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            features = model.tokenize([e.query for e in batch])
            queries = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
            logits = queries @ docs.T * SCALE
            gold = torch.tensor([doc_positions[e.positive.id] for e in batch])
            same_api = doc_key_ids[None, :] == torch.tensor([key_ids[e.key] for e in batch])[:, None]
            same_api[torch.arange(len(batch)), gold] = False
            loss = torch.nn.functional.cross_entropy(logits.masked_fill(same_api, -1e4), gold)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            step += 1
            if progress and step % 10 == 0:
                print(f"epoch {epoch + 1} step {step}/{steps} loss {sum(losses[-10:]) / 10:.4f} "
                      f"({time.time() - started:.0f}s)", file=sys.stderr)
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    return {"examples": len(examples), "epochs": epochs, "steps": step, "batch_size": batch_size, "lr": lr,
            "seconds": round(time.time() - started, 1),
            "final_loss": round(sum(losses[-10:]) / max(1, min(10, len(losses))), 4)}


def write_card(out: Path, info: dict) -> None:
    """Record how the model was made, beside its weights."""
    (out / "gorilla_rag_training.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def train_retriever(index, apibench: Path, out: Path, base: str = "all-MiniLM-L6-v2", epochs: int = 2,  # noqa: ANN001
                    batch_size: int = 32, held_out_percent: int | None = None, progress: bool = True) -> dict:
    """The whole recipe: APIBench pairs (held-out part excluded) plus a pseudo-query for every distinct API,
    trained against the document vectors of `index` (all of them negatives), and a card recording it all.
    Returns the card."""
    from gorilla_rag.retrieval.embedder import resolve_model_path
    from gorilla_rag.training.pairs import HELD_OUT_PERCENT, load_pairs, split_pairs

    percent = HELD_OUT_PERCENT if held_out_percent is None else held_out_percent
    pairs = load_pairs(apibench, index.verifier)
    train, held = split_pairs(pairs, percent)
    seen: set[str] = set()
    pseudo = []
    for doc in index.docs:
        key = index.api_key(doc)
        if key not in seen:
            seen.add(key)
            pseudo.append(doc)
    if progress:
        print(f"{len(train)} training pairs ({len(held)} held out), {len(pseudo)} pseudo-queries", file=sys.stderr)
    examples = make_examples(train, pseudo, index.api_key)
    vectors = index.dense.vectors_for(list(range(len(index.docs))))
    keys = [index.api_key(d) for d in index.docs]
    positions = {d.id: i for i, d in enumerate(index.docs)}
    stats = train_query_encoder(examples, resolve_model_path(base), vectors, keys, positions, out,
                                epochs=epochs, batch_size=batch_size, progress=progress)
    card = {"kind": "gorilla-rag-query-encoder", "base": base, "doc_embedder": index.manifest["embedder"]["name"], "held_out_percent": percent,
            "train_pairs": len(train), "held_out_pairs": len(held), "pseudo_queries": len(pseudo),
            "corpus_fingerprint": index.manifest.get("fingerprint"), **stats}
    write_card(out, card)
    return card
