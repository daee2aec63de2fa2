"""The PyTorch Hub scraper on hand-written pages (tests/scrapers/fixtures/torchhub) and, if present, the real ones."""

import io
import shutil
import tarfile

import pytest
from support import FIXTURES, Reply, assert_ids_verify, by_id, real_source

from gorilla_rag.scrapers import get_scraper
from gorilla_rag.scrapers.results import entry_metrics
from gorilla_rag.scrapers.torchhub import is_helper, parse_hubconf
from gorilla_rag.verify import Verifier

PAGES = FIXTURES / "torchhub"


@pytest.fixture(scope="module")
def scraped():
    return get_scraper("torchhub", {}, str(PAGES)).scrape()


def test_one_doc_per_entry_point_including_commented_and_multiline_variants(scraped):
    assert sorted(by_id(scraped.docs)) == [
        "torchhub:acme/depth:Depth_Hybrid", "torchhub:acme/depth:Depth_Large", "torchhub:acme/depth:Depth_Small",
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
    assert changed == {"torchhub:acme/depth:Depth_Hybrid", "torchhub:acme/depth:Depth_Large",
                       "torchhub:acme/depth:Depth_Small"}


def test_the_real_pytorch_hub_pages():
    result = get_scraper("torchhub", {}, str(real_source("pytorch-hub"))).scrape()
    docs = by_id(result.docs)
    assert len(docs) >= 100 and not result.warnings
    assert {"torchhub:pytorch/vision:resnet50", "torchhub:ultralytics/yolov5:yolov5s",
            "torchhub:snakers4/silero-vad:silero_vad", "torchhub:intel-isl/midas:MiDaS_small"} <= set(docs)
    assert docs["torchhub:pytorch/vision:resnet50"].metrics["top1"] == pytest.approx(76.15)
    assert_ids_verify(result.docs)
    # rows written another way than the entry point: all matched now
    assert docs["torchhub:facebookresearch/wsl-images:resnext101_32x8d_wsl"].metrics["top1"] == 82.2
    assert docs["torchhub:facebookresearch/semi-supervised-imagenet1k-models:resnet18_swsl"].metrics["top1"] == 73.4
    assert docs["torchhub:facebookresearch/semi-supervised-imagenet1k-models:resnet18_ssl"].metrics["top1"] == 72.8
    assert docs["torchhub:facebookresearch/pytorchvideo:x3d_s"].metrics["top1"] == 73.33
    assert docs["torchhub:huawei-noah/ghostnet:ghostnet_1x"].metrics == {"flops_g": 0.142, "top1": 73.98,
                                                                         "top5": 91.46}
    assert docs["torchhub:huawei-noah/efficient-ai-backbones:snnmlp_t"].metrics["top1"] == 81.88
    assert docs["torchhub:mit-han-lab/proxylessnas:proxyless_cpu"].metrics == {"top1": 75.3}
    assert docs["torchhub:pytorch/vision:shufflenet_v2_x1_0"].metrics["top1"] == pytest.approx(69.36)
    # helper entry points are no docs; the models they serve list them, and the pages' code still verifies
    assert not [i for i in docs if is_helper(i.rsplit(":", 1)[1])]
    ssd = docs["torchhub:nvidia/deeplearningexamples:nvidia_ssd"]
    assert ssd.extra["helpers"] == ["torch.hub.load('NVIDIA/DeepLearningExamples:torchhub', "
                                    "'nvidia_ssd_processing_utils')"]
    assert Verifier(result.docs).verify(ssd.example_code).status == "verified"


def test_helper_entry_points_are_no_docs_but_are_listed_on_their_models(scraped):
    docs = by_id(scraped.docs)
    assert "torchhub:acme/depth:transforms" not in docs
    for name in ("Depth_Hybrid", "Depth_Large", "Depth_Small"):
        assert docs[f"torchhub:acme/depth:{name}"].extra["helpers"] == ["torch.hub.load('acme/depth', 'transforms')"]
    assert "helpers" not in docs["torchhub:acme/vision:acmenet18"].extra
    code = "depth = torch.hub.load('acme/depth', 'Depth_Small')\ntf = torch.hub.load('acme/depth', 'transforms')"
    check = Verifier(scraped.docs).verify(code)
    assert check.status == "verified" and {d.id for c in check.calls for d in c.matched} >= {
        "torchhub:acme/depth:Depth_Small"}
    assert Verifier(scraped.docs).verify("torch.hub.load('acme/vision', 'transforms')").status == "hallucinated"


@pytest.mark.parametrize("name", ["nvidia_ssd_processing_utils", "nvidia_convnets_processing_utils",
                                  "nvidia_tts_utils", "nvidia_textprocessing_utils", "transforms", "tokenizer",
                                  "config"])
def test_helper_names(name):
    assert is_helper(name)


@pytest.mark.parametrize("name", ["nvidia_ssd", "DPT_Large", "modelForCausalLM", "resnet50", "silero_vad",
                                  "transformer.wmt19.en-de"])
def test_model_names_are_no_helpers(name):
    assert not is_helper(name)


def test_hubconf_helpers_get_no_doc(hub_server):
    hub_server.add("/acme/vision/v1.2/hubconf.py", Reply(200, HUBCONF + "\n\ndef acme_processing_utils():\n"
                                                                       "    return object()\n"))
    options = {"hubconf_url": hub_server.url + "/{repo}/{ref}/hubconf.py", "backoff_s": 0.01, "retries": 0}
    docs = by_id(get_scraper("torchhub", options, str(PAGES)).scrape().docs)
    assert "torchhub:acme/vision:acmenet152" in docs and "torchhub:acme/vision:acme_processing_utils" not in docs


RESULTS = """
| Model | #Parameters | FLOPS | Top-1 Acc. | Top-5 Acc. |
| ----- | ----------- | ----- | ---------- | ---------- |
| ResNeXt-101 32x8d  | 88M  | 16B | 82.2 | 96.4 |
| ResNeXt-101 32x16d | 193M | 36B | 84.2 | 97.2 |

| Architecture | Supervision | Top-1 Acc. |
| ------------ | ----------- | ---------- |
| ResNet-18 | semi-supervised        | 72.8 |
| ResNet-18 | semi-weakly supervised | 73.4 |

| arch | depth | frame length x sample rate | top 1 | top 5 |
| ---- | ----- | -------------------------- | ----- | ----- |
| X3D  | XS    | 4x12                       | 69.12 | 88.63 |
| X3D  | S     | 13x6                       | 73.33 | 91.27 |

| Model structure | FLOPs | Top-1 acc |
| --------------- | ----- | --------- |
| GhostNet 1.0x   | 142M  | 73.98     |
| SNNMLP Tiny     | 4.4G  | 81.88     |
| SNNMLP Small    | 8.5G  | 83.30     |
| [YOLO-P](https://example.org)(ours) | 1G | 76.5 |
| Mobile_Net-V2   | 0.3G  | 71.88     |

| Model structure | GPU Latency |
| --------------- | ----------- |
| proxylessnas_cpu | 5.1ms      |

| Model structure | Top-1 error |
| --------------- | ----------- |
| proxylessnas_cpu | 24.7       |
| proxylessnas_gpu | 24.9       |
"""
SIBLINGS = ("resnext101_32x8d_wsl", "resnext101_32x16d_wsl")


@pytest.mark.parametrize("model, siblings, expected", [
    ("resnext101_32x8d_wsl", SIBLINGS, {"params": 88e6, "flops_g": 16.0, "top1": 82.2, "top5": 96.4}),  # page suffix
    ("resnext101_32x16d_wsl", SIBLINGS, {"params": 193e6, "flops_g": 36.0, "top1": 84.2, "top5": 97.2}),
    ("resnet18_ssl", ("resnet18_ssl", "resnet18_swsl"), {"top1": 72.8}),  # suffix spelled by "semi-supervised"
    ("resnet18_swsl", ("resnet18_ssl", "resnet18_swsl"), {"top1": 73.4}),
    ("x3d_s", (), {"top1": 73.33, "top5": 91.27}),  # name over two columns
    ("ghostnet_1x", (), {"flops_g": 0.142, "top1": 73.98}),  # "1.0x"
    ("snnmlp_t", (), {"flops_g": 4.4, "top1": 81.88}),  # "Tiny"
    ("snnmlp_s", (), {"flops_g": 8.5, "top1": 83.3}),
    ("yolo_p", (), {"flops_g": 1.0, "top1": 76.5}),  # a link and an "(ours)" remark
    ("mobilenet_v2", (), {"flops_g": 0.3, "top1": 71.88}),  # case, "_" and "-"
    ("proxyless_cpu", (), {"top1": 75.3}),  # a latency table first, then the accuracy one
])
def test_results_rows_written_another_way_match_their_entry_point(model, siblings, expected):
    assert entry_metrics(RESULTS, model, siblings) == expected


def test_results_rows_that_match_loosely_but_not_uniquely_are_not_used():
    assert entry_metrics(RESULTS, "snnmlp_m") == {}  # no "SNNMLP M…" row
    assert entry_metrics(RESULTS, "resnext101_32x8d_v2") == {}  # not a suffix all the page's entry points share
    assert entry_metrics(RESULTS, "resnet18_xyz", ("resnet18_xyz", "resnet18_ssl")) == {}
    assert entry_metrics(RESULTS, "proxyless", ()) == {}  # fewer words than any row
    one = "| Model structure | Top-1 error |\n| --- | --- |\n| shufflenet_v2 | 30.64 |\n"
    assert entry_metrics(one, "shufflenet_v2_x1_0", ("shufflenet_v2_x1_0",)) == {"top1": 69.36}  # the page's model
    assert entry_metrics(one, "shufflenet_v2_x1_0", ("shufflenet_v2_x1_0", "shufflenet_v2_x2_0")) == {}
