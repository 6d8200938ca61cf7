"""No personal data in telemetry: not in span names, attributes, events, statuses, metric
attributes or log lines, on any path; and opt-in content capture masks what the policy
protects."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from router import AllAttemptsFailed, ContentRefused, FakeBackend, NoRouteAvailable
from router.classify.pii import find_pii
from router.telemetry import attributes as A
from tests.helpers import policy
from tests.test_telemetry import Otel, make_otel, routed

# One of each data class, and then some.
VALUES = {
    "person": "Jane Doe",
    "email": "jane.doe@example.com",
    "phone": "+44 20 7946 0958",
    "ssn": "123-45-6789",
    "credit_card": "4111 1111 1111 1111",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "date_of_birth": "1984-03-12",
    "ip_address": "203.0.113.7",
    "address": "221B Baker Street, London NW1 6XE",
    "secret": "sk-abcdefghijklmnopqrstuvwxyz123456",
}
PROMPT = (
    f"My name is {VALUES['person']}, email {VALUES['email']}, phone {VALUES['phone']}, "
    f"SSN {VALUES['ssn']}, card {VALUES['credit_card']}, IBAN {VALUES['iban']}, "
    f"born {VALUES['date_of_birth']}, IP {VALUES['ip_address']}, I live at "
    f"{VALUES['address']}. My key is {VALUES['secret']}. Please check my account."
)
ALL_REDACT = (
    "privacy: {address: redact, credit_card: redact, date_of_birth: redact, email: redact,"
    " iban: redact, ip_address: redact, person: redact, phone: redact, secret: redact,"
    " ssn: redact}"
)


def echo(request: Any) -> str:
    """A model that repeats the conversation back: restored values end up in the answer."""
    return "You said: " + request.messages[-1].text()


def strings(otel: Otel) -> list[str]:
    """Every string the telemetry exported: span and event names and attributes, statuses,
    metric names and attribute keys and values."""
    out: list[str] = []

    def add(attrs: Any) -> None:
        for key, value in (attrs or {}).items():
            out.append(str(key))
            values = value if isinstance(value, tuple | list) else (value,)
            out.extend(str(v) for v in values)

    for s in otel.spans():
        out.append(s.name)
        add(s.attributes)
        if s.status.description:
            out.append(s.status.description)
        for e in s.events:
            out.append(e.name)
            add(e.attributes)
        for link in s.links:
            add(link.attributes)
    data = otel.reader.get_metrics_data()
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                out.append(m.name)
                for p in m.data.data_points:
                    add(p.attributes)
    return out


def leaks(texts: list[str], values: Any) -> list[tuple[str, str]]:
    return [(v, t) for t in texts for v in values if v in t]


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Otel]:
    monkeypatch.delenv(A.CAPTURE_CONTENT_ENV, raising=False)
    o = make_otel()
    yield o
    o.tracer_provider.shutdown()
    o.meter_provider.shutdown()


def every_path(otel: Otel, capture: bool | None = None) -> None:
    """Send the prompt through success, redaction, retries, fallbacks, failures, refusals,
    blocks and every kind of stream ending."""
    local = routed(
        otel,
        [
            FakeBackend("small", reply=echo, script=["server_error", "timeout", "ok"]),
            FakeBackend("large", tier="large", reply=echo, script=["rate_limited"]),
            FakeBackend("cloud", tier="proprietary", zone="remote", reply=echo),
        ],
        capture=capture,
    )
    local.chat(PROMPT)
    local.chat(
        [
            {"role": "system", "content": f"User: {VALUES['email']}"},
            {"role": "user", "content": PROMPT},
        ],
        conversation_id="conv-1",
    )
    list(local.stream(PROMPT))

    redact = policy(ALL_REDACT, team="team")
    remote = routed(
        otel,
        [
            FakeBackend(
                "cloud",
                tier="proprietary",
                zone="remote",
                reply=echo,
                script=["server_error", {"cut_after": 0}, {"cut_after": 2}],
            ),
            FakeBackend("cloud2", tier="proprietary", zone="remote", reply=echo),
        ],
        redact,
        capture=capture,
    )
    remote.chat(PROMPT, team="team")
    list(remote.stream(PROMPT, team="team"))

    failing = routed(
        otel, [FakeBackend("small", reply=echo, script=["unavailable"] * 9)], capture=capture
    )
    with pytest.raises(AllAttemptsFailed):
        failing.chat(PROMPT)
    refusing = routed(otel, [FakeBackend("small", script=["refused"])], capture=capture)
    with pytest.raises(ContentRefused):
        refusing.chat(PROMPT)
    blocked = routed(
        otel, [FakeBackend("small")], policy("privacy: {email: block}", team="b"), capture=capture
    )
    with pytest.raises(NoRouteAvailable):
        blocked.chat(PROMPT, team="b")
    cut = routed(
        otel, [FakeBackend("small", reply=echo, script=[{"cut_after": 2}])], capture=capture
    )
    with pytest.raises(Exception, match="characters were delivered"):
        list(cut.stream(PROMPT))
    restart = routed(
        otel,
        [
            FakeBackend("small", reply=echo, script=[{"cut_after": 1}]),
            FakeBackend("large", tier="large", reply=echo),
        ],
        policy("streaming: {on_interrupt: restart}", team="r"),
        capture=capture,
    )
    list(restart.stream(PROMPT, team="r"))
    stopped = routed(otel, [FakeBackend("small", reply=echo, chunk_chars=3)], capture=capture)
    it = stopped.stream(PROMPT)
    next(it)
    it.close()


def test_no_personal_value_in_any_span_event_metric_or_log(
    otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    every_path(otel)
    texts = strings(otel)
    assert len(otel.spans()) > 20 and texts
    assert leaks(texts, VALUES.values()) == []
    assert not any(
        k in (A.GEN_AI_INPUT_MESSAGES, A.GEN_AI_OUTPUT_MESSAGES)
        for s in otel.spans()
        for k in s.attributes
    )
    logs = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert leaks(logs, VALUES.values()) == []
    assert not [r for r in caplog.records if "observer hook" in r.getMessage()]
    # The telemetry did see the data: by class name and count only.
    classes = {c for s in otel.spans() for c in s.attributes.get(A.CLASS_DATA_CLASSES, ())}
    assert {"email", "phone", "ssn", "credit_card"} <= classes


def test_captured_content_masks_every_value_the_policy_protects(
    otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    every_path(otel, capture=True)
    detected = {PROMPT[s:e] for _, s, e, _, _ in find_pii(PROMPT)}
    detected |= {
        f"User: {VALUES['email']}"[s:e] for _, s, e, _, _ in find_pii(f"User: {VALUES['email']}")
    }
    assert {VALUES["email"], VALUES["phone"], VALUES["ssn"]} <= detected
    captured = [
        s.attributes[k]
        for s in otel.spans()
        for k in (A.GEN_AI_INPUT_MESSAGES, A.GEN_AI_OUTPUT_MESSAGES)
        if k in s.attributes
    ]
    assert captured, "capture was on: content should have been recorded"
    assert "[EMAIL_1]" in "".join(captured)
    # The default policy allows names and IP addresses, the ALL_REDACT one does not: only
    # the values the default policy protects may never appear.
    from router.policy.load import builtin_default

    privacy = builtin_default().policy.privacy
    protected = {v for cls, v in VALUES.items() if privacy.action(cls) != "allow"} & detected
    assert leaks(strings(otel), protected) == []
    assert leaks([caplog.text], VALUES.values()) == []


def test_capture_is_off_by_default_and_follows_the_env_var(
    otel: Otel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def captured(o: Otel) -> list[str]:
        return [
            s.attributes[A.GEN_AI_INPUT_MESSAGES]
            for s in o.attempt_spans()
            if A.GEN_AI_INPUT_MESSAGES in s.attributes
        ]

    routed(otel, [FakeBackend("small")]).chat("Hello")
    assert captured(otel) == []
    monkeypatch.setenv(A.CAPTURE_CONTENT_ENV, "true")
    on = make_otel()
    routed(on, [FakeBackend("small")]).chat("Hello")
    (text,) = captured(on)
    assert json.loads(text) == [{"role": "user", "parts": [{"type": "text", "content": "Hello"}]}]
    off = make_otel()
    routed(off, [FakeBackend("small")], capture=False).chat("Hello")  # explicit wins
    assert captured(off) == []


def test_captured_messages_follow_the_conventions_shape(otel: Otel) -> None:
    r = routed(otel, [FakeBackend("small", reply=echo)], capture=True)
    r.chat(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": f"Mail {VALUES['email']} please"},
        ]
    )
    (att,) = otel.attempt_spans()
    inp = json.loads(att.attributes[A.GEN_AI_INPUT_MESSAGES])
    out = json.loads(att.attributes[A.GEN_AI_OUTPUT_MESSAGES])
    assert inp == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Mail [EMAIL_1] please"}]},
    ]
    assert out == [
        {
            "role": "assistant",
            "finish_reason": "stop",
            "parts": [{"type": "text", "content": "You said: Mail [EMAIL_1] please"}],
        }
    ]


def test_nothing_is_captured_for_a_label_that_keeps_the_request_local(otel: Otel) -> None:
    tp = policy("labels: {sensitivity: {confidential: {privacy: local_only}}}", team="team")
    r = routed(otel, [FakeBackend("small", reply=echo)], tp, capture=True)
    r.chat("The merger is with Initech.", team="team", labels={"sensitivity": "confidential"})
    (att,) = otel.attempt_spans()
    assert A.GEN_AI_INPUT_MESSAGES not in att.attributes
    assert A.GEN_AI_OUTPUT_MESSAGES not in att.attributes
    assert otel.request_span().attributes[A.CLASS_LABEL_KEYS] == ("sensitivity",)


def test_label_values_stay_out_of_the_decision_reasons_telemetry_exports(otel: Otel) -> None:
    tp = policy(
        "labels: {customer: {'*': {privacy: local_only}}, account: {'*': {min_tier: large}}}",
        team="team",
    )
    r = routed(otel, [FakeBackend("small"), FakeBackend("large", tier="large")], tp)
    labels = {"customer": "jane.doe@example.com", "account": "acct-4711-secret"}
    resp = r.chat("Hello", team="team", labels=labels)
    assert any("acct-4711-secret" in why for why in resp.route.reasons)  # the caller's own
    assert not leaks(strings(otel), labels.values())
    assert any("account=<value>" in t for t in strings(otel))


def test_a_label_whose_key_ends_another_key_hides_no_part_of_the_longer_value(
    otel: Otel,
) -> None:
    # "id=jane" is the start of "customer_id=jane.doe@example.com": hiding it there would
    # leave ".doe@example.com" in the exported reasons.
    tp = policy(
        "labels: {id: {'*': {privacy: local_only}}, customer_id: {'*': {min_tier: large}}}",
        team="team",
    )
    cloud = FakeBackend("cloud", tier="proprietary", zone="remote")
    r = routed(otel, [FakeBackend("small"), FakeBackend("large", tier="large"), cloud], tp)
    r.chat("Hello", team="team", labels={"id": "jane", "customer_id": "jane.doe@example.com"})
    exported = strings(otel)
    assert not any("doe@example.com" in t or "jane" in t for t in exported)
    assert any("customer_id=<value> needs tier large" in t for t in exported)
    assert any("label id=<value>" in t for t in exported)


class ToolCaller(FakeBackend):
    """Answers with a tool call whose JSON arguments ``json.dumps`` wrote (``\\u00fc`` for
    ü): the address itself when local, its placeholder when remote (as a remote model only
    ever sees the placeholder)."""

    EMAIL = "jürgen.müller@beispiel.de"

    def chat(self, request: Any, *, timeout: Any = None, headers: Any = None) -> Any:
        from router.backends.base import make_completion
        from router.completion import FunctionCallOut, ToolCallOut

        self.requests.append(request)
        to = self.EMAIL if self.spec.zone == "local" else "[EMAIL_1]"
        call = ToolCallOut(
            id="c1", function=FunctionCallOut(name="send", arguments=json.dumps({"to": to}))
        )
        return make_completion(
            self.spec.model, None, prompt_tokens=5, completion_tokens=5,
            finish_reason="tool_calls", tool_calls=[call],
        )  # fmt: skip


@pytest.mark.parametrize("zone", ["local", "remote"])
def test_values_in_json_escapes_are_masked_and_restored_unescaped(zone: str) -> None:
    """The caller gets the address back; captured content never holds it, in any form."""
    email = ToolCaller.EMAIL
    otel = make_otel()
    if zone == "local":
        r = routed(otel, [ToolCaller("small")], capture=True)
        resp = r.chat(f"Send the report to {email}")
    else:
        cloud = ToolCaller("cloud", tier="proprietary", zone="remote")
        r = routed(otel, [cloud], policy("privacy: {email: redact}"), capture=True)
        resp = r.chat(f"Send the report to {email}", team="team")
        assert email not in cloud.requests[0].model_dump_json()
        # restored as real text inside the JSON string, not as \\u escapes
        assert email in resp.choices[0].message.tool_calls[0].function.arguments
    arguments = resp.choices[0].message.tool_calls[0].function.arguments
    assert json.loads(arguments) == {"to": email}
    (span,) = otel.attempt_spans()
    out = span.attributes[A.GEN_AI_OUTPUT_MESSAGES]
    assert json.loads(json.loads(out)[0]["parts"][0]["arguments"]) == {"to": "[EMAIL_1]"}, out
