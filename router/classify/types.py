"""What the classifier says about a request: data classes found, task, complexity, size.

Built on every request, so these are slotted (not frozen, which costs five times as much to
build) dataclasses; treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

DataClass = Literal[
    "address",
    "credit_card",
    "date_of_birth",
    "email",
    "iban",
    "ip_address",
    "person",
    "phone",
    "secret",
    "ssn",
]
"""The fixed vocabulary of personal and secret data classes that policies refer to."""

DATA_CLASSES: tuple[str, ...] = get_args(DataClass)

Task = Literal[
    "chat",
    "code",
    "creative_writing",
    "extraction",
    "math",
    "reasoning",
    "summarisation",
    "translation",
]
"""The tasks the classifier recognises."""

TASKS: tuple[str, ...] = get_args(Task)


@dataclass(slots=True)
class Detection:
    """One piece of personal or secret data found in the request.

    ``message`` indexes :meth:`~router.messages.ChatRequest.all_texts`: the messages' texts
    first (so for a message it is the message's index), then the other text the request
    sends (names, stop sequences, tool definitions ...). ``start``/``end`` is the character
    span within that text. The value itself is deliberately not stored, so a detection can
    be logged, traced or printed without leaking what it found.
    """

    data_class: str
    message: int
    start: int
    end: int
    confidence: float
    detector: str = ""

    def to_dict(self) -> dict[str, Any]:
        """This detection as JSON-ready values (a span, never the value)."""
        return {
            "class": self.data_class,
            "message": self.message,
            "start": self.start,
            "end": self.end,
            "confidence": round(self.confidence, 3),
        }


@dataclass(slots=True)
class Classification:
    """Everything the router knows about a request before it decides where to send it."""

    task: str
    complexity: float
    tokens: int
    detections: tuple[Detection, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    turns: int = 1
    scorer: str = ""
    wants_tools: bool = False
    wants_json: bool = False
    wants_stream: bool = False
    wants_images: bool = False
    max_output_tokens: int | None = None

    @property
    def data_classes(self) -> frozenset[str]:
        """The names of the data classes detected anywhere in the conversation."""
        return frozenset(d.data_class for d in self.detections)

    def to_dict(self) -> dict[str, Any]:
        """The classification as JSON-ready values (detections as spans, never values)."""
        return {
            "pii": sorted(self.data_classes),
            "detections": [d.to_dict() for d in self.detections],
            "task": self.task,
            "complexity": round(self.complexity, 4),
            "tokens": self.tokens,
            "turns": self.turns,
            "labels": dict(self.labels),
            "scorer": self.scorer,
        }
