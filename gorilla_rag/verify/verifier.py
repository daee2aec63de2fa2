"""Check a text against the corpus: is every call in it that loads an API a corpus API, with sensible arguments?"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from gorilla_rag.types import ApiDoc, CallCheck, Verification
from gorilla_rag.verify.calls import CallSite, extract_calls
from gorilla_rag.verify.identity import PIPELINE_DEFAULT, ApiIdentity, identify
from gorilla_rag.verify.syntax import syntax_errors

# Call statuses, worst first: the first call of the worst status speaks for the text.
SEVERITY = ("hallucinated", "syntax_error", "other_hub", "underspecified", "verified")
CANDIDATES_SHOWN = 3  # corpus APIs named for a pipeline task that names no model
_TASK_ONLY = f"huggingface:{PIPELINE_DEFAULT}"

# Keyword arguments any loader of these hubs takes; others must appear in the matched doc.
COMMON_KWARGS = frozenset(
    " ".join(
        (
            "repo_or_dir model task handle pretrained_model_name_or_path repo_id model_id model_name",
            "model_name_or_path source",  # the identity slots
            "pretrained force_reload skip_validation trust_repo verbose progress weights map_location",
            "trust_remote_code revision torch_dtype device device_map dtype config cache_dir token",
            "use_auth_token local_files_only subfolder filename variant use_safetensors low_cpu_mem_usage",
            "load_in_8bit load_in_4bit from_tf num_labels ignore_mismatched_sizes tokenizer",
            "feature_extractor image_processor framework model_kwargs return_all_scores top_k savedir",
            "run_opts trainable input_shape output_shape arguments signature signature_outer_key",
            "output_key name tags load_options",
        )
    ).split()
)
# transformers accepts these task names as aliases of one pipeline.
_TASK_ALIASES = {
    "sentiment-analysis": "text-classification",
    "ner": "token-classification",
    "vqa": "visual-question-answering",
    "text-to-speech": "text-to-audio",
}


def _canonical_task(task: str) -> str:
    task = task.strip().lower().replace("_", "-")
    return _TASK_ALIASES.get(task, task)


class Verifier:
    """Matches calls to corpus APIs by identity (see `identify`)."""

    def __init__(self, docs: Iterable[ApiDoc]) -> None:
        self._docs = tuple(docs)
        self._index: dict[str, list[ApiDoc]] | None = None
        self._parts: dict[str, list[ApiDoc]] | None = None  # key of a further call in docs' api_call -> docs
        self._tasks: dict[str, list[ApiDoc]] | None = None  # canonical pipeline task -> docs, model-naming first
        self._identities: dict[str, list[ApiIdentity]] = {}  # api_call -> identities of its calls, in order
        self._call_kwargs: dict[str, set[str]] = {}  # api_call -> keyword arguments it passes

    @property
    def index(self) -> dict[str, list[ApiDoc]]:
        """Identity key -> the corpus docs with that key, built on first use."""
        if self._index is None:
            index: dict[str, list[ApiDoc]] = {}
            for doc in self._docs:
                key = self.key_of(doc)
                if key is not None:
                    index.setdefault(key, []).append(doc)
            self._index = index
        return self._index

    def identify_text(self, text: str) -> ApiIdentity | None:
        """The identity of the first identifiable call in `text`."""
        return next((ident for _, ident in _identified(text)), None)

    def _doc_identities(self, doc: ApiDoc) -> list[ApiIdentity]:
        return self._call_identities(doc.api_call)

    def _call_identities(self, call: str) -> list[ApiIdentity]:
        if call not in self._identities:
            self._identities[call] = [ident for _, ident in _identified(call)]
        return self._identities[call]

    def _doc_identity(self, doc: ApiDoc) -> ApiIdentity | None:
        return next(iter(self._doc_identities(doc)), None)

    def _docs_with_part(self, key: str, source: str | None) -> list[ApiDoc]:
        """The corpus docs whose api_call also loads `key` besides its own API (a component passed in, such
        as `vae=AutoencoderKL.from_pretrained(...)`), or that list it among their helpers (`extra["helpers"]`:
        the pre/post-processing entry point a PyTorch Hub model is used with): documented, so not invented."""
        if self._parts is None:
            parts: dict[str, list[ApiDoc]] = {}
            for doc in self._docs:
                helpers = [ident for call in _helpers(doc) for ident in self._call_identities(call)]
                for ident in self._doc_identities(doc)[1:] + helpers:
                    parts.setdefault(ident.key, []).append(doc)
            self._parts = parts
        return [doc for doc in self._parts.get(key, []) if source is None or doc.source == source]

    def key_of(self, doc: ApiDoc) -> str | None:
        """The identity key of a doc's `api_call`; None when it names no loadable API."""
        ident = self._doc_identity(doc)
        return ident.key if ident else None

    def docs_for_key(self, key: str, source: str | None = None) -> list[ApiDoc]:
        """The corpus docs with this identity key, optionally only those of one source."""
        return [doc for doc in self.index.get(key, []) if source is None or doc.source == source]

    def docs_for_task(self, task: str, source: str | None = None) -> list[ApiDoc]:
        """The corpus docs whose call is a transformers pipeline for `task` (aliases count), those naming a
        model first."""
        if self._tasks is None:
            tasks: dict[str, list[ApiDoc]] = {}
            for doc in self._docs:
                ident = self._doc_identity(doc)
                if ident is not None and ident.task:
                    tasks.setdefault(_canonical_task(ident.task), []).append(doc)
            self._tasks = {
                task: sorted(docs, key=lambda d: (self.key_of(d) or "").startswith(_TASK_ONLY))
                for task, docs in tasks.items()
            }
        return [d for d in self._tasks.get(_canonical_task(task), []) if source is None or d.source == source]

    def verify(self, text: str, source: str | None = None) -> Verification:
        """Check every call in `text` that loads an API against the corpus (of `source`, if given).

        Each call (`calls`) is verified (a corpus API; details list unknown keyword arguments and task
        mismatches), hallucinated (no corpus API), other_hub (a corpus API of another hub than `source`),
        underspecified (a pipeline task naming no model: no one API) or syntax_error (the call is broken as
        written). The text takes the status of its worst call; with no API call it is no_api_call, or
        unparseable when it is not valid Python either. `syntax_errors` says where the code does not parse.
        """
        identified = _identified(text)
        syntax = syntax_errors(text)
        if not identified:
            if syntax:
                return Verification("unparseable", detail=("no API call found, and the text is not valid Python",),
                                    syntax_errors=syntax)
            return Verification("no_api_call", detail=("no API call found" if text.strip() else "no code given",))
        checks = tuple(self._check(call, ident, source) for call, ident in identified)
        worst = min(checks, key=lambda check: SEVERITY.index(check.status))  # the first of the worst
        detail = dict.fromkeys(worst.detail)
        for check in checks:
            detail.update(dict.fromkeys(check.detail))
        return Verification(worst.status, worst.call, worst.key, worst.matched, tuple(detail), checks, syntax)

    def _check(self, call: CallSite, ident: ApiIdentity, source: str | None) -> CallCheck:
        """The finding for one API-loading call."""
        where = f" of {source}" if source else ""
        matched = self.docs_for_key(ident.key, source) or self._docs_with_part(ident.key, source)
        if call.broken:
            loads = "a corpus API" if matched else f"which is no corpus API{where}"
            return CallCheck("syntax_error", call.text, ident.key, tuple(matched), (
                f"{call.text} is broken as written (read by closing what was left open, or across a syntax "
                f"error), so it is not verified; as read, it loads {ident.key}, {loads}",))
        if ident.key.startswith(_TASK_ONLY):
            return self._task_only(call, ident, source)
        if matched:
            return CallCheck("verified", call.text, ident.key, tuple(matched),
                             tuple(self._findings(call, ident, matched)))
        elsewhere = self.docs_for_key(ident.key) or self._docs_with_part(ident.key, None)
        if elsewhere:  # only when a source was asked for
            hubs = " and ".join(sorted({doc.source for doc in elsewhere}))
            return CallCheck("other_hub", call.text, ident.key, tuple(elsewhere),
                             (f"{ident.key} is a corpus API of {hubs}, not of {source}",))
        detail = [f"no corpus API{where} for {ident.key}"]
        near = self._near_miss(ident.key, source)
        if near:
            detail.append(f"did you mean {near}?")
        return CallCheck("hallucinated", call.text, ident.key, (), tuple(detail))

    def _task_only(self, call: CallSite, ident: ApiIdentity, source: str | None) -> CallCheck:
        """A pipeline naming a task but no model: transformers picks the model, so it is no one corpus API."""
        task = ident.task or ""
        note = f"{call.function}({task!r}) names no model: transformers loads the task's default model"
        fits = self.docs_for_task(task, source)
        if fits:
            per_api: dict[str | None, ApiDoc] = {}
            for doc in fits:
                per_api.setdefault(self.key_of(doc), doc)
            shown = list(per_api.values())
            more = f" ({len(shown)} in all)" if len(shown) > CANDIDATES_SHOWN else ""
            names = ", ".join(doc.id for doc in shown[:CANDIDATES_SHOWN])
            return CallCheck("underspecified", call.text, ident.key, tuple(shown[:CANDIDATES_SHOWN]),
                             (f"{note}, not one corpus API; corpus APIs for {task!r}: {names}{more}",))
        elsewhere = self.docs_for_task(task)
        if elsewhere:
            return CallCheck("other_hub", call.text, ident.key, tuple(elsewhere[:CANDIDATES_SHOWN]),
                             (f"pipeline task {task!r} is a huggingface API, not one of {source}", note))
        where = f" of {source}" if source else ""
        return CallCheck("hallucinated", call.text, ident.key, (),
                         (f"no corpus API{where} for the pipeline task {task!r}", note))

    def _near_miss(self, key: str, source: str | None) -> str | None:
        prefix = key.split(":", 1)[0] + ":"
        candidates = [k for k in self.index if k.startswith(prefix) and self.docs_for_key(k, source)]
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.8)
        return close[0] if close else None

    def _findings(self, call: CallSite, ident: ApiIdentity, matched: list[ApiDoc]) -> list[str]:
        findings = []
        known = set(COMMON_KWARGS)
        for doc in matched:
            known.update(doc.arguments)
            for text in (doc.api_call, *_helpers(doc)):
                if text not in self._call_kwargs:
                    self._call_kwargs[text] = {k for site in extract_calls(text) for k in site.kwargs}
                known.update(self._call_kwargs[text])
        unknown = sorted(k for k in call.kwargs if k not in known)
        if unknown:
            findings.append(f"unknown keyword argument(s) for {ident.key}: {', '.join(unknown)}")
        doc_tasks = {ident_.task for doc in matched if (ident_ := self._doc_identity(doc)) and ident_.task}
        if (
            ident.task
            and doc_tasks
            and _canonical_task(ident.task) not in {_canonical_task(t) for t in doc_tasks}
        ):
            expected = " or ".join(repr(t) for t in sorted(doc_tasks))
            findings.append(
                f"pipeline task {ident.task!r} differs from the corpus task {expected} for {ident.key}"
            )
        return findings


def _helpers(doc: ApiDoc) -> list[str]:
    """The helper calls a doc lists (`extra["helpers"]`, written by the PyTorch Hub scraper)."""
    helpers = doc.extra.get("helpers")
    return [call for call in helpers if isinstance(call, str)] if isinstance(helpers, list) else []


def _identified(text: str) -> list[tuple[CallSite, ApiIdentity]]:
    return [(call, ident) for call in extract_calls(text) if (ident := identify(call)) is not None]
