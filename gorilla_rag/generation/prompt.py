"""Gorilla's retrieval-aware prompt and the parser of model output, shared by inference and training.

The prompt is Gorilla's: `<question>\\nUse this API documentation for reference: <doc as JSON>`. A chat model
also gets a system message describing the answer format (Gorilla v1 fields); a model without a chat template
gets Gorilla's plain `###USER: … ###ASSISTANT: ` form. The training target is the v1 text that `answer_text`
writes, and `no_match_text` is the explicit answer when no documented API fits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from gorilla_rag.errors import GorillaError
from gorilla_rag.types import ApiDoc, GeneratedCall, Hit

PROMPT_DOCS = 3  # docs shown to the model; training and inference must use the same number
NO_API = "None"
_FIELD_CHARS = 500  # long descriptions and examples are cut: the call and the arguments are what matter
SYSTEM_PROMPT = (
    "You write Python code that loads a pretrained model from HuggingFace, PyTorch Hub or TensorFlow Hub. "
    "Use only an API from the documentation given with the request. Answer in this format:\n"
    "<<<domain>>>: the task domain\n<<<api_call>>>: the one call that loads the model\n"
    "<<<api_provider>>>: the library\n<<<explanation>>>: why this API fits\n<<<code>>>: the code\n"
    f"If no documented API fits the request, answer `<<<api_call>>>: {NO_API}` and say why in <<<explanation>>>."
)
STOP = ("###USER:", "###ASSISTANT:", "\n###")  # Gorilla's turn markers: a base model runs on into them
_NO_CALL = frozenset({"", "none", "null", "n/a", "no api", "no_api", "no matching api"})
_V0_EXPLANATION = re.compile(r"""(['"])explanation\1\s*:\s*(['"])(.*?)(?<!\\)\2\s*[,}]""", re.S)
_FENCE = re.compile(r"```[^\n`]*\n?(.*?)(?:```|\Z)", re.S)


class GeneratorError(GorillaError, RuntimeError):
    """A generator that cannot run as configured (model missing, server refusing); the message says why."""


def _clip(text: str) -> str:
    return text if len(text) <= _FIELD_CHARS else text[:_FIELD_CHARS].rstrip() + " …"


def doc_json(doc: ApiDoc) -> str:
    """The doc in APIBench's field names, as the Gorilla models saw their documentation."""
    record: dict[str, Any] = {
        "domain": doc.domain,
        "framework": doc.framework,
        "functionality": doc.functionality,
        "api_name": doc.api_name,
        "api_call": doc.api_call,
        "api_arguments": doc.arguments,
        "python_environment_requirements": list(doc.requirements),
        "example_code": _clip(doc.example_code),
        "performance": doc.metrics,
        "description": _clip(doc.description),
    }
    return json.dumps({k: v for k, v in record.items() if v}, ensure_ascii=False)


def user_prompt(question: str, docs: Sequence[ApiDoc], feedback: str | None = None) -> str:
    """Gorilla's retrieval-aware prompt; several docs go one per line; verifier feedback comes last."""
    text = question.strip()
    if docs:
        text += "\nUse this API documentation for reference: " + "\n".join(doc_json(d) for d in docs)
    if feedback:
        text += f"\nYour previous answer failed verification. {feedback.strip()}"
    return text


def build_messages(question: str, docs: Sequence[ApiDoc], feedback: str | None = None) -> list[dict[str, str]]:
    """The chat messages (system + user) for a chat model or an OpenAI-compatible server."""
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_prompt(question, docs, feedback)}]


def prompt_docs(hits: Sequence[Hit], limit: int = PROMPT_DOCS) -> list[ApiDoc]:
    """The retrieved docs the model is shown, best first."""
    return [hit.doc for hit in hits[:limit]]


def plain_prompt(messages: Sequence[dict[str, str]]) -> str:
    """Gorilla v1's own prompt (`###USER: … \\n###ASSISTANT: `); the system message is left out, as Gorilla
    was trained without one."""
    user = "\n".join(m["content"] for m in messages if m["role"] == "user")
    return f"###USER: {user}\n###ASSISTANT: "


