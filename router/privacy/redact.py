"""Replace detected values with stable placeholders before a remote call, and restore them.

The same value gets the same placeholder everywhere in a conversation (``[EMAIL_1]`` is
always the first distinct e-mail address, counted from the start of the conversation), so
a conversation redacted turn after turn stays consistent for the remote model. Answers,
streamed or not, get the originals back; a placeholder split across stream chunks is held
back until it is whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from router.classify.types import Detection
from router.completion import ChatCompletion
from router.messages import ChatRequest

_PLACEHOLDER = re.compile(r"\[([A-Z_]+)_(\d+)\]")
_MAX_PLACEHOLDER = 32


class Redaction:
    """The value <-> placeholder mapping for one request."""

    def __init__(self, request: ChatRequest, detections: Iterable[Detection], classes: set[str]):
        texts = [m.text() for m in request.messages]
        self.forward: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        numbering: dict[str, int] = {}
        for d in sorted(detections, key=lambda d: (d.message, d.start)):
            if d.data_class not in classes:
                continue
            value = texts[d.message][d.start : d.end]
            if not value or value in self.forward:
                continue
            n = numbering.get(d.data_class, 0) + 1
            numbering[d.data_class] = n
            self.forward[value] = f"[{d.data_class.upper()}_{n}]"
            self.counts[d.data_class] = self.counts.get(d.data_class, 0) + 1
        self.backward = {v: k for k, v in self.forward.items()}
        # Longest first, so a value that contains another is replaced whole.
        self._order = sorted(self.forward, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self.forward)

    def apply(self, text: str) -> str:
        for value in self._order:
            if value in text:
                text = text.replace(value, self.forward[value])
        return text

    def restore(self, text: str) -> str:
        if "[" not in text:
            return text
        return _PLACEHOLDER.sub(lambda m: self.backward.get(m.group(0), m.group(0)), text)

    def request(self, request: ChatRequest) -> ChatRequest:
        """A copy of ``request`` with every value replaced in every message."""
        messages = []
        for m in request.messages:
            data = m.model_dump(exclude_none=True)
            content = data.get("content")
            if isinstance(content, str):
                data["content"] = self.apply(content)
            elif isinstance(content, list):
                for part in content:
                    for key in ("text", "refusal"):
                        if key in part:
                            part[key] = self.apply(part[key])
            for call in data.get("tool_calls") or []:
                call["function"]["arguments"] = self.apply(call["function"]["arguments"])
            messages.append(data)
        return ChatRequest.model_validate(
            {
                **request.model_dump(exclude={"messages"}, exclude_none=True, by_alias=True),
                "messages": messages,
            }
        )

    def completion(self, response: ChatCompletion) -> ChatCompletion:
        """Restore the originals in a completion, in place, and return it."""
        for choice in response.choices:
            msg = choice.message
            if msg.content:
                msg.content = self.restore(msg.content)
            for call in msg.tool_calls or []:
                call.function.arguments = self.restore(call.function.arguments)
        return response

    def stream_restorer(self) -> StreamRestorer:
        return StreamRestorer(self)


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a possibly split placeholder."""

    def __init__(self, redaction: Redaction) -> None:
        self._r = redaction
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        self._held = ""
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and len(text) - cut < _MAX_PLACEHOLDER:
            text, self._held = text[:cut], text[cut:]
        return self._r.restore(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._r.restore(text)
