"""Opposite tasks that share their words: "transcribe this recording" and "read this text aloud" both talk about
speech and text; "caption my photos" and "draw a picture from my description" both about images and text;
"answer questions about a photo" and "answer questions about an invoice" both about questions on an image.
Embeddings and BM25 score such opposites alike, so a question that clearly asks for one side must not be
answered first by a model of the other: those move to the end of the list (stable, ranks otherwise kept). A
question that asks for both sides, or neither, is left as ranked.

Each rule reads the asked side from the question and a model's side from its domain / functionality / call.

Some tasks are also named outright ("segment the people in a street photo", "estimate depth", "the missing word
in 'Paris is the [MASK] of France'", "continue this story", "sentiment"): then models whose
domain or functionality names that task come first, so a rare word elsewhere in the question ("street" →
StreetCLIP, a geolocation model) cannot win; and when no model the filters allow does it, the pipeline says so
(`missing_task`) instead of offering a MobileNet for "depth" because its doc mentions a "depth multiplier".
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gorilla_rag.types import ApiDoc, Hit

_IMAGE = r"(?:images?|photos?|pictures?|photographs?|screenshots?|paintings?|drawings?|illustrations?|artworks?|art)"
_TEXTUAL = r"(?:text|texts|descriptions?|prompts?|captions?|words|sentences?|stor(?:y|ies)|phrases?|written)"


_DOCUMENTS = (r"\b(?:documents?|invoices?|receipts?|pdfs?|contracts?|paperwork|(?:my|a|the|your|their|our|job)\s+r[eé]sum[eé]s?|"
              r"(?:tax|application|insurance|order|registration)\s+forms?|scanned\s+(?:pages?|forms?|documents?|copies)|"
              r"(?-i:bills?)|business\s+cards?|(?:shipping|price|nutrition)\s+labels?|(?:bank|account)\s+statements?|"
              r"menus?|tickets?)\b")
# a question about documents or photos is a question only when it asks something
_ASKS_SOMETHING = re.compile(r"\b(?:questions?|answer\w*|ask\w*|what|which|who|where|when|how\s+(?:many|much)|"
                             r"is\s+there|are\s+there)\b", re.I)


# asks for text to speech ("read my emails out loud", "voiceovers for our videos")
_NOT_SPOKEN = (r"(?![-\s]+(?:activity|assistants?|commands?|embeddings?|recogni\w*|detect\w*|clon\w*|segments?|"
               r"features?|enhancement|separation|translation|to[-\s]+text)\b)")
_ASKS_SPEECH = re.compile(rf"\btext[-\s]+(?:to|into)[-\s]+(?:speech|audio|voice)\b|"
                          rf"\bread\w*\s+(?:\w+\s+){{0,3}}(?:aloud|out loud)\b|\bvoice[-\s]?overs?\b{_NOT_SPOKEN}|"
                          rf"\b(?:synthesi[sz]\w*|generat\w*|produc\w*|creat\w*)\s+(?:(?:a|an|the|some|natural|"
                          rf"realistic|human-like|spoken|synthetic|new)\s+){{0,2}}(?:speech|voices?)\b{_NOT_SPOKEN}|"
                          rf"\btts\b", re.I)
# names speech to text outright ("transcribe my recording", "speech to text", "generate subtitles")
_NAMES_TRANSCRIPT = re.compile(r"\b(?:speech|audio|voice|spoken)[\w\s-]{0,20}?\b(?:to|into)[-\s]+(?:written\s+|plain\s+)?"
                               r"text\b|\btext\s+from\s+(?:\w+\s+){0,2}(?:speech|audio|voice|recordings?)\b|"
                               r"\btranscrib\w*|\b(?:speech|audio|voice|call|meeting|podcast|interview|lecture)s?\s+"
                               r"transcription\b|\b(?:generat|creat|add|produc|mak)\w*\s+(?:\w+\s+){0,2}subtitl\w*|"
                               r"\bspeech[-\s]recogni\w*|\bdictation\b", re.I)
# takes the speech-to-text side against text to speech: also "summarise this transcript", "translate these
# subtitles", which ask for no recogniser
_ASKS_TRANSCRIPT = re.compile(rf"{_NAMES_TRANSCRIPT.pattern}|\bsubtitl\w*|\btranscri\w*", re.I)
_NOT_SPEECH_SOURCE = re.compile(r"\b(?:images?|photos?|pictures?|scan\w*|handwrit\w*|music|piano|songs?\s+sheet|"
                                r"sheet\s+music|screenshots?|pdfs?|documents?)\b", re.I)


@dataclass(frozen=True)
class OppositeTasks:
    """Two opposite tasks: what a question says to ask for each, and what a model of each says about itself.
    `wins_both`: the side (0 or 1) a question matching both asks for, when one side's phrasing is the more
    specific (a document question may well mention an image of the page; "create a picture from a caption"
    also says "caption"); None: such a question asks for neither."""

    names: tuple[str, str]
    asks: tuple[re.Pattern[str], re.Pattern[str]]
    does: tuple[re.Pattern[str], re.Pattern[str]]
    wins_both: int | None = None
    only_if: re.Pattern[str] | None = None  # the rule applies only to questions saying this

    def asked(self, question: str) -> str | None:
        if self.only_if is not None and not self.only_if.search(question):
            return None
        first, second = (bool(pattern.search(question)) for pattern in self.asks)
        if first and second:
            return None if self.wins_both is None else self.names[self.wins_both]
        return self.names[0] if first else self.names[1] if second else None

    def kind(self, doc: ApiDoc) -> str | None:
        text = f"{doc.domain} {doc.functionality} {doc.api_call}"
        first, second = (bool(pattern.search(text)) for pattern in self.does)
        return self.names[0] if first and not second else self.names[1] if second and not first else None


_ASKS_PICTURE_FROM_TEXT = re.compile(
    rf"\btext[-\s]+(?:to|into)[-\s]+(?:images?|art|pictures?)\b|"
    rf"\b(?:generat|creat|draw|produc|render|paint|design|mak|illustrat|visuali[sz]|imagin)\w*\s+"
    rf"(?:[\w-]+\s+){{0,4}}{_IMAGE}\b[^.?!]{{0,60}}?\b(?:from|based\s+on|out\s+of|using|given|"
    rf"matching|according\s+to|described\s+(?:in|by))\s+(?:\w+\s+){{0,3}}{_TEXTUAL}\b", re.I)
_DOES_TRANSCRIPT = re.compile(r"speech recognition|speech-to-text|automatic-speech-recognition|\basr\b", re.I)

RULES = (
    OppositeTasks(
        ("speech to text", "text to speech"),
        (_ASKS_TRANSCRIPT, _ASKS_SPEECH),
        (_DOES_TRANSCRIPT, re.compile(r"text-to-speech|\btts\b", re.I))),
    OppositeTasks(
        ("image to text", "text to image"),
        (re.compile(rf"\bcaption(?:s|ing)?\b(?!\s+(?:in|into|to)\b)|\bimage[-\s]+(?:to|into)[-\s]+text\b|\balt[-\s]?text\b|"
                    rf"\b(?:describ\w*|descriptions?\s+of|text\s+(?:from|in|on)|read\w*)\s+(?:\w+\s+){{0,4}}"
                    rf"(?:{_IMAGE}|signs?|scenes?)\b|"
                    rf"\b{_IMAGE}\s+(?:\w+\s+){{0,3}}(?:in|into|to)\s+(?:\w+\s+){{0,2}}(?:text|words|captions?)\b",
                    re.I),
         _ASKS_PICTURE_FROM_TEXT),
        (re.compile(r"image-to-text|image captioning", re.I), re.compile(r"text-to-image", re.I)),
        wins_both=1),
    OppositeTasks(
        ("document question answering", "visual question answering"),
        (re.compile(_DOCUMENTS, re.I),
         re.compile(rf"\b(?:{_IMAGE}|scenes?|camera|gallery|visual)\b", re.I)),
        (re.compile(r"document question|documentquestion|document-question|layoutlm|docvqa", re.I),
         re.compile(r"visual question|visual-question|\bvqa\b", re.I)),
        wins_both=0, only_if=_ASKS_SOMETHING),
)


@dataclass(frozen=True)
class NamedTask:
    """A task a question can name in so many words (`asked`; or a `cue` word that counts only when the question
    also says `context`: "segment" names image segmentation next to "photo", not in "Chinese word segmentation"),
    and how a model's domain / functionality says it does it (`done`, unless `not_done`)."""

    name: str
    asked: re.Pattern[str]
    done: re.Pattern[str]
    not_done: re.Pattern[str] | None = None  # overrides `done` (an audio domain's "speaker segmentation")
    # no_match when no allowed model does it; else only a preference (TF Hub has no sentiment model, yet its
    # text embeddings are a fair answer to a sentiment question there)
    required: bool = True
    cue: re.Pattern[str] | None = None
    context: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None  # a question saying this names another task ("invoice": document QA)

    def named_in(self, question: str) -> bool:
        if self.unless and self.unless.search(question):
            return False
        if self.asked.search(question):
            return True
        return bool(self.cue and self.context and self.cue.search(question) and self.context.search(question))

    def does(self, doc: ApiDoc) -> bool:
        text = f"{doc.domain} {doc.functionality}"
        return bool(self.done.search(text)) and not (self.not_done and self.not_done.search(text))


