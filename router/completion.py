"""The response side of the OpenAI chat format, plus the router's ``route`` record.

Objects are pydantic models shaped like the ``openai`` SDK's, so code written against
``client.chat.completions.create(...)`` reads ours the same way:
``response.choices[0].message.content``. The extra field ``route`` explains the decision.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from router.route import RouteRecord

_MODEL = ConfigDict(extra="allow", arbitrary_types_allowed=True)
_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__


def trusted(cls: type[_M], **fields: Any) -> _M:
    """An instance of ``cls`` from fields the router produced itself, without validation.

    Like ``model_construct`` with every field given, at half its cost: completions and
    chunks are built on the hot path of every request.
    """
    obj = cls.__new__(cls)
    _set(obj, "__dict__", fields)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", {})
    _set(obj, "__pydantic_private__", None)
    return obj


class CompletionTokensDetails(BaseModel):
    model_config = _MODEL
    reasoning_tokens: int = 0


class Usage(BaseModel):
    """Token counts. Reasoning tokens are part of ``completion_tokens`` and billed as output."""

    model_config = _MODEL
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    completion_tokens_details: CompletionTokensDetails | None = None

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens, part of ``completion_tokens`` (0 when not reported)."""
        d = self.completion_tokens_details
        return d.reasoning_tokens if d is not None else 0


class FunctionCallOut(BaseModel):
    model_config = _MODEL
    name: str
    arguments: str


class ToolCallOut(BaseModel):
    model_config = _MODEL
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallOut


class AssistantOut(BaseModel):
    model_config = _MODEL
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[ToolCallOut] | None = None
    refusal: str | None = None


class Choice(BaseModel):
    model_config = _MODEL
    index: int = 0
    message: AssistantOut
    finish_reason: str | None = "stop"


class ChatCompletion(BaseModel):
    """An OpenAI-shaped chat completion with the router's ``route`` record attached."""

    model_config = _MODEL
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None
    route: RouteRecord | None = Field(default=None, exclude=False)

    @property
    def text(self) -> str:
        """The first choice's text ("" when it made only tool calls)."""
        return self.choices[0].message.content or "" if self.choices else ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, ``route`` included."""
        out = self.model_dump(exclude={"route"}, exclude_none=True)
        if self.route is not None:
            out["route"] = self.route.to_dict()
        return out


class DeltaFunction(BaseModel):
    model_config = _MODEL
    name: str | None = None
    arguments: str | None = None


class DeltaToolCall(BaseModel):
    model_config = _MODEL
    index: int = 0
    id: str | None = None
    type: Literal["function"] | None = None
    function: DeltaFunction | None = None


class Delta(BaseModel):
    model_config = _MODEL
    role: str | None = None
    content: str | None = None
    tool_calls: list[DeltaToolCall] | None = None


class ChunkChoice(BaseModel):
    model_config = _MODEL
    index: int = 0
    delta: Delta
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    """One server-sent chunk of a streamed completion.

    The router adds two things to the OpenAI shape: ``route`` on the final chunk (the whole
    route record, attempts included), and ``event`` on chunks that announce something the
    caller must see, such as ``"restart"`` when a stream restarts on another backend.
    """

    model_config = _MODEL
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None
    route: RouteRecord | None = None
    event: str | None = None

    @property
    def text(self) -> str:
        """This chunk's text ("" for chunks without content)."""
        if not self.choices:
            return ""
        return self.choices[0].delta.content or ""