def render_prompt(messages: Sequence[dict[str, str]], tokenizer: Any = None) -> str:
    """The prompt text: the tokenizer's chat template when it has one, else Gorilla's plain form."""
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        return plain_prompt(messages)
    from jinja2 import TemplateError

    try:
        return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    except TemplateError:  # some templates (Gemma, Mistral v1) refuse a system role: fold it into the user turn
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        merged = [{"role": m["role"], "content": f"{system}\n\n{m['content']}" if m["role"] == "user" else
                   m["content"]} for m in messages if m["role"] != "system"]
        return tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True)


def v1_text(domain: str, call: str, provider: str, explanation: str, code: str) -> str:
    """Gorilla v1 answer fields, one per line."""
    return (f"<<<domain>>>: {domain}\n<<<api_call>>>: {call}\n<<<api_provider>>>: {provider}\n"
            f"<<<explanation>>>: {explanation}\n<<<code>>>: {code}")


def answer_text(doc: ApiDoc, explanation: str | None = None, code: str | None = None, call: str | None = None) -> str:
    """The v1 answer naming `doc` (the training target); explanation and code default to the doc's own."""
    from gorilla_rag.generation.extractive import example_code, explain

    return v1_text(doc.domain, call or doc.api_call, doc.framework, explanation or explain(doc),
                   code or example_code(doc))


def no_match_text(reason: str = "none of the documented APIs does what the request asks") -> str:
    """The explicit "no matching API" answer; `parse_output` reads it as call=''."""
    return f"<<<api_call>>>: {NO_API}\n<<<explanation>>>: {reason}"


def _first_call(text: str) -> str:
    """The text of the first call in `text` that loads a hub API, else of its first call, else ''."""
    from gorilla_rag.verify import extract_calls, identify

    calls = extract_calls(text)
    loading = next((c for c in calls if identify(c) is not None), None)
    chosen = loading or (calls[0] if calls else None)
    return chosen.text if chosen else ""


def states_no_api(text: str) -> bool:
    """True when the output is the explicit "no matching API" answer (its api_call field is None/empty)."""
    from gorilla_rag.verify.views import gorilla_v0_fields, gorilla_v1_fields

    fields = gorilla_v1_fields(text.strip()) or gorilla_v0_fields(text.strip())
    return bool(fields) and "api_call" in fields and fields["api_call"].strip().strip("`'\".").lower() in _NO_CALL


def parse_output(text: str) -> GeneratedCall:
    """Read a model's answer: Gorilla v1 fields, v0 dict-like text, markdown blocks or plain code.

    An `api_call` field of None (or empty) is the explicit no-match answer: call=''. Never raises.
    """
    from gorilla_rag.verify.views import gorilla_v0_fields, gorilla_v1_fields, looks_escaped, unescape

    raw = text.strip()
    fields = gorilla_v1_fields(raw) or gorilla_v0_fields(raw)
    if fields:
        stated = fields.get("api_call", "")
        explanation = fields.get("explanation", "")
        if not explanation and (match := _V0_EXPLANATION.search(raw)):
            explanation = unescape(match.group(3))
        code = fields.get("code", "").strip()
        code = unescape(code) if looks_escaped(code) else code
        if "api_call" in fields and stated.strip().strip("`'\".").lower() in _NO_CALL:
            return GeneratedCall(raw=raw, call="", code="", explanation=explanation or "no documented API fits")
        call = _first_call(stated) or _first_call(code) or stated
        if code.strip().lower() == NO_API.lower():
            code = ""
        return GeneratedCall(raw=raw, call=call, code=code or call, explanation=explanation)
    blocks = [b.strip() for b in _FENCE.findall(raw) if b.strip()]
    code = blocks[0] if blocks else raw
    call = _first_call(code) or _first_call(raw)
    prose = _FENCE.sub("", raw).strip() if blocks else ""
    return GeneratedCall(raw=raw, call=call, code=code if call else "", explanation=prose)


__all__ = [
    "NO_API", "PROMPT_DOCS", "STOP", "SYSTEM_PROMPT", "GeneratorError", "answer_text", "build_messages",
    "doc_json", "no_match_text", "parse_output", "plain_prompt", "prompt_docs", "render_prompt", "user_prompt",
    "v1_text",
]