_ASKS_MASK = re.compile(r"\[mask\]|<mask>|\bmissing\s+(?:words?|text|tokens?|terms?)\b|"
                        r"\bfill(?:ing)?[-\s]+(?:in\s+)?(?:the\s+)?(?:blanks?|masks?|gaps?)\b|\bmasked\s+(?:words?|tokens?)", re.I)
_VISUAL = (r"\b(?:images?|photos?|pictures?|photographs?|scenes?|frames?|videos?|scans?|mri|x-?rays?|satellite|aerial|"
           r"pixels?|cameras?|footage|selfies?)\b")
_PASSAGES = (r"\b(?:paragraphs?|passages?|articles?|context|wikipedia|documentation|faqs?|knowledge\s+base|manuals?|"
             r"essays?|textbooks?)\b")
_DEPTH_OBJECTS = r"(?:objects?|things|the\s+scene|each\s+pixel|(?:an?|the|my|this|each)\s+(?:image|photo|picture|scene|frame))"
NAMED_TASKS = (
    NamedTask("image segmentation",
              re.compile(r"\b(?:semantic|instance|panoptic|image|video|medical|pixel[-\s]level)\s+segment\w*|"
                         r"\bsegmentation\s+masks?\b", re.I),
              re.compile(r"segment", re.I), re.compile(r"^audio|speech|speaker|machine translation", re.I),
              cue=re.compile(r"(?<!word )(?<!speaker )(?<!market )(?<!customer )\bsegment(?:ed|ing|ation)?\b"
                             r"(?!\s+(?:of|by|into)\b)", re.I),
              context=re.compile(_VISUAL, re.I)),
    NamedTask("depth estimation",
              re.compile(rf"\bdepth\s+(?:estimation|estimator|maps?|information|perception|sensing|prediction|values?)\b|"
                         rf"\b(?:monocular|relative|inverse|metric|scene|stereo)\s+depth\b|"
                         rf"\b(?:estimat|predict|comput|calculat|measur|infer|extract|determin|perceiv|sens)\w*\s+"
                         rf"(?:\w+\s+){{0,2}}depth\b(?!\s+of\s+(?!{_DEPTH_OBJECTS}))|\bdepth\s+of\s+{_DEPTH_OBJECTS}|"
                         rf"\bhow\s+far\s+(?:away\s+)?(?:\w+\s+){{0,3}}(?:is|are)\s+from\s+the\s+camera", re.I),
              re.compile(r"\bdepth\b(?!\s*[-_]?\s*multiplier)", re.I)),
    NamedTask("pose estimation",
              re.compile(r"\b(?:human|body|person|people|hand|yoga|athletes?|dancers?|players?)\s+(?:poses?|postures?)\b|"
                         r"\bposes?\s+(?:estimation|detection|tracking|keypoints?)\b|"
                         r"\b(?:estimat|detect|track|recogni[sz])\w*\s+(?:\w+\s+){0,3}(?:poses?|postures?)\b"
                         r"(?=\s*(?:$|[.,;:?!)]|(?:of|in|from|for|and|with|on|estimation|detection|keypoints?|tracking)\b))|"
                         r"\bbody\s+(?:key\s?points?|joints|landmarks)\b", re.I),
              re.compile(r"\bpose\b", re.I)),
    NamedTask("fill-mask", _ASKS_MASK, re.compile(r"fill-mask|fill mask|masked language", re.I), required=False,
              unless=re.compile(rf"{_VISUAL}|\btime[-\s]series\b|\bsensors?\b|\btabular\b|\bocr\b", re.I)),
    NamedTask("text generation",
              re.compile(r"\bcontinu\w+\s+(?:\w+\s+){0,3}(?:text|story|sentence|paragraph|line|prompt|writing)s?\b|"
                         r"\bautocomplet\w*|\bcomplete\s+(?:the|my|a|this)\s+(?:sentence|text|story|paragraph)", re.I),
              re.compile(r"(?<!2)text generation|conversational|causal", re.I), required=False,
              unless=_ASKS_MASK),  # "complete a sentence with the missing word": fill-mask
    # required: asked for TensorFlow (no TF Hub model speaks), a text embedding is no answer to "read this aloud"
    NamedTask("text to speech", _ASKS_SPEECH, re.compile(r"text-to-speech|\btts\b|speech synthesis", re.I),
              unless=_ASKS_TRANSCRIPT),  # "reading aloud, I want it transcribed": neither side
    NamedTask("speech to text", _NAMES_TRANSCRIPT, _DOES_TRANSCRIPT,
              unless=re.compile(f"{_ASKS_SPEECH.pattern}|{_NOT_SPEECH_SOURCE.pattern}", re.I)),
    NamedTask("text to image", _ASKS_PICTURE_FROM_TEXT, re.compile(r"text-to-image", re.I),
              unless=re.compile(r"\bclassif\w*|\bsearch\w*|\bfind\w*|\bretriev\w*|\bembed\w*|\bcaption\w*|"
                                r"\blabels?\b", re.I)),  # "an image classifier using text labels": zero-shot
    NamedTask("visual question answering",
              re.compile(rf"\b(?:answer\w*|ask\w*)\s+(?:\w+\s+){{0,3}}questions?\s+(?:\w+\s+){{0,2}}(?:about|on|regarding|"
                         rf"related\s+to|of|from|in)\s+(?:\w+\s+){{0,3}}{_IMAGE}\b|\b{_IMAGE}\s+questions?\b|"
                         rf"\b{_IMAGE}\b[^.?!]{{0,80}}\banswer\w*\s+(?:\w+\s+){{0,3}}questions?\s+about\s+(?:it|them)\b", re.I),
              re.compile(r"visual question|\bvqa\b|image-to-text", re.I), required=True,
              unless=re.compile(_DOCUMENTS, re.I)),
    NamedTask("table question answering",
              re.compile(r"\banswer\w*\s+(?:\w+\s+){0,3}questions?\b[^.?!]*\b(?:tables?|spreadsheets?)\b|"
                         r"\b(?:tables?|spreadsheets?)\b[^.?!]*\banswer\w*\s+(?:\w+\s+){0,3}questions?\b|"
                         r"\bquery\w*\s+(?:\w+\s+){0,3}(?:tables?|spreadsheets?)\b|\btable\s+question|[\"']table[\"']\s*:",
                         re.I),
              re.compile(r"table question", re.I), required=True,
              unless=re.compile(rf"{_DOCUMENTS}|\bperiodic\s+table\b|\btable\s+of\s+contents\b|\bscann\w*", re.I)),
    NamedTask("object detection",
              re.compile(r"\bbounding[-\s]+box\w*|\bobject\s+detect\w*|\b(?:detect|locat)\w*\s+(?:\w+\s+){0,3}"
                         r"objects?\b(?!\s+(?:types?|categor\w+|class\w*)\b)|\bdraw\w*\s+(?:\w+\s+){0,2}(?:box\w*|boundar\w*|"
                         r"rectangles?|outlines?)\s+around\b", re.I),
              re.compile(r"object detection|instance segmentation|panoptic", re.I), required=True),
    NamedTask("sentiment analysis", re.compile(r"\bsentiments?\b", re.I),
              re.compile(r"text classification|sentiment|zero-shot classification", re.I), required=False),
    NamedTask("question answering over text",
              re.compile(rf"\banswer(?:s|ing)?\s+(?:\w+\s+){{0,3}}questions?\b[^.?!]*{_PASSAGES}|"
                         rf"\b(?:find|extract|get)\w*\s+(?:the\s+)?answers?\b[^.?!]*{_PASSAGES}|"
                         rf"{_PASSAGES}[^.?!]*\banswer(?:s|ing)?\s+(?:\w+\s+){{0,3}}questions?\b", re.I),
              re.compile(r"(?<!document )(?<!visual )(?<!table )question answering", re.I), required=True,
              unless=re.compile(rf"{_DOCUMENTS}|{_VISUAL}|\btables?\b|\bspreadsheets?\b", re.I)),
    NamedTask("reading text in images",
              re.compile(r"\bocr\b|\b(?:read|extract|recogni[sz]e|get|transcribe)\w*\s+(?:the\s+)?(?:text|words|letters|"
                         r"characters|writing)\s+(?:in|on|from)\s+(?:\w+\s+){0,3}(?:images?|photos?|pictures?|signs?|"
                         r"screenshots?|scans?|receipts?|documents?)\b|\b(?:text|letters|words)\s+(?:are|is)\s+written\s+on\b",
                         re.I),
              re.compile(r"image-to-text|ocr|scene text|document question", re.I), required=True),
)


