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


def assert_found_and_kept_local(cls: str, messages, **params) -> None:  # type: ignore[no-untyped-def]
    """``cls`` is found in the request, and no remote backend is ever called with it."""
    remote = cloud()
    r = router_with([remote], complexity=0.95)
    assert cls in r.classify(messages, **params).data_classes
    with pytest.raises(NoRouteAvailable):
        r.chat(messages, **params)
    assert remote.calls == 0


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
    assert_found_and_kept_local("email", messages, **params)


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


def test_an_international_phone_number_is_redacted_with_its_plus() -> None:
    remote = cloud(reply="Call [PHONE_1].")
    r = router_with([remote], policy("privacy: {phone: redact}"), complexity=0.95)
    text = "Reach me on +1 415 555 0100 or +1(415)5550100."
    answer = r.chat(text, team="team").text
    assert '"Reach me on [PHONE_1] or [PHONE_1]."' in sent(remote)  # no stray "+"
    assert answer == "Call +1 415 555 0100."  # restored once, not "++1"


def test_url_encoded_forms_are_found_and_redacted() -> None:
    remote = cloud()
    r = router_with([remote], policy("privacy: {email: redact}"), complexity=0.95)
    messages = [
        {"role": "user", "content": f"Mail {EMAIL}"},
        {"role": "user", "content": "Tool result: https://x.example/?to=jane.doe%40example.com"},
    ]
    r.chat(messages, team="team")
    body = sent(remote)
    assert (
        "jane.doe" not in body and "to=[EMAIL_1]" in body
    )  # the same address, the same placeholder


ONLY_ESCAPED = [
    ("email in a link", "email", "Open https://x.example/u?mail=jane.doe%40example.com"),
    ("phone in a link", "phone", "https://x.example/?tel=%2B44%2020%207946%200958"),
    ("card in a link", "credit_card", "pay?card=4111%201111%201111%201111"),
    ("card after a JSON newline", "credit_card", '{"note": "Card on file:\\n4111 1111 1111 1111"}'),
    ("phone after a JSON tab", "phone", '{"note": "Phone:\\t+44 20 7946 0958"}'),
    ("ssn after a JSON newline", "ssn", '{"note": "SSN:\\n123-45-6789"}'),
    ("email after a JSON newline", "email", '{"note": "Contact:\\njane.doe@example.com"}'),
    # A web page a tool fetched writes characters as HTML references; a model reads them.
    ("email in HTML, decimal", "email", '<a href="mailto:jane.doe&#64;example.com">DPO</a>'),
    ("email in HTML, hex", "email", "<p>jane.doe&#x40;example.com</p>"),
    ("email in HTML, named", "email", "<p>jane.doe&commat;example.com</p>"),
    ("card in HTML", "credit_card", "<td>4111&#32;1111&#32;1111&#32;1111</td>"),
    ("email in a Python string", "email", "print('jane.doe\\x40example.com')"),
    ("email in a JavaScript string", "email", "send('jane.doe\\u{40}example.com')"),
]


@pytest.mark.parametrize(("where", "cls", "text"), ONLY_ESCAPED, ids=[e[0] for e in ONLY_ESCAPED])
def test_a_value_written_only_escaped_is_found_and_kept_local(where, cls, text) -> None:
    assert_found_and_kept_local(cls, text)


@pytest.mark.parametrize(
    "text", ["password: Tr0ub4dor%26x please", "password=Sommer%2024", "api_key=Ab12Cd34%0AEf56"]
)
def test_a_secret_with_an_escape_inside_is_redacted_whole(text: str) -> None:
    # Decoded, the value ends at the escape ('&', ' ', a newline); read raw it goes on.
    remote = cloud()
    r = router_with([remote], policy("privacy: {secret: redact}"), complexity=0.95)
    r.chat(text, team="team")
    body = remote.requests[0].messages[0].content
    assert "[SECRET_1]" in body and "%" not in body.split("[SECRET_1]")[1][:1]
    value = text.split("=", 1)[-1].split(": ", 1)[-1].split(" ")[0]
    assert value not in body and value[-3:] not in body


