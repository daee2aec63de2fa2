"""retrieve → generate → verify → Answer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gorilla_rag.errors import QuestionError
from gorilla_rag.generation import DEFAULT_GENERATOR, Generator, load_generator
from gorilla_rag.types import Answer, ApiDoc, GeneratedCall, Hit, Verification

MAX_QUESTION_CHARS = 4000
# Abstain when Index.best_similarity is below Index.abstention_threshold: the default for the signal the index
# gives (retrieval/abstention.py; bench/bench_abstention.py, bench/bench_abstention_untrained.py), or one calibrated
# for its encoder. A question naming one of its candidate models outright is answered below the threshold
# (retrieval/model_names.py).


def check_question(question: object) -> str:
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    text = question.strip()
    if not text:
        raise QuestionError("the question is empty: say what the code should do")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(text):,} characters; the limit is {MAX_QUESTION_CHARS:,}. "
                            "Describe the task in a few sentences")
    return text


class Pipeline:
    """Answers questions with verified API calls from one index."""

    def __init__(self, index, generator: Generator | None = None, k: int = 5, retriever: str | None = None,  # noqa: ANN001
                 allow_unverified: bool = False, min_similarity: float | None = None,
                 retries: int = 1, constraints_from_question: bool = True) -> None:
        self.index = index
        self.generator = generator or load_generator(DEFAULT_GENERATOR)
        self.verifier = index.verifier
        self.k = k
        self.retriever = retriever or index.default_retriever
        self.allow_unverified = allow_unverified
        if min_similarity is not None and not -1 <= min_similarity <= 1:  # 2 would abstain on all, -2 on none
            raise ValueError(f"min_similarity is a cosine similarity from -1 to 1 (0 never abstains), got {min_similarity}")
        self._min_similarity = min_similarity
        self.retries = retries
        self.constraints_from_question = constraints_from_question

    @property
    def min_similarity(self) -> float:
        """The abstention threshold: the one given, else the index's for the signal it gives now (it follows a
        re-scorer attached or a query encoder swapped after the pipeline was made)."""
        return self.index.abstention_threshold if self._min_similarity is None else self._min_similarity

    @classmethod
    def load(cls, home: str | Path | None = None, index: str | Path | None = None,
             generator: str = DEFAULT_GENERATOR, **options: object) -> Pipeline:
        """The pipeline over a home's index (built from the home's corpus on first use if absent)."""
        from gorilla_rag.indexing import open_index

        return cls(open_index(home=home, index=index), load_generator(generator), **options)  # type: ignore[arg-type]

    def ask(self, question: str, k: int | None = None, source: str | list[str] | None = None,
            filters=None, retriever: str | None = None) -> Answer:  # noqa: ANN001
        """Answer one question: a verified call, a repaired one, or an honest no_match; `answer.constraints` says
        which filters were applied (given, or stated in the question: "under 10M parameters")."""
        from gorilla_rag.retrieval import Filters
        from gorilla_rag.retrieval.constraints import merge, overridden, parse_constraints
        from gorilla_rag.retrieval.frameworks import conversion_note
        from gorilla_rag.retrieval.languages import foreign_language

        question = check_question(question)
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise QuestionError(f"k must be a whole number of at least 1, got {k!r}")
        if filters is not None and not isinstance(filters, Filters):
            raise QuestionError(f"filters must be a gorilla_rag.retrieval.Filters (e.g. Filters.make('torchhub', "
                                f"max_params=10e6)), got {type(filters).__name__}")
        given = filters or Filters.make(source)
        if filters is not None and source:  # both given: the source narrows the filters
            given = replace(filters, sources=Filters.make(source).sources)
        stated = parse_constraints(question) if self.constraints_from_question else Filters()
        filters = merge(given, stated)
        answer = self._answer(question, k, filters, retriever)
        dropped = overridden(given, stated)
        if dropped:
            answer = replace(answer, explanation=f"The question states ({dropped}), but the given filters override "
                             f"it. {answer.explanation}")
        converted = conversion_note(question, answer.api) if answer.api is not None else ""
        if converted:
            answer = replace(answer, explanation=f"{answer.explanation} {converted}".strip())
        language = foreign_language(question)
        if language:
            answer = replace(answer, explanation=f"The question looks {language}: the API docs and the question encoder "
                             f"are English, so this answer is less reliable; ask in English for a better one. "
                             f"{answer.explanation}")
        if filters.empty:
            return answer
        if answer.status != "no_match":  # a no_match for a filter already names it
            said = " (read from the question)" if filters != given else ""
            answer = replace(answer, explanation=f"Constraints applied{said}: {filters.describe()}. {answer.explanation}")
        return replace(answer, constraints=filters.describe())

    def _answer(self, question: str, k: int | None, filters, retriever: str | None) -> Answer:  # noqa: ANN001
        from gorilla_rag.retrieval.model_names import named_model

        hits = self.index.search(question, k=k or self.k, retriever=retriever or self.retriever, filters=filters)
        similarity = self._similarity(question, filters) if hits else None
        if similarity is None or similarity >= self.min_similarity:
            return self._answer_hits(question, hits, filters, similarity)
        named = named_model(question, [hit.doc for hit in hits], self.index.docs)
        if named is None:
            return self._answer_hits(question, hits, filters, similarity)
        # a terse "silero vad" sits far from every doc, yet the user named the model: answer, and say why
        answer = self._answer_hits(question, hits, filters, None)
        note = (f"The question names {named[1]!r}, a model among the candidates, so it is answered although it is far "
                f"from every doc (similarity {similarity:.3f}, below the abstention threshold {self.min_similarity:.3f}).")
        return replace(answer, explanation=f"{note} {answer.explanation}".strip())

    def _unserved_task(self, question: str, hits: list[Hit]) -> str:
        """Why no API fits when the question asks for a task no doc of the corpus does (retrieval/unserved_tasks.py),
        else ''. Not when the question names one of the candidates, nor with min_similarity 0 or below."""
        from gorilla_rag.retrieval.model_names import named_model
        from gorilla_rag.training.task_questions import NO_MODEL, task_name

        if not hits or (self._min_similarity is not None and self._min_similarity <= 0):
            return ""
        lacking = self.index.unserved_task(question)
        if lacking is None or named_model(question, [hit.doc for hit in hits], self.index.docs) is not None:
            return ""
        what = ("reads like a request for code, tooling or facts rather than a pretrained model"
                if lacking.task == NO_MODEL else
                f"asks for {task_name(lacking.task)}, and no API in the corpus does that")
        return (f"the question {what} (it reads like our example requests of that kind: {lacking.closeness:.2f} "
                f"against {lacking.served_closeness:.2f} for the closest task the corpus serves); the closest APIs "
                f"are listed as alternatives, and --min-similarity 0 / min_similarity=0 answers with the closest one "
                f"anyway")

    def _doer_elsewhere(self, question: str, task, filters) -> str:  # noqa: ANN001 - a NamedTask, Filters
        """' (<API> does it, outside the filters: <which it fails>)' for the corpus API doing `task` closest to the
        question; '' when none does."""
        import numpy as np

        doers = np.fromiter((task.does(doc) for doc in self.index.docs), dtype=bool, count=len(self.index.docs))
        closest = self.index.dense.search(question, 1, doers) if doers.any() else []
        if not closest:
            return ""
        doer = self.index.docs[closest[0][0]]
        why = " and ".join(filters.failed_by(doer))
        return f" ({doer.api_call} does it, outside the filters{': ' + why if why else ''})"

    def _answer_hits(self, question: str, hits: list, filters, similarity: float | None) -> Answer:  # noqa: ANN001
        """The answer from the retrieved hits; `similarity` below the threshold (None: not checked) abstains."""
        from gorilla_rag.retrieval.task_direction import missing_task

        if not hits or (similarity is not None and similarity < self.min_similarity):
            reason = (f"no API in the corpus fits this request (closest match {similarity:.3f}, below the abstention "
                      f"threshold {self.min_similarity:.3f}; the candidates are listed as alternatives, and "
                      f"--min-similarity / min_similarity lowers the threshold)") if hits else (
                f"no API in the corpus satisfies: {filters.describe()}" if not filters.empty
                else "no candidate API was retrieved")
            return Answer(question, "no_match", "", "", None, None, tuple(hits), explanation=reason)
        lacking = self._unserved_task(question, hits)  # in scope by similarity, yet a task the corpus lacks
        if lacking:
            return Answer(question, "no_match", "", "", None, None, tuple(hits), explanation=lacking)
        missing = missing_task(question, self.index.docs, self.index.mask(filters))
        if missing is not None:  # "estimate depth" in a hub without depth models: not a MobileNet ("depth multiplier")
            where = f"the filters allow ({filters.describe()})" if not filters.empty else "the corpus"
            return Answer(question, "no_match", "", "", None, None, tuple(hits), explanation=(
                f"the question asks for {missing.name}, and no API {where} does that{self._doer_elsewhere(question, missing, filters)}; "
                f"the closest APIs are listed as alternatives"))
        only = filters.sources[0] if len(filters.sources) == 1 else None
        generated = self.generator.generate(question, hits)
        if not generated.call and self._abstains(generated):
            return Answer(question, "no_match", "", "", None, None, tuple(hits),
                          generated.explanation or "the model found no matching API", generated.raw)
        verification = self._verify(generated, only)
        for _ in range(self.retries):
            if verification.status == "verified":
                break
            # One more try, told what failed and which APIs exist (Gorilla-style retrieval-aware retry).
            generated = self.generator.generate(question, hits, feedback=retry_feedback(verification, hits))
            verification = self._verify(generated, only)
        if verification.status == "verified":
            api = _prefer_retrieved(verification, hits)
            code, explanation = self._checked_code(generated, verification.call or generated.call, api, only)
            return Answer(question, "verified", verification.call or generated.call, code, api,
                          verification, tuple(hits), explanation, generated.raw)
        if self.allow_unverified:
            return Answer(question, "unverified", generated.call, generated.code, None, verification,
                          tuple(hits), generated.explanation, generated.raw)
        return self._repair(question, hits, verification, generated.raw, only)

    def _checked_code(self, generated: GeneratedCall, call: str, api: ApiDoc, only: str | None) -> tuple[str, str]:
        """The answer's code and explanation: the generated code when every call in it verifies and it parses;
        else (an example that loads an undocumented helper, lost its indentation, …) the verified call in a
        minimal snippet, and the explanation says why. The verified call never ships inside unverified code."""
        from gorilla_rag.generation.extractive import minimal_snippet

        if not generated.code.strip() or generated.code.strip() == generated.call.strip():
            return generated.code, generated.explanation
        check = self.verifier.verify(generated.code, source=only)
        if check.ok:
            return generated.code, generated.explanation
        problem = "it does not parse" if check.syntax_errors else f"{check.status}: {'; '.join(check.detail)}"
        note = f"The example code did not verify ({problem}); a minimal snippet with the verified call is shown."
        return minimal_snippet(api, call), f"{generated.explanation} {note}".strip()

    def _verify(self, generated: GeneratedCall, only: str | None) -> Verification:
        """The proposed call first (cheap, and what the user gets); the whole output if that names no corpus API."""
        if generated.call:
            verification = self.verifier.verify(generated.call, source=only)
            if verification.status == "verified":
                return verification
        return self.verifier.verify(generated.raw or generated.call, source=only)

    @staticmethod
    def _abstains(generated: GeneratedCall) -> bool:
        """The generator said, in Gorilla's format, that no documented API fits (RAT irrelevance answers)."""
        from gorilla_rag.generation.prompt import states_no_api

        return bool(generated.raw) and states_no_api(generated.raw)

    def _similarity(self, question: str, filters) -> float | None:  # noqa: ANN001
        """How close the (allowed) corpus is to the question (None: abstention is off); below min_similarity the
        pipeline abstains."""
        if self.min_similarity <= 0:
            return None
        return self.index.best_similarity(question, filters)

    def _repair(self, question: str, hits: list[Hit], failed: Verification, raw: str, only: str | None) -> Answer:
        """Replace a call that failed verification by the best retrieved candidate that passes it."""
        from gorilla_rag.generation.extractive import example_code, explain

        for hit in hits:
            check = self.verifier.verify(hit.doc.api_call, source=only)
            if check.status == "verified":
                note = (f"The generated call did not verify ({failed.status}: {'; '.join(failed.detail)}); "
                        f"replaced by the best retrieved API. ")
                check = replace(check, matched=(hit.doc,) + tuple(d for d in check.matched if d != hit.doc))
                return Answer(question, "repaired", hit.doc.api_call, example_code(hit.doc), hit.doc, check,
                              tuple(hits), note + explain(hit.doc), raw)
        return Answer(question, "no_match", "", "", None, failed, tuple(hits),
                      "no retrieved API could be verified against the corpus", raw)


