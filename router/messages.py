"""The request side of the OpenAI chat format, validated with pydantic.

``parse_request(messages, **params)`` is the only way a request enters the router; anything
malformed raises :class:`~router.errors.InvalidRequest` naming the field, e.g.
``messages[1].content``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from router.errors import InvalidRequest

_STRICT = ConfigDict(extra="forbid", frozen=True)
_LOOSE = ConfigDict(extra="allow", frozen=True)


class TextPart(BaseModel):
    """A text content part: ``{"type": "text", "text": "..."}``."""

    model_config = _STRICT
    type: Literal["text"]
    text: str


class ImageURL(BaseModel):
    model_config = _STRICT
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(BaseModel):
    """An image content part; images carry no text the classifier can read."""

    model_config = _STRICT
    type: Literal["image_url"]
    image_url: ImageURL


class RefusalPart(BaseModel):
    model_config = _STRICT
    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[TextPart | ImagePart | RefusalPart, Field(discriminator="type")]


class FunctionCall(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1)
    arguments: str


class ToolCall(BaseModel):
    """A tool call made by the assistant in an earlier turn."""

    model_config = _STRICT
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class _MessageBase(BaseModel):
    model_config = _STRICT
    name: str | None = None

    def text(self) -> str:
        """All text in the message, parts joined by newlines (images contribute nothing)."""
        content = getattr(self, "content", None)
        if content is None:
            return ""
        if isinstance(content, str):
            return content
        return "\n".join(self.part_texts())

    def part_texts(self) -> list[str]:
        """The text of each text or refusal part, in order (``[content]`` for a string)."""
        content = getattr(self, "content", None)
        if content is None:
            return []
        if isinstance(content, str):
            return [content]
        out = []
        for part in content:
            if isinstance(part, TextPart):
                out.append(part.text)
            elif isinstance(part, RefusalPart):
                out.append(part.refusal)
        return out


class SystemMessage(_MessageBase):
    role: Literal["system", "developer"]
    content: str | list[TextPart]


class UserMessage(_MessageBase):
    role: Literal["user"]
    content: str | list[ContentPart]


class AssistantMessage(_MessageBase):
    role: Literal["assistant"]
    content: str | list[TextPart | RefusalPart] | None = None
    tool_calls: list[ToolCall] | None = None
    refusal: str | None = None

    def text(self) -> str:
        base = super().text()
        # Tool-call arguments are text we send on to the backend, so they are classified too.
        if self.tool_calls:
            args = "\n".join(c.function.arguments for c in self.tool_calls)
            return f"{base}\n{args}" if base else args
        return base


class ToolMessage(_MessageBase):
    role: Literal["tool"]
    content: str | list[TextPart]
    tool_call_id: str


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


class FunctionDefinition(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDefinition(BaseModel):
    model_config = _STRICT
    type: Literal["function"]
    function: FunctionDefinition


class NamedToolChoice(BaseModel):
    model_config = _STRICT
    type: Literal["function"]
    function: dict[str, str]


class ResponseFormat(BaseModel):
    """``{"type": "text" | "json_object" | "json_schema", ...}``."""

    model_config = _LOOSE
    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None
    # llama-cpp-python's extension: a JSON schema for json_object.
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


class StreamOptions(BaseModel):
    model_config = _STRICT
    include_usage: bool = False


class ChatRequest(BaseModel):
    """A validated chat request: the conversation plus generation parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, allow_inf_nan=False)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0, allow_inf_nan=False)
    stop: str | list[str] | None = None
    seed: int | None = None
    tools: list[ToolDefinition] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None

    def texts(self) -> list[str]:
        """The text of every message, in order."""
        return [m.text() for m in self.messages]

    def all_texts(self) -> list[str]:
        """Every piece of text this request would send: the messages' texts (in order),
        then :meth:`extra_texts`. Detections index into this list, so nothing the request
        carries escapes the classifier, redaction or the guard."""
        return self.texts() + self.extra_texts()

    def extra_texts(self) -> list[str]:
        """Text a backend receives outside the messages' content: names, refusals, image
        URLs, tool-call ids and function names, stop sequences, tool definitions, the named
        tool choice, the response format."""
        out: list[str] = []
        for m in self.messages:
            if m.name:
                out.append(m.name)
            if isinstance(m, AssistantMessage):
                if m.refusal:
                    out.append(m.refusal)
                for c in m.tool_calls or ():
                    out += [c.id, c.function.name]
            elif isinstance(m, ToolMessage):
                out.append(m.tool_call_id)
            elif isinstance(m, UserMessage) and not isinstance(m.content, str):
                out += [p.image_url.url for p in m.content if isinstance(p, ImagePart)]
        if self.stop is not None:
            out += self.stop_list
        if self.tools:
            out += [t.model_dump_json() for t in self.tools]
        if isinstance(self.tool_choice, NamedToolChoice):
            out += [s for kv in self.tool_choice.function.items() for s in kv]
        if self.response_format is not None:
            out.append(self.response_format.model_dump_json(by_alias=True))
        return out

    @property
    def stop_list(self) -> list[str]:
        """The stop sequences as a list (empty when none)."""
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def images(self) -> list[ImageURL]:
        """The image of every image content part, in order."""
        return [
            p.image_url
            for m in self.messages
            if isinstance(m, UserMessage) and not isinstance(m.content, str)
            for p in m.content
            if isinstance(p, ImagePart)
        ]

    @property
    def has_images(self) -> bool:
        """Whether any message carries an image content part."""
        return any(
            isinstance(m.content, list) and any(isinstance(p, ImagePart) for p in m.content)
            for m in self.messages
        )

    @property
    def wants_json(self) -> bool:
        """Whether the request asks for JSON output."""
        return self.response_format is not None and self.response_format.type != "text"

    def generation_params(self) -> dict[str, Any]:
        """The parameters a backend needs, without ``None`` values and without ``messages``."""
        return self.model_dump(exclude={"messages"}, exclude_none=True, by_alias=True)

    def wire_messages(self) -> list[dict[str, Any]]:
        """The messages as plain OpenAI-format dicts, ready to send."""
        return [m.model_dump(exclude_none=True) for m in self.messages]


