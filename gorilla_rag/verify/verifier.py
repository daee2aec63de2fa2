"""Check a model's output against the corpus: is its call a corpus API, with sensible arguments?"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from gorilla_rag.types import ApiDoc, Verification
from gorilla_rag.verify.calls import CallSite, extract_calls
from gorilla_rag.verify.identity import PIPELINE_DEFAULT, ApiIdentity, identify

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
        self._identities: dict[str, ApiIdentity | None] = {}  # api_call -> identity
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

    def _doc_identity(self, doc: ApiDoc) -> ApiIdentity | None:
        if doc.api_call not in self._identities:
            self._identities[doc.api_call] = self.identify_text(doc.api_call)
        return self._identities[doc.api_call]

    def key_of(self, doc: ApiDoc) -> str | None:
        """The identity key of a doc's `api_call`; None when it names no loadable API."""
        ident = self._doc_identity(doc)
        return ident.key if ident else None

    def docs_for_key(self, key: str, source: str | None = None) -> list[ApiDoc]:
        """The corpus docs with this identity key, optionally only those of one source."""
        return [doc for doc in self.index.get(key, []) if source is None or doc.source == source]

    def verify(self, text: str, source: str | None = None) -> Verification:
        """Find the first call in `text` that is a corpus API (of `source`, if given).

        verified: a call is a corpus API (details list unknown keyword arguments, task mismatches);
        hallucinated: calls load an API, but none is in the corpus; unparseable: no API call found.
        """
        identified = _identified(text)
        if not identified:
            return Verification("unparseable", detail=("no API call found",))
        for position, (call, ident) in enumerate(identified):
            matched = self.docs_for_key(ident.key, source)
            if matched:
                earlier = dict.fromkeys(other.key for _, other in identified[:position])
                missed = [f"an earlier call loads {key}, which is not a corpus API" for key in earlier]
                return Verification(
                    "verified",
                    call=call.text,
                    key=ident.key,
                    matched=tuple(matched),
                    detail=tuple(missed + self._findings(call, ident, matched)),
                )
        call, ident = identified[0]
        where = f" of {source}" if source else ""
        detail = [f"no corpus API{where} for {ident.key}", *_default_model_note(ident)]
        near = self._near_miss(ident.key, source)
        if near:
            detail.append(f"did you mean {near}?")
        return Verification("hallucinated", call=call.text, key=ident.key, detail=tuple(detail))

    def _near_miss(self, key: str, source: str | None) -> str | None:
        prefix = key.split(":", 1)[0] + ":"
        candidates = [k for k in self.index if k.startswith(prefix) and self.docs_for_key(k, source)]
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.8)
        return close[0] if close else None

    def _findings(self, call: CallSite, ident: ApiIdentity, matched: list[ApiDoc]) -> list[str]:
        findings = _default_model_note(ident)
        known = set(COMMON_KWARGS)
        for doc in matched:
            known.update(doc.arguments)
            if doc.api_call not in self._call_kwargs:
                self._call_kwargs[doc.api_call] = {
                    k for site in extract_calls(doc.api_call) for k in site.kwargs
                }
            known.update(self._call_kwargs[doc.api_call])
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


def _default_model_note(ident: ApiIdentity) -> list[str]:
    if not ident.key.startswith(f"huggingface:{PIPELINE_DEFAULT}"):
        return []
    return [f"pipeline({ident.task!r}) names no model: transformers loads the task's default model"]


def _identified(text: str) -> list[tuple[CallSite, ApiIdentity]]:
    return [(call, ident) for call in extract_calls(text) if (ident := identify(call)) is not None]
