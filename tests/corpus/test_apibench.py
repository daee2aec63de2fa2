import hashlib
import http.server
import json
import threading
from functools import partial

import pytest

from gorilla_rag.corpus import CorpusError, read_corpus
from gorilla_rag.corpus import apibench as apibench_module
from gorilla_rag.corpus.apibench import import_apibench

TORCH = {"domain": "Classification", "framework": "PyTorch", "functionality": "Image classification",
         "api_name": "resnet18", "api_call": "torch.hub.load('pytorch/vision', 'resnet18', pretrained=True)",
         "api_arguments": {"pretrained": "True"}, "python_environment_requirements": ["torch"],
         "example_code": "", "performance": {"dataset": "ImageNet", "accuracy": {"top_1": 69.76}},
         "description": "A small residual network."}
TF = {"domain": "Audio event classification", "framework": "TensorFlow Hub", "functionality": "Classify",
      "api_name": "yamnet", "api_call": "hub.load('https://tfhub.dev/google/yamnet/1')",
      "api_arguments": "waveform", "python_environment_requirements": None, "example_code": None,
      "performance": None, "description": "Audio event classifier."}


def write_apibench(folder, torch_lines, tf_lines=None):
    tf_lines = tf_lines or [json.dumps(TF)]
    folder.mkdir(exist_ok=True)
    (folder / "torchhub_api.jsonl").write_text("\n".join(torch_lines) + "\n")
    (folder / "tensorflowhub_api.jsonl").write_text("\n".join(tf_lines) + "\n")
    return folder


def test_import_from_folder_normalises_and_dedupes_ids(tmp_path):
    src = write_apibench(tmp_path / "api", [json.dumps(TORCH), json.dumps({**TORCH, "description": "again"})])
    counts = import_apibench(tmp_path, tmp_path / "current", sources=("torchhub", "tfhub"))
    assert counts == {"torchhub": 2, "tfhub": 1}
    docs = {d.id: d for d in read_corpus(tmp_path / "current")}
    assert set(docs) == {"torchhub:pytorch/vision:resnet18", "torchhub:pytorch/vision:resnet18#2", "tfhub:google/yamnet/1"}
    assert docs["torchhub:pytorch/vision:resnet18"].metrics == {"top1": 69.76}
    manifest = json.loads((tmp_path / "current" / "manifest.json").read_text())
    assert manifest["sources"]["tfhub"]["origin"] == str(src / "tensorflowhub_api.jsonl")


def test_bad_lines_abort_with_locations_unless_skipped(tmp_path, capsys):
    write_apibench(tmp_path, [json.dumps(TORCH), "{oops", json.dumps({**TORCH, "api_call": None})])
    with pytest.raises(CorpusError) as caught:
        import_apibench(tmp_path, tmp_path / "current", sources=("torchhub",))
    assert [p.split(": ")[0].rsplit(":", 1)[1] for p in caught.value.problems] == ["2", "3"]
    assert not (tmp_path / "current").exists()
    assert import_apibench(tmp_path, tmp_path / "current", sources=("torchhub",), skip_invalid=True) == {"torchhub": 1}
    assert "torchhub_api.jsonl:2" in capsys.readouterr().err


@pytest.fixture()
def local_server(tmp_path):
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_import_from_url_checks_the_pinned_sha256(tmp_path, local_server, monkeypatch):
    write_apibench(tmp_path / "data", [json.dumps(TORCH)])
    body = (tmp_path / "data" / "torchhub_api.jsonl").read_bytes()
    good = {"torchhub": ("torchhub_api.jsonl", hashlib.sha256(body).hexdigest())}
    monkeypatch.setattr(apibench_module, "APIBENCH_FILES", good)
    monkeypatch.setattr(apibench_module, "DEFAULT_URL", f"{local_server}/data")
    assert import_apibench(None, tmp_path / "current", sources=("torchhub",)) == {"torchhub": 1}
    monkeypatch.setattr(apibench_module, "APIBENCH_FILES", {"torchhub": ("torchhub_api.jsonl", "0" * 64)})
    with pytest.raises(CorpusError, match="does not match the pinned"):
        import_apibench(None, tmp_path / "other", sources=("torchhub",))
    with pytest.raises(CorpusError, match="download failed"):
        import_apibench(f"{local_server}/missing", tmp_path / "other", sources=("torchhub",))


@pytest.mark.slow
def test_import_the_real_apibench(apibench_dir, tmp_path):
    counts = import_apibench(apibench_dir, tmp_path / "current")
    assert counts == {"huggingface": 936, "torchhub": 94, "tfhub": 696}
    assert apibench_module.APIBENCH_FILES["tfhub"][1] == hashlib.sha256(
        (apibench_dir / "api" / "tensorflowhub_api.jsonl").read_bytes()).hexdigest()
