"""Stand-in backends for dry runs (``explain``, traffic replays): same spec, never called.

A stand-in validates its spec's options with the real backend kind, so a dry run still
catches configuration mistakes, and reports the real kind's metadata when it can be read
without loading a model.
"""

from __future__ import annotations

from typing import Any

from router import errors
from router.backends.base import Backend, Health
from router.backends.registry import backend_class
from router.config import BackendSpec


class StandIn(Backend):
    """A backend that refuses every call: decisions only."""

    def __init__(self, spec: BackendSpec, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(spec)
        self._metadata = metadata or {}

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> StandIn:
        real = backend_class(spec.kind)
        check = getattr(real, "check_options", None)
        if check is not None:
            check(spec)
        describe = getattr(real, "describe", None)
        return cls(spec, describe(spec) if describe is not None else None)

    def _refuse(self) -> errors.BackendUnavailable:
        return errors.BackendUnavailable(
            "dry run: stand-in backends are never called", backend=self.spec.name
        )

    def chat(self, request, *, timeout=None, headers=None):  # type: ignore[no-untyped-def]
        raise self._refuse()

    def stream(self, request, *, timeout=None, headers=None):  # type: ignore[no-untyped-def]
        raise self._refuse()

    def health(self) -> Health:
        return Health(ok=False, detail="dry run")

    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)
