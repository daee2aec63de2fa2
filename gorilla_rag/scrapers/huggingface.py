"""HuggingFace Hub: the top-N models per pipeline tag by downloads → one ApiDoc per model.

Talks to the Hub's HTTP API (`/api/models?pipeline_tag=…&sort=downloads&full=true&cardData=true`, pages followed
through the `Link` header) and reads each model card (`/{id}/resolve/{sha}/README.md`). Transport is our own
`Http` (huggingface_hub's shared session has no timeout and is switched off by HF_HUB_OFFLINE); parsing is
huggingface_hub's own: `ModelInfo` for listing entries, `ModelCardData` for card metadata and model-index results.

A model whose `sha` equals the one recorded in the previous corpus is taken over without fetching its card.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gorilla_rag.scrapers import Progress, ScrapeError, ScrapeResult, no_progress
from gorilla_rag.scrapers.fetch import HostNotFound, Http
from gorilla_rag.scrapers.markdown import MarkdownError, code_blocks, first_paragraph, front_matter
from gorilla_rag.types import ApiDoc

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_LIBRARIES = ("transformers", "sentence-transformers", "diffusers", "timm")
_CATEGORIES = {
    "Natural Language Processing": "text-classification token-classification table-question-answering "
    "question-answering zero-shot-classification translation summarization feature-extraction text-generation "
    "text2text-generation fill-mask sentence-similarity text-ranking conversational",
    "Computer Vision": "depth-estimation image-classification object-detection image-segmentation image-to-image "
    "unconditional-image-generation video-classification zero-shot-image-classification mask-generation "
    "zero-shot-object-detection image-feature-extraction keypoint-detection",
    "Audio": "text-to-speech text-to-audio automatic-speech-recognition audio-to-audio audio-classification "
    "voice-activity-detection",
    "Multimodal": "text-to-image image-to-text image-text-to-text visual-question-answering document-question-answering "
    "video-text-to-text text-to-video any-to-any",
    "Tabular": "tabular-classification tabular-regression",
    "Reinforcement Learning": "reinforcement-learning robotics",
}
CATEGORY = {tag: name for name, tags in _CATEGORIES.items() for tag in tags.split()}
# Tasks `transformers.pipeline` accepts; other transformers models load through an Auto class.
PIPELINE_TASKS = frozenset({
    "audio-classification", "automatic-speech-recognition", "depth-estimation", "document-question-answering",
    "feature-extraction", "fill-mask", "image-classification", "image-feature-extraction", "image-segmentation",
    "image-text-to-text", "image-to-image", "image-to-text", "mask-generation", "object-detection",
    "question-answering", "summarization", "table-question-answering", "text-classification", "text-generation",
    "text-to-audio", "text2text-generation", "token-classification", "translation", "video-classification",
    "visual-question-answering", "zero-shot-audio-classification", "zero-shot-classification",
    "zero-shot-image-classification", "zero-shot-object-detection"
})
_LOADERS = {  # library → (call template, import line, requirements)
    "sentence-transformers": ("SentenceTransformer({id!r})", "from sentence_transformers import SentenceTransformer",
                              ("sentence-transformers",)),
    "diffusers": ("DiffusionPipeline.from_pretrained({id!r})", "from diffusers import DiffusionPipeline",
                  ("diffusers", "transformers", "torch")),
    "timm": ("timm.create_model('hf_hub:{id}', pretrained=True)", "import timm", ("timm", "torch")),
}


class HuggingFaceScraper:
    """Lists top models per pipeline tag from a Hub endpoint and turns each (with its card) into an ApiDoc."""

    source = "huggingface"

    def __init__(self, options: Mapping[str, Any], location: str | None = None) -> None:
        # --from, then $HF_ENDPOINT (huggingface_hub's mirror setting), then sources.toml, then the public Hub
        self.endpoint = (location or os.environ.get("HF_ENDPOINT") or options.get("endpoint")
                         or DEFAULT_ENDPOINT).rstrip("/")
        self.tags = list(options.get("pipeline_tags", ["text-classification"]))
        self.limit = int(options.get("limit_per_tag", 20))
        self.libraries = tuple(options.get("libraries", DEFAULT_LIBRARIES))  # empty: any library
        self.licenses = tuple(str(x).lower() for x in options.get("licenses", ()))  # empty: any license
        self.page_size = int(options.get("page_size", 100))
        self.max_pages = int(options.get("max_pages", 10))
        self.workers = int(options.get("workers", 8))
        self.http = Http.from_options(options)

    def scrape(self, previous: Mapping[str, ApiDoc] | None = None, progress: Progress = no_progress) -> ScrapeResult:
        """The top `limit_per_tag` accepted models of every tag; unchanged ones (same sha) reused from `previous`.

        A Hub host name that does not resolve fails at once (no retries), naming the host and the likely cause."""
        try:
            return self._scrape(previous or {}, progress)
        except HostNotFound as exc:
            raise ScrapeError(f"HuggingFace Hub at {self.endpoint}: cannot resolve host {exc.host!r}; this machine "
                              f"appears to be offline, or the endpoint is wrong (set $HF_ENDPOINT or `endpoint` in "
                              f"sources.toml, or pass --from URL). {exc}") from exc

    def _scrape(self, previous: Mapping[str, ApiDoc], progress: Progress) -> ScrapeResult:
        warnings: list[str] = []
        listed: dict[str, Any] = {}
        for tag in progress(self.tags, "huggingface tags"):
            for info in self.top_models(tag, warnings):
                listed.setdefault(info.id, info)
        reused = {mid: old for mid, info in listed.items()
                  if (old := previous.get(f"huggingface:{mid}")) and info.sha and old.extra.get("sha") == info.sha}
        todo = [info for mid, info in listed.items() if mid not in reused]
        with ThreadPoolExecutor(max(1, self.workers)) as pool:
            cards = list(progress(pool.map(lambda i: self.card(i, warnings), todo), "huggingface cards", len(todo)))
        docs = list(reused.values())
        for info, card in zip(todo, cards):
            doc = model_doc(info, card, warnings)
            if doc is not None:
                docs.append(doc)
        origin = {"location": self.endpoint, "pipeline_tags": self.tags, "limit_per_tag": self.limit}
        return ScrapeResult(self.source, sorted(docs, key=lambda d: d.id), origin, warnings, reused=len(reused))

    def top_models(self, tag: str, warnings: list[str]) -> list[Any]:
        """Up to `limit` models of one pipeline tag, most downloaded first, that pass the library/license filters."""
        from huggingface_hub import ModelInfo

        params = {"pipeline_tag": tag, "sort": "downloads", "direction": "-1", "limit": self.page_size,
                  "full": "true", "cardData": "true"}
        if len(self.libraries) == 1:
            params["filter"] = self.libraries[0]  # the Hub ANDs filters, so more than one is checked here
        url: str | None = f"{self.endpoint}/api/models?{urllib.parse.urlencode(params)}"
        accepted: list[Any] = []
        for _ in range(self.max_pages):
            if url is None:
                break
            answer = self.http.get(url)
            assert answer is not None
            items = answer.json()
            if not isinstance(items, list):
                raise ScrapeError(f"GET {url}: expected a JSON list of models, got {type(items).__name__}")
            for number, item in enumerate(items):
                try:
                    info = ModelInfo(**item)
                except (TypeError, KeyError, ValueError) as exc:
                    warnings.append(f"{url}: item {number}: not a model entry ({exc!r}); skipped")
                    continue
                if self._accepts(info):
                    accepted.append(info)
                    if len(accepted) >= self.limit:
                        return accepted
            url = urllib.parse.urljoin(url, answer.next_link()) if answer.next_link() else None
        return accepted

    def _accepts(self, info: Any) -> bool:
        library = _library(info)
        if self.libraries and library not in self.libraries:
            return False
        if self.licenses:
            license_ = str((info.card_data.get("license") if info.card_data else None) or "").lower()
            tags = {t.lower() for t in info.tags or []}
            if license_ not in self.licenses and not any(f"license:{x}" in tags for x in self.licenses):
                return False
        return not (getattr(info, "private", False) or getattr(info, "disabled", False))

    def card(self, info: Any, warnings: list[str]) -> str | None:
        """The model card's Markdown (None when the repo has none, or it could not be fetched: a warning)."""
        from huggingface_hub import hf_hub_url

        url = hf_hub_url(info.id, "README.md", revision=info.sha or "main", endpoint=self.endpoint)
        try:
            answer = self.http.get(url, missing_ok=True)
        except HostNotFound:
            raise  # offline: every other card would fail too, so the scrape stops (no corpus of bare metadata)
        except ScrapeError as exc:
            warnings.append(f"{info.id}: card not fetched ({exc}); described from its metadata only")
            return None
        return answer.body.decode("utf-8", errors="replace") if answer else None


