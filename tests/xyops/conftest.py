"""One xyOps simulator per test module over real loopback (tests use their own records)."""

from __future__ import annotations

import pytest

from testdeck.config import Profile
from testdeck.services.xyops import sim
from testdeck.services.xyops.client import XyOps
from testdeck.sim import SimConfig, serve


@pytest.fixture(scope="module")
def xysim():
    config = SimConfig(speed=40.0)  # jobs of tens of simulated seconds end within a second
    app = sim.create_app(config)
    server = serve(app)
    yield server.url, app
    server.stop()


@pytest.fixture
def xy(xysim):
    url, app = xysim

    def client(key: str | None = sim.API_KEY, read_only: bool = False) -> XyOps:
        return XyOps(Profile("xy", "xyops", url, timeout=5), key, read_only=read_only)

    return client, app
