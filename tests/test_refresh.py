"""corpus refresh: diff, incremental index update (vs a full rebuild), generations, the CLI, and kill -9 anywhere."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gorilla_rag import settings
from gorilla_rag.corpus.store import fingerprint, read_corpus, write_corpus
from gorilla_rag.indexing import build_index, open_index
from gorilla_rag.refresh import REFRESH_DIR, RefreshError, _lock, diff_docs, refresh
from gorilla_rag.retrieval.incremental import stable_order
from gorilla_rag.types import ApiDoc

FIXTURE_PAGES = Path(__file__).parent / "scrapers" / "fixtures" / "torchhub"
TRANSLATE_PAGE = """---
layout: hub_detail
title: Acme Translate
summary: Translate English text into French or German
tags: [nlp]
github-id: acme/translate
---

```python
en2fr = torch.hub.load('acme/translate', 'en_fr', beam=5)
en2de = torch.hub.load('acme/translate', 'en_de', beam=5)
```
"""


def doc(i, text="x"):
    return ApiDoc(id=f"torchhub:a/b:m{i}", source="torchhub", domain="d", api_name=f"m{i}",
                  api_call=f"torch.hub.load('a/b', 'm{i}')", description=text)


def pages_v1(tmp_path):
    pages = tmp_path / "pages-v1"
    if not pages.exists():
        shutil.copytree(FIXTURE_PAGES, pages)
    return pages


def pages_v2(tmp_path, tag="Depth maps from a single photo"):
    """v1 with the depth page's summary changed (3 docs) and a new page (2 docs)."""
    pages = tmp_path / f"pages-{abs(hash(tag))}"
    if pages.exists():
        return pages
    shutil.copytree(FIXTURE_PAGES, pages)
    depth = pages / "acme_depth_dpt.md"
    depth.write_text(depth.read_text().replace("Relative depth from one image", tag))
    (pages / "acme_translate.md").write_text(TRANSLATE_PAGE)
    return pages


def test_diff_docs_by_id_and_content_hash():
    old = [doc(1), doc(2), doc(3)]
    new = [doc(1), doc(2, "edited"), doc(4)]
    diff = diff_docs("torchhub", old, new)
    assert (diff.added, diff.changed, diff.removed, diff.unchanged, diff.count) == (
        ["torchhub:a/b:m4"], ["torchhub:a/b:m2"], ["torchhub:a/b:m3"], 1, 3)


@given(st.lists(st.integers(0, 30), unique=True), st.lists(st.integers(0, 30), unique=True))
def test_stable_order_keeps_surviving_positions_except_the_moved_tail(old_ids, new_ids):
    old, new = [doc(i) for i in old_ids], [doc(i) for i in new_ids]
    ordered, moved = stable_order(old, new)
    assert sorted(d.id for d in ordered) == sorted(d.id for d in new)
    old_pos = {d.id: i for i, d in enumerate(old)}
    kept = [d.id for i, d in enumerate(ordered) if d.id in old_pos and old_pos[d.id] == i]
    survivors = [d.id for d in new if d.id in old_pos]
    assert len(survivors) - len(kept) == moved
    added, removed = len(set(new_ids) - set(old_ids)), len(set(old_ids) - set(new_ids))
    assert moved <= max(0, removed - added)


