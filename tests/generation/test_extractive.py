import pytest

from gorilla_rag.generation.extractive import example_code
from gorilla_rag.types import ApiDoc


def hf_doc(**changes):
    base = dict(id="huggingface:t5-small", source="huggingface", domain="Translation", api_name="t5-small",
                api_call="T5ForConditionalGeneration.from_pretrained('t5-small')")
    return ApiDoc(**{**base, **changes})


def test_snippet_imports_the_symbol_from_the_package_not_the_version_spec():
    doc = hf_doc(requirements=("transformers>=4.0.0", "torch"))
    assert example_code(doc) == ("from transformers import T5ForConditionalGeneration\n"
                                 "model = T5ForConditionalGeneration.from_pretrained('t5-small')")


def test_doc_example_is_kept_when_it_uses_the_call():
    example = "from transformers import T5ForConditionalGeneration\nm = T5ForConditionalGeneration.from_pretrained('t5-small')"
    assert example_code(hf_doc(example_code=example)) == example
    assert example_code(hf_doc(example_code="print('unrelated')")).startswith("from transformers import")


@pytest.mark.parametrize("call, requirements, header", [
    ("pipeline('translation_en_to_fr', model='t5-small')", ("PIL", "transformers"), "from transformers import pipeline"),
    ("AutoModel.from_pretrained('x/y')", ("torch", "transformers"), "from transformers import AutoModel"),
    ("DebertaModel.from_pretrained('microsoft/deberta')", ("torch",), "from transformers import DebertaModel"),
    ("joblib.load(cached_download(hf_hub_url('x/y', 'sklearn_model.joblib')))", ("joblib",), "import joblib"),
    ("StableDiffusionPipeline.from_pretrained('x/y')", ("diffusers", "transformers"),
     "from diffusers import StableDiffusionPipeline"),
    ("SentenceTransformer('x/y')", ("sentence-transformers",), "from sentence_transformers import SentenceTransformer"),
    ("translate('hello')", ("fairseq",), None),  # an unknown function: no invented import line
])
def test_import_line_follows_the_symbol_not_the_first_requirement(call, requirements, header):
    code = example_code(hf_doc(api_call=call, requirements=requirements))
    assert code.splitlines()[0] == (header or f"model = {call}")
