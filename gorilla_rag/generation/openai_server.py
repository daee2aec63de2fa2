"""Any OpenAI-compatible `/v1/chat/completions` server (vLLM, llama.cpp server, Ollama, TGI) as a generator.

`openai:http://127.0.0.1:8000/v1`. Retries 429, 5xx and connection failures with backoff; when the server stays
unreachable, answers with the extractive generator instead, says so in the explanation and logs a warning, and
skips the server for a while so a batch of questions does not wait on it again and again. Configuration errors
(401, 404, a bad URL) raise, with a one-line message that never contains the API key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from gorilla_rag import settings
from gorilla_rag.generation.prompt import PROMPT_DOCS, GeneratorError, build_messages, parse_output, prompt_docs
from gorilla_rag.types import GeneratedCall, Hit

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
DOWN_SECONDS = 30.0  # after a failure, answer from the fallback for this long before trying the server again


class ServerUnavailable(GeneratorError):
    """The server did not answer usefully after the retries (down, overloaded, timing out)."""


def base_url(url: str) -> str:
    """The API base (…/v1) from what a user typed: a bare host gets /v1; a full endpoint path is cut back."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the openai generator needs a server URL such as openai:http://127.0.0.1:8000/v1, "
                         f"not {url!r}")
    for suffix in ("/chat/completions", "/completions"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url if urlsplit(url).path not in ("", "/") else url + "/v1"


class OpenAIServerGenerator:
    """Asks a chat-completions server with Gorilla's retrieval-aware prompt; greedy (temperature 0)."""

    name = "openai"

    def __init__(self, url: str | None = None, model: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0, connect_timeout: float = 3.0, retries: int = 2, backoff: float = 0.5,
                 max_tokens: int = 512, docs: int = PROMPT_DOCS, fallback: bool = True) -> None:
        url = url or settings.openai_url()
        if not url:
            raise ValueError("the openai generator needs a server URL: openai:http://HOST:PORT/v1 "
                             "(or $GORILLA_RAG_OPENAI_URL)")
        self.url = base_url(url)
        self.model = model or settings.openai_model()
        self._api_key = api_key or settings.openai_api_key()
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.docs = docs
        self.fallback = fallback
        self._client: Any = None
        self._down_until = 0.0
        self._down_reason = ""

    def __repr__(self) -> str:  # the key stays out of reprs, logs and tracebacks
        return f"OpenAIServerGenerator(url={self.url!r}, model={self.model!r})"

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import httpx
            except ImportError as exc:
                raise GeneratorError("the openai generator needs httpx: pip install httpx") from exc

            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(self.timeout,
                                                                                connect=self.connect_timeout))
        return self._client

    def generate(self, question: str, hits: list[Hit], feedback: str | None = None) -> GeneratedCall:
        if self.fallback and time.monotonic() < self._down_until:
            return self._fallback(question, hits, self._down_reason)
        try:
            text = self.complete(build_messages(question, prompt_docs(hits, self.docs), feedback))
        except ServerUnavailable as exc:
            if not self.fallback:
                raise
            self._down_until, self._down_reason = time.monotonic() + DOWN_SECONDS, str(exc)
            log.warning("gorilla-rag: %s; answering with the extractive generator", exc)
            return self._fallback(question, hits, str(exc))
        return parse_output(text)

    def _fallback(self, question: str, hits: list[Hit], reason: str) -> GeneratedCall:
        from gorilla_rag.generation.extractive import ExtractiveGenerator

        answer = ExtractiveGenerator().generate(question, hits)
        note = f"warning: {reason}; this is the extractive answer (the best retrieved API), not the model's. "
        return replace(answer, explanation=note + answer.explanation)

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        """The server's answer to chat messages (raises ServerUnavailable or GeneratorError)."""
        body = {"model": self._model_name(), "messages": list(messages), "temperature": 0.0,
                "max_tokens": self.max_tokens}
        data = self._request("POST", "/chat/completions", body)
        try:
            return data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise GeneratorError(f"{self.url}/chat/completions answered without choices[0].message.content") from exc

    def _model_name(self) -> str:
        """The configured model, else the first one the server lists (vLLM needs the exact name)."""
        if not self.model:
            try:
                listed = self._request("GET", "/models").get("data") or []
                self.model = str(listed[0]["id"]) if listed else "default"
            except ServerUnavailable:
                raise
            except GeneratorError:  # servers without /models (some llama.cpp builds) take any name
                self.model = "default"
        return self.model

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        client = self.client
        import httpx

        endpoint = self.url + path
        problem, wait = "", 0.0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(wait)
            wait = self.backoff * 2**attempt
            try:
                response = client.request(method, endpoint, json=body)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                problem = f"the model server at {self.url} is unreachable ({type(exc).__name__})"
                continue
            if response.status_code in RETRY_STATUS:
                problem = f"the model server at {self.url} answered {response.status_code}"
                wait = max(wait, min(_retry_after(response), 10.0))
                continue
            if response.status_code >= 400:
                raise GeneratorError(f"{endpoint} answered {response.status_code}: {self._server_message(response)}")
            try:
                return response.json()
            except ValueError as exc:
                raise GeneratorError(f"{endpoint} did not answer JSON") from exc
        raise ServerUnavailable(f"{problem} after {self.retries + 1} attempts")

    def _server_message(self, response: Any) -> str:
        try:
            error = response.json().get("error", response.text)
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
        except ValueError:
            message = response.text
        message = " ".join(message.split())[:200] or "no message"
        return message.replace(self._api_key, "***") if self._api_key else message

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _retry_after(response: Any) -> float:
    try:
        return float(response.headers.get("retry-after", 0))
    except ValueError:
        return 0.0


__all__ = ["OpenAIServerGenerator", "ServerUnavailable", "base_url"]
