"""The last check before a request leaves for a backend: the first law, enforced in code.

For a remote backend, the request is redacted when the policy says ``redact``. Then every
string the request would send (every field, not only message text; keys of tool schemas
included) is searched for every value the classifier found whose class the policy does not
``allow``, in the forms :mod:`router.privacy.redact` covers (any case; numbers with any
separators; each part of a name), also after undoing the escapes of
:mod:`router.classify.escapes` (JSON and string escapes, URL-encoding, HTML references),
and in each message's text with its content parts in a row (a value split between two
parts). If any would still leave, the attempt is refused with
:class:`~router.errors.PrivacyGuardTripped` and nothing is sent. Local backends receive
the request unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from router import errors
from router.classify.escapes import decode_escapes
from router.messages import FORMAT_KEYS, ChatRequest, is_fixed
from router.privacy.redact import Redaction


def _forms(body: str) -> list[str]:
    """``body`` and the decoded forms a value could hide in."""
    decoded = decode_escapes(body)
    return [body] if decoded == body else [body, decoded]


def carries_protected_data(ctx: Any, original: ChatRequest, outgoing: ChatRequest) -> bool:
    """Whether ``outgoing`` still carries a value of ``original`` the policy protects."""
    policy = ctx.team.policy
    protected = {
        d.data_class
        for d in ctx.classification.detections
        if policy.privacy.action(d.data_class) != "allow"
    }
    if not protected:
        return False
    regex = Redaction(original, ctx.classification.detections, protected).regex
    if regex is None:
        return False
    body = "\n".join(_strings(outgoing.model_dump(exclude_none=True, by_alias=True)))
    # The messages' texts, each read as the model reads it: content parts in a row, so a
    # value split between two parts is found whole.
    read = "\n".join(outgoing.texts())
    return any(regex.search(form) for text in (body, read) for form in _forms(text))


def _strings(obj: Any) -> list[str]:
    """Every string in a dumped request: every field it would send, keys included (except
    the format's own keys and fixed values, which carry no caller data)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [
            s
            for k, v in obj.items()
            for s in (
                *(() if k in FORMAT_KEYS else (k,)),
                *(() if isinstance(v, str) and is_fixed(k, v) else _strings(v)),
            )
        ]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def outgoing_request(ctx: Any, step: Any, request: ChatRequest, observer: Any):
    """The request ``step``'s backend may receive, and the redaction to undo in its answer.

    Raises :class:`~router.errors.PrivacyGuardTripped` instead of ever returning a request
    that would carry protected data to a remote backend.
    """
    if step.spec.zone != "remote":
        return request, None
    verdict = ctx.decision.privacy
    if verdict.local_only or verdict.blocked:
        raise errors.PrivacyGuardTripped(
            f"refused to send to remote backend {step.spec.name}: the policy keeps this "
            "request local",
            backend=step.spec.name,
        )
    redaction = None
    outgoing = request
    if step.candidate.redact:
        redaction = Redaction(request, ctx.classification.detections, set(step.candidate.redact))
        if redaction:
            try:
                outgoing = redaction.request(request)
            except ValidationError:
                raise errors.PrivacyGuardTripped(
                    f"refused to send to remote backend {step.spec.name}: redaction would make "
                    "the request invalid",
                    backend=step.spec.name,
                ) from None
        else:
            redaction = None
    if carries_protected_data(ctx, request, outgoing):
        raise errors.PrivacyGuardTripped(
            f"refused to send to remote backend {step.spec.name}: protected data would leave "
            "in a form redaction could not replace",
            backend=step.spec.name,
        )
    if redaction is not None:
        observer.redacted(ctx, dict(redaction.counts))
        if ctx.route is not None:
            ctx.route.redacted = dict(redaction.counts)
    return outgoing, redaction
