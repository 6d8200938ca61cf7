"""The code in ``docs/*.md`` works as written: every ```python block runs, and every
```yaml block that is a policy or a router configuration (or a piece of one) loads. The
examples in the package's docstrings run too.

A block right after a ``<!-- not run -->`` comment is skipped. The Python blocks of
``docs/telemetry.md`` are run by ``tests/test_telemetry_examples.py`` and not here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from router.backends.registry import backend_class
from router.config import RouterConfig, parse_config
from router.policy import load_policy
from router.yamlio import load_yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
NOT_RUN = "<!-- not run -->"
RUN_ELSEWHERE = {("telemetry.md", "python")}  # tests/test_telemetry_examples.py
_FENCE = re.compile(r"^```(\w+)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(lang: str) -> Iterator[tuple[Path, int, str]]:
    """(doc, line of the block's first line of code, code) for each ``lang`` block."""
    for doc in DOCS:
        if (doc.name, lang) in RUN_ELSEWHERE:
            continue
        text = doc.read_text(encoding="utf-8")
        for m in _FENCE.finditer(text):
            if m.group(1) != lang or text[: m.start()].rstrip().endswith(NOT_RUN):
                continue
            yield doc, text.count("\n", 0, m.start()) + 2, m.group(2)


def _ids(items: list[tuple[Path, int, str]]) -> list[str]:
    return [f"{doc.name}:{line}" for doc, line, _ in items]


PYTHON = list(blocks("python"))
YAML = list(blocks("yaml"))


def test_the_docs_have_code_to_check() -> None:
    assert PYTHON and YAML


@pytest.mark.parametrize("doc", sorted({doc for doc, _, _ in PYTHON}), ids=lambda d: d.name)
def test_python_blocks_run(doc: Path) -> None:
    """A page's blocks run in order in one fresh interpreter, as a reader would paste them."""
    code = "\n".join(c for d, _, c in PYTHON if d == doc)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{doc.name}:\n{code}\n{proc.stderr}"


# A router configuration has these keys and a policy does not.
CONFIG_ONLY = {"backends", "policies", "default_team", "telemetry"}
assert set(RouterConfig.model_fields) >= CONFIG_ONLY
_STAND_IN = "backends: [{name: stand-in, tier: small, zone: local, kind: fake, model: m}]\n"


def kind_of(data: Any) -> str:
    """``config`` (has ``backends``), ``backends`` (a list of backend entries, as under a
    configuration's ``backends:``), ``config-part`` (other configuration keys only) or
    ``policy``."""
    if isinstance(data, list):
        return "backends"
    if isinstance(data, dict) and "backends" in data:
        return "config"
    if isinstance(data, dict) and data and set(data) <= CONFIG_ONLY:
        return "config-part"
    return "policy"


def load_block(name: str, text: str) -> str:
    """Load one block the way the router loads its files; returns what it was taken for."""
    data, _ = load_yaml(text, name)
    kind = kind_of(data)
    version = "" if isinstance(data, dict) and "version" in data else "version: 1\n"
    if kind == "policy":
        load_policy(name, team="docs", text=version + text, directory=ROOT / "policies")
        return kind
    if kind == "backends":
        text = "backends:\n" + textwrap.indent(text, "  ")
    elif kind == "config-part":
        text = _STAND_IN + text
    data, lines = load_yaml(version + text, name)
    config = parse_config(data, file=name, lines=lines)
    for spec in config.backends:  # the options each kind takes, with their types
        check = getattr(backend_class(spec.kind), "check_options", None)
        if check is not None:
            check(spec)
    return kind


@pytest.mark.parametrize(("doc", "line", "text"), YAML, ids=_ids(YAML))
def test_yaml_blocks_load(doc: Path, line: int, text: str) -> None:
    load_block(f"{doc.name}:{line}", text)


def test_yaml_blocks_are_told_apart_by_their_keys() -> None:
    entry = "- {name: b, tier: small, zone: local, kind: fake, model: m}\n"
    assert load_block("entry", entry) == "backends"
    assert load_block("config", f"version: 1\nbackends:\n  {entry}") == "config"
    assert load_block("part", "telemetry: {capture_content: true}\n") == "config-part"
    assert load_block("policy", "version: 1\nextends: default\n") == "policy"
    with pytest.raises(Exception, match="unknown"):
        load_block("typo", "- {name: b, tier: small, zone: local, kind: fake, model: m, x: 1}\n")


def _modules() -> list[str]:
    package = ROOT / "router"
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in package.rglob("*.py")
        if p.name != "__main__.py"
    )


@pytest.mark.parametrize("module", _modules())
def test_the_examples_in_docstrings_run(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {module} fail"


def test_every_public_name_is_in_the_api_reference() -> None:
    import router

    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in router.__all__ if f"- `{name}` (" not in text]
    assert not missing, f"docs/api.md does not describe {missing}"
