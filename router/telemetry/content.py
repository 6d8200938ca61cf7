"""Opt-in capture of prompt and completion text, masked by the team's privacy policy.

Off by default. On when ``capture_content=True`` is given, or when it is left ``None`` and
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` is ``true``. Even then:

- every detected value whose data class the team policy does not ``allow`` (``local_only``,
  ``redact`` or ``block``) is replaced by its placeholder (``[EMAIL_1]``), in the prompt
  and in the completion, where the router may have restored it;
- nothing at all is captured for a request carrying a caller label whose rule is not
  ``allow``: such a label marks the whole conversation, so there is no value to mask.

Messages use the conventions' JSON shape: ``[{"role": ..., "parts": [...]}]``.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from router.classify.escapes import decode_escapes
from router.decision import label_rule
from router.privacy.redact import Redaction
from router.telemetry.attributes import CAPTURE_CONTENT_ENV

if TYPE_CHECKING:  # pragma: no cover
    from router.completion import ChatCompletion
    from router.messages import ChatRequest
    from router.observe import RequestContext


def capture_enabled(flag: bool | None) -> bool:
    """``flag`` when given; else whether the environment variable says ``true``."""
    if flag is not None:
        return bool(flag)
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() == "true"


class Masker:
    """Replaces protected values with placeholders; the identity when there are none."""

    __slots__ = ("_redaction",)

    def __init__(self, redaction: Redaction | None) -> None:
        self._redaction = redaction if redaction else None

    def __call__(self, text: str) -> str:
        r = self._redaction
        if r is None:
            return text
        masked = r.apply(text)
        decoded = decode_escapes(masked)  # JSON may write a value as \uXXXX, a URL as %40
        if decoded != masked:
            again = r.apply(decoded)
            if again != decoded:
                return again
        return masked


def masker_for(ctx: RequestContext) -> Masker | None:
    """The masker for this request, or ``None`` when its content may not be captured."""
    c, request = ctx.classification, ctx.request
    if c is None or request is None:
        return None
    policy = ctx.team.policy
    for key, value in c.labels.items():
        rule = label_rule(policy, key, value)
        if rule is not None and rule.privacy not in (None, "allow"):
            return None
    protected = {
        d.data_class for d in c.detections if policy.privacy.action(d.data_class) != "allow"
    }
    if not protected:
        return Masker(None)
    return Masker(Redaction(request, c.detections, protected))


def input_messages(request: ChatRequest, mask: Masker) -> str:
    """``gen_ai.input.messages``: the conversation, masked."""
    out: list[dict[str, Any]] = []
    for m in request.messages:
        parts: list[dict[str, Any]] = []
        text = _content_text(m.content)  # tool calls become parts of their own below
        if m.role == "tool":
            parts.append(
                {"type": "tool_call_response", "id": m.tool_call_id, "response": mask(text)}
            )
        elif text:
            parts.append({"type": "text", "content": mask(text)})
        for call in getattr(m, "tool_calls", None) or []:
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.id,
                    "name": call.function.name,
                    "arguments": mask(call.function.arguments),
                }
            )
        out.append({"role": m.role, "parts": parts})
    return json.dumps(out, ensure_ascii=False)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = [getattr(p, "text", None) or getattr(p, "refusal", None) for p in content]
    return "\n".join(t for t in texts if t)


def output_messages(response: ChatCompletion, mask: Masker) -> str:
    """``gen_ai.output.messages``: the answer, masked (restored values go back out)."""
    out: list[dict[str, Any]] = []
    for choice in response.choices:
        msg = choice.message
        parts: list[dict[str, Any]] = []
        if msg.content:
            parts.append({"type": "text", "content": mask(msg.content)})
        for call in msg.tool_calls or []:
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.id,
                    "name": call.function.name,
                    "arguments": mask(call.function.arguments),
                }
            )
        out.append(
            {"role": "assistant", "parts": parts, "finish_reason": choice.finish_reason or ""}
        )
    return json.dumps(out, ensure_ascii=False)
