"""A question that names a model outright is answered, not abstained: which identifier parts count as names."""

from gorilla_rag.retrieval.model_names import named_model
from gorilla_rag.types import ApiDoc


def doc(call: str, name: str, description: str = "", source: str = "huggingface") -> ApiDoc:
    return ApiDoc(id=f"{source}:{name}", source=source, domain="d", api_name=name, api_call=call,
                  description=description)


SILERO = doc("torch.hub.load(repo_or_dir='snakers4/silero-vad', model='silero_vad')", "Silero VAD",
             "Silero VAD is a voice activity detector.", "torchhub")
BLIP = doc("BlipForQuestionAnswering.from_pretrained('Salesforce/blip-vqa-base')", "Salesforce/blip-vqa-base",
           "BLIP answers questions about images.")
GPT2 = doc("pipeline('text-generation', model='gpt2')", "gpt2", "GPT-2 writes text.")
WHISPER = doc("pipeline('automatic-speech-recognition', model='openai/whisper-small')", "openai/whisper-small",
              "Whisper transcribes speech.")
PUNCT = doc("pipeline('token-classification', model='oliverguhr/fullstop-punctuation-multilang-large')",
            "oliverguhr/fullstop-punctuation-multilang-large", "Restores punctuation in text.")
USE = doc("hub.load('https://tfhub.dev/google/universal-sentence-encoder/4')", "universal-sentence-encoder",
          "The encoder turns text into vectors.", "tfhub")
ONNX = doc("TextToSpeech('NeuML/ljspeech-jets-onnx')", "NeuML/ljspeech-jets-onnx", "Jets TTS exported to ONNX.")
CORPUS = [SILERO, BLIP, GPT2, WHISPER, PUNCT, USE, ONNX]


def named(question: str, docs=None):  # noqa: ANN001, ANN201
    found = named_model(question, docs or CORPUS, CORPUS)
    return (found[0].api_name, found[1]) if found else None


def test_names_said_in_the_question_are_found_in_any_spelling():
    assert named("silero vad") == ("Silero VAD", "silero")
    assert named("blip vqa base") == ("Salesforce/blip-vqa-base", "blip")
    assert named("gpt-2 that continues a story") == ("gpt2", "gpt2")
    assert named("GPT 2 for stories") == ("gpt2", "gpt2")
    assert named("a JETS voice like ljspeech") == ("NeuML/ljspeech-jets-onnx", "ljspeech")


def test_words_jargon_frameworks_and_owners_are_not_names():
    assert named("whisper to me") is None  # an English word: the vocabulary says so
    assert named("Check a string for punctuation") is None  # the corpus's prose writes it in lower case
    assert named("write a JSON encoder") is None
    assert named("Export my PyTorch model to ONNX") is None  # frameworks and formats
    assert named("a Salesforce CRM integration") is None  # the owner before '/' is not the model
    assert named("silero vad", [GPT2]) is None  # only the candidates given count


def test_only_the_family_part_of_an_id_names_a_model():
    """Parts further on in an id are tasks, datasets, sizes or patch widths that programming questions say too."""
    gpt4 = doc("pipeline('text-generation', model='ingen51/DialoGPT-medium-GPT4')", "ingen51/DialoGPT-medium-GPT4")
    covid = doc("pipeline('question-answering', model='deepset/roberta-base-squad2-covid')",
                "deepset/roberta-base-squad2-covid")
    vit = doc("ViTModel.from_pretrained('google/vit-base-patch16-224-in21k')", "google/vit-base-patch16-224-in21k")
    corpus = [gpt4, covid, vit]
    for question in ("Call the GPT4 API with streaming in node", "Plot covid case counts per country",
                     "Split an image into patches of patch 16", "Use the ImageNet in 1k classes list"):
        assert named_model(question, corpus, corpus) is None, question
    assert named_model("DialoGPT for a chatbot", corpus, corpus)[1] == "dialogpt"
