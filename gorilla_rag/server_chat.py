"""The HTTP server's OpenAI-compatible chat completions: request checks, the question, choices, the response.

- The question is the last user message; a follow-up ("now from TF Hub instead") is asked with the earlier user
  messages it follows up on (gorilla_rag.conversation), and the reply says so. Other roles are not read.
- `n` choices: the answer first, then the next-best retrieved APIs that pass verification, best first; a choice
  for which no further verified API exists says so (status no_match) rather than repeating one.
- `stream` (with `stream_options.include_usage`), `max_tokens` / `max_completion_tokens` and `stop` are honoured;
  sampling options are accepted and change nothing (the reply is a lookup); the rest is refused (ChatIn).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import replace
from typing import Any

from fastapi import HTTPException
from fastapi.responses import StreamingResponse

from gorilla_rag.conversation import Asked, read_conversation
from gorilla_rag.errors import QuestionError
from gorilla_rag.retrieval.constraints import merge
from gorilla_rag.server_models import MAX_K, ChatIn, Message
from gorilla_rag.types import Answer

MODEL_NAME = "gorilla-rag"
CHAT_DESCRIPTION = (__doc__ or "").partition("\n\n")[2]  # the route's description in the OpenAPI docs


def refuse_unsupported(body: ChatIn) -> None:
    """400 for what this model cannot do, naming the parameter; returns when the request can be honoured."""
    extra = sorted(body.model_extra or {})
    problems = [f"unsupported parameter{'s' * (len(extra) > 1)} {', '.join(map(repr, extra))}: this server does "
                f"not know {'them' if len(extra) > 1 else 'it'} (/docs lists the parameters it takes)"] if extra else []
    if body.logprobs or body.top_logprobs is not None:
        problems.append("logprobs are not available: the reply is looked up, not sampled token by token")
    if body.tools or body.functions or body.tool_choice not in (None, "none", "auto") \
            or body.function_call not in (None, "none", "auto"):
        problems.append("tools and functions are not supported: the reply is text (for structured results use "
                        "POST /v1/ask, or the MCP server)")
    if body.response_format and body.response_format.get("type") != "text":
        problems.append(f"response_format {body.response_format.get('type')!r} is not supported: the reply is "
                        "text (POST /v1/ask returns JSON)")
    if body.modalities and set(body.modalities) != {"text"}:
        problems.append("only the text modality is supported")
    if body.stream_options is not None and not body.stream:
        problems.append("stream_options is only allowed with stream: true")
    if isinstance(body.stop, list) and len(body.stop) > 4:
        problems.append("stop takes at most 4 sequences")
    for number, message in enumerate(body.messages, start=1):
        parts = message.content if message.role == "user" and isinstance(message.content, list) else []
        for kind in sorted({str(part.get("type")) for part in parts} - {"text"}):
            problems.append(f"message {number} has a {kind!r} part: only text is read (answers come from API "
                            "docs; images, audio and files are not seen)")
    if problems:
        raise HTTPException(400, "; ".join(problems))


def message_text(message: Message) -> str:
    """A message's text: its string content, or the text parts of a content list."""
    if isinstance(message.content, list):
        return " ".join(str(part.get("text", "")) for part in message.content if part.get("type") == "text")
    return message.content or ""


def read_question(messages: list[Message]) -> Asked:
    """The question: the last user message, with the earlier user messages it follows up on."""
    said = [message_text(message) for message in messages if message.role == "user"]
    if not said:
        raise QuestionError("no user message: the last message with role 'user' is the question")
    return read_conversation(said)


