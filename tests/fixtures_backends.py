"""Fixtures for the real backends: tiny GGUF models, a real llama-cpp-python server, and a
loopback OpenAI-compatible stub. Everything listens on 127.0.0.1 and is started and
stopped by the test session.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from router.config import BackendSpec, Capabilities
from tests.gguf_models import write_model

STUB_REPLY = "Hello from the stub."
STUB_KEY = "sk-test-SECRET-0123456789abcdef"


@dataclass(frozen=True)
class TinyModels:
    dense: Path
    moe: Path


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    """A tiny dense and a tiny mixture-of-experts GGUF, written once per session."""
    d = tmp_path_factory.mktemp("gguf")
    return TinyModels(
        write_model(d / "tiny-dense.gguf"), write_model(d / "tiny-moe.gguf", moe=True)
    )


def tiny_spec(path: Path, name: str = "tiny", tier: str = "small", **options: Any) -> BackendSpec:
    """A ``llama_cpp`` spec for a tiny model (context window 512)."""
    return BackendSpec(
        name=name,
        tier=tier,  # type: ignore[arg-type]
        zone="local",
        kind="llama_cpp",
        model=path.stem,
        context_window=512,
        options={"model_path": str(path), "seed": 1, **options},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- a real llama-cpp-python server -------------------------------------------------------


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    model: str = "tiny-moe"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_llama_server(model: Path, timeout: float = 60.0) -> Server:
    """``python -m llama_cpp.server`` on a free loopback port, serving ``model``."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
        "tiny-moe", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512",
        "--n_threads", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Server(f"http://127.0.0.1:{port}/v1", proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}: {err}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=1) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"llama_cpp.server did not start within {timeout} s")


@pytest.fixture(scope="session")
def llama_server(tiny_models: TinyModels):
    """A real OpenAI-compatible server (llama-cpp-python's) serving the tiny MoE model."""
    pytest.importorskip("uvicorn", reason="needs llama-cpp-python[server]")
    server = start_llama_server(tiny_models.moe)
    yield server
    server.stop()


def server_spec(server: Server, name: str = "moe-server", **kw: Any) -> BackendSpec:
    return BackendSpec(
        name=name,
        tier="large",
        zone="local",
        kind="openai_compatible",
        model=server.model,
        context_window=512,
        options={"base_url": server.base_url, "server": "llama_cpp_python", **kw},
    )


# --- a loopback OpenAI-compatible stub ------------------------------------------------------


@dataclass
class Stub:
    """What the stub received, and what it should answer next (``script``, in order).

    A script step is a dict: ``{"status": 429, "headers": {...}, "body": ...}`` answers
    that; ``{"raw": b"..."}`` sends a 200 with that body as JSON; ``{"drop": True}`` closes
    the connection without an answer; ``{"stream_gap_s": 0.02}`` streams the usual answer
    with that pause between events.
    """

    base_url: str
    records: list[dict[str, Any]] = field(default_factory=list)
    script: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.script.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stub: Stub

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _record(self, body: Any) -> dict[str, Any] | None:
        with self.stub.lock:
            self.stub.records.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            return self.stub.script.pop(0) if self.stub.script else None

    def do_GET(self) -> None:
        step = self._record(None)
        if step is not None:
            return self._scripted(step)
        self._send(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(n) or b"{}")
        step = self._record(body)
        if step is not None:
            return self._scripted(step)
        if body.get("stream"):
            return self._stream(body)
        self._send(200, _completion(body))

    def _scripted(self, step: dict[str, Any]) -> None:
        if step.get("drop"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if "raw" in step:
            return self._send(200, step["raw"])
        if "stream_gap_s" in step:
            return self._stream(self._last_body(), step["stream_gap_s"])
        self._send(step.get("status", 200), step.get("body", {}), step.get("headers"))

    def _last_body(self) -> dict[str, Any]:
        with self.stub.lock:
            return self.stub.records[-1]["body"] or {}

    def _stream(self, body: dict[str, Any], gap_s: float = 0.0) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 1}
        base["model"] = body.get("model", "stub-model")
        pieces = [{"role": "assistant", "content": ""}]
        pieces += [{"content": STUB_REPLY[i : i + 6]} for i in range(0, len(STUB_REPLY), 6)]
        events = [
            {**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in pieces
        ]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": _usage()})
        for e in events:
            self.wfile.write(f"data: {json.dumps(e)}\n\n".encode())
            self.wfile.flush()
            time.sleep(gap_s)
        self.wfile.write(b"data: [DONE]\n\n")


def _usage() -> dict[str, int]:
    return {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 1,
        "model": body.get("model", "stub-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": STUB_REPLY},
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(),
    }


@pytest.fixture(scope="session")
def _stub_server():
    handler = type("Handler", (_Handler,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    stub = Stub(f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    handler.stub = stub
    thread = threading.Thread(target=httpd.serve_forever, name="openai-stub", daemon=True)
    thread.start()
    yield stub
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def openai_stub(_stub_server: Stub, monkeypatch: pytest.MonkeyPatch) -> Stub:
    """The loopback stub, emptied for this test, with ``STUB_KEY`` in ``STUB_OPENAI_KEY``."""
    _stub_server.reset()
    monkeypatch.setenv("STUB_OPENAI_KEY", STUB_KEY)
    return _stub_server


def stub_http_spec(stub: Any, **kw: Any) -> BackendSpec:
    """An ``openai_compatible`` spec for a loopback server (anything with a ``base_url``)."""
    caps = kw.pop("capabilities", Capabilities())
    return BackendSpec(
        name="stub-http",
        tier="large",
        zone="local",
        kind="openai_compatible",
        model="stub-model",
        capabilities=caps,
        api_key_env=kw.pop("api_key_env", None),
        options={"base_url": stub.base_url, **kw},
    )


def stub_spec(stub: Stub, name: str = "cloud", **kw: Any) -> BackendSpec:
    caps = kw.pop("capabilities", Capabilities(tools=True, streaming_usage=True))
    return BackendSpec(
        name=name,
        tier="proprietary",
        zone="remote",
        kind="openai",
        model="stub-model",
        api_key_env="STUB_OPENAI_KEY",
        capabilities=caps,
        options={"base_url": stub.base_url, **kw},
    )
