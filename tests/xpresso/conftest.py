"""XPRESSO test helpers: a hand-driven clock and adapters on the simulator over loopback."""

from __future__ import annotations

import pytest

from testdeck.config import Profile
from testdeck.services.xpresso import sim
from testdeck.services.xpresso.client import Xpresso

T0 = 1_795_000_000.0  # 2026-11-18T...Z


class HandClock:
    def __init__(self, at: float = T0):
        self.at = at

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


@pytest.fixture
def hand():
    return HandClock()


@pytest.fixture
def xp(sim_server, hand):
    """(url, sim app) with the simulator's clock in the test's hands."""
    url, app, _ = sim_server(sim.create_app, clock=hand)
    return url, app


def client_for(url: str, secret: str | None = sim.DEMO_TOKEN, *, group: str | None = sim.DEMO_GROUP,
               read_only: bool = False, **fields) -> Xpresso:
    if group is not None:
        fields["group"] = group
    profile = Profile(name="lab", service="xpresso", url=url, timeout=5, fields=fields)
    return Xpresso(profile, secret, read_only=read_only)