def test_a_value_after_a_json_newline_is_redacted_and_the_json_stays_valid() -> None:
    remote = cloud(reply="Write to [EMAIL_1].")
    r = router_with([remote], policy("privacy: {email: redact}"), complexity=0.95)
    result = json.dumps({"notes": f"Contact:\n{EMAIL}"})
    messages = [
        {"role": "user", "content": "Who do I write to?"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "crm", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": result},
    ]
    answer = r.chat(messages, team="team").text
    tool_result = remote.requests[0].messages[-1].content
    assert json.loads(tool_result) == {"notes": "Contact:\n[EMAIL_1]"}
    assert answer == f"Write to {EMAIL}."


def test_an_html_form_of_an_address_gets_the_placeholder_of_its_plain_form() -> None:
    remote = cloud()
    r = router_with([remote], policy("privacy: {email: redact}"), complexity=0.95)
    r.chat(f"Forward {EMAIL} (on our site: jane.doe&#64;example.com) the invoice.", team="team")
    assert remote.requests[0].messages[0].content == (
        "Forward [EMAIL_1] (on our site: [EMAIL_1]) the invoice."
    )


def test_a_person_named_only_in_a_message_name_field_is_found() -> None:
    # The name field allows [A-Za-z0-9_-] only, so a name is written with underscores.
    messages = [{"role": "user", "name": "Alice_Johnson", "content": "Reset my account."}]
    remote = cloud()
    r = router_with([remote], policy("privacy: {person: local_only}"), complexity=0.95)
    assert "person" in r.classify(messages).data_classes
    with pytest.raises(NoRouteAvailable):
        r.chat(messages, team="team")
    assert remote.calls == 0


def test_name_parts_joined_by_underscores_are_redacted() -> None:
    remote = cloud()
    r = router_with([remote], policy("privacy: {person: redact}"), complexity=0.95)
    arguments = json.dumps({"path": "contracts/Johnson_2024.pdf", "owner": "Alice_Johnson"})
    call = {"id": "c1", "type": "function", "function": {"name": "read", "arguments": arguments}}
    messages = [
        {"role": "user", "name": "Alice_Johnson", "content": "This is Alice Johnson."},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "(the contract)"},
    ]
    r.chat(messages, team="team")
    body = sent(remote)
    assert "Alice" not in body and "Johnson" not in body
    assert "contracts/[PERSON_1]_2024.pdf" in body


@pytest.mark.parametrize(
    ("cls", "text"),
    [
        ("phone", "call +1 415 \u200e\u200e555 2671"),
        ("phone", "מספר: \u200e+1 415\u200e \u200e555\u200e \u200e2671\u200e"),
        ("credit_card", "כרטיס: 4111\u200e \u200e1111\u200e \u200e1111\u200e \u200e1111"),
    ],
)
def test_a_number_with_invisible_marks_around_its_separators_is_redacted(cls, text) -> None:
    remote = cloud()
    r = router_with([remote], policy(f"privacy: {{{cls}: redact}}"), complexity=0.95)
    r.chat(text, team="team")
    body = remote.requests[0].messages[0].content
    assert f"[{cls.upper()}_1]" in body and "2671" not in body and "1111" not in body


def test_constants_and_identifiers_around_a_redacted_name_are_left_alone() -> None:
    remote = cloud()
    r = router_with([remote], policy("privacy: {person: redact}"), complexity=0.95)
    text = "I'm Max Power. MAX_RETRIES = 3, POWER_SAVE_MODE = True, get_Max_value() fails."
    tool = {
        "type": "function",
        "function": {
            "name": "search",
            "parameters": {"type": "object", "properties": {"MAX_RESULTS": {"type": "integer"}}},
        },
    }
    r.chat(text, team="team", tools=[tool])  # the schema key must not trip the guard
    body = remote.requests[0].messages[0].content
    assert body.startswith("I'm [PERSON_1].")
    assert "MAX_RETRIES = 3, POWER_SAVE_MODE = True, get_Max_value() fails." in body


def test_json_escaped_forms_are_found_and_redacted() -> None:
    remote = cloud()
    r = router_with([remote], policy("privacy: {email: redact}"), complexity=0.95)
    messages = [
        {"role": "user", "content": f"Mail {EMAIL}"},
        {"role": "user", "content": "Tool result: jane.doe\\u0040example.com"},
    ]
    r.chat(messages, team="team")
    body = sent(remote)
    assert "jane.doe" not in body and "[EMAIL_1]" in body


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


