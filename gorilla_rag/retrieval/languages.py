"""Translation direction: a question that says "English to French" must not get a French→English model.

Embeddings and BM25 see the same words in "translate English to French" and in `translation_fr_to_en` /
`opus-mt-fr-en`, so direction is invisible to them, and the learned re-scorer can prefer a Chinese embedding
model for "translate Chinese into English". When the question names a direction, a model fixed to exactly that
direction (read from its call and name) is what was asked for: those come first, models without a fixed
direction (multilingual ones) next, contradicting ones last. Other questions are left as ranked.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gorilla_rag.types import ApiDoc, Hit

LANGUAGES = {
    "afrikaans": "af", "arabic": "ar", "bengali": "bn", "bulgarian": "bg", "catalan": "ca", "chinese": "zh",
    "mandarin": "zh", "czech": "cs", "danish": "da", "dutch": "nl", "english": "en", "estonian": "et",
    "finnish": "fi", "french": "fr", "german": "de", "greek": "el", "hebrew": "he", "hindi": "hi",
    "hungarian": "hu", "indonesian": "id", "italian": "it", "japanese": "ja", "korean": "ko", "latvian": "lv",
    "lithuanian": "lt", "norwegian": "no", "persian": "fa", "polish": "pl", "portuguese": "pt", "romanian": "ro",
    "russian": "ru", "slovak": "sk", "spanish": "es", "swahili": "sw", "swedish": "sv", "tamil": "ta", "thai": "th",
    "turkish": "tr", "ukrainian": "uk", "urdu": "ur", "vietnamese": "vi",
}
_CODES = set(LANGUAGES.values())
_NAME = "|".join(sorted(LANGUAGES, key=len, reverse=True))
# "English to French", "from English into French", "English text to French", "English-to-French"
_PAIR = re.compile(rf"\b(?:from\s+)?({_NAME})(?:\s+(?:text|texts|sentences?|documents?|language|speech|audio))?"
                   rf"(?:\s*-\s*|\s+)(?:to|into|->|→)(?:\s*-\s*|\s+)({_NAME})\b", re.I)
_INTO = re.compile(rf"\b(?:translat\w*|convert\w*)\b[^.?!]{{0,60}}?\b(?:to|into)\s+({_NAME})\b", re.I)
_ANY = re.compile(rf"\b({_NAME})\b", re.I)
_DOC_PAIRS = (re.compile(r"translation_([a-z]{2,3})_to_([a-z]{2,3})\b"),
              re.compile(r"\b(?:opus-mt(?:-tc-big)?|wmt\d*|mt)[-.]([a-z]{2,3})-([a-z]{2,3})\b", re.I),  # opus-mt-en-fr, wmt19.de-en
              re.compile(r"\b([a-z]{2})[-_]to[-_]([a-z]{2})\b", re.I),
              re.compile(r"\b([a-z]{2})2([a-z]{2})\b"))


def question_direction(question: str) -> tuple[str | None, str | None]:
    """(source, target) language codes the question asks to translate between; None where it does not say."""
    pair = _PAIR.search(question)
    if pair:
        return LANGUAGES[pair.group(1).lower()], LANGUAGES[pair.group(2).lower()]
    into = _INTO.search(question)
    if not into:
        return None, None
    target = LANGUAGES[into.group(1).lower()]
    # a language named between "translate" and "into" is the source: "translate this German article into English"
    named = [LANGUAGES[m.group(1).lower()] for m in _ANY.finditer(question, into.start(), into.start(1))]
    sources = [code for code in named if code != target]
    return (sources[-1] if sources else None), target


def doc_direction(doc: ApiDoc) -> tuple[str, str] | None:
    """The (source, target) a translation model is fixed to, from its call and name; None if not fixed."""
    text = f"{doc.api_call} {doc.api_name}"
    for pattern in _DOC_PAIRS:
        for match in pattern.finditer(text):
            source, target = match.group(1).lower(), match.group(2).lower()
            if source in _CODES and target in _CODES and source != target:
                return source, target
    return None


# OPUS-MT group codes: a model for a language family on one side ("opus-mt-ROMANCE-en"); None: any language
_GROUPS: dict[str, frozenset[str] | None] = {"romance": frozenset({"fr", "es", "it", "pt", "ro", "ca", "gl", "oc"}),
                                             "mul": None}
_DOC_GROUP_PAIR = re.compile(r"\bopus-mt(?:-tc-big)?-([a-z]{2,3}|romance|mul)-([a-z]{2,3}|romance|mul)\b", re.I)


def _group_fit(wanted: tuple[str | None, str | None], doc: ApiDoc) -> int | None:
    """For a model with a language group on a side: 1 when every asked side is within it, 2 when one is not;
    None for a model without a group."""
    match = _DOC_GROUP_PAIR.search(f"{doc.api_call} {doc.api_name}")
    if match is None or not {match.group(1).lower(), match.group(2).lower()} & set(_GROUPS):
        return None
    for side, asked in zip((match.group(1).lower(), match.group(2).lower()), wanted):
        members = _GROUPS[side] if side in _GROUPS else frozenset({side})
        if asked is not None and members is not None and asked not in members:
            return 2
    return 1


def _fit(wanted: tuple[str | None, str | None], doc: ApiDoc) -> int:
    """0: the model is fixed to exactly the asked direction; 1: it has no fixed direction (or a language group
    that holds the asked ones); 2: it contradicts."""
    fixed = doc_direction(doc)
    if fixed is None:
        group = _group_fit(wanted, doc)
        return 1 if group is None else group
    source, target = wanted
    return 2 if (source is not None and fixed[0] != source) or (target is not None and fixed[1] != target) else 0


def prefer_direction(question: str, hits: list[Hit]) -> list[Hit]:
    """When the question names a translation direction: models fixed to exactly that direction first, then models
    without one, then those fixed to another (each group in its ranked order). Other questions: unchanged.
    (Opposite tasks such as speech to text vs text to speech: retrieval/task_direction.py.)"""
    wanted = question_direction(question)
    if wanted == (None, None):
        return hits
    fits = [_fit(wanted, hit.doc) for hit in hits]
    asked = f"{wanted[0] or 'any language'} → {wanted[1] or 'any language'}"
    return [hit if group < 2 else dataclasses.replace(hit, moved_down=f"translates another direction; asked {asked}")
            for group in (0, 1, 2) for hit, fit in zip(hits, fits) if fit == group]


# Function words that mark a question as written in another language than English (the corpus and the default
# encoder are English; such questions are answered, with a warning, rather than silently trusted).
_FUNCTION_WORDS = {
    "French": {"le", "la", "les", "des", "une", "un", "du", "est", "pour", "avec", "dans", "qui", "que", "je", "vers",
               "sur", "pas", "ce", "cette", "mon", "texte", "modèle", "l'anglais", "français"},
    "German": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "mit", "für", "ich", "auf", "zu", "den",
               "von", "ins", "einen", "bilder", "modell", "übersetzen"},
    "Spanish": {"el", "la", "los", "las", "una", "es", "por", "para", "con", "que", "del", "al", "quiero", "texto",
                "modelo", "imágenes", "traducir"},
}
_ENGLISH = {"the", "a", "an", "and", "is", "to", "of", "for", "with", "in", "on", "i", "we", "my", "that", "this",
            "from", "into", "images", "text", "model", "want", "need", "can", "which"}


def foreign_language(question: str) -> str | None:
    """The language a question is clearly written in when that is not English (by function words), else None."""
    words = re.findall(r"[\w']+", question.lower())
    english = sum(word in _ENGLISH for word in words)
    counts = {name: sum(word in marks for word in words) for name, marks in _FUNCTION_WORDS.items()}
    name, count = max(counts.items(), key=lambda item: item[1])
    return name if count >= 2 and count > 2 * english else None