@pytest.mark.slow
def test_update_index_embeds_only_changed_text_and_matches_a_full_build(tmp_path, seed_docs):
    from gorilla_rag.indexing import stale_reranker
    from gorilla_rag.retrieval import Index
    from gorilla_rag.retrieval.embedder import Embedder
    from gorilla_rag.retrieval.incremental import update_index
    from gorilla_rag.retrieval.rerank import FEATURES, RERANKER_FILE, Reranker

    old_docs = seed_docs[:30]
    previous = Index.build(old_docs, tmp_path / "old", Embedder())
    ones = np.ones(len(FEATURES))
    Reranker(previous, ones, 0.0, 0 * ones, ones).save(previous.folder / RERANKER_FILE,  # a shipped re-scorer
                                                       {"corpus_fingerprint": previous.manifest["fingerprint"]})
    changed = [ApiDoc.from_dict({**d.to_dict(), "description": d.description + " Now faster.", "content_hash": ""})
               for d in old_docs[5:7]]
    metadata_only = ApiDoc.from_dict({**old_docs[8].to_dict(), "extra": {"sha": "new"}, "content_hash": ""})
    new_docs = old_docs[:5] + changed + [old_docs[7], metadata_only] + old_docs[9:25] + seed_docs[40:42]
    stats = update_index(new_docs, tmp_path / "new", previous, corpus_path=tmp_path / "corpus")
    assert (stats.count, stats.embedded, stats.reused, stats.removed, stats.full) == (27, 4, 23, 5, False)
    updated = Index.load(tmp_path / "new")
    assert updated.manifest["update"]["embedded"] == 4 and updated.manifest["fingerprint"] == fingerprint(new_docs)
    assert updated.reranker is not None and updated.search("translate English to French", k=3, retriever="rerank")
    # it still serves, but index info and the refresh report say it was fitted on other docs
    assert stale_reranker(previous.folder) is None and "train reranker" in stale_reranker(updated.folder)
    for position, d in enumerate(updated.docs[:25]):  # survivors keep their FAISS id (= position)
        if d.id in {x.id for x in old_docs[:25]}:
            assert previous.docs[position].id == d.id
    full = Index.build(new_docs, tmp_path / "full", Embedder())
    order = [full.docs.index(next(x for x in full.docs if x.id == d.id)) for d in updated.docs]
    assert np.allclose(updated.dense.vectors_for(range(len(updated.docs))), full.dense.vectors_for(order), atol=1e-5)
    for question in ("translate English to French", "detect objects in a photo", "speech to text"):
        assert [h.doc.id for h in updated.search(question, k=5, retriever="hybrid")] == \
            [h.doc.id for h in full.search(question, k=5, retriever="hybrid")]
        assert updated.best_similarity(question) == pytest.approx(full.best_similarity(question), abs=1e-3)
    # the task questions remembered follow the new docs, as a full build's do
    assert updated.manifest["task_memory"] == full.manifest["task_memory"] == len(full.task_memory)
    assert "task_calibration" not in updated.manifest  # the bundled MiniLM keeps its measured defaults


def serving(home):
    """The fingerprint of what the home serves, after checking the corpus and index agree and answer."""
    index = open_index(home)  # refuses a stale or partial index
    assert fingerprint(read_corpus(settings.paths(home).active_corpus)) == index.manifest["fingerprint"]
    assert index.search("estimate depth from an image", k=1, retriever="bm25")
    return index.manifest["fingerprint"]


def scraped_fingerprint(pages, seed=True):
    """What a home serves after refreshing torchhub from `pages`: with `seed`, a fresh home, whose seed's other
    sources are carried over; else a home whose imported corpus had only torchhub."""
    from gorilla_rag.scrapers import get_scraper

    seed_others = [d for d in read_corpus(settings.seed_corpus_dir()) if d.source != "torchhub"] if seed else []
    return fingerprint(seed_others + get_scraper("torchhub", {}, str(pages)).scrape().docs)


@pytest.mark.slow
def test_refresh_writes_diffs_and_updates_incrementally(tmp_path):
    home = tmp_path / "home"
    first = refresh(["torchhub"], home=home, location=str(pages_v1(tmp_path)))
    assert first.written and first.diffs[0].count == 8 and len(first.diffs[0].added) == 8
    assert first.index.full and serving(home) == scraped_fingerprint(pages_v1(tmp_path))
    assert "torchhub: broken_page.md:3: front matter is not valid YAML" in "\n".join(first.warnings)
    again = refresh(["torchhub"], home=home, location=str(pages_v1(tmp_path)))
    assert not again.written and again.diffs[0].unchanged == 8
    before = sorted(p.name for p in (home / "indexes" / REFRESH_DIR).iterdir())
    dry = refresh(["torchhub"], home=home, location=str(pages_v2(tmp_path)), dry_run=True)
    assert not dry.written and len(dry.diffs[0].changed) == 3 and len(dry.diffs[0].added) == 2
    assert sorted(p.name for p in (home / "indexes" / REFRESH_DIR).iterdir()) == before
    update = refresh(["torchhub"], home=home, location=str(pages_v2(tmp_path)))
    seed_others = sum(d.source != "torchhub" for d in read_corpus(settings.seed_corpus_dir()))
    assert (update.index.embedded, update.index.reused, update.index.full) == (5, 5 + seed_others, False)
    assert serving(home) == scraped_fingerprint(pages_v2(tmp_path))
    assert sorted(p.name for p in (home / "indexes" / REFRESH_DIR).iterdir() if p.name != "lock") == \
        sorted(["live", os.readlink(home / "indexes" / REFRESH_DIR / "live")])  # the old generation is gone