MANY_PARTS = [  # (class, the parts, the value as the model reads it)
    ("credit_card", ["Card ", "4111", " 1111", " 1111", " 1111", " thanks"], "4111 1111 1111 1111"),
    ("ssn", ["SSN ", "123", "-45-", "6789"], SSN),
    ("email", ["mail ", "jane", ".doe@", "example", ".com"], EMAIL),
]


@pytest.mark.parametrize(("cls", "parts", "whole"), MANY_PARTS, ids=[v[0] for v in MANY_PARTS])
def test_a_value_split_across_many_parts_is_found_whole_and_kept_local(cls, parts, whole):
    messages = [{"role": "user", "content": [{"type": "text", "text": p} for p in parts]}]
    remote = cloud()
    r = router_with([remote], complexity=0.95)
    text = parse_request(messages).messages[0].text()
    found = [d for d in r.classify(messages).detections if d.data_class == cls]
    assert [text[d.start : d.end].replace("\n", "") for d in found] == [whole]
    with pytest.raises(NoRouteAvailable):
        r.chat(messages)
    assert remote.calls == 0


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


NBSP, NNBSP = "\u00a0", "\u202f"
UNICODE_FORMS = [  # (class, text): forms a keyboard, word processor or JSON encoder produces
    ("iban", f"Transfer to IBAN DE89{NBSP}3704{NBSP}0044{NBSP}0532{NBSP}0130{NBSP}00 today."),
    ("credit_card", f"Why was my card 4111{NNBSP}1111{NNBSP}1111{NNBSP}1111 declined?"),
    ("credit_card", "Why was my card 4111\u20131111\u20131111\u20131111 declined?"),
    ("ssn", f"My SSN is 123{NBSP}45{NBSP}6789, fill the form."),
    ("phone", "私の電話番号は０９０－１２３４－５６７８です。"),
    ("credit_card", "カード番号４１１１１１１１１１１１１１１１で決済できません"),
    ("email", "Bitte eine Antwort an info@müller-bäckerei.de formulieren."),
    ("email", json.dumps({"customer": "jörg@müller.de", "note": "called twice"})),
    ("credit_card", "Card 4111\u00ad1111\u00ad1111\u00ad1111 was declined."),  # soft hyphens
    ("email", "Reply to jo\u200bhn.doe@example.com today."),  # a zero-width space inside
    ("phone", "Call +1\u200b415\u200b555\u200b0134 after six."),
    ("address", json.dumps({"address": "Königstraße 12, 10115 Berlin"})),
    # Bidirectional marks and zero-width characters around values and between groups, as
    # text copied from a right-to-left interface carries them.
    ("email", "כתובת: jane.doe@example.com\u200f"),
    ("email", "mail \u2066jane.doe@example.com\u2069 please"),
    ("email", "mail jane.doe@\u00adexample.com"),
    ("credit_card", "card 4111\u200f 1111\u200f 1111\u200f 1111"),
    ("iban", "IBAN DE89\u200f 3704\u200f 0044\u200f 0532\u200f 0130\u200f 00"),
    ("ssn", "SSN 078\u200f-05\u200f-1120"),
    # Styled digits pasted from social media (mathematical bold and monospace).
    ("credit_card", "My card is 𝟒𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏 𝟏𝟏𝟏𝟏"),
    ("ssn", "SSN 𝟶𝟽𝟾-𝟶𝟻-𝟷𝟷𝟸𝟶"),
    ("email", "mail jane.doe﹫example.com"),  # the small commercial at
]


@pytest.mark.parametrize(
    ("cls", "text"), UNICODE_FORMS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(UNICODE_FORMS)]
)
def test_unicode_forms_of_a_value_are_found_and_kept_local(cls: str, text: str) -> None:
    assert_found_and_kept_local(cls, text)


@pytest.mark.parametrize(
    ("cls", "text"), UNICODE_FORMS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(UNICODE_FORMS)]
)
def test_unicode_forms_of_a_value_are_redacted_whole(cls: str, text: str) -> None:
    remote = cloud()
    local = FakeBackend("local", tier="small", reply="done")
    r = router_with([remote, local], policy(f"privacy: {{{cls}: redact}}"), complexity=0.95)
    resp = r.chat(text, team="team")
    if resp.route.backend == "cloud":  # redacted: the value's span is gone from the body
        request = parse_request(text)
        found = next(d for d in r.classify(text).detections if d.data_class == cls)
        assert request.messages[0].text()[found.start : found.end] not in sent(remote)
        assert f"[{cls.upper()}_1]" in sent(remote)
    else:  # or refused by the guard, never sent
        assert remote.calls == 0


