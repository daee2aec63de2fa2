"""The HTTP server's request bodies (pydantic models): what each endpoint accepts, with the limits it checks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gorilla_rag.retrieval.constraints import Filters

MAX_K = 50
MAX_CHOICES = 10


class FiltersIn(BaseModel):
    """Which APIs may be returned."""

    source: str | list[str] | None = Field(None, description="huggingface, torchhub or tfhub (or a list of them)")
    domain: str | None = Field(None, description="a domain substring, e.g. 'Image Classification'")
    max_params: float | None = Field(None, gt=0, allow_inf_nan=False, description="at most this many parameters")
    min_top1: float | None = Field(None, ge=0, le=100, allow_inf_nan=False,
                                   description="top-1 accuracy at least this, in percent (0 to 100); a value in "
                                               "(0, 1] is a fraction: 0.8 means 80%")
    framework: str | None = Field(None, description="tensorflow (or keras), pytorch or scikit-learn: the model "
                                                    "must run on it")

    def make(self) -> Filters:
        return Filters.make(self.source, domain=self.domain, max_params=self.max_params, min_top1=self.min_top1,
                            framework=self.framework)


class SearchIn(BaseModel):
    question: str
    filters: FiltersIn = Field(default_factory=FiltersIn)
    k: int = Field(5, ge=1, le=MAX_K, description=f"candidates to retrieve (1 to {MAX_K})")
    retriever: Literal["bm25", "dense", "hybrid", "rerank"] | None = Field(
        None, description="default: rerank when the index has a trained re-scorer, else hybrid (as the CLI)")


class AskIn(SearchIn):
    allow_unverified: bool = Field(False, description="return the generator's call even when it fails verification")


class VerifyIn(BaseModel):
    code: str = Field(description="code or model output to check against the corpus")
    source: str | None = None


class Message(BaseModel):
    """One chat message; fields other than role and content (name, tool_calls, ...) are not read."""

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    include_usage: bool = Field(False, description="send a last chunk with the token counts")


class ChatIn(BaseModel):
    """An OpenAI chat completion request. Honoured: model, messages, n, stream, stream_options, max_tokens,
    max_completion_tokens, stop, and the `filters` extension. Accepted without effect (the answer is looked up,
    not sampled): temperature, top_p, seed, the penalties, logit_bias and bookkeeping fields (user, metadata,
    store, ...). Refused with 400: logprobs, tools and functions, a response_format or modalities other than
    text, and any parameter not listed here."""

    model_config = ConfigDict(extra="allow")  # unknown parameters are refused by name, not silently dropped

    model: str
    messages: list[Message] = Field(min_length=1)
    n: int = Field(1, ge=1, le=MAX_CHOICES, description="choices: the answer, then the next-best verified APIs")
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, description="cut each choice's content at this many tokens")
    max_completion_tokens: int | None = Field(None, ge=1, description="the same as max_tokens")
    stop: str | list[str] | None = Field(None, description="cut each choice's content before these (up to 4)")
    filters: FiltersIn = Field(default_factory=FiltersIn, description="gorilla-rag extension (extra_body)")
    # Accepted, no effect: the reply is a verified lookup, the same at any temperature or seed.
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: int | None = None
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: str | None = None
    # Refused unless off or text (see server_chat.refuse_unsupported).
    logprobs: bool | None = None
    top_logprobs: int | None = None
    tools: list[dict[str, Any]] | None = None
    functions: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    function_call: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    modalities: list[str] | None = None
