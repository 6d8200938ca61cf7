"""The public surface: sorted __all__, documented names, typed package."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import router

PACKAGES = [
    "router",
    "router.classify",
    "router.policy",
    "router.backends",
    "router.learned",
    "router.telemetry",
    "router.testing",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    names = list(module.__all__)
    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions
    style = sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert names == style, f"{name}.__all__ is not sorted"
    for attr in names:
        assert hasattr(module, attr), f"{name}.{attr} is exported but missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_classes_and_functions_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    missing = [
        attr
        for attr in module.__all__
        if (inspect.isclass(getattr(module, attr)) or inspect.isfunction(getattr(module, attr)))
        and not (getattr(module, attr).__doc__ or "").strip()
    ]
    assert not missing, f"undocumented in {name}: {missing}"


def test_package_is_typed() -> None:
    assert (Path(router.__file__).parent / "py.typed").is_file()


def test_every_error_is_a_router_error() -> None:
    from router import errors

    for obj in vars(errors).values():
        if (
            inspect.isclass(obj)
            and issubclass(obj, Exception)
            and obj.__module__ == errors.__name__
        ):
            assert issubclass(obj, errors.RouterError), obj


def test_public_methods_of_exported_classes_have_docstrings() -> None:
    missing = []
    for name in router.__all__:
        cls = getattr(router, name)
        if not inspect.isclass(cls) or issubclass(cls, Exception):
            continue
        for attr in dir(cls):
            if attr.startswith("_"):
                continue
            owner = next((k for k in cls.__mro__ if attr in vars(k)), None)
            if owner is None or not owner.__module__.startswith("router"):
                continue  # pydantic's and the standard library's own methods
            member = inspect.getattr_static(cls, attr)
            public = callable(member) or isinstance(member, property | classmethod | staticmethod)
            if public and not (inspect.getdoc(getattr(cls, attr)) or "").strip():
                missing.append(f"{name}.{attr}")
    assert not missing, f"undocumented public methods: {missing}"
