"""Shared fixtures: simulators over real loopback HTTP, isolated config and secrets."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend

from testdeck import clock, credentials
from testdeck.sim import SimConfig, serve

FROZEN = 1_795_000_000.0  # 2026-11-18T...Z: every snapshot sees the same "now"


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
