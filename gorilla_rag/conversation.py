"""How a chat conversation (OpenAI-style messages) becomes one question for the pipeline.

The question is the last user message. When that message is a follow-up, it is asked together with the earlier
user messages of its thread (back to the latest one that is not itself a follow-up), since alone it names no task
("now from TF Hub instead" alone retrieved an image upscaler, with the thread the TF Hub text model it meant). A
message is a follow-up when it opens like one ("and …", "now …", "what about …", "same but …", "make it …", "a
smaller one …"), says "instead" or points back ("that one", "as before"), or has no task words once its
constraints are taken out ("under 10M parameters please", "TF Hub only"). A last message that names a task of its
own is asked alone, so a conversation that moves on to a new task is not answered with the old one. Constraints
stated in later messages override those of earlier ones ("under 100M parameters" then "make it under 10M": 10M).
System, developer, assistant and tool messages are not read: answers come from the API docs, not instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gorilla_rag.pipeline import MAX_QUESTION_CHARS
from gorilla_rag.retrieval.constraints import Filters, merge, parse_constraints, without_constraints

_MORE = r"(?:smaller|bigger|larger|faster|lighter|cheaper|simpler|better|newer|different|other|more|less)"
_OPENS = re.compile(
    rf"^\W*(?:and|now|also|but|then|so|ok(?:ay)?|actually|instead|same|rather|preferably|only|just|it|that|"
    rf"what about|how about|what if|make (?:it|that|this|one)|one (?:with|that|from|under|below|over|above)|"
    rf"(?:an?|another|some|something|one) {_MORE}|{_MORE}|no[,.!])\b", re.I)
_POINTS_BACK = re.compile(r"\b(?:instead|as before|like before|same (?:one|model|thing|task|but)|"
                          r"(?:that|this|the previous|the last|the above) (?:one|model|answer|call|api)s?)\b", re.I)
# Words that say no task on their own: what is left of "a smaller one from TF Hub please" is all filler.
_FILLER_WORDS = """a an the one ones model models version variant only just please with without from on in of to for by
at use using i me my we want need would like give show find get try again also too and or but now then so it its that
this those these same instead something some any one's should be is are has have can could you smaller bigger larger
faster lighter cheaper simpler better newer different other more less accurate precise efficient hub"""
_FILLER = frozenset(_FILLER_WORDS.split())


@dataclass(frozen=True, slots=True)
class Asked:
    """The question read from a conversation."""

    question: str  # the text to ask: the last user message, after the earlier ones it follows up on
    earlier: tuple[str, ...] = ()  # the earlier user messages read with it, oldest first
    stated: Filters = field(default_factory=Filters)  # constraints the messages state, later ones winning


def follows_up(text: str) -> bool:
    """Whether a message reads as a follow-up to an earlier one rather than a request of its own."""
    if _OPENS.search(text) or _POINTS_BACK.search(text):
        return True
    words = re.findall(r"[a-z][a-z'-]*", without_constraints(text).lower())
    return bool(text.strip()) and not [word for word in words if word not in _FILLER]


def read_conversation(user_messages: list[str]) -> Asked:
    """The question a conversation asks, from the texts of its user messages (oldest first; at least one)."""
    said = [text.strip() for text in user_messages]
    thread = [said[-1]]
    if follows_up(thread[0]):
        size = len(thread[0])
        for text in reversed(said[:-1]):
            size += len(text) + 1
            if not text:
                continue
            if size > MAX_QUESTION_CHARS:  # the oldest context goes first, never the question itself
                break
            thread.insert(0, text)
            if not follows_up(text):
                break
    stated = Filters()
    for text in thread:
        stated = merge(parse_constraints(text), stated)
    return Asked("\n".join(thread), tuple(thread[:-1]), stated)
