"""A hostile server for TUI tests: the real simulator behind an ASGI wrapper whose rules
answer chosen paths with escape-laden, nested or never-ending bodies, on real loopback.

Also what the terminal would receive: `terminal(app)` renders the current screen as
the driver writes it (Textual's own escape codes included) and as plain text.
"""

from __future__ import annotations

import asyncio
import io
import json
import re

import pytest
from console_kit import rows_shown
from rich.console import Console

from testdeck.config import Config, Profile
from testdeck.credentials import env_var
from testdeck.screens.resource import ResourceScreen
from testdeck.sim import SimConfig, serve
from testdeck.widgets.table import VirtualTable

# every sequence of issue #6, item 2
SEQUENCES = {
    "OSC 52 clipboard": "\x1b]52;c;aGFja2Vk\x07",
    "OSC 0/2 title": "\x1b]0;pwned\x07\x1b]2;pwned\x1b\\",
    "CSI 2J clear": "\x1b[2J",
    "alternate screen off": "\x1b[?1049l",
    "OSC 8 link": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "C1 CSI and OSC": "\x9b2J\x9d0;t\x9c",
    "bidi override and isolate": "\u202eevil\u2066x\u2069",
}
HOSTILE = "pwn" + "".join(SEQUENCES.values()) + "end"

# what must never reach the terminal from server text (Textual's own output is CSI ... m / H only)
FORBIDDEN = {
    "OSC introducer": "\x1b]",
    "ST (ESC \\)": "\x1b\\",
    "BEL": "\x07",
    "clear screen": "\x1b[2J",
    "alternate screen off": "\x1b[?1049l",
}
_C1_OR_BIDI = re.compile("[\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal(app) -> tuple[str, str]:
    """(bytes the driver would write, plain text) for the whole current screen."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.file.getvalue(), console.export_text()


def assert_safe(app, *, visible: bool = True, where: str = "") -> str:
    """No hostile sequence reaches the terminal; with `visible`, ESC shows as its stand-in ␛."""
    raw, text = terminal(app)
    for name, seq in FORBIDDEN.items():
        assert seq not in raw, f"{name} reached the terminal {where}"
    found = _C1_OR_BIDI.search(raw)
    assert found is None, f"{found.group()!r} reached the terminal {where}"
    if visible:
        assert "pwn\u241b]52;c;aGFja2Vk\u2407" in text, f"no visible stand-in {where}"
    return text


class Hostile:
    """ASGI wrapper: `rules[path]` answers that path (an ASGI callable); everything else is the sim."""

    def __init__(self, app):
        self.app = app
        self.rules: dict = {}

    @property
    def state(self):
        return self.app.state

    async def __call__(self, scope, receive, send):
        rule = self.rules.get(scope.get("path")) if scope["type"] == "http" else None
        if rule is None:
            await self.app(scope, receive, send)
        else:
            await rule(scope, receive, send)


def reply(payload, status: int = 200):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()

    async def rule(scope, receive, send):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return rule


def nested(depth: int = 100_000):
    """A JSON body nested deeper than any parser's recursion limit."""
    return reply(b"[" * depth + b"]" * depth)


def endless(seconds: float = 8.0):
    """A 200 whose body does not end: a space now and then (for `seconds`, so that a test
    that fails leaves no server task behind), then a truncated end."""

    async def rule(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            await asyncio.sleep(0.05)
            await send({"type": "http.response.body", "body": b" ", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return rule


def start(service: str, tmp_path, monkeypatch, open_at: str | None = None, **knobs):
    """(TestdeckApp, Hostile, running server) for `service`'s simulator behind the wrapper."""
    from testdeck.app import TestdeckApp
    from testdeck.services import get_service

    svc = get_service(service)
    wrapper = Hostile(svc.create_sim(SimConfig(**knobs)))
    server = serve(wrapper)
    name = f"test-{service}"
    if svc.demo_secret:
        monkeypatch.setenv(env_var(name), svc.demo_secret)
    cfg = Config(path=tmp_path / "config.toml", settings={"refresh_interval": 60.0},
                 profiles={name: Profile(name, service, server.url, timeout=2.0, fields=dict(svc.demo_fields))})
    app = TestdeckApp(cfg, start=open_at or name, save_theme=False)
    return app, wrapper, server


# --- shared by the TUI tests against a hostile server -----------------------------------------------------

@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """hostile(service, **knobs) -> (app, wrapper): the service's simulator behind the wrapper."""
    servers = []

    def make(service: str = "xyops", **knobs):
        app, wrapper, server = start(service, tmp_path, monkeypatch, **knobs)
        servers.append(server)
        return app, wrapper

    yield make
    for server in servers:
        server.stop()


def table(app) -> VirtualTable:
    return app.screen.query_one(VirtualTable)


async def ready(pilot) -> ResourceScreen:
    return await rows_shown(pilot)