def test_named_tool_choice_and_earlier_function_names_are_classified() -> None:
    tool = {"type": "function", "function": {"name": "notify", "parameters": {"type": "object"}}}
    choice = {"type": "function", "function": {"name": "notify", "to": EMAIL}}
    r = router_with([cloud()], complexity=0.95)
    assert "email" in r.classify("Send it.", tools=[tool], tool_choice=choice).data_classes
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "function": {"name": "mail_jane.doe@example.com", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sent"},
        {"role": "user", "content": "Thanks."},
    ]
    assert "email" in r.classify(messages).data_classes


def test_every_string_a_request_sends_is_read_by_the_classifier() -> None:
    """A request using every field: each string in its wire form (apart from the format's
    own keys and fixed words) lies inside a text the classifier reads."""
    from router.privacy.guard import _strings

    messages = [
        {"role": "system", "name": "sys-name", "content": [{"type": "text", "text": "sys-text"}]},
        {
            "role": "user",
            "name": "user-name",
            "content": [
                {"type": "text", "text": "user-text"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://img.example/u", "detail": "low"},
                },
            ],
        },
        {
            "role": "assistant",
            "refusal": "asst-refusal",
            "content": [{"type": "refusal", "refusal": "part-refusal"}],
            "tool_calls": [
                {"id": "call-id", "function": {"name": "fn-name", "arguments": "fn-args"}}
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call-id",
            "content": [{"type": "text", "text": "tool-text"}],
        },
    ]
    request = parse_request(
        messages,
        stop=["stop-seq"],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "fn-name",
                    "description": "fn-desc",
                    "parameters": {"prop-key": {"type": "prop-type"}},
                },
            }
        ],
        tool_choice={
            "type": "function",
            "function": {"name": "choice-name", "extra-key": "extra-val"},
        },
        response_format={"type": "json_schema", "json_schema": {"name": "rf-name", "x": "rf-x"}},
    )
    read = "\n".join(request.all_texts())
    wire = _strings(request.model_dump(exclude_none=True, by_alias=True))
    assert wire and all(s in read for s in wire), [s for s in wire if s not in read]


def test_redaction_leaves_the_formats_fixed_words_alone() -> None:
    """A name part equal to a fixed word ("Low", as in detail: low) must not break the
    request: the image keeps its detail and the name is redacted."""
    remote = cloud()
    r = router_with([remote], policy("privacy: {person: redact}"), complexity=0.95)
    content = [
        {"type": "text", "text": "I met Jasmine Low yesterday; write a caption."},
        {"type": "image_url", "image_url": {"url": "https://example.org/p.jpg", "detail": "low"}},
    ]
    r.chat([{"role": "user", "content": content}], team="team")
    body = sent(remote)
    assert "Jasmine" not in body and "[PERSON_1]" in body and '"detail":"low"' in body


