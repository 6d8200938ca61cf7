"""The first law in the corners: every field a request sends, every form a value takes,
every failure on the way, and nothing personal in errors, reprs or telemetry."""

from __future__ import annotations

import json

import pytest

from router import (
    Backend,
    FakeBackend,
    InvalidRequest,
    NoRouteAvailable,
    RouterError,
    parse_request,
)
from router.backends.base import make_chunk
from router.completion import DeltaFunction, DeltaToolCall
from router.observe import RequestContext
from tests.helpers import policy, router_with

EMAIL = "jane.doe@example.com"
SSN = "123-45-6789"


def cloud(**kw) -> FakeBackend:
    return FakeBackend("cloud", tier="proprietary", zone="remote", **kw)


def sent(backend: FakeBackend) -> str:
    """Everything the backend received, serialised as it would go on the wire."""
    return "\n".join(r.model_dump_json(exclude_none=True, by_alias=True) for r in backend.requests)


TOOL = {
    "type": "function",
    "function": {
        "name": "notify",
        "description": f"Notify {EMAIL} when done",
        "parameters": {"type": "object"},
    },
}
ELSEWHERE = [
    ("stop", {"stop": [EMAIL]}, [{"role": "user", "content": "Write a note."}]),
    ("tools", {"tools": [TOOL]}, [{"role": "user", "content": "Write a note."}]),
    ("name", {}, [{"role": "user", "name": "jane.doe@example.com", "content": "Write a note."}]),
    (
        "refusal",
        {},
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "refusal": f"I cannot email {EMAIL}"},
            {"role": "user", "content": "Write a note."},
        ],
    ),
    (
        "response_format",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": {"description": f"for {EMAIL}"}},
            }
        },
        [{"role": "user", "content": "Write a note."}],
    ),
]


@pytest.mark.parametrize(("where", "params", "messages"), ELSEWHERE, ids=[e[0] for e in ELSEWHERE])
def test_data_outside_the_messages_is_classified_and_kept_local(where, params, messages) -> None:
    remote = cloud()
    r = router_with([remote], complexity=0.95)
    assert "email" in r.classify(messages, **params).data_classes
    with pytest.raises(NoRouteAvailable):
        r.chat(messages, **params)
    assert remote.calls == 0


@pytest.mark.parametrize(("where", "params", "messages"), ELSEWHERE, ids=[e[0] for e in ELSEWHERE])
def test_data_outside_the_messages_is_redacted_for_remote_backends(where, params, messages):
    remote = cloud()
    r = router_with([remote], policy("privacy: {email: redact}"), complexity=0.95)
    r.chat(messages, team="team", **params)
    assert EMAIL not in sent(remote) and "[EMAIL_1]" in sent(remote)


VARIANTS = [
    (
        "person",
        "Alice Johnson called.",
        "Later alice johnson wrote, and Alice agreed.",
        ["Alice", "alice", "Johnson"],
    ),
    ("ssn", f"SSN {SSN}.", "Again: 123 45 6789 and 123456789.", ["6789"]),
    ("email", f"Mail {EMAIL}.", "Or JANE.DOE@EXAMPLE.COM please.", ["JANE.DOE", "jane.doe"]),
]


@pytest.mark.parametrize(
    ("cls", "first", "second", "forbidden"), VARIANTS, ids=[v[0] for v in VARIANTS]
)
def test_other_forms_of_a_redacted_value_are_redacted_too(cls, first, second, forbidden):
    remote = cloud()
    r = router_with([remote], policy(f"privacy: {{{cls}: redact}}"), complexity=0.95)
    r.chat(
        [
            {"role": "user", "content": first},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": second},
        ],
        team="team",
    )
    body = sent(remote)
    for piece in forbidden:
        assert piece not in body


@pytest.mark.parametrize("hidden", ["jane.doe%40example.com", "jane.doe\\u0040example.com"])
def test_encoded_forms_trip_the_guard_instead_of_leaving(hidden: str) -> None:
    remote = cloud()
    r = router_with([remote], policy("privacy: {email: redact}"), complexity=0.95)
    messages = [
        {"role": "user", "content": f"Mail {EMAIL}"},
        {"role": "user", "content": f"Tool result: {hidden}"},
    ]
    with pytest.raises(RouterError):
        r.chat(messages, team="team")
    assert remote.calls == 0


