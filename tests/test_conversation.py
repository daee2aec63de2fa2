"""Reading a chat conversation as one question: follow-ups are read with the messages they follow up on."""

from __future__ import annotations

import pytest

from gorilla_rag.conversation import follows_up, read_conversation
from gorilla_rag.pipeline import MAX_QUESTION_CHARS


@pytest.mark.parametrize("text", [
    "now from TF Hub instead", "a smaller one, under 10M parameters", "make it smaller", "and from PyTorch Hub?",
    "what about one with top-1 above 80%", "same but in German", "under 10M parameters please", "TF Hub only",
    "Could you give me one from Hugging Face?", "use that one but from tfhub",
])
def test_follow_ups(text):
    assert follows_up(text)


@pytest.mark.parametrize("text", [
    "translate English text to French", "segment the people in a street photo", "depth estimation",
    "I want an image classifier under 10M parameters", "Load a pretrained ResNet-50 from PyTorch Hub",
    "sort a list in Python", "a translation model with good accuracy over 100 languages",
])
def test_requests_of_their_own(text):
    assert not follows_up(text)


def test_a_follow_up_is_asked_with_its_thread_and_later_constraints_win():
    asked = read_conversation(["translate English text to French",  # an older thread: not read
                               "classify images under 100M parameters from TF Hub", "make it under 10M parameters",
                               "and from PyTorch Hub instead"])
    assert asked.earlier == ("classify images under 100M parameters from TF Hub", "make it under 10M parameters")
    assert asked.question.startswith("classify images") and asked.question.endswith("from PyTorch Hub instead")
    assert (asked.stated.sources, asked.stated.max_params) == (("torchhub",), 10e6)


def test_a_new_request_is_asked_alone():
    asked = read_conversation(["translate English text to French", "segment the people in a street photo"])
    assert (asked.question, asked.earlier) == ("segment the people in a street photo", ())


def test_a_lone_follow_up_and_an_overlong_thread():
    assert read_conversation(["TF Hub only"]).earlier == ()
    long = "classify images " * 300  # 4,800 characters: over the question limit with the follow-up
    asked = read_conversation([long, "smaller please"])
    assert asked.question == "smaller please" and len(asked.question) <= MAX_QUESTION_CHARS