def test_redaction_that_would_make_the_request_invalid_is_refused_typed() -> None:
    """A placeholder that pushes a function name past 64 characters: the remote attempt is
    refused with a typed error and the request falls back locally."""
    name = "a" * 56 + "-Low"  # "Low" is part of the name below; its placeholder is longer
    tool = {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    remote, local = cloud(), FakeBackend("local", tier="small", reply="done")
    r = router_with([remote, local], policy("privacy: {person: redact}"), complexity=0.95)
    resp = r.chat("I met Jasmine Low yesterday.", tools=[tool], team="team")
    assert remote.calls == 0 and resp.route.backend == "local"
    assert resp.route.attempts[0].error_type == "PrivacyGuardTripped"


def test_a_stream_cut_by_an_untyped_error_does_not_carry_its_text() -> None:
    """The error that cut the stream may quote the prompt: StreamInterrupted keeps only its
    type, so a logged traceback cannot show the prompt."""
    import traceback

    class Flaky(FakeBackend):
        def stream(self, request, **kw):
            it = super().stream(request, **kw)
            yield next(it)
            yield next(it)  # the first token: past the commit point
            raise RuntimeError(f"tokenizer failed on: {request.messages[-1].text()}")

    r = router_with([Flaky("local", reply="Sure, here it is")])
    with pytest.raises(RouterError) as info:
        for _ in r.stream(f"my SSN is {SSN}"):
            pass
    assert info.value.cause_type == "RuntimeError"
    assert SSN not in "".join(traceback.format_exception(info.value))


KEY = "sk-LIVE-SECRET-123"
CREDENTIALED = [f"https://user:{KEY}@llm.internal/v1", f"https://llm.internal/v1?api_key={KEY}"]


@pytest.mark.parametrize("url", CREDENTIALED)
@pytest.mark.parametrize("kind", ["openai_compatible", "openai"])
def test_a_url_carrying_a_key_is_refused_for_any_backend(kind: str, url: str) -> None:
    """However the backend is built (in code here; config files are checked earlier), a
    key in its URL would be shown by listings and explanations: refused, without echo."""
    from router.backends.registry import build_backend
    from router.config import BackendSpec
    from router.errors import ConfigError

    spec = BackendSpec(
        name="big", tier="large", zone="local", kind=kind, model="m", options={"base_url": url}
    )
    with pytest.raises(ConfigError, match="credentials") as info:
        build_backend(spec)
    assert KEY not in str(info.value)


def test_a_large_tier_url_carrying_a_key_is_refused_from_the_environment() -> None:
    from router.defaults import ENV_LARGE_MODEL, ENV_LARGE_URL, default_setup
    from router.errors import ConfigError

    env = {ENV_LARGE_URL: CREDENTIALED[0], ENV_LARGE_MODEL: "qwen"}
    with pytest.raises(ConfigError, match="credentials") as info:
        default_setup(env=env)
    assert KEY not in str(info.value)


def test_a_server_error_echoing_the_prompt_is_not_quoted() -> None:
    """Only identifier-like error types and codes from a server are kept in our errors."""
    from router.backends.openai_wire import error_from_status

    body = {"error": {"type": f"bad input: my SSN is {SSN}", "code": "invalid_request"}}
    for status in (400, 401, 429, 500):
        err = error_from_status(status, backend="b", body=body)
        assert SSN not in str(err) and SSN not in repr(err)
    assert "code=invalid_request" in str(error_from_status(429, backend="b", body=body))


def test_a_name_part_that_is_also_a_word_is_redacted_only_as_a_name() -> None:
    remote = cloud(reply="Done.")
    r = router_with([remote], policy("privacy: {person: redact}"), complexity=0.95)
    r.chat("Tell Will Smith that we will refund him. WILL said so; Smith agreed.", team="team")
    assert remote.requests[0].messages[0].content == (
        "Tell [PERSON_1] that we will refund him. [PERSON_1] said so; [PERSON_1] agreed."
    )


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        ("mailto:Anna%20Schmidt%20%3Canna.schmidt@example.com%3E", "email"),
        ("https://x.example/login?user=admin&password=Anna%20Smith%2199", "secret"),
        ("api_token=Maria%20Garcia%2Fx9Kq2", "secret"),
        ('{"body": "{\\"note\\": \\"card:\\\\n4111111111111111\\"}"}', "credit_card"),  # twice
        ("mail%3Djane.doe%2540example.com", "email"),  # a percent sign encoded again
    ],
)
def test_escaped_values_keep_their_protected_class_and_stay_local(text: str, cls: str) -> None:
    # A decoded name overlapping an address or a secret must not take its place, and
    # text escaped twice is decoded twice.
    assert_found_and_kept_local(cls, text)


def test_a_long_token_split_across_parts_is_found_whole() -> None:
    head = "eyJhbGciOiJIUzI1NiJ9."
    token = head + "eyJ" + "a1B2" * 150 + "." + "Zz9" * 60
    parts = [token[:300], token[300:600], token[600:]]
    messages = [{"role": "user", "content": [{"type": "text", "text": p} for p in parts]}]
    assert "secret" in router_with([cloud()]).classify(messages).data_classes


