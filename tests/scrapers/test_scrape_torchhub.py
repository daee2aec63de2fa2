"""The PyTorch Hub scraper on hand-written pages (tests/scrapers/fixtures/torchhub) and, if present, the real ones."""

import io
import shutil
import tarfile

import pytest
from support import FIXTURES, Reply, assert_ids_verify, by_id, real_source

from gorilla_rag.scrapers import get_scraper
from gorilla_rag.scrapers.torchhub import parse_hubconf

PAGES = FIXTURES / "torchhub"


@pytest.fixture(scope="module")
def scraped():
    return get_scraper("torchhub", {}, str(PAGES)).scrape()


def test_one_doc_per_entry_point_including_commented_and_multiline_variants(scraped):
    assert sorted(by_id(scraped.docs)) == [
        "torchhub:acme/depth:Depth_Large", "torchhub:acme/depth:Depth_Small", "torchhub:acme/depth:transforms",
        "torchhub:acme/speech:acme_tts", "torchhub:acme/speech:acme_vocoder",
        "torchhub:acme/vision:acmenet101", "torchhub:acme/vision:acmenet18", "torchhub:acme/vision:acmenet50",
    ]
    doc = by_id(scraped.docs)["torchhub:acme/vision:acmenet101"]
    assert doc.api_call == "torch.hub.load('acme/vision:v1.2', 'acmenet101', pretrained=True)"
    assert doc.arguments == {"repo_or_dir": "'acme/vision:v1.2'", "model": "'acmenet101'", "pretrained": "True"}
    assert doc.example_code == f"import torch\nmodel = {doc.api_call}"  # a commented variant: synthesised
    first = by_id(scraped.docs)["torchhub:acme/vision:acmenet18"]
    assert "model.eval()" in first.example_code and first.api_call in first.example_code


def test_ids_match_what_the_normaliser_and_verifier_compute(scraped):
    assert_ids_verify(scraped.docs)


def test_page_metadata_domain_metrics_and_requirements(scraped):
    docs = by_id(scraped.docs)
    net = docs["torchhub:acme/vision:acmenet50"]
    assert net.domain == "Image Classification" and net.functionality == "AcmeNet"
    assert net.description == "Residual image classifiers pre-trained on ImageNet"
    assert net.metrics == {"top1": 76.0, "top5": 93.0, "params": 25600000.0}
    assert net.extra["repo"] == "acme/vision" and net.extra["ref"] == "v1.2" and net.extra["tags"] == ["vision",
                                                                                                         "scriptable"]
    assert docs["torchhub:acme/vision:acmenet101"].metrics == {}  # not in the table
    depth = docs["torchhub:acme/depth:Depth_Small"]
    assert depth.domain == "Depth Estimation" and depth.requirements == ("torch", "timm")
    assert depth.api_call == "torch.hub.load('acme/depth', 'Depth_Small')"  # from the commented alternative value


def test_an_entry_point_on_two_pages_belongs_to_the_page_named_after_it(scraped):
    docs = by_id(scraped.docs)
    tts, vocoder = docs["torchhub:acme/speech:acme_tts"], docs["torchhub:acme/speech:acme_vocoder"]
    assert tts.extra["page"] == "acme_speech_tts.md" and vocoder.extra["page"] == "acme_speech_vocoder.md"
    assert tts.api_call.endswith("precision='fp16')")
    assert tts.extra["variants"] == ["torch.hub.load('acme/speech:hub', 'acme_tts', precision='fp32')"]
    assert tts.domain == "Text-to-Speech"


def test_problems_are_warnings_naming_file_and_line(scraped):
    assert "broken_page.md:3: front matter is not valid YAML" in "\n".join(scraped.warnings)
    assert any(w.startswith("acme_speech_vocoder.md:14: torch.hub.load model is name") for w in scraped.warnings)
    assert not any("readme" in d.id for d in scraped.docs)  # README.md is not a model page


