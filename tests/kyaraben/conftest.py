"""kyaraben fixtures: the simulator on real loopback with a clock the test moves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from testdeck.config import Profile
from testdeck.services.kyaraben import sim
from testdeck.services.kyaraben.client import Kyaraben

from .uikit import kdeck  # noqa: F401  (the Pilot fixture, for test_ui_*)

T0 = 1_795_000_000.0
HEX32 = re.compile(r"^[0-9a-f]{32}$")
NOT_YOURS = "(not found, or not visible to user marco)"
APK_BYTES = b"PK\x03\x04" + bytes(range(256)) * 600  # a zip magic, ~150 KB: several upload chunks

def apk_file(tmp_path, name="com.acme.shop_12.apk", content=APK_BYTES):
    path = tmp_path / name
    path.write_bytes(content)
    return path




class Clock:
    """A mutable clock: frozen until the test advances it."""

    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Kb:
    url: str
    app: Any
    clock: Clock
    clients: list = field(default_factory=list)

    @property
    def state(self):
        return self.app.state

    @property
    def seed(self) -> dict[str, str]:
        return self.app.state.seed

    def client(self, user: str | None = sim.DEMO_USER, secret: str | None = None, *,
               read_only: bool = False) -> Kyaraben:
        fields = {"user_id": user} if user is not None else {}
        c = Kyaraben(Profile(name="kb", service="kyaraben", url=self.url, timeout=5, fields=fields), secret,
                     read_only=read_only)
        self.clients.append(c)
        return c

    def vm_named(self, name: str) -> str:
        return next(v["avm_id"] for v in self.state.avms.values() if v["avm_name"] == name)

    def campaign_named(self, name: str) -> str:
        return next(c["campaign_id"] for c in self.state.campaigns.values() if c["campaign_name"] == name)


@pytest.fixture
async def kb(sim_server):
    clock = Clock()
    url, app, _config = sim_server(sim.create_app, clock=clock)
    box = Kb(url, app, clock)
    yield box
    for c in box.clients:
        await c.aclose()


@pytest.fixture
async def api(kb) -> Kyaraben:
    return kb.client()
