"""Build backends from their configuration, by ``kind``.

Kinds are imported lazily, so a configuration without in-process models never imports
llama.cpp, and one without a proprietary API never imports the ``openai`` SDK.
"""

from __future__ import annotations

import importlib

from router.backends.base import Backend
from router.config import BackendSpec
from router.errors import ConfigError

# kind -> "module:class"; each class has ``from_spec(spec)`` and an ``Options`` model.
KINDS: dict[str, str] = {
    "fake": "router.backends.fake:FakeBackend",
    "llama_cpp": "router.backends.llama_cpp:LlamaCppBackend",
    "openai_compatible": "router.backends.http:OpenAICompatibleBackend",
    "openai": "router.backends.proprietary:OpenAIBackend",
}


def backend_class(kind: str) -> type[Backend]:
    """The class implementing ``kind``. Raises :class:`ConfigError` for unknown kinds."""
    target = KINDS.get(kind)
    if target is None:
        raise ConfigError(f"unknown backend kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def build_backend(spec: BackendSpec) -> Backend:
    """Create the backend a configuration entry describes."""
    return backend_class(spec.kind).from_spec(spec)  # type: ignore[attr-defined]