@pytest.mark.slow
def test_refresh_links_a_home_written_by_import_and_keeps_other_sources(tmp_path, seed_docs):
    home = tmp_path / "home"
    corpus = settings.paths(home).active_corpus
    others = [d for d in seed_docs if d.source != "torchhub"]
    write_corpus(corpus, others + [d for d in seed_docs if d.source == "torchhub"][:3], {})
    build_index(home)
    old_folders = {corpus.resolve(), settings.paths(home).index().resolve()}
    report = refresh(["torchhub"], home=home, location=str(pages_v1(tmp_path)))
    assert len(report.diffs[0].removed) == 3 and report.index.reused == len(others)
    assert {d.source for d in read_corpus(corpus)} == {"huggingface", "tfhub", "torchhub"}
    assert serving(home) and not any(p.exists() for p in old_folders)  # store-written versions retired
    assert os.readlink(corpus) == "../indexes/.refresh/live/corpus"


@pytest.mark.slow
def test_a_scrape_that_would_empty_or_gut_a_source_is_refused(tmp_path):
    home = tmp_path / "home"
    empty = tmp_path / "empty-pages"
    empty.mkdir()
    (empty / "notes.md").write_text("no hub pages here\n")
    with pytest.raises(RefreshError, match="torchhub: the scrape found 0 docs and would remove 24 .*--allow-removals"):
        refresh(["torchhub"], home=home, location=str(empty))
    assert not settings.paths(home).active_corpus.exists()  # nothing written
    dry = refresh(["torchhub"], home=home, location=str(empty), dry_run=True)
    assert any("would remove 24" in w for w in dry.warnings)
    refresh(["torchhub"], home=home, location=str(pages_v1(tmp_path)))  # from the seed: replacing it is expected
    few = tmp_path / "few-pages"
    few.mkdir()
    shutil.copy(pages_v1(tmp_path) / "acme_depth_dpt.md", few)
    with pytest.raises(RefreshError, match="would remove"):  # 8 docs → 3 in an imported corpus: refused
        refresh(["torchhub"], home=home, location=str(few))
    forced = refresh(["torchhub"], home=home, location=str(few), allow_removals=True)
    assert forced.written and forced.diffs[0].count == 3 and any("would remove" in w for w in forced.warnings)


def test_a_second_refresh_is_refused_while_one_runs(tmp_path):
    with _lock(settings.paths(tmp_path)), pytest.raises(RefreshError, match="another `gorilla-rag corpus refresh`"):
        refresh(["torchhub"], home=tmp_path, location=str(FIXTURE_PAGES))


def test_bad_arguments_are_clear(tmp_path):
    with pytest.raises(ValueError, match="exactly one SOURCE"):
        refresh(["torchhub", "tfhub"], home=tmp_path, location="x")
    with pytest.raises(ValueError, match="unknown source 'npm'"):
        refresh(["npm"], home=tmp_path)