def test_revalidated_parameters_and_nothing_held_after_a_bad_call() -> None:
    tp = policy("cost: {daily_budget_usd: 0.01}")
    r = router_with([cloud(price=None)], tp, complexity=0.95)
    req = parse_request("hello")
    for _ in range(5):
        with pytest.raises(InvalidRequest) as info:
            r.chat(req, team="team", temperature=9.0)
        assert info.value.field == "temperature"
    assert r.chat("hello", team="team").route.backend == "cloud"  # no budget or slot leaked


def test_unexpected_backend_exceptions_are_typed_and_not_chained() -> None:
    class Leaky(FakeBackend):
        def chat(self, request, *, timeout=None, headers=None):
            raise ValueError(f"template failed on: {request.messages[-1].text()}")

    r = router_with([Leaky("leaky"), FakeBackend("ok", tier="large")])
    resp = r.chat(f"Mail {EMAIL}")
    failed = resp.route.attempts[0]
    assert failed.error_type == "ServerError" and EMAIL not in (failed.error or "")

    r2 = router_with([Leaky("leaky")])
    with pytest.raises(RouterError) as info:
        r2.chat(f"Mail {EMAIL}")
    chain, exc = [], info.value
    while exc is not None:
        chain.append(str(exc))
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    assert EMAIL not in "\n".join(chain)


class ToolStreamer(Backend):
    """Streams a tool call whose arguments contain a placeholder split across chunks."""

    def __init__(self) -> None:
        from router.config import BackendSpec, Capabilities

        super().__init__(
            BackendSpec(
                name="cloud",
                tier="proprietary",
                zone="remote",
                kind="fake",
                model="m",
                capabilities=Capabilities(tools=True),
            )
        )

    def stream(self, request, *, timeout=None, headers=None):
        def call(args: str) -> DeltaToolCall:
            return DeltaToolCall(index=0, function=DeltaFunction(arguments=args))

        first = make_chunk("c", "m", role="assistant")
        first.choices[0].delta.tool_calls = [
            DeltaToolCall(
                index=0, id="call_1", type="function", function=DeltaFunction(name="send")
            )
        ]
        yield first
        for piece in ['{"to": "[EMA', 'IL_1]"}']:
            chunk = make_chunk("c", "m", content=None, finish_reason=None)
            chunk = make_chunk("c", "m", role="assistant")
            chunk.choices[0].delta.tool_calls = [call(piece)]
            yield chunk
        last = make_chunk("c", "m", content="Sent to [EMA")
        yield last
        yield make_chunk("c", "m", content="IL_1]", finish_reason="stop")


def test_streamed_tool_arguments_and_the_tail_are_restored_before_the_finish() -> None:
    r = router_with([ToolStreamer()], policy("privacy: {email: redact}"), complexity=0.95)
    chunks = list(
        r.stream(
            f"Send it to {EMAIL}",
            team="team",
            tools=[{"type": "function", "function": {"name": "send"}}],
        )
    )
    args = "".join(
        tc.function.arguments or ""
        for c in chunks
        for ch in c.choices
        for tc in ch.delta.tool_calls or ()
        if tc.function
    )
    assert json.loads(args) == {"to": EMAIL}
    finish = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].finish_reason)
    text_before = "".join(c.text for c in chunks[: finish + 1])
    assert text_before == f"Sent to {EMAIL}"
    assert all(not c.text for c in chunks[finish + 1 :])  # nothing after the finish


def test_label_values_match_whatever_their_case() -> None:
    tp = policy(
        "labels: {sensitivity: {confidential: {privacy: local_only}, '*': {privacy: local_only}}}"
    )
    remote = cloud()
    r = router_with([remote, FakeBackend("local")], tp, complexity=0.95)
    for value in ("Confidential", " CONFIDENTIAL ", "secret-ish"):
        resp = r.chat("hello", team="team", labels={"Sensitivity": value})
        assert resp.route.zone == "local"
    assert remote.calls == 0


