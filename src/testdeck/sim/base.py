"""Simulator kit: config (seed, size, fault knobs, clock), faults, loopback serving.

A simulator is a plain Starlette app built by `create_app(config)`. State
machines are advanced lazily from `config.clock()` at request time (no
background tasks), so a frozen clock gives deterministic answers and the same
app works over real loopback HTTP (uvicorn) and in-process (ASGI transport).
"""

from __future__ import annotations

import asyncio
import random
import socket
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass
class SimConfig:
    seed: int = 1
    size: int = 0  # extra generated rows for benchmarks; 0 = the small seeded set
    latency: float = 0.0  # seconds added to every request
    error_rate: float = 0.0  # fraction of requests answered 500
    malformed_rate: float = 0.0  # fraction answered 200 with a broken JSON body
    drop_rate: float = 0.0  # fraction whose connection is closed without an answer
    # a GET whose path ends so is answered 500 (tests); "POST /path" fails that method instead
    fail_paths: set[str] = field(default_factory=set)
    fail_text: str = "Internal Server Error (this path fails on purpose)"  # that 500's body
    speed: float = 1.0  # state machines run this many times faster than the clock
    clock: Callable[[], float] = field(default=time.time)
    fault_seed: int = 7

    def __post_init__(self) -> None:
        self._fault_rng = random.Random(self.fault_seed)

    def elapsed(self, since: float) -> float:
        """Simulated seconds since `since` (a clock() reading)."""
        return (self.clock() - since) * self.speed

    def roll(self, rate: float) -> bool:
        return rate > 0 and self._fault_rng.random() < rate


class Ids:
    """Deterministic ids from the seed: same seed, same ids, in the same order."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def hex32(self) -> str:
        return "%032x" % self.rng.getrandbits(128)

    def alnum(self, n: int = 11, prefix: str = "") -> str:
        chars = string.ascii_lowercase + string.digits
        return prefix + "".join(self.rng.choice(chars) for _ in range(n))


class DropConnection(Exception):
    """Raised by the fault layer: uvicorn closes the socket without a response."""


class faults:
    """ASGI middleware applying the config's latency and fault knobs (read per request).

    `.app` is the wrapped simulator (its `state` holds the data, for tests)."""

    def __init__(self, app, config: SimConfig):
        self.app = app
        self.config = config

    @property
    def state(self):
        return self.app.state

    async def __call__(self, scope, receive, send):
        config = self.config
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if config.latency:
            await asyncio.sleep(config.latency)
        if config.roll(config.drop_rate):
            # Start a response, then die mid-body: the server must not get the
            # chance to answer "500" (raising before the start would do that).
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"code": 0, "ro', "more_body": True})
            raise DropConnection("simulated dropped connection")
        if any(scope["method"] == (p.rpartition(" ")[0] or "GET") and scope["path"].endswith(p.rpartition(" ")[2])
               for p in config.fail_paths):
            return await _send(send, 500, "text/plain", config.fail_text.encode())
        if config.roll(config.error_rate):
            return await _send(send, 500, "text/plain", b"Internal Server Error (simulated fault)")
        if config.roll(config.malformed_rate):
            return await _send(send, 200, "application/json", b'{"code": 0, "rows": [{"id": "trunc')
        return await self.app(scope, receive, send)


async def _send(send, status: int, ctype: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@dataclass
class RunningServer:
    url: str
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True  # type: ignore[attr-defined]
        # and now: a response that never ends (a test's hanging server) held uvicorn's shutdown, and the
        # join, for its 5 s
        self.server.force_exit = True  # type: ignore[attr-defined]
        self.thread.join(timeout=5)


def serve(app, host: str = "127.0.0.1", port: int = 0, tls: tuple[str, str] | None = None) -> RunningServer:
    """Serve an ASGI app with uvicorn on loopback in a daemon thread; port 0 = ephemeral;
    tls = (certificate file, key file) serves https."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    certfile, keyfile = tls or (None, None)
    config = uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off",
                            ssl_certfile=certfile, ssl_keyfile=keyfile)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"sim-{bound}")
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.01)
    if not server.started:
        raise RuntimeError(f"simulator on {host}:{bound} did not start")
    return RunningServer(f"{'https' if tls else 'http'}://{host}:{bound}", server, thread)


def asgi_client(app) -> httpx.ASGITransport:
    """In-process transport for fast tests and snapshots (no sockets)."""
    return httpx.ASGITransport(app=app)