def named_tasks(question: str) -> list[NamedTask]:
    """The tasks the question names outright."""
    return [task for task in NAMED_TASKS if task.named_in(question)]


def missing_task(question: str, docs: list[ApiDoc], allowed=None) -> NamedTask | None:  # noqa: ANN001
    """The first required task the question names that no doc does (`allowed`: a boolean mask over docs, None
    for all)."""
    for task in (task for task in named_tasks(question) if task.required):
        if not any(task.does(doc) for i, doc in enumerate(docs) if allowed is None or allowed[i]):
            return task
    return None


def asked_tasks(question: str) -> list[tuple[OppositeTasks, str]]:
    """The rules a question takes a side in, with the side."""
    return [(rule, side) for rule in RULES if (side := rule.asked(question)) is not None]


def prefer_asked_task(question: str, hits: list[Hit]) -> list[Hit]:
    """Models doing the opposite of what the question clearly asks for move last; when it names a task, models
    doing it come first. Everything else keeps its rank."""
    for rule, side in asked_tasks(question):
        kinds = [rule.kind(hit.doc) for hit in hits]
        keep = [hit for hit, kind in zip(hits, kinds) if kind in (None, side)]
        moved = [dataclasses.replace(hit, moved_down=f"does {kind}; the question asks for {side}")
                 for hit, kind in zip(hits, kinds) if kind not in (None, side)]
        hits = keep + moved  # each group keeps its ranked order
    for task in named_tasks(question):
        does = [task.does(hit.doc) for hit in hits]
        if any(does):  # else nothing here does it: the ranking stands (the pipeline checks the whole corpus)
            hits = [dataclasses.replace(hit, moved_down=None) if hit.moved_down else hit
                    for hit, yes in zip(hits, does) if yes] + [
                hit if hit.moved_down else dataclasses.replace(hit, moved_down=f"does not do {task.name}, "
                                                               "which the question names")
                for hit, yes in zip(hits, does) if not yes]
    return hits
