"""Every example runs, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# Examples that need a harness (a collector, a model server) are run by their own tests.
ELSEWHERE = {
    "telemetry_otlp.py": "tests/test_telemetry_examples.py",
}


def run(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    # The console script sits next to the interpreter of the environment under test.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, **kw
    )


@pytest.mark.parametrize(
    "script", sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in ELSEWHERE)
)
def test_example_script_runs(script: str) -> None:
    r = run(sys.executable, str(EXAMPLES / script))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def test_examples_needing_a_harness_are_tested_elsewhere() -> None:
    for script, test in ELSEWHERE.items():
        if (EXAMPLES / script).exists():
            assert script in (ROOT / test).read_text(), f"{test} must run {script}"


def test_app_example_shows_routes_and_refusals() -> None:
    out = run(sys.executable, str(EXAMPLES / "app.py")).stdout
    assert "[legal] -> local-moe (large, local)" in out
    assert "[research] refused" in out  # a pasted secret is blocked by the research policy


def test_team_policy_example_tests_pass() -> None:
    r = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(EXAMPLES / "team_policy"),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 passed" in r.stdout


def test_replay_script() -> None:
    r = run("bash", str(EXAMPLES / "replay.sh"), "support")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 6
    assert "per tier:" in r.stderr
