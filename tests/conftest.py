"""Shared fixtures: simulators over real loopback HTTP, isolated config and secrets."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend

from testdeck import clock, credentials
from testdeck.sim import SimConfig, serve

FROZEN = 1_795_000_000.0  # 2026-11-18T...Z: every snapshot sees the same "now"


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: two workers per core. A UI test spends about half its time waiting (for a
    simulator's answer, a timer, a repaint): with one worker per core the cores sat half idle."""
    import os

    return 2 * (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class MemoryKeyring(KeyringBackend):
    """A real keyring backend kept in memory (the keyring test backend idea)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own config path, secrets file and in-memory keyring."""
    monkeypatch.setenv("TESTDECK_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TESTDECK_SECRETS_FILE", str(tmp_path / "secrets.toml"))
    monkeypatch.setenv("TESTDECK_JOURNAL", str(tmp_path / "journal.jsonl"))  # never the user's journal
    # saved tables and logs go to the user's downloads (or data) folder: keep them in the test's folder
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path / "downloads"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the parsed TOML (tomlcache.py)
    for name in list(__import__("os").environ):
        if name.startswith("TESTDECK_SECRET_"):
            monkeypatch.delenv(name)
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    credentials.reset_warning()
    yield ring
    keyring.set_keyring(previous)
    credentials.reset_warning()
    clock.freeze(None)


@pytest.fixture
def frozen_clock():
    clock.freeze(FROZEN)
    yield FROZEN
    clock.freeze(None)


@pytest.fixture
def sim_server():
    """Start a simulator on a loopback ephemeral port: sim_server(create_app, **SimConfig fields).

    Returns (url, app, config); the app's data is at app.state. Stopped after the test."""
    running = []

    def start(create_app, **knobs):
        config = SimConfig(**knobs)
        app = create_app(config)
        server = serve(app)
        running.append(server)
        return server.url, app, config

    yield start
    for server in running:
        server.stop()


# --- UI harness --------------------------------------------------------------------

import asyncio  # noqa: E402

import httpx  # noqa: E402

from testdeck.config import Config, Profile  # noqa: E402
from testdeck.credentials import env_var  # noqa: E402


def replay(curl: str, **env: str):
    """A journal line's curl run by bash, as an operator would, with these variables set."""
    import os
    import subprocess

    return subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30, env={**os.environ, **env})


async def wait_for(pilot, condition, timeout: float = 5.0, what: str = "condition"):
    """Let the app run until condition() is true; fail loudly on timeout (no blind sleeps)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


@pytest.fixture
def deck(sim_server, monkeypatch, tmp_path):
    """deck(service, read_only=False, **sim knobs) -> (TestdeckApp, sim app, SimConfig).

    The simulator runs on real loopback; the profile's secret comes from its env var.
    Live refresh is slowed to 60 s so tests drive refreshes explicitly."""
    from testdeck.app import TestdeckApp
    from testdeck.services import get_service

    def make(service: str, read_only: bool = False, start: str | None = None, in_process: bool = False,
             **knobs):
        svc = get_service(service)
        transports = {}
        name = f"test-{service}"
        if in_process:  # snapshots: no ports in URLs, the clock frozen everywhere
            config = SimConfig(clock=lambda: FROZEN, **knobs)
            app = svc.create_sim(config)
            url = f"http://{service}.sim"
            transports[name] = httpx.ASGITransport(app=app)
        else:
            url, app, config = sim_server(svc.create_sim, **knobs)
        if svc.demo_secret:
            monkeypatch.setenv(env_var(name), svc.demo_secret)
        cfg = Config(path=tmp_path / "config.toml", settings={"refresh_interval": 60.0},
                     profiles={name: Profile(name, service, url, timeout=10.0, fields=dict(svc.demo_fields))})
        deck_app = TestdeckApp(cfg, read_only=read_only, start=start or name, save_theme=False,
                               transports=transports)
        return deck_app, app, config

    return make


def still(app) -> None:
    """Stop everything that blinks, so a snapshot is the same every run."""
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
