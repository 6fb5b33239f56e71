"""OneTest test helpers: a client on the simulator over loopback, a movable clock."""

from __future__ import annotations

import pytest

from testdeck import clock as testdeck_clock
from testdeck.config import Profile
from testdeck.services.onetest import sim
from testdeck.services.onetest.client import OneTest

from .uikit import odeck  # noqa: F401  (the Pilot fixture, for test_ui_*)

T0 = 1_795_000_000.0


def client_for(url: str, secret: str | None = sim.DEMO_OFFLINE_TOKEN, *, read_only: bool = False,
               **fields) -> OneTest:
    fields = {"project_id": sim.DEMO_PROJECT_ID, "space_id": sim.DEMO_SPACE_ID, **fields}
    fields = {k: v for k, v in fields.items() if v is not None}
    profile = Profile(name="lab", service="onetest", url=url, timeout=5, fields=fields)
    return OneTest(profile, secret, read_only=read_only)


class Clock:
    """The simulator's clock and testdeck's own (ages, durations), moved together by a test."""

    def __init__(self, t: float = T0):
        self.t = t
        testdeck_clock.freeze(t)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
        testdeck_clock.freeze(self.t)


@pytest.fixture
def make_client():
    """make_client(url, secret=..., read_only=False, **profile fields) -> OneTest."""
    return client_for


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ots(sim_server, clock):
    """(url, sim app, clock): the simulator with the test's clock."""
    url, app, _ = sim_server(sim.create_app, clock=clock)
    return url, app, clock
