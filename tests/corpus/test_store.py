import json
import os

import pytest

from gorilla_rag.corpus import CorpusError, read_corpus, write_corpus
from gorilla_rag.corpus.store import swap_in
from gorilla_rag.types import ApiDoc


def doc(i: int, source: str = "torchhub") -> ApiDoc:
    return ApiDoc(id=f"{source}:owner/repo:m{i}", source=source, domain="Classification", api_name=f"m{i}",
                  api_call=f"torch.hub.load('owner/repo', 'm{i}')")


def write_lines(path, lines):
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_every_bad_record_reported_with_file_and_line(tmp_path):
    good = json.dumps(doc(1).to_dict()).encode()
    write_lines(tmp_path / "torchhub.jsonl", [
        good,
        b"{not json",
        b"\xff\xfe bad bytes",
        json.dumps({**doc(2).to_dict(), "source": "npm"}).encode(),
        good,
        json.dumps({**doc(3).to_dict(), "api_call": ""}).encode(),
        b"[1, 2]",
    ])
    with pytest.raises(CorpusError) as caught:
        read_corpus(tmp_path)
    problems = caught.value.problems
    where = [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in problems]
    assert where == ["2", "3", "4", "5", "6", "7"]
    assert "malformed JSON" in problems[0] and "not UTF-8" in problems[1] and "unknown source" in problems[2]
    assert "duplicate id" in problems[3] and "torchhub.jsonl:1" in problems[3]
    assert all(str(tmp_path / "torchhub.jsonl") in p for p in problems)


def test_missing_or_empty_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="no such corpus"):
        read_corpus(tmp_path / "nowhere")
    with pytest.raises(CorpusError, match="no .jsonl"):
        read_corpus(tmp_path)


def test_write_replaces_only_the_written_sources(tmp_path):
    target = tmp_path / "current"
    write_corpus(target, [doc(1), doc(2, "tfhub")], {"torchhub": {"origin": "a"}, "tfhub": {"origin": "b"}})
    write_corpus(target, [doc(5)], {"torchhub": {"origin": "c"}})
    ids = sorted(d.id for d in read_corpus(target))
    assert ids == ["tfhub:owner/repo:m2", "torchhub:owner/repo:m5"]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["sources"]["torchhub"]["origin"] == "c" and manifest["count"] == 2
    assert target.is_symlink() and len([p for p in tmp_path.iterdir() if p.name.startswith(".current.v")]) == 1


def test_failed_write_leaves_the_old_corpus(tmp_path, monkeypatch):
    target = tmp_path / "current"
    write_corpus(target, [doc(1)], {"torchhub": {}})
    monkeypatch.setattr("gorilla_rag.corpus.store.swap_in", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_corpus(target, [doc(9)], {"torchhub": {}})
    assert [d.id for d in read_corpus(target)] == ["torchhub:owner/repo:m1"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".current.v") and p.resolve() != target.resolve()]


def test_swap_retires_a_hand_made_folder(tmp_path):
    target = tmp_path / "x"
    target.mkdir()
    (target / "old").write_text("old")
    staging = tmp_path / ".x.vnew"
    staging.mkdir()
    (staging / "new").write_text("new")
    swap_in(staging, target)
    assert (target / "new").read_text() == "new" and not (target / "old").exists()
    assert os.readlink(target) == ".x.vnew"
