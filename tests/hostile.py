"""A hostile HTTP server on loopback, for tests of what testdeck survives.

A raw asyncio server (no framework between us and the socket, so it can lie
about lengths, drip bytes, never end, or stall) in a daemon thread; usable from
sync tests, async tests and CLI subprocesses alike.

    with Hostile() as h:            # or the `hostile` fixture below
        h.url                        # http://127.0.0.1:PORT
        h.route("/x", body=..., status=..., headers={...})   # a canned answer
        h.requests                   # every request seen: Seen(method, path, headers, body)

Built-in behaviours (query string tunes them):
    /drip?every=0.5&size=100000   200, Content-Length `size`, one byte per `every` seconds
    /huge?mb=500                  200, Content-Length mb MiB, sent as fast as the socket takes
    /endless                      200, chunked, 64 KiB chunks forever
    /stall                        headers sent, then nothing
    /hang                         nothing at all (not even headers)
    /nested?depth=100000          200, [[[[...]]]] `depth` deep
    /echo                         200, JSON of the request: method, path, headers, body
    /escapes                      200, JSON list of records carrying every hostile sequence (ESCAPES)
    /sink                         reads the request body without keeping it (Seen.body is its size), 200 {}
Any path can also be given a canned answer with route(), which wins over the built-ins, or
a built-in behaviour with alias("/api/app/get_alerts/v1", "/drip?every=0.3").
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
from dataclasses import dataclass, field

import pytest

# Terminal sequences a server could smuggle into text (each was seen to work on a real terminal).
ESCAPES = {
    "osc52_clipboard": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "osc52_st": "\x1b]52;c;ZWNobyBwd25lZA==\x1b\\",
    "title": "\x1b]0;pwned title\x07",
    "clear": "\x1b[2J\x1b[H",
    "alt_screen_off": "\x1b[?1049l",
    "osc8_link": "\x1b]8;;https://evil.example/\x1b\\https://good.example/\x1b]8;;\x1b\\",
    "c1_csi": "\x9b2J",
    "c1_osc": "\x9d0;c1 title\x9c",
    "bidi": "abc\u202edcba\u202c \u2066iso\u2069",
    "cr_overwrite": "safe text\rEVIL",
    "del_bel": "a\x7fb\x07c",
}
# Every character the sanitiser must neutralise appears in ESCAPES; none may reach a terminal.
FORBIDDEN = set("\x1b\x07\x9b\x9d\x9c\u202e\u202c\u2066\u2069\r\x7f")


def escape_records() -> list[dict]:
    return [{"id": f"e{i}-{name}", "title": f"{name}:{seq}", "name": seq, "message": seq}
            for i, (name, seq) in enumerate(ESCAPES.items())]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Canned:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Hostile:
    def __init__(self) -> None:
        self.routes: dict[str, Canned] = {}
        self.aliases: dict[str, str] = {}
        self.requests: list[Seen] = []
        self.sent = 0  # body bytes written, all connections
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="hostile")

    # --- set-up -----------------------------------------------------------------------
    def route(self, path: str, body: bytes | str | object = b"", *, status: int = 200,
              headers: dict[str, str] | None = None) -> None:
        """A canned answer: bytes as is, str as UTF-8, anything else as JSON."""
        hdrs = dict(headers or {})
        if isinstance(body, str):
            raw = body.encode()
            hdrs.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        self.routes[path] = Canned(status, raw, hdrs)

    def alias(self, path: str, target: str) -> None:
        """Answer `path` with a built-in behaviour (an adapter's real path, a hostile answer)."""
        self.aliases[path] = target

    def start(self) -> Hostile:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("hostile server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> Hostile:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    # --- one connection, one request ----------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen = await self._read_request(reader)
            if seen is None:
                return
            self.requests.append(seen)
            await self._answer(seen, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client hung up (as it should on a hostile answer), or the server stops
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def _read_request(self, reader: asyncio.StreamReader) -> Seen | None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = b""
        if target.split("?")[0].endswith("/sink"):  # big uploads: count, do not keep
            left, got = int(headers.get("content-length", "0")), 0
            while left > 0:
                chunk = await reader.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
                got += len(chunk)
            return Seen(method, target, headers, str(got).encode())
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        return Seen(method, target, headers, body)

    async def _start(self, writer, status: int, headers: dict[str, str]) -> None:
        hdrs = {"Connection": "close", **headers}
        text = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        writer.write(text.encode("latin-1"))
        await writer.drain()

    async def _write(self, writer, data: bytes) -> None:
        writer.write(data)
        self.sent += len(data)
        await writer.drain()

    async def _answer(self, seen: Seen, writer: asyncio.StreamWriter) -> None:
        parts = urllib.parse.urlsplit(seen.path)
        if parts.path in self.aliases:
            parts = urllib.parse.urlsplit(self.aliases[parts.path])
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        canned = self.routes.get(seen.path) or self.routes.get(parts.path)
        if canned is not None:
            await self._start(writer, canned.status, {"Content-Length": str(len(canned.body)), **canned.headers})
            await self._write(writer, canned.body)
            return
        kind = parts.path.rstrip("/").rsplit("/", 1)[-1]
        json_ct = {"Content-Type": "application/json"}
        if kind == "drip":
            every, size = float(q.get("every", 0.5)), int(q.get("size", 100_000))
            await self._start(writer, 200, {**json_ct, "Content-Length": str(size)})
            for _ in range(size):
                await self._write(writer, b" ")
                await asyncio.sleep(every)
        elif kind == "huge":
            size = int(float(q.get("mb", 500)) * 1024 * 1024)
            await self._start(writer, 200, {**json_ct, "Content-Length": str(size)})
            block = b" " * (1024 * 1024)
            left = size
            while left > 0:
                await self._write(writer, block[:left])
                left -= len(block)
        elif kind == "endless":
            await self._start(writer, 200, {**json_ct, "Transfer-Encoding": "chunked"})
            chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
            while True:
                await self._write(writer, chunk)
        elif kind == "stall":
            await self._start(writer, 200, {**json_ct, "Content-Length": "100"})
            await asyncio.sleep(3600)
        elif kind == "hang":
            await asyncio.sleep(3600)
        elif kind == "nested":
            depth = int(q.get("depth", 100_000))
            body = b"[" * depth + b"]" * depth
            await self._start(writer, 200, {**json_ct, "Content-Length": str(len(body))})
            await self._write(writer, body)
        elif kind == "echo":
            body = json.dumps({"method": seen.method, "path": seen.path, "headers": seen.headers,
                               "body": seen.body.decode("utf-8", "replace")}).encode()
            await self._start(writer, 200, {**json_ct, "Content-Length": str(len(body))})
            await self._write(writer, body)
        elif kind == "sink":
            await self._start(writer, 200, {**json_ct, "Content-Length": "2"})
            await self._write(writer, b"{}")
        elif kind == "escapes":
            body = json.dumps(escape_records()).encode()
            await self._start(writer, 200, {**json_ct, "Content-Length": str(len(body))})
            await self._write(writer, body)
        else:
            await self._start(writer, 404, {"Content-Length": "9"})
            await self._write(writer, b"not found")


@pytest.fixture
def hostile():
    """A fresh hostile server per test (cheap: one thread, one socket)."""
    with Hostile() as server:
        yield server
