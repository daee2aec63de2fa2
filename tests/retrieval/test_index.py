"""The real thing: bm25s, FAISS and the bundled MiniLM on the seed corpus."""

import json
import shutil

import pytest

from gorilla_rag.errors import IndexLoadError
from gorilla_rag.retrieval import Filters, Index
from gorilla_rag.retrieval.embedder import Embedder

pytestmark = pytest.mark.slow


def ids(hits):
    return [h.doc.id for h in hits]


@pytest.mark.parametrize("retriever", ["bm25", "dense", "hybrid"])
def test_each_retriever_finds_the_obvious_api(seed_index, retriever):
    hits = seed_index.search("translate English text into French", k=3, retriever=retriever)
    assert any("opus-mt-en-fr" in i or "wmt14.en-fr" in i or i.endswith("t5-small") for i in ids(hits))
    assert len(hits) == 3 and all(h.ranks for h in hits)


def test_hybrid_fuses_ranks_of_both(seed_index):
    hits = seed_index.search("depth estimation from a single image", k=5)
    assert hits[0].score >= hits[-1].score
    assert set(hits[0].ranks) <= {"bm25", "dense"} and hits[0].ranks


def test_filters_restrict_sources_and_metrics(seed_index):
    only_tf = seed_index.search("classify an image", k=5, filters=Filters.make("tensorflowhub"))
    assert {h.doc.source for h in only_tf} == {"tfhub"}
    small = seed_index.search("classify an image", k=10, filters=Filters(max_params=5e6))
    assert small and all(h.doc.metrics["params"] <= 5e6 for h in small)
    assert seed_index.search("classify", k=5, filters=Filters(min_top1=101)) == []


def test_reload_gives_identical_results(seed_index):
    again = Index.load(seed_index.folder)
    for retriever in ("bm25", "dense", "hybrid"):
        assert ids(again.search("speech recognition", 5, retriever)) == ids(seed_index.search("speech recognition", 5, retriever))


def copy_index(seed_index, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(seed_index.folder.resolve(), target)
    return target


def test_refuses_missing_partial_and_foreign_indexes(seed_index, tmp_path):
    with pytest.raises(IndexLoadError, match="index build"):
        Index.load(tmp_path / "nothing")
    partial = copy_index(seed_index, tmp_path)
    (partial / "index.json").unlink()
    with pytest.raises(IndexLoadError, match="incomplete"):
        Index.load(partial)
    shutil.rmtree(partial)
    foreign = copy_index(seed_index, tmp_path)
    manifest = json.loads((foreign / "index.json").read_text())
    (foreign / "index.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexLoadError, match="format_version 99"):
        Index.load(foreign)
    with pytest.raises(IndexLoadError, match="built with embedder"):
        Index.load(seed_index.folder, Embedder("some-other-model"))


def test_refuses_corrupt_parts(seed_index, tmp_path):
    docs = copy_index(seed_index, tmp_path)
    lines = (docs / "docs.jsonl").read_text().splitlines()
    (docs / "docs.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(IndexLoadError, match="does not match"):
        Index.load(docs)
    shutil.rmtree(docs)
    faiss_broken = copy_index(seed_index, tmp_path)
    (faiss_broken / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexLoadError, match="corrupt"):
        Index.load(faiss_broken)
    shutil.rmtree(faiss_broken)
    no_plain_bm25 = copy_index(seed_index, tmp_path)
    shutil.rmtree(no_plain_bm25 / "bm25" / "plain")
    with pytest.raises(IndexLoadError, match="corrupt.*plain.*index build"):
        Index.load(no_plain_bm25)


def test_interrupted_build_keeps_the_old_index(seed_index, seed_docs, tmp_path, monkeypatch):
    folder = tmp_path / "idx"
    Index.build(seed_docs[:10], folder)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("gorilla_rag.retrieval.index.DenseRetriever.build", boom)
    with pytest.raises(KeyboardInterrupt):
        Index.build(seed_docs, folder)
    assert len(Index.load(folder).docs) == 10
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".idx.v")] == [folder.resolve().name]


def test_int8_query_encoder_is_close_to_fp32_and_recorded(seed_docs, tmp_path):
    import numpy as np

    questions = ["translate English text into French", "find people in a street photo"]
    fp32 = Embedder().embed(questions)
    int8 = Embedder("all-MiniLM-L6-v2:int8").embed(questions)
    assert int8.shape == fp32.shape and (np.sum(fp32 * int8, axis=1) > 0.9).all()
    index = Index.build(seed_docs[:12], tmp_path / "q8", query_embedder=Embedder("all-MiniLM-L6-v2:int8"))
    assert Index.load(index.folder).manifest["embedder"]["query_encoder"] == "all-MiniLM-L6-v2:int8"
    assert Index.load(index.folder).search(questions[0], k=3)


def test_a_named_translation_direction_is_honoured_by_every_retriever(seed_docs, tmp_path):
    """Same words, opposite direction: the fr→en model must not answer "English to French"."""
    from dataclasses import replace

    en_fr = next(d for d in seed_docs if "opus-mt-en-fr" in d.api_call)
    fr_en = replace(en_fr, id="huggingface:Helsinki-NLP/opus-mt-fr-en", api_name="Helsinki-NLP/opus-mt-fr-en",
                    api_call=en_fr.api_call.replace("en-fr", "fr-en"),
                    description=en_fr.description.replace("English", "X").replace("French", "English").replace("X", "French"))
    index = Index.build([fr_en, *seed_docs], tmp_path / "directions")
    from gorilla_rag.retrieval.languages import doc_direction

    for retriever in ("bm25", "dense", "hybrid"):
        first = index.search("translate English text to French", k=3, retriever=retriever)[0].doc
        assert doc_direction(first) == ("en", "fr")  # opus-mt-en-fr or fairseq's wmt14.en-fr, never fr_en
        assert index.search("translate French text to English", k=3, retriever=retriever)[0].doc.id == fr_en.id


@pytest.mark.parametrize("where, option", [("indexes/default", "`gorilla-rag index build`"),
                                           ("indexes/small", "`gorilla-rag index build --name small`"),
                                           ("elsewhere/my-index", "--name {tmp}/elsewhere/my-index`")])
def test_the_rebuild_hint_builds_the_folder_that_is_broken(tmp_path, where, option):
    folder = tmp_path / where
    folder.mkdir(parents=True)
    (folder / "index.json").write_text("{broken")
    with pytest.raises(IndexLoadError) as refused:
        Index.load(folder)
    assert option.format(tmp=tmp_path) in str(refused.value)
    with pytest.raises(IndexLoadError, match="build one with"):
        Index.load(tmp_path / "indexes" / "nothing-here")
