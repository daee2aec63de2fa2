from dataclasses import FrozenInstanceError, replace

import pytest

from gorilla_rag.types import ApiDoc


def make(**changes):
    base = dict(id="torchhub:pytorch/vision:resnet50", source="torchhub", domain="Classification",
                api_name="resnet50", api_call="torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)",
                arguments={"pretrained": "True"}, metrics={"top1": 76.1})
    base.update(changes)
    return ApiDoc(**base)


def test_round_trip_keeps_every_field():
    doc = make(requirements=("torch", "torchvision"), extra={"dataset": "ImageNet"})
    again = ApiDoc.from_dict(doc.to_dict())
    assert again == doc and again.content_hash == doc.content_hash


def test_hash_follows_content_not_identity():
    doc = make()
    assert make(id="other").content_hash == doc.content_hash
    assert make(description="new words").content_hash != doc.content_hash
    assert make(metrics={"top1": 76.2}).content_hash != doc.content_hash


def test_frozen_and_unknown_fields_refused():
    doc = make()
    with pytest.raises(FrozenInstanceError):
        doc.domain = "x"  # type: ignore[misc]
    assert replace(doc, domain="x").domain == "x"
    with pytest.raises(ValueError, match="unknown fields"):
        ApiDoc.from_dict({**doc.to_dict(), "surprise": 1})
