"""HTTP API over the pipeline: ask, search, verify, index info, health, and OpenAI-compatible chat completions.

Start it with `gorilla-rag serve` (or `uvicorn --factory gorilla_rag.server:create_app`). The pipeline is sync CPU
work, so its endpoints are plain `def`s that FastAPI runs in its thread pool; `Serving` batches the questions that
arrive together and swaps in a new version of the index without dropping requests.
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import json
import logging
import re
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from gorilla_rag import __version__, settings
from gorilla_rag.errors import GorillaError, QuestionError
from gorilla_rag.generation import DEFAULT_GENERATOR
from gorilla_rag.pipeline import check_question
from gorilla_rag.retrieval.constraints import Filters, canonical_source
from gorilla_rag.serving import Serving
from gorilla_rag.types import Answer

try:
    from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from pydantic import BaseModel, Field
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError as exc:  # pragma: no cover - depends on the install
    raise GorillaError("the HTTP server needs FastAPI: pip install 'gorilla-rag[server]'") from exc

MODEL_NAME = "gorilla-rag"
MAX_K = 50
MAX_BODY_BYTES = 64 * 1024
BEARER = HTTPBearer(auto_error=False)
log = logging.getLogger("gorilla_rag.server")


class FiltersIn(BaseModel):
    """Which APIs may be returned."""

    source: str | list[str] | None = Field(None, description="huggingface, torchhub or tfhub (or a list of them)")
    domain: str | None = Field(None, description="a domain substring, e.g. 'Image Classification'")
    max_params: float | None = Field(None, gt=0, allow_inf_nan=False, description="at most this many parameters")
    min_top1: float | None = Field(None, ge=0, le=100, allow_inf_nan=False,
                                   description="top-1 accuracy at least this, in percent (0 to 100)")

    def make(self) -> Filters:
        return Filters.make(self.source, domain=self.domain, max_params=self.max_params, min_top1=self.min_top1)


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
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatIn(BaseModel):
    """An OpenAI chat request: the last user message is the question; sampling options are ignored."""

    model: str
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    filters: FiltersIn = Field(default_factory=FiltersIn, description="gorilla-rag extension (extra_body)")


def create_app(home: str | Path | None = None, index: str | Path | None = None, generator: str = DEFAULT_GENERATOR,
               api_key: str | None = None, reload_interval: float = 2.0) -> FastAPI:
    """The FastAPI app; the index loads at startup and is checked for new versions every `reload_interval` s."""
    serving = Serving(home, index, generator)
    key = api_key or settings.api_key()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        await asyncio.to_thread(serving.load)
        watcher = asyncio.create_task(serving.watch(reload_interval)) if reload_interval > 0 else None
        yield
        if watcher:
            watcher.cancel()

    app = FastAPI(title="gorilla-rag", version=__version__, lifespan=lifespan,
                  description="Verified API calls for HuggingFace, PyTorch Hub and TF Hub models.")
    app.state.serving = serving
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    add_error_handlers(app)

    def authorized(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        if key and not (credentials and hmac.compare_digest(credentials.credentials.encode(), key.encode())):
            raise HTTPException(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>'",
                                headers={"WWW-Authenticate": "Bearer"})

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorized)])

    @v1.post("/ask", summary="Answer a question with a verified API call (an Answer)")
    def ask(body: AskIn) -> dict[str, Any]:
        pipeline = serving.pipeline
        if body.allow_unverified:
            pipeline = copy.copy(pipeline)
            pipeline.allow_unverified = True
        return pipeline.ask(body.question, k=body.k, filters=body.filters.make(), retriever=body.retriever).to_dict()

    @v1.post("/search", summary="The APIs retrieved for a question, best first")
    def search(body: SearchIn) -> dict[str, Any]:
        hits = serving.pipeline.index.search(check_question(body.question), k=body.k, retriever=body.retriever,
                                             filters=body.filters.make())
        return {"hits": [hit.to_dict() for hit in hits]}

    @v1.post("/verify", summary="Which corpus API a piece of code calls, if any")
    def verify(body: VerifyIn) -> dict[str, Any]:
        source = canonical_source(body.source) if body.source else None
        return serving.pipeline.verifier.verify(body.code, source=source).to_dict()

    @v1.get("/index", summary="The index being served: counts, fingerprint, when it was built and loaded")
    async def index_info() -> dict[str, Any]:
        return serving.describe()

    @v1.get("/models", summary="OpenAI-compatible model list")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "gorilla-rag"}]}

    @v1.post("/chat/completions", summary="OpenAI-compatible: the last user message is the question")
    def chat(body: ChatIn) -> Any:
        if body.model != MODEL_NAME:
            raise HTTPException(404, f"model {body.model!r} does not exist: this server serves {MODEL_NAME!r}")
        question = last_user_text(body.messages)
        answer = serving.pipeline.ask(question, filters=body.filters.make())
        return chat_response(answer, " ".join(message_text(m) for m in body.messages), body.stream)

    @app.get("/healthz", summary="Liveness: 200 while serving")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "fingerprint": serving.pipeline.index.manifest.get("fingerprint")}

    app.include_router(v1)
    return app


def message_text(message: Message) -> str:
    """A message's text: its string content, or the text parts of a content list."""
    if isinstance(message.content, list):
        return " ".join(str(part.get("text", "")) for part in message.content if part.get("type") == "text")
    return message.content or ""