def answer_chat(pipeline: Any, body: ChatIn) -> Any:
    """The chat completion (a dict, or a StreamingResponse of server-sent events) for a checked request."""
    refuse_unsupported(body)
    asked = read_question(body.messages)
    filters = body.filters.make()
    if asked.earlier:  # constraints of the thread's messages, the latest winning; explicit filters win over all
        filters = merge(filters, asked.stated)
    answer = pipeline.ask(asked.question, filters=filters)  # as with n=1: a wider search could reorder the top
    pool = answer
    if answer.status != "no_match" and len(answer.alternatives) < body.n - 1:  # more candidates for alternatives
        pool = replace(answer, hits=pipeline.ask(asked.question, k=min(MAX_K, body.n + 4), filters=filters).hits)
    answers = [answer, *alternatives(pipeline, pool, body.n - 1)]
    note = ""
    if asked.earlier:
        quoted = " / ".join(f"“{_short(text)}”" for text in asked.earlier)
        note = f"Read as a follow-up to your earlier message{'s' * (len(asked.earlier) > 1)}: {quoted}."
    contents = [chat_content(a, _alternative_note(i) if i else "", note) for i, a in enumerate(answers)]
    contents += [_none_left(len(answers) - 1)] * (body.n - len(answers))
    limit = min(x for x in (body.max_tokens, body.max_completion_tokens, 10**9) if x is not None)
    stops = [body.stop] if isinstance(body.stop, str) else body.stop or []
    choices = [clip(content, stops, limit) for content in contents]
    prompt = " ".join(message_text(m) for m in body.messages)
    usage = {"prompt_tokens": _tokens(prompt), "completion_tokens": sum(_tokens(text) for text, _ in choices)}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    extension = {**answer.to_dict(), "earlier_messages": list(asked.earlier)}
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return chat_response(choices, usage, extension, body.stream, include_usage)


def alternatives(pipeline: Any, answer: Answer, count: int) -> list[Answer]:
    """Up to `count` more answers: the next-best retrieved APIs (within the filters) that pass verification."""
    from gorilla_rag.generation.extractive import example_code, explain

    found: list[Answer] = []
    if answer.status == "no_match":
        return found
    for doc in answer.alternatives:
        if len(found) == count:
            break
        check = pipeline.verifier.verify(doc.api_call, source=doc.source)
        if check.status == "verified":
            found.append(replace(answer, status="verified", call=check.call or doc.api_call, code=example_code(doc),
                                 api=doc, verification=check, explanation=explain(doc), raw_output=""))
    return found


def chat_content(answer: Answer, *notes: str) -> str:
    """The verified call, its code in a Markdown block, a status line, then any notes."""
    if answer.status == "no_match":
        text = f"No API in the corpus fits this request.\n\nstatus: no_match ({answer.explanation})"
    else:
        api = f" · api: {answer.api.id}" if answer.api else ""
        note = f"\n\n{answer.explanation}" if answer.status != "verified" else ""
        text = f"`{answer.call}`\n\n```python\n{answer.code or answer.call}\n```\n\nstatus: {answer.status}{api}{note}"
    return "\n\n".join([text, *(note for note in notes if note)])


def _alternative_note(rank: int) -> str:
    return f"Alternative {rank}: the next-best verified API for this request, after the first choice."


def _none_left(found: int) -> str:
    return (f"No further API in the corpus fits this request: {found} verified alternative"
            f"{'s' * (found != 1)} to the first choice {'was' if found == 1 else 'were'} found.\n\nstatus: no_match")


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _tokens(text: str) -> int:
    """An approximate token count (words and punctuation) for `usage` and `max_tokens`."""
    return len(_TOKEN.findall(text))


def clip(content: str, stops: list[str], max_tokens: int) -> tuple[str, str]:
    """The content cut before the first stop sequence, then at `max_tokens` tokens; and the finish reason."""
    cuts = [content.find(stop) for stop in stops if stop and stop in content]
    content = content[: min(cuts)] if cuts else content
    ends = [match.end() for match in _TOKEN.finditer(content)]
    if len(ends) > max_tokens:
        return content[: ends[max_tokens - 1]], "length"
    return content, "stop"


def chat_response(choices: list[tuple[str, str]], usage: dict[str, int], extension: dict[str, Any], stream: bool,
                  include_usage: bool = False) -> Any:
    """The chat.completion object, or its server-sent chunks (each choice's content, then its finish reason)."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": MODEL_NAME}
    if not stream:
        return {**head, "object": "chat.completion", "usage": usage, "gorilla_rag": extension,
                "choices": [{"index": i, "message": {"role": "assistant", "content": content},
                             "finish_reason": reason, "logprobs": None} for i, (content, reason) in enumerate(choices)]}
    chunk = {**head, "object": "chat.completion.chunk", **({"usage": None} if include_usage else {})}
    events = []
    for i, (content, reason) in enumerate(choices):
        events.append({**chunk, "choices": [{"index": i, "delta": {"role": "assistant", "content": content},
                                             "finish_reason": None}]})
        events.append({**chunk, "choices": [{"index": i, "delta": {}, "finish_reason": reason}]})
    if include_usage:
        events.append({**chunk, "choices": [], "usage": usage})
    lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
    return StreamingResponse(iter(lines), media_type="text/event-stream")
