"""The CLI as a user runs it: real processes, a temp home, stdout for data and stderr for messages."""

import json
import subprocess
import sys

import pytest

from gorilla_rag import settings


def run(*args, home, stdin=None):
    env_home = {"GORILLA_RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    import os

    return subprocess.run([sys.executable, "-m", "gorilla_rag.cli", *args], capture_output=True, text=True,
                          input=stdin, env={**os.environ, **env_home}, timeout=300)


def test_import_and_help_load_nothing_heavy(tmp_path):
    code = ("import sys, gorilla_rag, gorilla_rag.cli; gorilla_rag.cli.build_parser(); "
            "heavy = [m for m in ('torch', 'faiss', 'transformers', 'sentence_transformers', 'fastapi', 'numpy') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    result = run("--help", home=tmp_path)
    assert result.returncode == 0 and "ask" in result.stdout and "verify" in result.stdout


@pytest.mark.slow
def test_ask_builds_the_seed_index_then_answers_json(tmp_path):
    result = run("ask", "I want to translate English text to French", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "verified" and "en-fr" in data["call"]  # opus-mt-en-fr or fairseq's wmt14.en-fr
    assert {"id", "source", "domain", "api_name"} <= set(data["api"]) and isinstance(data["alternatives"], list)
    assert "building" in result.stderr  # first run says what it does, on stderr
    again = run("ask", "segment the people in a street photo", "--source", "huggingface", home=tmp_path)
    assert again.returncode == 0 and "[✔ verified]" in again.stdout and "building" not in again.stderr
    info = json.loads(run("index", "info", "--json", home=tmp_path).stdout)
    assert info["kind"] == "gorilla-rag-index" and info["sources"] == {"huggingface": 24, "tfhub": 22, "torchhub": 24}
    assert info["embedder"]["query_encoder"] is None and "reranker" not in info  # fp32 by default
    lacking = info["tasks_lacking"].split(", ")
    assert "reinforcement-learning" in lacking and "translation" not in lacking and "no-model" not in lacking
    # a trained re-scorer shows in `index info` (its card and memory size, not its weights) and answers `ask`
    from gorilla_rag.retrieval import Index
    from gorilla_rag.retrieval.rerank import RERANKER_FILE, Reranker

    index = Index.load(tmp_path / "indexes" / "default")
    examples = [(f"{d.functionality}: {d.description[:60]}", index.api_key(d), d.domain, None) for d in index.docs]
    Reranker.train(index, examples).save(index.folder / RERANKER_FILE, {"kind": "gorilla-rag-reranker"})
    info = json.loads(run("index", "info", "--json", home=tmp_path).stdout)["reranker"]
    assert info["kind"] == "gorilla-rag-reranker" and info["memory_questions"] == len(index.docs) and "weights" not in info
    reranked = json.loads(run("ask", "translate English text to French", "--json", home=tmp_path).stdout)
    assert reranked["status"] == "verified" and reranked["hits"][0]["ranks"].get("rerank") == 1
    # a list longer than the re-scorer's candidate pool still lists every API, and says when there are no more
    apis = len({index.api_key(d) for d in index.docs})
    long = run("search", "an image classifier", "-k", str(apis + 5), home=tmp_path)
    listed = [line for line in long.stdout.splitlines() if line[:1].isdigit()]
    assert len(listed) == apis and f"{apis} of the {apis + 5} APIs asked for" in long.stderr
    # ... and begins with what a short list answers (the wider candidate pool only extends it)
    short = json.loads(run("search", "translate English to German", "-k", "5", "--json", home=tmp_path).stdout)
    longer = run("search", "translate English to German", "-k", str(apis + 5), "--json", home=tmp_path)
    assert [h["doc"]["id"] for h in json.loads(longer.stdout)[:5]] == [h["doc"]["id"] for h in short]
    assert "APIs asked for" in longer.stderr  # said with --json too, on stderr
    depth = run("search", "estimate depth", "--source", "tfhub", home=tmp_path)
    assert "asks for depth estimation, and no API listed does that" in depth.stderr


@pytest.mark.slow
def test_verify_reports_verified_and_hallucinated(tmp_path):
    ok = run("verify", "model = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)", "--json", home=tmp_path)
    assert ok.returncode == 0 and json.loads(ok.stdout)["matched"] == ["torchhub:pytorch/vision:resnet50"]
    bad = run("verify", "-", home=tmp_path, stdin="torch.hub.load('pytorch/vision', 'wide_resnet50_2')")
    assert bad.returncode == 1 and bad.stdout.startswith("[hallucinated]")
    nothing = run("verify", "this is just prose", home=tmp_path)
    assert nothing.returncode == 1 and nothing.stdout.startswith("[unparseable]")


@pytest.mark.parametrize("args, message", [
    (["ask", "  "], "question is empty"),
    (["ask", "classify", "--source", "npm"], "unknown source"),
    (["corpus", "import", "apibench", "/nonexistent/place"], "no huggingface_api.jsonl"),
    (["corpus", "validate", "/nonexistent/place"], "no such corpus"),
    (["index", "info", "--name", "missing"], "no index"),
    (["search", "classify images", "-k", "0"], "must be at least 1"),
    (["ask", "classify images", "-k", "-1"], "must be at least 1"),
    (["serve", "--port", "99999"], "a port is 0 to 65535"),
    (["ask", "classify images", "--min-similarity", "2"], "a similarity is from -1 to 1"),
    (["train", "retriever", "--epochs", "0"], "must be at least 1"),
    (["corpus"], "gorilla-rag corpus [-h] SUB"),  # a group alone shows its own commands
])
def test_bad_input_is_one_line_without_traceback(tmp_path, args, message):
    result = run(*args, home=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_stale_and_corrupt_indexes_are_refused_with_the_fix(tmp_path):
    assert run("index", "build", home=tmp_path).returncode == 0
    corpus = tmp_path / "api_corpus" / "current"
    corpus.mkdir(parents=True)
    seed_file = settings.seed_corpus_dir() / "torchhub.jsonl"
    corpus.joinpath("torchhub.jsonl").write_text(seed_file.read_text())
    stale = run("ask", "classify images", home=tmp_path)
    assert stale.returncode == 2 and "stale" in stale.stderr and "gorilla-rag index build" in stale.stderr
    assert run("index", "build", home=tmp_path).returncode == 0
    (tmp_path / "indexes" / "default" / "index.json").write_text("{broken")
    broken = run("ask", "classify images", home=tmp_path)
    assert broken.returncode == 2 and "unreadable index.json" in broken.stderr and "Traceback" not in broken.stderr


@pytest.mark.slow
def test_ask_abstains_out_of_scope_unless_told_not_to(tmp_path):
    out = run("ask", "book me a cheap flight to Lisbon next Friday", "--json", home=tmp_path)
    assert out.returncode == 1 and json.loads(out.stdout)["status"] == "no_match"
    forced = run("ask", "book me a cheap flight to Lisbon next Friday", "--json", "--min-similarity", "0",
                 home=tmp_path)
    assert forced.returncode == 0 and json.loads(forced.stdout)["status"] == "verified"


@pytest.mark.slow
def test_search_applies_the_constraints_ask_applies(tmp_path):
    result = run("search", "an image classifier with under 10M parameters", "-k", "3", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits and all(h["doc"]["metrics"]["params"] <= 10e6 for h in hits)
    said = run("search", "an image classifier with under 10M parameters", home=tmp_path)
    assert "constraints applied: at most 10,000,000 parameters" in said.stderr


@pytest.mark.slow
def test_index_info_checks_every_part(tmp_path):
    assert run("index", "build", home=tmp_path).returncode == 0
    fine = run("index", "info", home=tmp_path)
    assert fine.returncode == 0 and "check: ok" in fine.stdout and "embedder.name: all-MiniLM-L6-v2" in fine.stdout
    assert "abstention: task questions: default threshold 0.33" in fine.stdout  # which signal, which threshold
    faiss_file = tmp_path / "indexes" / "default" / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    broken = run("index", "info", home=tmp_path)
    assert broken.returncode == 1 and "check: BROKEN" in broken.stdout and "index build" in broken.stdout
    # verify needs only the docs: a broken search part does not stop it
    checked = run("verify", "torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)", home=tmp_path)
    assert checked.returncode == 0 and checked.stdout.startswith("[verified]")