@pytest.mark.parametrize(
    ("cls", "tool_text", "placeholder", "restored"),
    [
        ("phone", json.dumps({"contact": "030\u20111234567"}), "[PHONE_1]", "030\u20111234567"),
        ("phone", "call tel:+44%2020%207946%200958", "[PHONE_1]", "+44 20 7946 0958"),
        ("email", "mail=anna.schmidt%40example.com", "[EMAIL_1]", "anna.schmidt@example.com"),
        ("email", "mailto:anna.schmidt&#64;example.com", "[EMAIL_1]", "anna.schmidt@example.com"),
        ("person", json.dumps({"customer": "Jörg Müller"}), "[PERSON_1]", "Jörg Müller"),
    ],
)
def test_a_value_found_escaped_is_redacted_and_restored_decoded(
    cls: str, tool_text: str, placeholder: str, restored: str
) -> None:
    remote = cloud(reply=f"It is {placeholder}.")
    r = router_with([remote], policy(f"privacy: {{{cls}: redact}}"), complexity=0.95)
    answer = r.chat(f"Whose is this? {tool_text}", team="team").text
    body = remote.requests[0].messages[0].content
    assert placeholder in body and restored not in body and tool_text not in body
    assert answer == f"It is {restored}."


def test_a_json_password_with_an_escaped_quote_is_redacted_whole() -> None:
    remote = cloud()
    r = router_with([remote], policy("privacy: {secret: redact}"), complexity=0.95)
    r.chat(json.dumps({"user": "bob", "password": 'Tr0ub4"dor&3x'}), team="team")
    assert remote.requests[0].messages[0].content == '{"user": "bob", "password": "[SECRET_1]"}'


@pytest.mark.parametrize(
    ("cls", "text", "value"),
    [
        ("credit_card", json.dumps({"card": "x\n4111111111111111"}), "4111111111111111"),
        ("ssn", json.dumps({"m": "SSN:\n123-45-6789"}), "123-45-6789"),
        ("iban", json.dumps({"m": "IBAN:\tDE89370400440532013000"}), "DE89370400440532013000"),
    ],
)
def test_a_number_right_after_a_json_escape_is_redacted(cls: str, text: str, value: str) -> None:
    remote = cloud()
    r = router_with([remote], policy(f"privacy: {{{cls}: redact}}"), complexity=0.95)
    r.chat(text, team="team")  # used to trip the guard: the pattern refused the "n" before
    body = remote.requests[0].messages[0].content
    assert value not in body and f"[{cls.upper()}_1]" in body
    assert json.loads(body)  # still valid JSON


def test_a_secret_typed_plainly_comes_back_exactly_as_typed() -> None:
    # "%41" in a password is part of it, not an escape to decode on the way back.
    remote = cloud(reply="Your password is [SECRET_1].")
    r = router_with([remote], policy("privacy: {secret: redact}"), complexity=0.95)
    answer = r.chat("my password is Xy7%41bcQ9zz!", team="team").text
    assert "Xy7" not in sent(remote) and answer == "Your password is Xy7%41bcQ9zz!."


def test_secrets_that_differ_in_case_get_placeholders_of_their_own() -> None:
    old, new = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12", "sk-proj-abcdefghijklmnopqrstuvwx12"
    remote = cloud(reply="Old [SECRET_1], new [SECRET_2].")
    r = router_with([remote], policy("privacy: {secret: redact}"), complexity=0.95)
    answer = r.chat(f"old key {old}, new key {new}", team="team").text
    assert remote.requests[0].messages[0].content == "old key [SECRET_1], new key [SECRET_2]"
    assert answer == f"Old {old}, new {new}."


def test_a_placeholder_the_caller_wrote_escaped_is_the_callers_too() -> None:
    remote = cloud(reply="The link fills in [EMAIL_1].")
    r = router_with([remote], policy("privacy: {email: redact}"), complexity=0.95)
    text = f"Link https://mail.example/?to=%5BEMAIL_1%5D (I am {EMAIL})"
    answer = r.chat(text, team="team").text
    assert "(I am [EMAIL_2])" in sent(remote)
    assert answer == "The link fills in [EMAIL_1]."  # the caller's own text, not restored


def test_values_restored_into_a_json_answer_keep_it_valid_json() -> None:
    remote = cloud(reply='{"password": "[SECRET_1]"}')
    r = router_with([remote], policy("privacy: {secret: redact}"), complexity=0.95)
    answer = r.chat(
        'my password is "C0rr3ct\\\\H0rse99"', team="team", response_format={"type": "json_object"}
    ).text
    assert json.loads(answer) == {"password": "C0rr3ct\\\\H0rse99"}
