"""How an Answer shows itself: plain text (CLI), Markdown and HTML (Jupyter)."""

from __future__ import annotations

import html

from gorilla_rag.types import Answer

BADGES = {
    "verified": ("✔ verified", "#1a7f37"),
    "repaired": ("⚠ repaired", "#9a6700"),
    "unverified": ("✘ unverified", "#cf222e"),
    "no_match": ("∅ no matching API", "#57606a"),
}


def _details(answer: Answer) -> list[str]:
    return list(answer.verification.detail) if answer.verification else []


def answer_text(answer: Answer, alternatives: int = 3) -> str:
    """A terminal view: status, call, source API, code, explanation, alternatives."""
    label = BADGES[answer.status][0]
    lines = [f"[{label}]"]
    if answer.status == "no_match":
        lines.append(answer.explanation)
    else:
        lines.append(f"call:  {answer.call}")
        if answer.api:
            lines.append(f"api:   {answer.api.id}  ({answer.api.domain})")
        lines += ["", answer.code, ""]
        if answer.explanation:
            lines.append(answer.explanation)
    lines += [f"note:  {d}" for d in _details(answer)]
    alts = answer.alternatives[:alternatives]
    if alts:
        lines.append("alternatives:")
        lines += [f"  - {doc.api_call}   [{doc.id}]" for doc in alts]
    return "\n".join(lines)


def answer_markdown(answer: Answer, alternatives: int = 3) -> str:
    """A Markdown card; prose is HTML-escaped (Markdown renders raw HTML, and explanations quote user input)."""
    label = BADGES[answer.status][0]
    parts = [f"**{label}**"]
    if answer.status == "no_match":
        parts.append(html.escape(answer.explanation))
    else:
        if answer.api:
            parts.append(f"API: `{answer.api.id}` — {html.escape(answer.api.domain)}")
        parts.append(f"```python\n{answer.code or answer.call}\n```")
        if answer.explanation:
            parts.append(html.escape(answer.explanation))
    parts += [f"> {html.escape(d)}" for d in _details(answer)]
    alts = answer.alternatives[:alternatives]
    if alts:
        parts.append("Alternatives:\n" + "\n".join(f"- `{d.api_call}` ({html.escape(d.id)})" for d in alts))
    return "\n\n".join(parts)


def _highlight(code: str) -> str:
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f"<pre><code>{html.escape(code)}</code></pre>"
    return highlight(code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False))


def answer_html(answer: Answer, alternatives: int = 3) -> str:
    """A card: status badge, source API, highlighted code, explanation, alternatives."""
    label, colour = BADGES[answer.status]
    badge = (f'<span style="background:{colour};color:white;border-radius:4px;padding:1px 6px;'
             f'font-size:90%">{html.escape(label)}</span>')
    rows = [f"<div class='gorilla-rag-answer'>{badge}"]
    if answer.api:
        rows.append(f" <code>{html.escape(answer.api.id)}</code> <small>{html.escape(answer.api.domain)}</small>")
    if answer.status != "no_match":
        rows.append(_highlight(answer.code or answer.call))
    if answer.explanation:
        rows.append(f"<p>{html.escape(answer.explanation)}</p>")
    for detail in _details(answer):
        rows.append(f"<p><small>{html.escape(detail)}</small></p>")
    alts = answer.alternatives[:alternatives]
    if alts:
        items = "".join(f"<li><code>{html.escape(d.api_call)}</code> <small>{html.escape(d.id)}</small></li>"
                        for d in alts)
        rows.append(f"<details><summary>Alternatives</summary><ul>{items}</ul></details>")
    rows.append("</div>")
    return "".join(rows)