def _library(info: Any) -> str:
    tags = set(info.tags or [])
    return info.library_name or next((lib for lib in DEFAULT_LIBRARIES if lib in tags), "")


def domain_name(tag: str) -> str:
    """APIBench-style domain: 'text-to-image' → 'Multimodal Text-to-Image'."""
    words = tag.replace("text2text", "Text2Text").split("-")
    if "to" in words:
        name = "-".join(w if w == "to" else w[:1].upper() + w[1:] for w in words)
    else:
        name = " ".join(w[:1].upper() + w[1:] for w in words).replace("Zero Shot", "Zero-Shot").replace("Fill Mask",
                                                                                                          "Fill-Mask")
    return f"{CATEGORY.get(tag, 'Other')} {name}".strip()


def loader_call(model_id: str, library: str, task: str, auto_model: str | None) -> tuple[str, str, tuple[str, ...]]:
    """(call, import line, requirements) that load the model the way its library documents."""
    if library == "transformers":
        if task in PIPELINE_TASKS:
            return f"pipeline({task!r}, model={model_id!r})", "from transformers import pipeline", ("transformers",
                                                                                                    "torch")
        cls = auto_model or "AutoModel"
        return f"{cls}.from_pretrained({model_id!r})", f"from transformers import {cls}", ("transformers", "torch")
    if library in _LOADERS:
        template, imports, requirements = _LOADERS[library]
        return template.format(id=model_id), imports, requirements
    return (f"snapshot_download(repo_id={model_id!r})", "from huggingface_hub import snapshot_download",
            ("huggingface-hub",))


