import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gorilla_rag.retrieval.embedder import Embedder, bf16_native, resolve_model_path
from gorilla_rag.retrieval.light_encoder import LightEncoder

TEXTS = ["I want to translate English text to French", "detect objects in street photos", "word " * 400, "",
         "Ünïcode 東京 text, with punctuation!?"]


@pytest.fixture(scope="module")
def bundled():
    return resolve_model_path("all-MiniLM-L6-v2")


def sentence_transformers_vectors(path, texts):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu").encode(texts, normalize_embeddings=True, convert_to_numpy=True)


def test_same_vectors_as_sentence_transformers(bundled):
    light = LightEncoder.open(bundled)
    assert light is not None and light.hidden == 384
    got = light.encode(TEXTS, batch_size=2)  # padded batches, one truncated text, one empty text
    assert np.abs(got - sentence_transformers_vectors(bundled, TEXTS)).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_embedder_uses_it_and_the_switch_turns_it_off(monkeypatch):
    light = Embedder().embed(TEXTS[:2])
    monkeypatch.setenv("GORILLA_RAG_LIGHT_ENCODER", "0")
    assert Embedder()._light() is None
    assert np.abs(Embedder().embed(TEXTS[:2]) - light).max() < 1e-5


@pytest.mark.skipif(not bf16_native(), reason="this CPU has no native bf16; the light encoder stays fp32 there")
def test_bf16_questions_stay_close_to_fp32():
    fp32 = Embedder().embed(TEXTS)
    bf16 = np.stack([Embedder(precision="bf16").embed_one(t) for t in TEXTS])
    assert str(Embedder(precision="bf16")._light().model.embeddings.word_embeddings.weight.dtype) == "torch.bfloat16"
    assert 0 < np.abs(bf16 - fp32).max() < 0.02


@pytest.mark.parametrize("change", ["cls pooling", "not bert", "no safetensors", "no tokenizer.json"])
def test_other_folders_fall_back_to_sentence_transformers(bundled, tmp_path, change):
    folder = tmp_path / "model"
    shutil.copytree(bundled, folder, ignore=shutil.ignore_patterns("model.safetensors"))
    (folder / "model.safetensors").symlink_to(Path(bundled) / "model.safetensors")
    if change == "cls pooling":
        config = json.loads((folder / "1_Pooling" / "config.json").read_text())
        config.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
        (folder / "1_Pooling" / "config.json").write_text(json.dumps(config))
    elif change == "not bert":
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    else:
        (folder / ("model.safetensors" if change == "no safetensors" else "tokenizer.json")).unlink()
    assert LightEncoder.open(folder) is None


def test_a_cold_question_never_imports_sentence_transformers():
    code = ("import sys; from gorilla_rag.retrieval.embedder import Embedder; "
            "v = Embedder(precision='auto').embed_one('classify images'); "
            "print(len(v), 'sentence_transformers' in sys.modules, 'transformers' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "GORILLA_RAG_LIGHT_ENCODER"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["384", "False", "False"]


def test_a_folder_saved_by_this_sentence_transformers_version_is_read_the_same(bundled, tmp_path):
    """What `train retriever` writes: the installed sentence-transformers' save format, with its own length limit."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(bundled, device="cpu")
    model.max_seq_length = 16
    model.save(str(tmp_path / "saved"))
    light = LightEncoder.open(tmp_path / "saved")
    assert light is not None
    reloaded = SentenceTransformer(str(tmp_path / "saved"), device="cpu")
    texts = ["short", "a question long enough to be cut at sixteen tokens by both encoders, or the test fails"]
    want = reloaded.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(light.encode(texts) - want).max() < 1e-5


def test_single_texts_run_traced_from_the_second_on_with_the_same_vectors(bundled, monkeypatch):
    light = LightEncoder.open(bundled)
    expected = light.encode(TEXTS)
    first = light.encode_one(TEXTS[0])
    assert "single" not in light._traced  # one question (a CLI run) never pays for tracing
    rest = [light.encode_one(t) for t in TEXTS[1:]]
    assert light._traced["single"]  # a checked trace, kept
    assert np.abs(np.stack([first, *rest]) - expected).max() < 1e-5
    monkeypatch.setenv("GORILLA_RAG_TRACE", "0")
    eager = LightEncoder.open(bundled)
    for text in TEXTS[:3]:
        eager.encode_one(text)
    assert eager._traced["single"] is False


def test_a_trace_that_does_not_generalise_is_refused(bundled):
    import torch

    from gorilla_rag.retrieval.light_encoder import _trace

    class LengthBranch(torch.nn.Module):  # a Python branch on the length: a trace keeps only the one it saw
        def __init__(self) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(1))

        def forward(self, ids, mask):
            hidden = ids.float().unsqueeze(-1) * self.scale
            return hidden if ids.shape[1] < 12 else hidden * 2

    tokenizer = LightEncoder.open(bundled).tokenizer
    for masked in (False, True):
        assert _trace(LengthBranch().eval(), tokenizer, masked) is None
        assert _trace(LightEncoder.open(bundled).model, tokenizer, masked) is not None


def test_padded_batches_run_traced_from_the_second_batch_on_with_the_same_vectors(bundled):
    light = LightEncoder.open(bundled)
    first = light.encode(TEXTS, batch_size=3)  # padded batches
    again = light.encode(TEXTS, batch_size=3)
    assert light._traced["batch"] and np.abs(again - first).max() < 1e-5
    assert np.abs(again - sentence_transformers_vectors(bundled, TEXTS)).max() < 1e-5
