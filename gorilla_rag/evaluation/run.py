"""Evaluate the pipeline on an APIBench question file, or score another system's response file."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from gorilla_rag.evaluation.official import official_score
from gorilla_rag.evaluation.questions import Question
from gorilla_rag.evaluation.scoring import gold_key, judge, recall_at, strict_metrics
from gorilla_rag.types import Answer, ApiDoc

RECALL_KS = (1, 3, 5, 10)


def response_text(answer: Answer) -> str:
    """An Answer in Gorilla's v1 response format (what `--responses-out` writes)."""
    api = answer.api
    provider = api.framework if api else ""
    domain = api.domain if api else ""
    code = answer.code.replace("\n", "\\n")
    return (f"<<<domain>>>: {domain}\n<<<api_call>>>: {answer.call or 'None'}\n<<<api_provider>>>: {provider}\n"
            f"<<<explanation>>>: {answer.explanation}\n<<<code>>>: {code}")


def official_records(docs: list[ApiDoc], hub: str) -> list[dict]:
    """The hub's corpus as the official scripts read it (api_call and domain per record, file order)."""
    return [{"api_call": d.api_call, "domain": d.domain, "api_name": d.api_name} for d in docs if d.source == hub]


def score_texts(verifier, questions: list[Question], texts: dict[int, str], docs: list[ApiDoc], hub: str) -> dict:  # noqa: ANN001
    """Strict and official metrics for response texts keyed by question id."""
    judgements = [judge(verifier, q, texts.get(q.question_id), hub) for q in questions]
    # the official scripts pair a response with the question at line `question_id` of the list they are given:
    # number by position, so a subset of a file (a split, a limit) pairs correctly
    responses = [{"question_id": position, "text": texts[q.question_id]}
                 for position, q in enumerate(questions, start=1) if q.question_id in texts]
    official = official_score([q.record for q in questions], responses, official_records(docs, hub), hub)
    return {"strict": strict_metrics(judgements), "apibench_official": official}


def evaluate_responses(verifier, questions: list[Question], texts: dict[int, str], docs: list[ApiDoc],  # noqa: ANN001
                       hub: str) -> dict:
    missing = sum(q.question_id not in texts for q in questions)
    report = score_texts(verifier, questions, texts, docs, hub)
    report["missing_responses"] = missing
    return report


def evaluate_pipeline(pipeline, questions: list[Question], hub: str, retrievers: tuple[str, ...] | None = None,  # noqa: ANN001
                      progress: bool = False) -> tuple[dict, dict[int, str]]:
    """Run the pipeline over the questions (retrieval restricted to `hub`); returns (report, response texts)."""
    from gorilla_rag.retrieval import Filters

    if not questions:
        raise ValueError("no questions to evaluate")

    filters = Filters.make(hub)
    verifier = pipeline.verifier
    texts: dict[int, str] = {}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    iterator = questions
    if progress:
        from tqdm import tqdm

        iterator = tqdm(questions, desc=f"eval {hub}", unit="q")
    for question in iterator:
        started = time.perf_counter()
        answer = pipeline.ask(question.text, filters=filters)
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        texts[question.question_id] = response_text(answer) if answer.call else ""
    report = score_texts(verifier, questions, texts, pipeline.index.docs, hub)
    report["statuses"] = statuses
    report["latency_ms"] = {"p50": float(np.percentile(latencies, 50)), "p95": float(np.percentile(latencies, 95))}
    if retrievers is None:
        retrievers = ("bm25", "dense", "hybrid") + (("rerank",) if pipeline.index.reranker is not None else ())
    report["retrieval"] = retrieval_recall(pipeline.index, verifier, questions, hub, retrievers)
    return report, texts


def retrieval_recall(index, verifier, questions: list[Question], hub: str, retrievers: tuple[str, ...]) -> dict:  # noqa: ANN001
    """recall@1/3/5/10 of the gold API for each retriever, retrieval restricted to the hub."""
    from gorilla_rag.retrieval import Filters

    filters = Filters.make(hub)
    gold = [gold_key(verifier, q) for q in questions]
    out = {}
    for name in retrievers:
        ranked = [[verifier.key_of(h.doc) for h in index.search(q.text, k=max(RECALL_KS), retriever=name,
                                                                filters=filters)] for q in questions]
        out[name] = recall_at(ranked, gold, RECALL_KS)
    return out


def corpus_docs_for(hub: str, corpus: str | Path | None, home: str | Path | None) -> list[ApiDoc]:
    """The docs to score against: a corpus file/folder (ours or raw APIBench), else the home's corpus."""
    from gorilla_rag.corpus.apibench import parse_records
    from gorilla_rag.corpus.store import read_corpus
    from gorilla_rag.errors import CorpusError
    from gorilla_rag.settings import paths

    if corpus is None:
        docs = read_corpus(paths(home).corpus_for_index())
    else:
        path = Path(corpus)
        try:
            docs = read_corpus(path)
        except CorpusError:
            if not path.is_file():
                raise
            docs, problems = parse_records(path.read_bytes(), hub, str(path))
            if problems:
                raise CorpusError(problems, what=f"corpus {path}") from None
    found = [d for d in docs if d.source == hub]
    if not found:
        raise CorpusError([f"{corpus or 'the home corpus'}: no {hub} docs (import them with "
                           f"`gorilla-rag corpus import apibench`)"])
    return found
