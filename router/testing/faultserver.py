"""A fault-injecting OpenAI-compatible server on 127.0.0.1, for tests and the stress bench.

It answers ``POST /v1/chat/completions`` (plain and streamed), ``GET /v1/models`` and
``GET /health``, records every request body it receives, and misbehaves on cue: each
request takes the next fault from :meth:`FaultServer.schedule`, or, when the schedule is
empty, a random fault with probability ``fault_rate``.

Faults: ``refuse`` (close the connection without answering), ``delay`` (answer after
``delay_s``), ``rate_limit`` (429 with ``Retry-After``), ``server_error`` (500),
``malformed`` (200 with broken JSON), ``cut_before`` (a stream that breaks before its first
chunk), ``cut_after`` (a stream that breaks after its first chunk), ``hang`` (never answer).
For a non-streaming request the two cuts behave like ``refuse``.

>>> with FaultServer() as server:          # doctest: +SKIP
...     server.schedule(["rate_limit", None])
...     url = server.base_url               # http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import deque
from typing import Any

FAULTS = (
    "refuse",
    "delay",
    "rate_limit",
    "server_error",
    "malformed",
    "cut_before",
    "cut_after",
    "hang",
)


class FaultServer:
    """Start with ``with FaultServer() as s:`` (or :meth:`start` / :meth:`stop`)."""

    def __init__(
        self,
        *,
        fault_rate: float = 0.0,
        faults: tuple[str, ...] = FAULTS,
        seed: int = 0,
        reply: str = "Hello from the fault server.",
        delay_s: float = 0.05,
        retry_after_s: float = 0.01,
        model: str = "fault-model",
    ) -> None:
        self.fault_rate = fault_rate
        self.faults = faults
        self.reply = reply
        self.delay_s = delay_s
        self.retry_after_s = retry_after_s
        self.model = model
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.served: list[str] = []
        self._rng = random.Random(seed)
        self._schedule: deque[str | None] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0

    # --- control ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def schedule(self, faults: list[str | None]) -> None:
        """Faults for the next requests, in order (``None`` = answer normally)."""
        for f in faults:
            if f is not None and f not in FAULTS:
                raise ValueError(f"unknown fault {f!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._schedule.extend(faults)

    def _next_fault(self) -> str | None:
        with self._lock:
            if self._schedule:
                return self._schedule.popleft()
            if self.fault_rate and self._rng.random() < self.fault_rate:
                return self._rng.choice(self.faults)
            return None

    def start(self) -> FaultServer:
        self._thread = threading.Thread(target=self._run, name="fault-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fault server did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and self._server is not None:
            loop.call_soon_threadsafe(self._server.close)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    # --- HTTP -------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                keep = await self._respond(method, path, headers, body, writer)
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()

    async def _send(self, writer, status: int, payload: bytes, extra: str = "") -> None:
        reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Server Error"}
        writer.write(
            f"HTTP/1.1 {status} {reason.get(status, 'X')}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{extra}\r\n".encode()
            + payload
        )
        await writer.drain()

    async def _respond(self, method, path, headers, body, writer) -> bool:
        if method == "GET" and path in ("/health", "/v1/models"):
            data = (
                {"status": "ok"}
                if path == "/health"
                else {"object": "list", "data": [{"id": self.model, "object": "model"}]}
            )
            await self._send(writer, 200, json.dumps(data).encode())
            return True
        if method == "GET" and path == "/_recorded":
            with self._lock:
                data = {"bodies": self.bodies, "served": self.served, "headers": self.headers}
            await self._send(writer, 200, json.dumps(data).encode())
            return True
        if method == "POST" and path == "/_schedule":
            self.schedule(json.loads(body))
            await self._send(writer, 200, b"{}")
            return True
        if method != "POST" or path != "/v1/chat/completions":
            await self._send(writer, 404, b'{"error": {"message": "not found"}}')
            return True
        try:
            request = json.loads(body)
        except json.JSONDecodeError:
            request = {"_unparsable": body.decode("utf-8", "replace")}
        fault = self._next_fault()
        with self._lock:
            self.bodies.append(request)
            self.headers.append(dict(headers))
            self.served.append(fault or "ok")
        stream = bool(request.get("stream"))
        if fault in ("refuse",) or (fault in ("cut_before", "cut_after") and not stream):
            return False
        if fault == "hang":
            await asyncio.sleep(3600)
            return False
        if fault == "delay":
            await asyncio.sleep(self.delay_s)
        if fault == "rate_limit":
            await self._send(
                writer,
                429,
                b'{"error": {"message": "slow down"}}',
                f"Retry-After: {self.retry_after_s}\r\n",
            )
            return True
        if fault == "server_error":
            await self._send(writer, 500, b'{"error": {"message": "boom"}}')
            return True
        if fault == "malformed":
            await self._send(writer, 200, b'{"id": "x", "choices": [')
            return True
        if stream:
            await self._stream(request, writer, fault)
            return fault is None or fault == "delay"
        await self._send(writer, 200, json.dumps(self._completion(request)).encode())
        return True

    def _usage(self, request: dict[str, Any]) -> dict[str, int]:
        prompt = sum(len(str(m.get("content", ""))) // 4 + 4 for m in request.get("messages", []))
        out = max(1, len(self.reply) // 4)
        return {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}

    def _completion(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": self.reply},
                }
            ],
            "usage": self._usage(request),
        }

    async def _stream(self, request, writer, fault: str | None) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        cid, created = f"chatcmpl-{time.monotonic_ns()}", int(time.time())

        def event(obj: Any) -> bytes:
            data = b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode())
            data += b"\n\n"
            return f"{len(data):x}\r\n".encode() + data + b"\r\n"

        def chunk(delta: dict, finish: str | None = None) -> dict[str, Any]:
            return {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        if fault == "cut_before":
            await writer.drain()
            return
        pieces = [self.reply[i : i + 6] for i in range(0, len(self.reply), 6)]
        writer.write(event(chunk({"role": "assistant", "content": ""})))
        for i, piece in enumerate(pieces):
            writer.write(event(chunk({"content": piece})))
            await writer.drain()
            if fault == "cut_after" and i == 0:
                return
        writer.write(event(chunk({}, "stop")))
        include = (request.get("stream_options") or {}).get("include_usage")
        if include:
            writer.write(
                event(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": self.model,
                        "choices": [],
                        "usage": self._usage(request),
                    }
                )
            )
        writer.write(event(b"[DONE]"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()


class FaultServerProcess:
    """The same server in a child process, so its work does not compete with the router
    under test for the GIL. ``bodies`` and ``served`` are fetched from the child."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._proc: Any = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FaultServerProcess:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_forever, args=(child, self._kwargs), daemon=True)
        self._proc.start()
        if not parent.poll(30):
            raise RuntimeError("fault server process did not start")
        self.port = parent.recv()
        return self

    def _get(self) -> dict[str, Any]:
        import httpx

        return httpx.get(f"http://127.0.0.1:{self.port}/_recorded", timeout=30).json()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return self._get()["bodies"]

    @property
    def served(self) -> list[str]:
        return self._get()["served"]

    def schedule(self, faults: list[str | None]) -> None:
        import httpx

        httpx.post(f"http://127.0.0.1:{self.port}/_schedule", json=faults, timeout=30)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join(10)

    def __enter__(self) -> FaultServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve_forever(conn: Any, kwargs: dict[str, Any]) -> None:
    server = FaultServer(**kwargs).start()
    conn.send(server.port)
    if server._thread is not None:
        server._thread.join()
