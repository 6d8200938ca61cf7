"""Backends: where requests are finally sent. See :mod:`router.backends.base`."""

from router.backends.base import Backend, Health
from router.backends.fake import FakeBackend
from router.backends.registry import KINDS, build_backend

__all__ = ["KINDS", "Backend", "FakeBackend", "Health", "build_backend"]
