"""HTTP API over the pipeline: ask, search, verify, index info, health, and OpenAI-compatible chat completions.

Start it with `gorilla-rag serve` (or `uvicorn --factory gorilla_rag.server:create_app`). The pipeline is sync CPU
work, so its endpoints are plain `def`s that FastAPI runs in its thread pool; `Serving` batches the questions that
arrive together and swaps in a new version of the index without dropping requests.
"""

from __future__ import annotations

import asyncio
import copy
import hmac
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from gorilla_rag import __version__, settings
from gorilla_rag.errors import GorillaError
from gorilla_rag.generation import DEFAULT_GENERATOR
from gorilla_rag.pipeline import check_question
from gorilla_rag.retrieval.constraints import canonical_source
from gorilla_rag.serving import Serving

try:
    from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from gorilla_rag.server_chat import CHAT_DESCRIPTION, MODEL_NAME, answer_chat
    from gorilla_rag.server_models import AskIn, ChatIn, SearchIn, VerifyIn
except ImportError as exc:  # pragma: no cover - depends on the install
    raise GorillaError("the HTTP server needs FastAPI: pip install 'gorilla-rag[server]'") from exc

MAX_BODY_BYTES = 64 * 1024
BEARER = HTTPBearer(auto_error=False)
log = logging.getLogger("gorilla_rag.server")


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

    @v1.post("/chat/completions", summary="OpenAI-compatible: the last user message is the question",
             description=CHAT_DESCRIPTION)
    def chat(body: ChatIn) -> Any:
        if body.model != MODEL_NAME:
            raise HTTPException(404, f"model {body.model!r} does not exist: this server serves {MODEL_NAME!r}")
        return answer_chat(serving.pipeline, body)

    @app.get("/healthz", summary="Liveness: 200 while serving")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "fingerprint": serving.pipeline.index.manifest.get("fingerprint")}

    app.include_router(v1)
    return app


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
        # OpenAI answers a malformed chat request with 400 (clients raise BadRequestError); the other routes: 422.
        return error_response(400 if request.url.path.endswith("/chat/completions") else 422, "; ".join(problems))

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