def test_the_github_archive_is_read_from_a_url(hub_server):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(PAGES, arcname="hub-master")
    hub_server.add("/pytorch/hub/archive.tar.gz", Reply(200, buffer.getvalue()))
    result = get_scraper("torchhub", {"location": f"{hub_server.url}/pytorch/hub/archive.tar.gz"}).scrape()
    assert result.docs == get_scraper("torchhub", {}, str(PAGES)).scrape().docs
    assert result.origin["location"].endswith("archive.tar.gz") and result.origin["sha256"]


HUBCONF = '''
dependencies = ["torch"]
from torch.hub import load_state_dict_from_url
from acme.models import acmenet18, acmenet50, acmenet152
from acme.models import AcmeNet


def acmenet101(pretrained=False, **kwargs):
    """AcmeNet-101 from "Residual Acme Networks".

    Args:
        pretrained: load ImageNet weights.
    """


def _private():
    pass
'''


def test_parse_hubconf_reads_entry_points_without_running_it():
    points = parse_hubconf(HUBCONF)
    assert set(points) == {"acmenet18", "acmenet50", "acmenet152", "acmenet101"}
    assert points["acmenet101"][0].startswith("AcmeNet-101 from") and points["acmenet101"][1] is True
    with pytest.raises(SyntaxError):
        parse_hubconf("def broken(:\n")


def test_hubconf_adds_docstrings_and_unlisted_entry_points(hub_server):
    hub_server.add("/acme/vision/v1.2/hubconf.py", Reply(200, HUBCONF))
    hub_server.add("/acme/speech/hub/hubconf.py", Reply(200, "def acme_tts(:\n"))
    options = {"hubconf_url": hub_server.url + "/{repo}/{ref}/hubconf.py", "backoff_s": 0.01, "retries": 0}
    result = get_scraper("torchhub", options, str(PAGES)).scrape()
    docs = by_id(result.docs)
    assert docs["torchhub:acme/vision:acmenet101"].extra["docstring"].startswith("AcmeNet-101")
    extra = docs["torchhub:acme/vision:acmenet152"]
    assert extra.api_call == "torch.hub.load('acme/vision:v1.2', 'acmenet152')" and extra.extra["from_hubconf"]
    assert extra.description == "Entry point acmenet152 of acme/vision (from its hubconf.py)."
    warnings = "\n".join(result.warnings)
    assert "/acme/speech/hub/hubconf.py:1: hubconf.py does not parse" in warnings
    assert "/acme/depth/HEAD/hubconf.py: no hubconf.py" in warnings


def test_changing_a_page_changes_only_its_docs(tmp_path, scraped):
    pages = tmp_path / "pages"
    shutil.copytree(PAGES, pages)
    text = (pages / "acme_depth_dpt.md").read_text().replace("Relative depth from one image", "Depth maps")
    (pages / "acme_depth_dpt.md").write_text(text)
    again = by_id(get_scraper("torchhub", {}, str(pages)).scrape().docs)
    changed = {i for i, d in by_id(scraped.docs).items() if again[i].content_hash != d.content_hash}
    assert changed == {"torchhub:acme/depth:Depth_Large", "torchhub:acme/depth:Depth_Small",
                       "torchhub:acme/depth:transforms"}


def test_the_real_pytorch_hub_pages():
    result = get_scraper("torchhub", {}, str(real_source("pytorch-hub"))).scrape()
    docs = by_id(result.docs)
    assert len(docs) >= 100 and not result.warnings
    assert {"torchhub:pytorch/vision:resnet50", "torchhub:ultralytics/yolov5:yolov5s",
            "torchhub:snakers4/silero-vad:silero_vad", "torchhub:intel-isl/midas:MiDaS_small"} <= set(docs)
    assert docs["torchhub:pytorch/vision:resnet50"].metrics["top1"] == pytest.approx(76.15)
    assert_ids_verify(result.docs)