def last_user_text(messages: list[Message]) -> str:
    """The question: the text of the last user message."""
    for message in reversed(messages):
        if message.role == "user":
            return message_text(message)
    raise QuestionError("no user message: the last message with role 'user' is the question")


def chat_content(answer: Answer) -> str:
    """The verified call, its code in a Markdown block, and a status line."""
    if answer.status == "no_match":
        return f"No API in the corpus fits this request.\n\nstatus: no_match ({answer.explanation})"
    api = f" · api: {answer.api.id}" if answer.api else ""
    note = f"\n\n{answer.explanation}" if answer.status != "verified" else ""
    return f"`{answer.call}`\n\n```python\n{answer.code or answer.call}\n```\n\nstatus: {answer.status}{api}{note}"


def _tokens(text: str) -> int:
    """An approximate token count (words and punctuation) for the `usage` fields."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def chat_response(answer: Answer, prompt: str, stream: bool) -> Any:
    content = chat_content(answer)
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": MODEL_NAME}
    if stream:
        chunk = {**head, "object": "chat.completion.chunk"}
        events = [{**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                                         "finish_reason": None}]},
                  {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
        lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
        return StreamingResponse(iter(lines), media_type="text/event-stream")
    usage = {"prompt_tokens": _tokens(prompt), "completion_tokens": _tokens(content)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {**head, "object": "chat.completion", "usage": usage, "gorilla_rag": answer.to_dict(),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop", "logprobs": None}]}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = {401: "authentication_error", 404: "not_found_error", 413: "request_too_large", 503: "server_error",
            500: "server_error"}.get(status, "invalid_request_error")
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    """Every error is JSON `{"error": {"message", "type"}}` (the OpenAI shape), with a message saying why."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"body is not JSON ({e['ctx']['error']} at character {e['loc'][-1]})" if e["type"] == "json_invalid"
                    else f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors()]
        return error_response(422, "; ".join(problems))

    @app.exception_handler(ValueError)  # unknown source, retriever
    @app.exception_handler(GorillaError)  # QuestionError (a ValueError too); no usable index or embedder (503)
    async def refused(request: Request, exc: Exception) -> JSONResponse:
        return error_response(400 if isinstance(exc, ValueError) else 503, str(exc))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(500, f"internal error ({type(exc).__name__}); the server log has the details")


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, whether declared (Content-Length) or streamed."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        message = f"request body over the {self.limit // 1024} KiB limit: send a shorter question or code"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await error_response(413, message)(scope, receive, send)
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            event = await receive()
            seen += len(event.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, message)
            return event

        await self.app(scope, counted, send)