def cli(*args, home):
    env = {**os.environ, "GORILLA_RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "gorilla_rag.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_cli_dry_run_prints_the_diff_and_writes_nothing(tmp_path):
    result = cli("corpus", "refresh", "torchhub", "--from", str(FIXTURE_PAGES), "--dry-run", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] and not report["written"] and len(report["sources"][0]["added"]) == 8
    assert "dry run: nothing written" in result.stderr and "broken_page.md:3" in result.stderr
    assert not (tmp_path / "api_corpus").exists() and not (tmp_path / "indexes").exists()
    text = cli("corpus", "refresh", "torchhub", "--from", str(FIXTURE_PAGES), "--dry-run", home=tmp_path)
    # a fresh home starts from the seed: its 24 hand-written TorchHub docs would be replaced
    assert text.stdout.startswith("torchhub: 8 docs: 8 added, 0 changed, 24 removed, 0 unchanged\n  + torchhub:acme/")
    bad = cli("corpus", "refresh", "torchhub", "--from", str(tmp_path / "nowhere"), home=tmp_path)
    assert bad.returncode == 2 and "nowhere: no such folder, archive or URL" in bad.stderr


KILL_AT_STAGE = """
import os, signal, sys
from gorilla_rag.refresh import refresh
stage, pages = sys.argv[1], sys.argv[2]
def hook(name):
    if name == stage:
        os.kill(os.getpid(), signal.SIGKILL)
refresh(["torchhub"], location=pages, on_stage=hook)
"""


def kill_at(stage, pages, home):
    env = {**os.environ, "GORILLA_RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", KILL_AT_STAGE, stage, str(pages)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr


def pages_metrics_only(tmp_path):
    """v1 with one table number changed: a changed doc whose dense text (so its vector) stays the same."""
    pages = tmp_path / "pages-metrics"
    if not pages.exists():
        shutil.copytree(FIXTURE_PAGES, pages)
        page = pages / "acme_vision_acmenet.md"
        page.write_text(page.read_text().replace("30.50", "29.75"))
    return pages


@pytest.mark.slow
def test_kill_9_at_any_point_leaves_a_whole_corpus_and_index_serving(tmp_path):
    home = tmp_path / "home"
    v1, v2, v3 = pages_v1(tmp_path), pages_metrics_only(tmp_path), pages_v2(tmp_path)
    fp1, fp2, fp3 = scraped_fingerprint(v1), scraped_fingerprint(v2), scraped_fingerprint(v3)
    refresh(["torchhub"], home=home, location=str(v1))
    assert serving(home) == fp1
    for stage in ("scraped", "corpus-staged", "index-staged", "linked"):
        kill_at(stage, v2, home)
        assert serving(home) == fp1, stage  # killed before the flip: the old pair, whole
    kill_at("flipped", v2, home)
    assert serving(home) == fp2  # killed after the flip: the new pair, whole
    env = {**os.environ, "GORILLA_RAG_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    rng, codes = random.Random(7), []
    for delay in sorted(rng.uniform(0.5, 7.5) for _ in range(3)):  # kill at random moments of a real CLI run
        process = subprocess.Popen([sys.executable, "-m", "gorilla_rag.cli", "corpus", "refresh", "torchhub",
                                    "--from", str(v3)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        codes.append(process.wait(timeout=60))
        assert serving(home) in (fp2, fp3), delay
    assert -signal.SIGKILL in codes  # at least one run really was cut short
    report = refresh(["torchhub"], home=home, location=str(v3))  # a second run redoes the work cleanly
    assert serving(home) == fp3 and (report.written or report.diffs[0].unchanged == 10)
    leftovers = sorted(p.name for p in (home / "indexes" / REFRESH_DIR).iterdir())
    assert leftovers == sorted(["live", "lock", os.readlink(home / "indexes" / REFRESH_DIR / "live")])


@pytest.mark.slow
def test_kill_9_while_linking_a_home_written_the_old_way(tmp_path):
    from gorilla_rag.scrapers import get_scraper

    home = tmp_path / "home"
    docs = get_scraper("torchhub", {}, str(pages_v1(tmp_path))).scrape().docs
    write_corpus(settings.paths(home).active_corpus, docs, {})
    build_index(home)
    before = {settings.paths(home).active_corpus.resolve(), settings.paths(home).index().resolve()}
    kill_at("linked", pages_metrics_only(tmp_path), home)  # nothing to embed: the child never loads the model
    assert serving(home) == fingerprint(docs)  # linked now, still the old content
    assert os.readlink(settings.paths(home).index()) == ".refresh/live/index"
    assert not any(p.exists() for p in before)
    refresh(["torchhub"], home=home, location=str(pages_metrics_only(tmp_path)))
    assert serving(home) == scraped_fingerprint(pages_metrics_only(tmp_path), seed=False)
