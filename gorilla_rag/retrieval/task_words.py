"""How users say what a task is: everyday phrasings added to each doc's indexed text, chosen by its task.

Docs name their task in the hub's taxonomy ("Token Classification", "Automatic Speech Recognition"); users
describe what they want done ("pull out the names of people", "write down what is said"). Each entry matches a
doc's domain / functionality and adds the words people use for that task, so both BM25 and the bi-encoder can
meet the question halfway. Written for this project from the task definitions, not from benchmark questions.
"""

from __future__ import annotations

import re
from functools import lru_cache

from gorilla_rag.types import ApiDoc

# (pattern over "domain functionality", phrases a user might use for that task)
_TASKS: tuple[tuple[str, str], ...] = (
    (r"token classification|named entity|\bner\b|part-of-speech|pos tagging",
     "extract names of people, organizations, companies, places, cities and dates from text; tag entities or "
     "words in sentences"),
    (r"automatic speech recognition|speech recognition|speech-to-text|speech to text",
     "transcribe spoken audio, recordings, calls, meetings, podcasts or voice notes into written text; "
     "dictation, subtitles, captions for speech"),
    (r"text-to-speech|text to speech|speech synthesis|spectrogram synthesis",
     "read text aloud, loud speech, speak it, turn written text into spoken audio, generate a voice, narration, voice-over"),
    (r"audio-to-audio|speech enhancement|audio separation|source separation",
     "transform audio into other audio: remove noise, enhance or separate voices and music, convert speech "
     "into speech in another language or voice"),
    (r"voice activity|speaker diarization",
     "find when someone is speaking in a recording, detect speech segments, who spoke when"),
    (r"audio classification|audio event|sound|audio embedding",
     "recognise sounds, classify audio clips, identify the kind of noise, speaker, emotion or language in speech"),
    (r"image classification|^classification\b",
     "recognise what is in a photo or picture, label or categorise images, identify the object, animal, plant "
     "or product shown"),
    (r"zero-shot image classification",
     "classify images against any labels given as text, without training; match pictures with descriptions"),
    (r"object detection|real-time object detection",
     "find and locate objects in an image or video frame with bounding boxes; count people, cars or items"),
    (r"segmentation",
     "separate an image into regions, outline objects or areas pixel by pixel, masks for each object or class"),
    (r"depth estimation",
     "estimate how far things are from the camera, a depth map from a single photo, 3D distance"),
    (r"image-to-image|super-resolution|style transfer|image stylization|frame interpolation",
     "transform a picture into another picture: enhance, upscale, restore, restyle, edit or inpaint images"),
    (r"unconditional image generation|class-conditional image generation",
     "generate new realistic images or pictures from scratch, synthesise artwork, faces or scenes"),
    (r"text-to-image",
     "draw or generate a picture from a written description or prompt, create artwork or illustrations"),
    (r"text-to-video", "generate a video clip from a written description or prompt"),
    (r"image-to-text|image captioning|scene text|\bocr\b",
     "describe a picture in words, write captions for photos, read the text in an image"),
    (r"visual question answering",
     "answer questions about what is shown in an image or picture"),
    (r"document question answer",
     "answer questions about scanned documents, invoices, forms, receipts or PDFs"),
    (r"video classification|action recognition",
     "recognise actions or activities in video clips, categorise videos"),
    (r"pose",
     "find body keypoints and joints of people, track posture and movement"),
    (r"pitch", "estimate the musical pitch or note of singing or an instrument"),
    (r"table question answering",
     "answer questions about a table, spreadsheet or database of figures"),
    (r"(?<!table )(?<!visual )(?<!document )question answering",
     "find the answer to a question in a given passage, article or context; reading comprehension"),
    (r"summari[sz]ation",
     "summarise long articles, reports, documents or conversations into a short version, condense text"),
    (r"translation", "translate text from one language into another"),
    (r"text2text generation",
     "rewrite, paraphrase, correct, translate or summarise text; turn one text into another"),
    (r"(?<!2)text generation|(?<!masked )language model|conversational",
     "write or continue text from a prompt, generate stories, articles, code or replies; chatbot, dialogue"),
    (r"fill-mask|masked language",
     "fill in a missing or masked word in a sentence, complete the blank"),
    (r"sentence similarity|sentence embeddings|text embedding|(?<!image )feature extraction",
     "turn sentences or text into vectors, compare how similar texts are, semantic search, clustering"),
    (r"zero-shot classification",
     "sort text into categories given at run time without training data, classify by any labels"),
    (r"text classification|sentiment",
     "classify text, detect sentiment, emotion, topic, spam or toxicity of reviews, tweets or comments"),
    (r"tabular classification",
     "predict a category from rows of a table or spreadsheet of features, classify records"),
    (r"tabular regression",
     "predict a number from rows of a table or spreadsheet of features, estimate prices or values"),
    (r"reinforcement learning|robotics",
     "train or run an agent that plays a game or controls a robot, decision making with rewards"),
    (r"image feature vector|image embeddings|image feature extraction",
     "extract image features or embeddings for transfer learning, similarity search or a custom classifier"),
    (r"text preprocessing", "tokenize raw text into model inputs, preprocess strings for an encoder"),
    (r"graph machine learning", "learn from graphs and molecules, predict properties of nodes or molecules"),
)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern, re.I), phrases) for pattern, phrases in _TASKS)


def task_words(doc: ApiDoc) -> str:
    """The everyday phrasings of every task the doc's domain names ('' when none); the functionality is read
    only when the domain names no task (it is free text, often a secondary use such as 'Feature Extraction')."""
    for text in (doc.domain, f"{doc.domain} {doc.functionality}"):
        found = [phrases for pattern, phrases in _compiled() if pattern.search(text.strip())]
        if found:
            return "; ".join(found)
    return ""