def retry_feedback(failed: Verification, hits: list[Hit], candidates: int = 3) -> str:
    """What a generator is told after its call failed verification: the finding and the real candidates."""
    finding = "; ".join(failed.detail) or failed.status
    options = "\n".join(f"- {hit.doc.api_call}" for hit in hits[:candidates])
    call = f"The call `{failed.call}`" if failed.call else "The answer"
    return (f"{call} does not match any API in the documentation ({finding}). "
            f"Answer with one of these documented API calls, exactly as written:\n{options}")


def _prefer_retrieved(verification: Verification, hits: list[Hit]):  # noqa: ANN202
    """Of the corpus docs with the verified identity, the one ranked highest by retrieval."""
    matched = {doc.id for doc in verification.matched}
    for hit in hits:
        if hit.doc.id in matched:
            return hit.doc
    return verification.matched[0] if verification.matched else None


_default: Pipeline | None = None


def default_pipeline() -> Pipeline:
    """The lazily created pipeline over the default home and index (used by `gorilla_rag.ask`)."""
    global _default
    if _default is None:
        _default = Pipeline.load()
    return _default


def ask(question: str, **options: object) -> Answer:
    """Answer with the default pipeline; see `Pipeline.ask` for options."""
    return default_pipeline().ask(question, **options)  # type: ignore[arg-type]


__all__ = ["Pipeline", "QuestionError", "ask", "check_question", "default_pipeline"]
