"""The router configuration file: which backends exist and where the team policies live.

Separate from policies: platform teams own this file, application teams own their policy.
Secrets never live here: a backend names the environment variable holding its key
(``api_key_env``), and a literal key in the file is an error.

.. code-block:: yaml

    version: 1
    policies: ./policies
    backends:
      - name: smol
        tier: small
        zone: local
        kind: llama_cpp
        model: SmolLM2-135M-Instruct
        context_window: 8192
        options: {model_path: /models/smollm2.gguf}
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from router.errors import ConfigError, PolicyError
from router.policy.model import Tier
from router.yamlio import load_yaml_file

Zone = Literal["local", "remote"]
"""``local``: the data stays on machines you control. ``remote``: it leaves them."""

_STRICT = ConfigDict(extra="forbid", frozen=True)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Price(BaseModel):
    """Price in US dollars per million tokens. Local backends may set one too."""

    model_config = _STRICT
    input_per_mtok: float = Field(default=0.0, ge=0)
    output_per_mtok: float = Field(default=0.0, ge=0)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """US dollars for this many input and output tokens."""
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


class Capabilities(BaseModel):
    """What a backend can do; requests needing more are not sent to it."""

    model_config = _STRICT
    tools: bool = False
    json_output: bool = True
    streaming: bool = True
    streaming_usage: bool = False
    images: bool = Field(
        default=False,
        description="Reads image content parts (a vision model). Requests with images go "
        "only to backends that declare it.",
    )


class BackendSpec(BaseModel):
    """One backend, as declared in the configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: str
    tier: Tier
    zone: Zone
    kind: str = Field(description="fake, llama_cpp, openai_compatible or openai.")
    model: str = Field(min_length=1)
    price: Price = Field(default_factory=Price)
    context_window: int = Field(default=4096, ge=16, le=10_000_000)
    capabilities: Capabilities = Field(default_factory=Capabilities)
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Settings specific to the backend kind."
    )
    expected_latency_ms: float | None = Field(
        default=None,
        gt=0,
        description="Prior for latency-aware routing: the time of a 256-token answer, "
        "scaled to the tokens a request expects; used until real observations arrive, and "
        "for a minute at most.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("use letters, digits, '-', '_' or '.', at most 64 characters")
        return v

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not _ENV.match(v):
            raise ValueError(
                "must be the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key"
            )
        return v

    @model_validator(mode="after")
    def _proprietary_is_remote(self) -> BackendSpec:
        if self.tier == "proprietary" and self.zone != "remote":
            raise ValueError("a proprietary backend is in zone 'remote'")
        return self

    def api_key(self) -> str | None:
        """The API key from the environment, or ``None`` when unset."""
        if self.api_key_env is None:
            return None
        return os.environ.get(self.api_key_env) or None


class TelemetryConfig(BaseModel):
    model_config = _STRICT
    capture_content: bool | None = Field(
        default=None,
        description="Record prompt and completion text in spans (never data kept local or "
        "redacted). Unset: the OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT variable "
        "decides.",
    )


class RouterConfig(BaseModel):
    """The whole configuration file."""

    model_config = _STRICT
    version: Literal[1]
    policies: str | None = Field(
        default=None, description="Directory of team policies, relative to this file."
    )
    default_team: str = "default"
    backends: list[BackendSpec] = Field(min_length=1)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)

    @field_validator("backends")
    @classmethod
    def _unique_names(cls, v: list[BackendSpec]) -> list[BackendSpec]:
        seen: set[str] = set()
        for b in v:
            if b.name in seen:
                raise ValueError(f"two backends are named {b.name!r}")
            seen.add(b.name)
        return v


_SECRET_KEYS = ("api_key", "apikey", "key", "token", "password", "secret")


def _check_no_secrets(data: Any, file: str, lines: Any) -> None:
    if not isinstance(data, dict):
        return
    backends = data.get("backends")
    if not isinstance(backends, list):
        return  # a wrong type is reported by validation, with its line
    for i, b in enumerate(backends):
        if not isinstance(b, dict):
            continue
        options = b.get("options") if isinstance(b.get("options"), dict) else {}
        places = [((("backends", i, k)), k, b[k]) for k in b]
        places += [(("backends", i, "options", k), k, v) for k, v in options.items()]
        for path, key, value in places:
            if str(key).lower() in _SECRET_KEYS or _url_with_secret(value):
                raise ConfigError(
                    f"backends[{i}].{key}: secrets may not be written in the configuration file",
                    file=file,
                    line=lines.line(path),
                    hint="put the key in an environment variable and name it with api_key_env",
                )


def check_url_has_no_secret(url: str | None) -> str | None:
    """``url`` itself, or ``ValueError`` when it carries credentials (see
    :func:`_url_with_secret`): a key belongs in the environment variable ``api_key_env``
    names, never in a URL that listings, explanations and errors show."""
    if url is not None and _url_with_secret(url):
        raise ValueError(
            "the URL carries credentials; put the key in the environment variable that "
            "api_key_env names"
        )
    return url


def _url_with_secret(value: Any) -> bool:
    """A URL carrying credentials: ``https://user:key@host`` or ``?api_key=...``, also a
    path with a query (``/health?api_key=...``)."""
    if not isinstance(value, str) or ("://" not in value and "?" not in value):
        return False
    url = urlsplit(value)
    if url.username or url.password:
        return True
    names = {k.lower().replace("-", "_") for k, _ in parse_qsl(url.query)}
    return any(n in _SECRET_KEYS or n.endswith(("_key", "_token", "secret")) for n in names)


def parse_config(data: Any, *, file: str, lines: Any) -> RouterConfig:
    """Validate configuration data already read from ``file``."""
    if not isinstance(data, dict):
        raise ConfigError("a configuration file must be a mapping", file=file, line=1)
    _check_no_secrets(data, file, lines)
    try:
        return RouterConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(
                ConfigError(f"{dotted.lstrip('.')}: {msg}", file=file, line=lines.line(loc))
            )
        problems[0].also = tuple(problems[1:])
        raise problems[0] from None


def load_config(path: str | Path) -> RouterConfig:
    """Read and validate a router configuration file. Raises :class:`ConfigError` (also for
    a missing or unreadable file and for YAML syntax errors)."""
    try:
        data, lines = load_yaml_file(path)
    except ConfigError:
        raise
    except PolicyError as exc:  # the YAML reader's errors, which policies share
        raise ConfigError(exc.message, file=exc.file, line=exc.line, hint=exc.hint) from None
    return parse_config(data, file=str(path), lines=lines)


def policies_dir(config: RouterConfig, config_path: str | Path) -> Path | None:
    """The policy directory, resolved relative to the configuration file."""
    if config.policies is None:
        return None
    p = Path(config.policies)
    return p if p.is_absolute() else Path(config_path).parent / p