def _format_words(
    model: type[BaseModel], keys: set[str], fixed: dict[str, set[str]], seen: set[type]
) -> None:
    """Collect the field names (and aliases) of ``model`` and the models it holds, and the
    values of their ``Literal`` fields by field name."""
    seen.add(model)
    for name, field in model.model_fields.items():
        keys.update(filter(None, (name, field.alias)))
        stack = [field.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                if t not in seen:
                    _format_words(t, keys, fixed, seen)
            elif get_origin(t) is Literal:
                fixed.setdefault(field.alias or name, set()).update(map(str, get_args(t)))
            else:
                stack += get_args(t)


def _collect_format_words() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    keys: set[str] = set()
    fixed: dict[str, set[str]] = {}
    _format_words(ChatRequest, keys, fixed, set())
    return frozenset(keys), {k: frozenset(v) for k, v in fixed.items()}


FORMAT_KEYS, FIXED_VALUES = _collect_format_words()
"""The chat format's own words, read from the models above: every field name (``role``,
``content``, ``seed`` ...), and the values of each enumerated field by field name
(``detail``: ``auto``, ``low``, ``high``). They are the same for every caller, so they carry
no caller data: redaction leaves them alone (replacing one would make the request
invalid) and the privacy guard does not search them."""


def is_fixed(key: str, value: str) -> bool:
    """Whether ``value`` under ``key`` is one of the format's fixed words (see above)."""
    fixed = FIXED_VALUES.get(key)
    return fixed is not None and value in fixed


_REQUEST = TypeAdapter(ChatRequest)
_ALIASES = {"max_completion_tokens": "max_tokens"}

MessagesInput = str | Sequence[Mapping[str, Any]] | Sequence[Any]


_TAGS = frozenset(
    ["system", "developer", "user", "assistant", "tool", "text", "image_url", "refusal"]
)
_TYPES = frozenset(["str", "int", "float", "bool", "dict", "list", "none"])


def _message(err: Any) -> str:
    """pydantic's message, minus anything it quotes from the request (which may be
    personal data): only our own vocabulary (expected tags and values) is repeated."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "union_tag_invalid":
        return f"{ctx.get('discriminator', 'tag')} must be one of: {ctx.get('expected_tags')}"
    if kind == "literal_error":
        return f"must be one of: {ctx.get('expected')}"
    return err["msg"]


_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _loc(loc: Sequence[int | str]) -> str:
    """``messages[0].content[1].text`` from pydantic's location tuple, without the names
    pydantic adds for union branches and discriminator tags."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        if "[" in part or part in _TYPES or part.startswith("function-"):
            continue
        if not _FIELD_NAME.match(part):
            part = "<unknown key>"  # a key the caller made up may itself be personal data
        if i > 0 and isinstance(loc[i - 1], int) and part in _TAGS:
            continue  # the discriminator of a tagged union
        out += f".{part}" if out else part
    return out


def parse_request(messages: MessagesInput, **params: Any) -> ChatRequest:
    """Validate a conversation and its parameters into a :class:`ChatRequest`.

    ``messages`` is a list of OpenAI-format message dicts (or pydantic messages), or a plain
    string taken as one user message. Raises :class:`InvalidRequest` naming the bad field.

    >>> parse_request("Hello").messages[0].role
    'user'
    """
    if isinstance(messages, ChatRequest):
        if not params:
            return messages
        # Re-validate: model_copy(update=...) would accept any value unchecked.
        base = messages.model_dump(exclude_none=True, by_alias=True)
        messages, params = base.pop("messages"), {**base, **params}
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    elif not isinstance(messages, Sequence):
        raise InvalidRequest(
            f"expected a list of messages or a string, got {type(messages).__name__}",
            field="messages",
        )
    for alias, name in _ALIASES.items():
        if alias in params:
            if name in params and params[name] is not None:
                raise InvalidRequest(f"give either {alias} or {name}, not both", field=alias)
            params[name] = params.pop(alias)
    data = {"messages": list(messages), **params}
    try:
        request = _REQUEST.validate_python(data)
    except ValidationError as exc:
        # Unions report one error per branch; the deepest one names the real problem.
        err = max(exc.errors(include_url=False), key=lambda e: len(e["loc"]))
        raise InvalidRequest(_message(err), field=_loc(err["loc"])) from None
    _check_sendable(request)
    return request


def _check_sendable(request: ChatRequest) -> None:
    """Refuse what validates but cannot be sent: a tool or response format that does not
    serialise to JSON (an object, nesting past the serialiser's limit), or text with an
    unpaired surrogate (``"\\ud800"`` from JSON), which is not Unicode any backend reads."""
    try:
        texts = request.all_texts()
    except (PydanticSerializationError, ValueError, RecursionError):
        raise InvalidRequest(
            "cannot be serialised as JSON", field="tools or response_format"
        ) from None
    for i, text in enumerate(texts):
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                where = f"messages[{i}]" if i < len(request.messages) else "parameters"
                raise InvalidRequest(
                    "contains an unpaired surrogate, which is not valid Unicode", field=where
                ) from None