def test_invalid_request_messages_do_not_quote_the_request() -> None:
    cases = [
        ([{"role": f"user {SSN}", "content": "x"}], {}),
        ([{"role": "user", "content": [{"type": EMAIL}]}], {}),
        ("hi", {EMAIL: 1}),
    ]
    for messages, params in cases:
        with pytest.raises(InvalidRequest) as info:
            parse_request(messages, **params)
        assert SSN not in str(info.value) and EMAIL not in str(info.value)


@pytest.mark.parametrize(
    ("kw", "field"), [({"team": ["a"]}, "team"), ({"conversation_id": ["x"]}, "conversation_id")]
)
def test_wrong_types_of_router_arguments_are_typed_errors(kw, field) -> None:
    r = router_with([FakeBackend("local")])
    with pytest.raises(InvalidRequest) as info:
        r.chat("hi", **kw)
    assert info.value.field == field


def test_request_context_repr_does_not_show_the_prompt() -> None:
    from router.policy.load import builtin_default

    ctx = RequestContext(
        team=builtin_default(),
        stream=False,
        started=0.0,
        request=parse_request(f"Mail {EMAIL}"),
        params={"stop": [EMAIL]},
    )
    assert EMAIL not in repr(ctx)


def test_placeholder_text_the_caller_wrote_is_left_as_written() -> None:
    """A caller's own "[EMAIL_1]" must not become the redacted address in the answer."""
    remote = cloud(reply="Template [EMAIL_1] goes to [EMAIL_2].")
    r = router_with([remote], policy("privacy: {email: redact}"), complexity=0.95)
    resp = r.chat(f"Fill the template [EMAIL_1] and send it to {EMAIL}.", team="team")
    body = sent(remote)
    assert EMAIL not in body and "[EMAIL_2]" in body
    assert resp.text == f"Template [EMAIL_1] goes to {EMAIL}."


def split(first: str, second: str) -> list[dict]:
    """One user message whose two text parts a model reads as one text."""
    parts = [{"type": "text", "text": first}, {"type": "text", "text": second}]
    return [{"role": "user", "content": parts}]


SPLIT_VALUES = [  # (class, first part, second part, the value as the model reads it)
    ("email", "Please write to jane.doe@", "example.com about the invoice.", EMAIL),
    ("phone", "Call me on +1 415 555", " 0123 after six.", "+1 415 555 0123"),
    ("ssn", "My SSN is 123-45-", "6789, keep it safe.", SSN),
]


@pytest.mark.parametrize(
    ("cls", "first", "second", "whole"), SPLIT_VALUES, ids=[v[0] for v in SPLIT_VALUES]
)
def test_a_value_split_between_content_parts_is_found_whole(cls, first, second, whole) -> None:
    r = router_with([cloud()], complexity=0.95)
    request = parse_request(split(first, second))
    found = [d for d in r.classify(split(first, second)).detections if d.data_class == cls]
    assert found, f"{cls} split between parts was not detected"
    text = request.messages[0].text()
    # the span covers the whole value, across the newline that joins the parts
    assert text[found[0].start : found[0].end].replace("\n", "") == whole


@pytest.mark.parametrize(
    ("cls", "first", "second", "whole"), SPLIT_VALUES, ids=[v[0] for v in SPLIT_VALUES]
)
def test_a_split_value_never_reaches_a_remote_backend(cls, first, second, whole) -> None:
    remote = cloud()
    local = FakeBackend("local", tier="small", reply="done")
    with pytest.raises(NoRouteAvailable):
        router_with([remote], complexity=0.95).chat(split(first, second))
    # Redaction cannot replace a value no single part holds: the guard refuses the remote
    # attempt and the request falls back to the local backend.
    r = router_with([remote, local], policy(f"privacy: {{{cls}: redact}}"), complexity=0.95)
    resp = r.chat(split(first, second), team="team")
    assert remote.calls == 0 and resp.route.backend == "local"
    assert resp.route.attempts[0].error_type == "PrivacyGuardTripped"
