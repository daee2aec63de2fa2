import pytest

from gorilla_rag.retrieval.languages import (
    doc_direction,
    foreign_language,
    prefer_direction,
    question_direction,
)
from gorilla_rag.types import ApiDoc, Hit


def model(call: str, name: str = "") -> ApiDoc:
    return ApiDoc(id=f"huggingface:{call}", source="huggingface", domain="Translation", api_name=name, api_call=call)


@pytest.mark.parametrize("question, direction", [
    ("I want to translate English text to French", ("en", "fr")),
    ("Translate this German news article into English", ("de", "en")),
    ("our app translates English-to-Spanish", ("en", "es")),
    ("translate my documents to Chinese", (None, "zh")),
    ("I want to go to Paris", (None, None)),
    ("text to speech in French", (None, None)),
    ("classify images of dogs", (None, None)),
])
def test_question_direction(question, direction):
    assert question_direction(question) == direction


@pytest.mark.parametrize("call, name, direction", [
    ("pipeline('translation_fr_to_en', model='Helsinki-NLP/opus-mt-fr-en')", "", ("fr", "en")),
    ("AutoModelForSeq2SeqLM.from_pretrained('Helsinki-NLP/opus-mt-zh-en')", "", ("zh", "en")),
    ("FSMTForConditionalGeneration.from_pretrained('facebook/wmt19-en-de')", "", ("en", "de")),
    ("pipeline('translation_en_to_ROMANCE', model='Helsinki-NLP/opus-mt-en-ROMANCE')", "", None),
    ("T5ForConditionalGeneration.from_pretrained('t5-small')", "t5-small", None),
    ("MarianMTModel.from_pretrained('pytorch-models/opus-mt-tc-big-en-pt')", "", ("en", "pt")),
    ("torch.hub.load('pytorch/fairseq', 'transformer.wmt19.de-en.single_model')", "", ("de", "en")),
])
def test_doc_direction(call, name, direction):
    assert doc_direction(model(call, name)) == direction


def test_exact_direction_first_multilingual_next_contradicting_last():
    fr_en = model("pipeline('translation_fr_to_en', model='Helsinki-NLP/opus-mt-fr-en')")
    t5 = model("T5ForConditionalGeneration.from_pretrained('t5-small')")
    en_fr = model("MarianMTModel.from_pretrained('Helsinki-NLP/opus-mt-en-fr')")
    hits = [Hit(fr_en, 3.0), Hit(t5, 2.0), Hit(en_fr, 1.0)]
    reordered = prefer_direction("translate English to French", hits)
    assert [h.doc for h in reordered] == [en_fr, t5, fr_en]
    assert reordered[-1].moved_down == "translates another direction; asked en → fr" and reordered[0].moved_down is None
    assert prefer_direction("summarise this French article", hits) == hits  # no direction asked: untouched


def test_a_language_group_holds_its_members_only():
    # OPUS-MT family models: 'ROMANCE-en' translates French (among others) into English, never into French
    romance_en = model("MarianMTModel.from_pretrained('Helsinki-NLP/opus-mt-ROMANCE-en')")
    en_romance = model("MarianMTModel.from_pretrained('Helsinki-NLP/opus-mt-en-ROMANCE')")
    en_fr = model("MarianMTModel.from_pretrained('Helsinki-NLP/opus-mt-en-fr')")
    hits = [Hit(romance_en, 3.0), Hit(en_romance, 2.0), Hit(en_fr, 1.0)]
    assert [h.doc for h in prefer_direction("translate English to French", hits)] == [en_fr, en_romance, romance_en]
    assert [h.doc for h in prefer_direction("translate French to English", hits)][0] == romance_en
    # German is not a Romance language: every one of them contradicts, so the ranking stays as it was
    assert [h.doc for h in prefer_direction("translate German to English", hits)] == [romance_en, en_romance, en_fr]


@pytest.mark.parametrize("question, language", [
    ("traduire un texte de l'anglais vers le français", "French"),
    ("Ich möchte Bilder von Hunden klassifizieren mit einem Modell", "German"),
    ("quiero un modelo para clasificar imágenes de perros", "Spanish"),
    ("translate English text to French", None),
    ("I want a model for la la land movie reviews", None),  # a few foreign words in an English question
])
def test_foreign_language(question, language):
    assert foreign_language(question) == language
