"""No text makes extract_calls or Verifier.verify raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gorilla_rag.types import ApiDoc
from gorilla_rag.verify import Verifier, extract_calls, identify
from gorilla_rag.verify.verifier import SEVERITY

VERIFIER = Verifier(
    [
        ApiDoc(
            id="torchhub:acme/vision:tiny",
            source="torchhub",
            domain="Classification",
            api_name="tiny",
            api_call="torch.hub.load('acme/vision', 'tiny', pretrained=True)",
        ),
        ApiDoc(
            id="tfhub:acme/enc/1",
            source="tfhub",
            domain="Text embedding",
            api_name="enc",
            api_call="hub.KerasLayer('https://tfhub.dev/acme/enc/1')",
        ),
        ApiDoc(
            id="huggingface:acme/bert",
            source="huggingface",
            domain="Fill-Mask",
            api_name="acme/bert",
            api_call="pipeline('fill-mask', model='acme/bert')",
        ),
    ]
)

TOKENS = [
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "'''",
    "\\",
    "\\n",
    "\\'",
    '\\"',
    "\n",
    " ",
    ",",
    ":",
    "=",
    ".",
    "`",
    "```",
    "```python\n",
    "<<<api_call>>>:",
    "<<<code>>>:",
    "{'api_call': ",
    "'code': ",
    "#",
    "*",
    "**",
    "@",
    "f'{",
    "}'",
    "r'",
    "lambda",
    "def",
    "x",
    "hub",
    "torch.hub.load",
    "hub.load",
    "hub.KerasLayer",
    "pipeline",
    "AutoModel.from_pretrained",
    "model=",
    "task=",
    "repo_or_dir=",
    "handle=",
    "'acme/vision'",
    "'tiny'",
    "'https://tfhub.dev/acme/enc/1'",
    "'http://[::1'",
    "'fill-mask'",
    "'acme/bert'",
    "acme/bert",
    "model_id",
    "model_id = ",
    "--repo-id=",
    "mlagents-load-from-hf",
    "./run.sh",
    "é",
    "\x00",
    "\t",
    "0",
    "-1",
    "True",
    "None",
]

code_like = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
any_text = st.one_of(
    st.text(max_size=300), code_like, st.tuples(code_like, st.text(max_size=40)).map("".join)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text)
def test_extract_and_verify_never_raise(text):
    calls = extract_calls(text)
    assert isinstance(calls, list)
    for call in calls:
        assert isinstance(call.function, str) and call.function
        assert len(call.args) == len(call.arg_texts)
        identify(call)
    result = VERIFIER.verify(text)
    assert isinstance(result.to_dict(), dict)
    if result.status in ("no_api_call", "unparseable"):
        assert result.calls == () and result.matched == ()
        assert bool(result.syntax_errors) == (result.status == "unparseable")
        return
    # The text speaks with its worst call's voice; what each status promises about `matched` holds.
    assert result.calls and result.status == min((c.status for c in result.calls), key=SEVERITY.index)
    assert (result.status, result.call, result.key) in {(c.status, c.call, c.key) for c in result.calls}
    for check in result.calls:
        assert check.status in SEVERITY
        if check.status == "hallucinated":
            assert check.matched == ()
        elif check.status != "syntax_error":  # a broken call may or may not read as a corpus API
            assert check.matched
