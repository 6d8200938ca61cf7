"""The command line: JSON contracts, batches, file:line errors, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
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


def test_batch_results_name_the_input_line_they_answer() -> None:
    """Blank lines are skipped, so a result's place in the output is not its input line."""
    lines = "\n".join([json.dumps({"text": "hi"}), "", json.dumps({"text": "mail a@b.co"})])
    for command in (["classify"], ["explain", "--config", CONFIG, "--team", "legal"]):
        r = cli(*command, "--batch", "--json", stdin=lines)
        assert r.returncode == 0, r.stderr
        assert [json.loads(x)["line"] for x in r.stdout.splitlines()] == [1, 3]


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
    assert "ops.yaml:2: policy ops names backend 'gpu-box'" in r.stderr


def test_validate_gives_the_line_of_configuration_problems(tmp_path: Path) -> None:
    config = tmp_path / "router.yaml"
    config.write_text(
        "version: 1\npolicies: nowhere\ndefault_team: ops\nbackends:\n"
        "  - name: s\n    tier: small\n    zone: local\n    kind: bogus\n    model: m\n"
    )
    r = cli("validate", str(config))
    assert r.returncode == 2
    assert f"{config}:8: backends[0] (s): unknown backend kind 'bogus'" in r.stderr
    assert f"{config}:2: policy directory" in r.stderr
    config.write_text(config.read_text().replace("policies: nowhere\n", ""))
    r = cli("validate", str(config))
    assert f"{config}:2: default_team 'ops' has no policy" in r.stderr
    r = cli("explain", "--config", str(config), "--team", "default", "hi")
    assert r.returncode == 2 and "backends[0] (s): unknown backend kind" in r.stderr


def test_validate_a_directory_with_two_files_for_one_team_fails(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("version: 1\n")
    (tmp_path / "x.yml").write_text("version: 1\n")
    r = cli("validate", str(tmp_path))
    assert r.returncode == 2 and "two policy files for team 'x'" in r.stderr


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


SAMPLE = "tests/data/routing-outcomes/sample.jsonl"


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["classify"], None),
        (["explain", "--config", "/no/such.yaml", "x"], None),
        (["bench", "--suite", "nope"], None),
        (["frobnicate"], None),
        # a batch line whose labels are not a mapping: an error row, exit 2 at the end
        (["explain", "--config", CONFIG, "--batch"], '{"text": "hi", "labels": "x"}\n'),
        (["bench", "-n", "0"], None),
        (["bench", "-n", "-3"], None),
        (["chat"], None),
        (["chat", "--max-tokens", "many", "hi"], None),
        (["schema", "--check"], None),
        (["reference", "--check"], None),
        (["eval", "--outcomes", SAMPLE, "--cv", "0"], None),
        (["eval", "--outcomes", SAMPLE, "--cv", "1"], None),
        (["eval", "--outcomes", SAMPLE, "--cv", "-2"], None),
        (["eval", "--outcomes", SAMPLE, "--cv", "1000000"], None),
        (["eval", "--outcomes", SAMPLE, "--c", "0.5"], None),  # a training knob needs --cv
        (["eval", "--outcomes", SAMPLE, "--cv", "2", "--dense-scale", "0"], None),
        (["backends", "--large-model", "foo"], None),
        (["demo", "--max-tokens", "0"], None),
    ],
)
def test_user_errors_exit_2_without_traceback(args: list[str], stdin: str | None) -> None:
    r = cli(*args, stdin=stdin)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1, r.stderr  # one line: no usage block, no traceback


def test_explain_batch_reports_a_bad_line_and_goes_on() -> None:
    lines = [
        {"text": "hi", "labels": "x"},
        {"text": "hi", "labels": {"sensitivity": 3}},
        {"text": "hi", "labels": {"sensitivity": "internal"}},
    ]
    stdin = "".join(json.dumps(x) + "\n" for x in lines)
    r = cli("explain", "--config", CONFIG, "--batch", stdin=stdin)
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert rows[0] == {"error": "line 1: labels: labels must be a mapping of names to values",
                       "line": 1}  # fmt: skip
    assert rows[1]["line"] == 2 and "labels" in rows[1]["error"]
    assert rows[2]["classification"]["labels"] == {"sensitivity": "internal"}
    assert "explained 1 request(s), 2 error(s)" in r.stderr
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_explain_batch_passes_the_conversation(monkeypatch, capsys) -> None:
    import io

    from router.cli.main import main
    from router.core import Router

    seen: list[str | None] = []
    explain = Router.explain

    def spy(self, messages, **kw):
        seen.append(kw.get("conversation_id"))
        return explain(self, messages, **kw)

    monkeypatch.setattr(Router, "explain", spy)
    lines = '{"text": "hi"}\n{"text": "hi", "conversation_id": "own"}\n'
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["explain", "--config", CONFIG, "--batch", "--conversation", "c-1"]) == 0
    assert seen == ["c-1", "own"]  # a line's own conversation_id wins
    capsys.readouterr()