def model_doc(info: Any, card: str | None, warnings: list[str]) -> ApiDoc | None:
    """The ApiDoc of one listed model and its card text (or None: a warning says why)."""
    from huggingface_hub import ModelCardData

    data: dict[str, Any] = info.card_data.to_dict() if info.card_data else {}
    body = card or ""
    if card:
        try:
            meta, start = front_matter(card)
            data = {**data, **meta}
            body = "\n".join(card.splitlines()[start:])
        except MarkdownError as exc:
            warnings.append(f"{info.id}/README.md:{str(exc).removeprefix('line ')}; metadata from the listing")
    try:
        card_data = ModelCardData(**data, ignore_metadata_errors=True)
    except (TypeError, ValueError) as exc:
        warnings.append(f"{info.id}/README.md:1: unusable card metadata ({exc}); skipped")
        return None
    task = info.pipeline_tag or data.get("pipeline_tag") or ""
    library = _library(info) or str(data.get("library_name") or "")
    auto_model = info.transformers_info.auto_model if info.transformers_info else None
    call, imports, requirements = loader_call(info.id, library, task, auto_model)
    name = info.id.split("/")[-1]
    example = next((b.text for b in code_blocks(body) if b.lang in ("python", "py", "")
                    and info.id in b.text and b.text.count("\n") < 40), "")
    metrics, evals = _metrics(card_data)
    if info.safetensors and getattr(info.safetensors, "total", None):
        metrics["params"] = float(info.safetensors.total)
    extra: dict[str, Any] = {
        "sha": info.sha or "", "last_modified": info.last_modified.isoformat() if info.last_modified else "",
        "library": library, "pipeline_tag": task,
        **{key: value for key, value in (("license", data.get("license")), ("datasets", data.get("datasets")),
                                         ("language", data.get("language"))) if value},
        **({"eval": evals} if evals else {}),
    }
    args = {"task": task, "model": info.id} if call.startswith("pipeline(") else {"pretrained_model_name_or_path": info.id}
    return ApiDoc(
        id=f"huggingface:{info.id}",
        source="huggingface",
        domain=domain_name(task) if task else "",
        api_name=name,
        api_call=call,
        description=first_paragraph(body) or f"{info.id}: a {library or 'Hub'} model for {task or 'unknown tasks'}.",
        framework={"transformers": "Hugging Face Transformers"}.get(library, library),
        functionality=task.replace("-", " ").capitalize(),
        arguments=args,
        example_code=example or f"{imports}\nmodel = {call}",
        requirements=requirements,
        metrics=metrics,
        extra=extra,
    )


def _metrics(card_data: Any) -> tuple[dict[str, float], dict[str, float]]:
    """(accuracy/top1/top5 in %, every other model-index result by metric type), first value of each."""
    metrics: dict[str, float] = {}
    evals: dict[str, float] = {}
    for result in card_data.eval_results or []:
        kind = str(result.metric_type or "").lower()
        try:
            value = float(result.metric_value)
        except (TypeError, ValueError):
            continue
        name = "top1" if re.fullmatch(r"top-?1(-accuracy)?|acc@1", kind) else \
            "top5" if re.fullmatch(r"top-?5(-accuracy)?|acc@5", kind) else "accuracy" if kind in ("accuracy", "acc") \
            else None
        if name:
            metrics.setdefault(name, round(value * 100 if value <= 1 else value, 4))
        elif kind and len(evals) < 8:
            evals.setdefault(kind, value)
    return metrics, evals
