import re
from dataclasses import replace

import pytest

from gorilla_rag.retrieval.constraints import Filters, canonical_source, merge, parse_constraints
from gorilla_rag.types import ApiDoc


def doc(source="torchhub", **metrics):
    return ApiDoc(id=f"{source}:x:{len(metrics)}", source=source, domain="Image Classification", api_name="x",
                  api_call="f()", metrics=metrics)


@pytest.mark.parametrize("question, max_params, min_top1, sources", [
    ("an image classifier with under 10M parameters", 10e6, None, ()),
    ("a model with fewer than 5 million parameters and top-1 above 80%", 5e6, 80.0, ()),
    ("I need top-1 accuracy of at least 75% on ImageNet", None, 75.0, ()),
    ("classify images with at least 0.8 accuracy", None, 80.0, ()),
    ("parameter count below 1.5B", 1.5e9, None, ()),
    ("less than 100M params using PyTorch Hub", 100e6, None, ("torchhub",)),
    ("an image model from TensorFlow Hub", None, None, ("tfhub",)),
    ("translate English text to French", None, None, ()),
    ("compare a TF Hub and a PyTorch Hub model", None, None, ()),  # two hubs named: no hub filter
    ("a translation model with good accuracy over 100 languages", None, None, ()),  # a count, not an accuracy
    ("high accuracy for more than 50 languages, top-1 above 70", None, 70.0, ()),
    ("top-1 accuracy above 80 on ImageNet", None, 80.0, ()),
    ("accuracy above 150", None, None, ()),
    ("a PyTorch Hub image classifier with top-5 accuracy above 91%", None, None, ("torchhub",)),
])
def test_parse_constraints(question, max_params, min_top1, sources):
    parsed = parse_constraints(question)
    assert (parsed.max_params, parsed.min_top1, parsed.sources) == (max_params, min_top1, sources)


def test_filters_exclude_docs_without_the_metric_and_use_accuracy_as_fallback():
    small, big, unknown = doc(params=3e6, top1=70.0), doc(params=60e6, top1=82.0), doc()
    assert [Filters(max_params=5e6).allows(d) for d in (small, big, unknown)] == [True, False, False]
    assert [Filters(min_top1=80).allows(d) for d in (small, big, unknown)] == [False, True, False]
    assert Filters(min_top1=90).allows(doc("huggingface", accuracy=93.0))


def test_failed_by_names_each_constraint_a_doc_fails_and_agrees_with_allows():
    small, big, unknown = doc(params=3e6, top1=70.0), doc(params=60e6, top1=82.0), doc("huggingface")
    filters = Filters.make("torchhub", max_params=5e6, min_top1=75, framework="tensorflow")
    assert filters.failed_by(big) == ["it does not run on TensorFlow", "it has 60,000,000 parameters"]
    assert filters.failed_by(small) == ["it does not run on TensorFlow", "its top-1 accuracy is 70%"]
    assert filters.failed_by(unknown) == ["it is on huggingface", "it does not run on TensorFlow",
                                          "its docs state no parameter count", "its docs state no top-1 accuracy"]
    for filters in (Filters(), Filters(max_params=5e6), Filters(min_top1=80), Filters.make("huggingface")):
        assert [not filters.failed_by(d) for d in (small, big, unknown)] == [filters.allows(d)
                                                                             for d in (small, big, unknown)]


def test_merge_prefers_explicit_filters():
    merged = merge(Filters.make("huggingface", max_params=1e6), parse_constraints("under 10M parameters on TF Hub"))
    assert merged.sources == ("huggingface",) and merged.max_params == 1e6
    assert "at most 1,000,000 parameters" in merged.describe()


def test_source_aliases():
    assert canonical_source("TensorFlowHub") == "tfhub" and canonical_source("hf") == "huggingface"
    with pytest.raises(ValueError, match="unknown source"):
        canonical_source("npm")


@pytest.mark.parametrize("given, percent", [(0.8, 80.0), (0.57, 57.0), (1, 100.0), (80, 80), (0, 0), (1.5, 1.5)])
def test_min_top1_fractions_are_read_as_percentages(given, percent):
    """Accuracies are stored in percent; a bound in (0, 1] is a fraction (as the question parser reads one),
    whether the Filters come from `make` (HTTP, MCP) or are built directly (the Python API)."""
    made, built = Filters.make(min_top1=given), Filters(min_top1=given)
    assert made.min_top1 == built.min_top1 == percent
    assert replace(made, domain="x").min_top1 == merge(made, Filters()).min_top1 == percent  # converted once only
    big = doc(top1=percent + 0.5)
    assert made.allows(big) and not made.allows(doc(top1=percent - 0.5))


@pytest.mark.parametrize("bounds, message", [
    ({"min_top1": 0.005}, "reads as a fraction, 0.5%"),
    ({"min_top1": 101}, "from 0 to 100 percent"),
    ({"min_top1": -3}, "from 0 to 100 percent"),
    ({"min_top1": float("nan")}, "from 0 to 100 percent"),
    ({"max_params": 0}, "max_params must be a number of parameters above 0"),
    ({"max_params": float("inf")}, "max_params must be"),
])
def test_out_of_range_bounds_are_refused(bounds, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Filters.make(**bounds)


def test_pipeline_reads_a_fraction_bound_as_the_percentage(seed_index):
    from gorilla_rag.pipeline import Pipeline

    pipe = Pipeline(seed_index)
    fraction = pipe.ask("classify images", filters=Filters.make("torchhub", min_top1=0.75))
    percent = pipe.ask("classify images", filters=Filters.make("torchhub", min_top1=75))
    assert fraction.status == "verified" and fraction.api.metrics["top1"] >= 75  # resnet50 or inception_v3
    assert all(hit.doc.metrics["top1"] >= 75 for hit in fraction.hits)  # 0.75% would let resnet18 (69.8) in
    assert (fraction.call, fraction.constraints) == (percent.call, percent.constraints)
    assert "top-1 accuracy at least 75%" in fraction.constraints


def test_what_the_given_filters_override_is_said(seed_index):
    from gorilla_rag.pipeline import Pipeline
    from gorilla_rag.retrieval.constraints import overridden

    assert overridden(Filters.make("torchhub"), parse_constraints("an image classifier from TensorFlow Hub")) \
        == "from tfhub"
    assert overridden(Filters.make("tfhub"), parse_constraints("an image classifier from TensorFlow Hub")) == ""
    assert overridden(Filters.make(max_params=5e6), parse_constraints("a classifier under 10M parameters")) \
        == "at most 10,000,000 parameters"
    assert overridden(Filters(), parse_constraints("a classifier under 10M parameters")) == ""  # merged, not dropped
    answer = Pipeline(seed_index).ask("an image classifier from TensorFlow Hub", source="torchhub")
    assert answer.api.source == "torchhub"  # the given source wins, and the answer says what it overrode
    assert "The question states (from tfhub), but the given filters override it." in answer.explanation