def test_explain_batch_replays_a_conversation_with_its_stickiness() -> None:
    hard = (
        "Prove that the sum of the reciprocals of the primes diverges, step by step, and "
        "compare the rigorous argument with the heuristic one. Explain why each inequality holds."
    )
    lines = [
        {"text": hard, "conversation_id": "c1"},
        {"text": "thanks!", "conversation_id": "c1"},  # stays where c1 was, as chat would
        {"text": "thanks!", "conversation_id": "c2"},  # a new conversation starts low
        {"text": "thanks!", "conversation_id": "c1", "remember": False},
    ]
    stdin = "".join(json.dumps(x) + "\n" for x in lines)
    r = cli("explain", "--config", CONFIG, "--team", "research", "--batch", stdin=stdin)
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert rows[0]["tier"] != "small" and rows[1]["tier"] == rows[0]["tier"]
    assert "stickiness" in " ".join(rows[1]["reasons"]) and rows[2]["tier"] == "small"
    assert rows[3] == {"error": "line 4: remember: unknown field", "line": 4}


def test_validate_fails_on_what_would_otherwise_pass_unnoticed(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    backend = "  - {name: s, tier: small, zone: local, kind: fake, model: m%s}\n"
    query = ', options: {health_path: "/health?api_key=sk-live-1234"}'
    (tmp_path / "hp.yaml").write_text("version: 1\nbackends:\n" + backend % query)
    (tmp_path / "dt.yaml").write_text(
        "version: 1\ndefault_team: legalx\nbackends:\n" + backend % ""
    )
    cases = [
        (tmp_path / "empty", "no .yaml or .yml file to check"),  # a CI job pointed wrong
        (tmp_path / "hp.yaml", "secrets may not be written"),  # a key in a path's query
        (tmp_path / "dt.yaml", "default_team 'legalx' has no policy"),
    ]
    for path, message in cases:
        r = cli("validate", str(path))
        assert r.returncode == 2 and message in r.stderr, (path, r.stderr)
        assert "sk-live-1234" not in r.stderr + r.stdout


def test_validate_reports_every_bad_policy_of_a_config_not_only_the_first(
    tmp_path: Path,
) -> None:
    (tmp_path / "pol").mkdir()
    (tmp_path / "pol" / "a.yaml").write_text("version: 1\nrouting: {retries: -1}\n")
    (tmp_path / "pol" / "b.yaml").write_text("version: 1\nrouting: {retries: -2}\n")
    (tmp_path / "pol" / "c.yaml").write_text("version: 1\nrouting: {fallback: [clowd]}\n")
    config = tmp_path / "c.yaml"
    config.write_text(
        "version: 1\npolicies: pol\nbackends:\n"
        "  - {name: s, tier: small, zone: local, kind: fake, model: m}\n"
    )
    r = cli("validate", str(config))
    assert r.returncode == 2 and "3 problem(s)" in r.stdout
    assert all(name in r.stderr for name in ("a.yaml:2:", "b.yaml:2:", "'clowd'"))


def test_check_against_a_file_that_is_not_utf8_is_out_of_date_not_a_traceback(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "schema.json"
    bad.write_bytes(b"\xff\xfe")
    r = cli("schema", "--check", "--out", str(bad))
    assert r.returncode == 2 and "out of date" in r.stderr and "Traceback" not in r.stderr


def test_help_and_errors_offer_batch_only_where_it_exists() -> None:
    chat_help = cli("chat", "--help").stdout
    assert "--batch" not in chat_help
    assert "sampling temperature" in chat_help
    r = cli("chat")
    assert "give the message text" in r.stderr and "--batch" not in r.stderr
    r = cli("classify")
    assert "or --batch" in r.stderr


def test_an_empty_or_blank_message_is_a_usage_error_not_a_routed_request() -> None:
    for command in ("chat", "classify"):
        for text in ("", "  \n "):
            r = cli(command, text)
            assert r.returncode == 2, (command, text, r.stdout)
            assert "the message text is empty" in r.stderr and r.stdout == ""
    r = cli("explain", "--config", CONFIG, "--team", "legal", "")
    assert r.returncode == 2 and "the message text is empty" in r.stderr


def test_every_command_and_argument_is_described_in_plain_text() -> None:
    import argparse

    from router.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        assert p.description, f"{name} has no description"
        assert "``" not in p.format_help(), f"{name} --help shows reStructuredText"
        for action in p._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_check_without_a_file_to_compare_is_an_error() -> None:
    for args, flags in ((["schema", "--check"], "--out"), (["reference", "--check"], "--out")):
        r = cli(*args)
        assert r.returncode == 2 and flags in r.stderr and r.stdout == ""


def test_schema_check_names_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text("{}")
    r = cli("schema", "--out", str(stale), "--check")
    assert r.returncode == 2 and f"out of date: {stale}" in r.stderr
    assert cli("schema", "--out", str(stale)).returncode == 0
    assert cli("schema", "--out", str(stale), "--check").returncode == 0


def test_cli_reference_leaves_the_environment_alone(monkeypatch) -> None:
    from router.cli.cmd_reference import cli_reference

    monkeypatch.setenv("COLUMNS", "40")
    text = cli_reference()
    assert os.environ["COLUMNS"] == "40"
    assert text == (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")  # width is fixed
    monkeypatch.delenv("COLUMNS")
    cli_reference()
    assert "COLUMNS" not in os.environ


def test_backends_lists_a_backend_that_cannot_be_built_as_not_ok(tmp_path: Path) -> None:
    cfg = tmp_path / "router.yaml"
    cfg.write_text(
        "version: 1\nbackends:\n"
        "  - {name: gone, tier: small, zone: local, kind: llama_cpp, model: m,\n"
        f"     options: {{model_path: '{tmp_path / 'missing.gguf'}'}}}}\n"
        "  - {name: fake, tier: large, zone: local, kind: fake, model: m}\n"
    )
    r = cli("backends", "--config", str(cfg), "--no-health", "--json")
    assert r.returncode == 0, r.stderr
    gone, fake = json.loads(r.stdout)
    assert gone["health"]["ok"] is False and "not found" in gone["health"]["detail"]
    assert gone["metadata"]["note"] == "model file not found here"
    assert "health" not in fake  # --no-health: the others are not probed
    r = cli("backends", "--config", str(cfg), "--no-health")
    assert r.returncode == 0 and "NOT OK" in r.stdout and "fake" in r.stdout


def test_shipped_backends_example_lists_every_backend() -> None:
    r = cli("backends", "--config", "examples/backends_config.yaml", "--no-health", "--json")
    assert r.returncode == 0, r.stderr
    names = [row["name"] for row in json.loads(r.stdout)]
    assert names == ["smollm2", "moe-local", "moe-server", "openai"]


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


def test_schema_writes_all_of_its_files_or_none(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    r = cli("schema", "--out", str(out), "--docs", str(tmp_path / "missing" / "ref.md"))
    assert r.returncode == 2 and "--docs" in r.stderr and "does not exist" in r.stderr
    assert not out.exists()  # nothing half-done
    r = cli("schema", "--out", str(out), "--docs", str(out))
    assert r.returncode == 2 and "different files" in r.stderr and not out.exists()
    r = cli("reference", "--out", "")
    assert r.returncode == 2 and r.stdout == ""


def test_batch_lines_with_bad_labels_or_bytes_are_line_errors_not_tracebacks() -> None:
    lines = '{"text": "hi", "labels": {"\\ud800": "x"}}\n{"text": "caf\udce9"}\n'
    r = subprocess.run(
        [sys.executable, "-m", "router", "classify", "--batch"],
        input=lines.encode("utf-8", "surrogateescape"),  # line 2 is Latin-1, not UTF-8
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert "unpaired surrogate" in out[0]["error"] and out[1]["error"] == "line 2: not UTF-8 text"


def test_batch_with_a_message_text_too_is_a_usage_error() -> None:
    for args in (["classify"], ["explain", "--config", "examples/config.yaml"]):
        r = cli(*args, "--batch", "ignored text", stdin='{"text": "a"}\n')
        assert r.returncode == 2 and "give no message text" in r.stderr and r.stdout == ""


def test_classify_batch_reads_lines_recorded_for_explain() -> None:
    lines = '{"text": "a", "team": "legal", "conversation_id": "c1"}\n{"text": "a", "team": 5}\n'
    r = cli("classify", "--batch", stdin=lines)
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert out[0]["task"] == "chat" and out[1]["error"] == "line 2: team: must be a string"


def test_a_nan_temperature_is_called_not_finite() -> None:
    r = cli("chat", "--config", "examples/config.yaml", "--temperature", "nan", "hi")
    assert r.returncode == 2 and "finite number" in r.stderr


def test_a_parent_policys_problem_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_bytes(b"version: 1\ndescription: caf\xe9\n")
    (tmp_path / "child.yaml").write_text("version: 1\nextends: base\n")
    r = cli("validate", str(tmp_path))
    assert r.returncode == 2 and r.stderr.count("cannot read file") == 1
