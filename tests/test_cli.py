"""The command line: JSON contracts, batches, file:line errors, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "examples" / "config.yaml")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "router", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_version_and_help() -> None:
    assert cli("--version").stdout.startswith("hybrid-router ")
    out = cli("--help").stdout
    for command in ("classify", "explain", "validate", "bench", "schema"):
        assert command in out


def test_classify_json_contract() -> None:
    r = cli("classify", "--json", "Please email jane.doe@example.com about invoice 42")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {"pii", "detections", "task", "complexity", "tokens"}
    assert out["pii"] == ["email"]
    det = out["detections"][0]
    assert det["class"] == "email" and det["end"] > det["start"]
    assert "jane.doe@example.com" not in r.stdout  # spans, not values
    assert 0.0 <= out["complexity"] <= 1.0


def test_classify_batch_one_line_per_input_and_a_summary() -> None:
    lines = "\n".join(
        [
            json.dumps({"text": "call me on +44 20 7946 0958"}),
            json.dumps({"messages": [{"role": "user", "content": "What is 12 * 7?"}]}),
            "not json",
            json.dumps({"messages": "oops"}),
        ]
    )
    r = cli("classify", "--batch", "--json", stdin=lines)
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == 4
    assert rows[0]["pii"] == ["phone"]
    assert rows[1]["task"] == "math"
    assert "line 3" in rows[2]["error"] and "line 4" in rows[3]["error"]
    assert "classified 2 request(s), 2 error(s)" in r.stderr
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_explain_json_contract() -> None:
    r = cli(
        "explain", "--config", CONFIG, "--team", "legal", "--json", "My card is 4111 1111 1111 1111"
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= {
        "backend",
        "tier",
        "zone",
        "reasons",
        "candidates",
        "classification",
        "policy",
    }
    assert out["zone"] == "local"
    assert set(out["policy"]) >= {"team", "version", "sha256"}
    cloud = next(c for c in out["candidates"] if c["backend"] == "cloud")
    assert not cloud["eligible"]
    assert any("credit_card is local_only" in x for x in cloud["reasons"])


def test_explain_batch_replays_traffic_with_a_summary() -> None:
    traffic = (ROOT / "examples" / "traffic.jsonl").read_text()
    r = cli("explain", "--config", CONFIG, "--team", "support", "--batch", stdin=traffic)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == len(traffic.strip().splitlines())
    assert all(row["backend"] for row in rows)
    assert "per tier:" in r.stderr and "estimated cost $" in r.stderr


def test_explain_unknown_team_is_one_line_exit_2() -> None:
    r = cli("explain", "--config", CONFIG, "--team", "nobody", "hi")
    assert r.returncode == 2
    assert "no policy for team 'nobody'" in r.stderr
    assert "Traceback" not in r.stderr


def test_validate_reports_file_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("version: 1\nprivacy:\n  emial: local_only\n")
    r = cli("validate", str(bad))
    assert r.returncode == 2
    assert f"{bad}:3: unknown key 'privacy.emial'" in r.stderr
    assert "did you mean 'email'" in r.stderr
    assert "Traceback" not in r.stderr


def test_validate_accepts_the_shipped_files() -> None:
    r = cli("validate", "policies", CONFIG)
    assert r.returncode == 0, r.stderr
    assert "checked 5 file(s): ok" in r.stdout


def test_validate_checks_backend_names_a_policy_refers_to(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "ops.yaml").write_text(
        "version: 1\nrouting: {allowed_backends: [gpu-box]}\n"
    )
    (tmp_path / "router.yaml").write_text(
        "version: 1\npolicies: policies\nbackends:\n"
        "  - {name: small, tier: small, zone: local, kind: fake, model: m}\n"
    )
    r = cli("validate", str(tmp_path / "router.yaml"))
    assert r.returncode == 2
    assert "names backend 'gpu-box'" in r.stderr


def test_a_config_with_a_literal_key_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "router.yaml"
    cfg.write_text(
        "version: 1\nbackends:\n  - name: c\n    tier: proprietary\n"
        "    zone: remote\n    kind: openai\n    model: gpt\n    api_key: sk-123\n"
    )
    r = cli("validate", str(cfg))
    assert r.returncode == 2
    assert f"{cfg}:8:" in r.stderr and "api_key_env" in r.stderr
    assert "sk-123" not in r.stderr


def test_schema_is_up_to_date() -> None:
    r = cli(
        "schema", "--out", "policies/schema.json", "--docs", "docs/policy-reference.md", "--check"
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["classify"],
        ["explain", "--config", "/no/such.yaml", "x"],
        ["bench", "--suite", "nope"],
        ["frobnicate"],
    ],
)
def test_user_errors_exit_2_without_traceback(args: list[str]) -> None:
    r = cli(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_bench_json_keys() -> None:
    from router.bench.overhead import run

    out = run(n=50, concurrency=20, async_requests=100, rounds=2)
    assert set(out) >= {
        "classify_us_p50",
        "decide_us_p50",
        "chat_us_p50",
        "chat_us_p99",
        "async_rps",
    }
    assert out["chat_us_p99"] >= out["chat_us_p50"] > 0


def test_cli_reference_is_up_to_date() -> None:
    r = cli("reference", "--out", "docs/cli.md", "--check")
    assert r.returncode == 0, "docs/cli.md is stale: run hybrid-router reference --out docs/cli.md"


def test_explain_without_config_uses_the_embedded_default_and_shows_model_facts() -> None:
    r = cli("explain", "--json", "Hello there")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["backend"] == "smollm2" and out["zone"] == "local"
    facts = out["backends"]["smollm2"]
    assert facts["architecture"] == "llama" and facts["parameter_count"] > 100_000_000
    assert facts["loaded"] is False  # explain reads the GGUF header, never the weights


@pytest.mark.parametrize(
    "url", ["https://user:sk-123@api.example.org/v1", "https://api.example.org/v1?api_key=sk-1"]
)
def test_a_key_hidden_in_a_url_is_refused(tmp_path: Path, url: str) -> None:
    cfg = tmp_path / "router.yaml"
    cfg.write_text(
        "version: 1\nbackends:\n  - name: c\n    tier: large\n    zone: local\n"
        f"    kind: openai_compatible\n    model: m\n    options: {{base_url: '{url}'}}\n"
    )
    r = cli("validate", str(cfg))
    assert r.returncode == 2
    assert "secrets may not be written" in r.stderr and "sk-1" not in r.stderr
