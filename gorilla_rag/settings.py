"""The one place that reads environment variables and decides default paths.

Every function elsewhere takes explicit overrides; these are only the defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
DEFAULT_INDEX = "default"
SEED_CORPUS = "seed"
ACTIVE_CORPUS = "current"


def _checkout_root() -> Path | None:
    """The repo root when running from a checkout (it ships api_corpus/seed beside the package)."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "api_corpus" / SEED_CORPUS).is_dir():
        return root
    return None


def home(override: str | os.PathLike[str] | None = None) -> Path:
    """The home folder holding api_corpus/ and indexes/.

    Order: explicit override, $GORILLA_RAG_HOME, the checkout root, the user cache folder.
    """
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("GORILLA_RAG_HOME")
    if env:
        return Path(env).expanduser().resolve()
    root = _checkout_root()
    if root is not None:
        return root
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "gorilla-rag"


def seed_corpus_dir() -> Path:
    """The hand-written seed corpus (shipped in the checkout, or inside the installed package)."""
    root = _checkout_root()
    if root is not None:
        return root / "api_corpus" / SEED_CORPUS
    return PACKAGE_DIR / "seed_corpus"


def apibench_dir() -> Path | None:
    """Where APIBench data lives locally: $GORILLA_RAG_APIBENCH, else ../shared/apibench."""
    env = os.environ.get("GORILLA_RAG_APIBENCH")
    candidates = [Path(env)] if env else []
    root = _checkout_root()
    if root is not None:
        candidates.append(root.parent / "shared" / "apibench")
    for path in candidates:
        if (path / "api").is_dir():
            return path.resolve()
    return None


def sources_dir() -> Path | None:
    """Raw scraper sources: $GORILLA_RAG_SOURCES, else ../shared/sources."""
    env = os.environ.get("GORILLA_RAG_SOURCES")
    candidates = [Path(env)] if env else []
    root = _checkout_root()
    if root is not None:
        candidates.append(root.parent / "shared" / "sources")
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    return None


TRAINED_RETRIEVER = "apibench-retriever"  # what `gorilla-rag train retriever` writes under <home>/models/


def embedder_name() -> str:
    """The document (and default query) embedder: $GORILLA_RAG_EMBEDDER, else the bundled MiniLM."""
    return os.environ.get("GORILLA_RAG_EMBEDDER", DEFAULT_EMBEDDER)


TRAINED_RERANKER = "apibench-reranker.json"  # what `gorilla-rag train reranker` writes under <home>/models/


def trained_reranker(home_override: str | os.PathLike[str] | None = None) -> Path | None:
    """The home's trained re-scorer, if any (an index built with the matching query encoder ships a copy)."""
    path = paths(home_override).models / TRAINED_RERANKER
    return path if path.is_file() else None


FP32_QUERY_ENCODER = ("none", "base", "fp32")  # names that mean "read questions with the document embedder as is"


def query_encoder_name(home_override: str | os.PathLike[str] | None = None, choice: str | None = None) -> str | None:
    """The query-side model a new index records: `choice` (e.g. --query-encoder), else $GORILLA_RAG_QUERY_ENCODER,
    else the home's fine-tuned retriever if any, else None: the document embedder itself (also asked for with
    'base', 'none' or 'fp32'). Questions run in bf16 where the CPU has it natively (Embedder precision "auto",
    $GORILLA_RAG_QUERY_PRECISION): the same answers on the held-out questions, ~1.7x faster.

    `<model>:int8` is faster still but costs held-out accuracy (−1 point strict@1 with the trained re-scorer,
    −7.6 on TF Hub for untrained hybrid; bench/bench_quality.py), so it is opt-in.
    """
    if choice is None:
        choice = os.environ.get("GORILLA_RAG_QUERY_ENCODER") or None  # an empty variable counts as unset
    if choice is not None:  # an explicit '' also means the document embedder
        choice = choice.strip()
        return None if not choice or choice.lower() in FP32_QUERY_ENCODER else choice
    if (paths(home_override).models / TRAINED_RETRIEVER / "config.json").is_file():
        return TRAINED_RETRIEVER
    return None


def api_key() -> str | None:
    """The key HTTP clients must send as `Authorization: Bearer <key>` ($GORILLA_RAG_API_KEY); None: no key."""
    return os.environ.get("GORILLA_RAG_API_KEY") or None


@dataclass(frozen=True, slots=True)
class Paths:
    """Resolved folders under one home."""

    home: Path

    @property
    def corpora(self) -> Path:
        return self.home / "api_corpus"

    @property
    def active_corpus(self) -> Path:
        return self.corpora / ACTIVE_CORPUS

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def indexes(self) -> Path:
        return self.home / "indexes"

    def index(self, name: str = DEFAULT_INDEX) -> Path:
        return self.indexes / name

    def corpus_for_index(self) -> Path:
        """The corpus an index is built from by default: the imported one, else the seed."""
        if any(self.active_corpus.glob("*.jsonl")):
            return self.active_corpus
        return seed_corpus_dir()


def paths(home_override: str | os.PathLike[str] | None = None) -> Paths:
    return Paths(home(home_override))


# -- generation backends (each returns None when unset; the backends then use their own defaults) ------------
def _env(*names: str) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def local_model() -> str | None:
    """Model folder or hub id for the `local` generator when the spec names none."""
    return _env("GORILLA_RAG_LOCAL_MODEL")


def local_device() -> str | None:
    """cuda, mps or cpu for the `local` generator (default: the best available)."""
    return _env("GORILLA_RAG_LOCAL_DEVICE")


def local_dtype() -> str | None:
    """float32, bfloat16 or float16 for the `local` generator (default: by device)."""
    return _env("GORILLA_RAG_LOCAL_DTYPE")


def openai_url() -> str | None:
    """Base URL of an OpenAI-compatible server for the `openai` generator when the spec names none."""
    return _env("GORILLA_RAG_OPENAI_URL", "OPENAI_BASE_URL")


def openai_api_key() -> str | None:
    return _env("GORILLA_RAG_OPENAI_API_KEY", "OPENAI_API_KEY")


def openai_model() -> str | None:
    """Model name sent to the server (default: the first one its /models lists)."""
    return _env("GORILLA_RAG_OPENAI_MODEL")
