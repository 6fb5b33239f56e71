"""A misbehaving server never closes the console: every fault ends stale, then recovers."""

from __future__ import annotations

import pytest
from conftest import wait_for

from testdeck.config import Profile
from testdeck.errors import ApiError
from testdeck.screens.resource import ResourceScreen
from testdeck.services.xyops import sim
from testdeck.services.xyops.client import XyOps
from testdeck.widgets.table import VirtualTable


@pytest.mark.parametrize("knob, message", [
    ("error_rate", "HTTP 500: Internal Server Error"),
    ("malformed_rate", "malformed JSON"),
    ("drop_rate", "connection failed"),
])
async def test_each_fault_becomes_an_api_error(sim_server, knob, message):
    url, _, config = sim_server(sim.create_app)
    setattr(config, knob, 1.0)
    client = XyOps(Profile("xy", "xyops", url, timeout=2), sim.API_KEY)
    with pytest.raises(ApiError, match=message):
        await client.get_alerts()
    setattr(config, knob, 0.0)
    assert len(await client.get_alerts()) == 6


async def test_slow_server_times_out_as_a_retryable_error(sim_server):
    url, _, config = sim_server(sim.create_app)
    config.latency = 1.0
    client = XyOps(Profile("xy", "xyops", url, timeout=0.3), sim.API_KEY)
    client.retries = 0
    with pytest.raises(ApiError) as exc:
        await client.get_alerts()
    assert exc.value.retryable and "timed out" in exc.value.message


@pytest.mark.parametrize("knob", ["error_rate", "malformed_rate", "drop_rate", "latency"])
async def test_screen_survives_every_fault_and_recovers(deck, knob):
    app, _, config = deck("xyops")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen)
                       and app.screen.query_one(VirtualTable).row_count == 6, what="loaded")
        app.config.profiles["test-xyops"].timeout = 0.5  # the whole request's deadline, from now on
        screen = app.screen
        screen.session.client.retries = 0
        setattr(config, knob, 2.0 if knob == "latency" else 1.0)
        screen._wake.set()
        await wait_for(pilot, lambda: screen.error is not None, timeout=10, what="stale")
        assert screen.query_one(VirtualTable).row_count == 6 and screen.query_one(VirtualTable).stale
        assert app.is_running
        setattr(config, knob, 0.0)
        screen._wake.set()
        await wait_for(pilot, lambda: screen.error is None, timeout=10, what="recovered")
