"""The last check before a request leaves for a backend: the first law, enforced in code.

For a remote backend, the request is redacted when the policy says ``redact``, and then
searched for every value the classifier found whose class the policy does not ``allow``.
If any such value would still leave, the attempt is refused with
:class:`~router.errors.PrivacyGuardTripped` and nothing is sent. Local backends receive the
request unchanged.
"""

from __future__ import annotations

from typing import Any

from router import errors
from router.messages import ChatRequest
from router.privacy.redact import Redaction


def _values(request: ChatRequest, ctx: Any) -> list[str]:
    """Original values of every detection whose class the policy does not allow out."""
    policy = ctx.team.policy
    texts = None
    out = []
    for d in ctx.classification.detections:
        if policy.privacy.action(d.data_class) == "allow":
            continue
        if texts is None:
            texts = [m.text() for m in request.messages]
        value = texts[d.message][d.start : d.end]
        if value:
            out.append(value)
    return out


def _leaks(request: ChatRequest, values: list[str]) -> bool:
    if not values:
        return False
    texts = request.texts()
    return any(v in t for v in values for t in texts)


def outgoing_request(ctx: Any, step: Any, request: ChatRequest, observer: Any):
    """The request ``step``'s backend may receive, and the redaction to undo in its answer.

    Raises :class:`~router.errors.PrivacyGuardTripped` instead of ever returning a request
    that would carry protected data to a remote backend.
    """
    if step.spec.zone != "remote":
        return request, None
    redaction = None
    if step.candidate.redact:
        redaction = Redaction(request, ctx.classification.detections, set(step.candidate.redact))
        if redaction:
            request_out = redaction.request(request)
            observer.redacted(ctx, dict(redaction.counts))
            if ctx.route is not None:
                ctx.route.redacted = dict(redaction.counts)
        else:
            request_out, redaction = request, None
    else:
        request_out = request
    blocked = [v for v in _values(request, ctx)]
    if (
        _leaks(request_out, blocked)
        or ctx.decision.privacy.local_only
        or ctx.decision.privacy.blocked
    ):
        raise errors.PrivacyGuardTripped(
            f"refused to send to remote backend {step.spec.name}: protected data would leave",
            backend=step.spec.name,
        )
    return request_out, redaction
