"""kyaraben's Pilot helpers: the console on the simulator with a clock the test moves."""

from __future__ import annotations

import pytest
from conftest import wait_for
from console_kit import loaded, refreshed  # noqa: F401 (the kyaraben tests import them from here)
from textual.widgets import Select

from testdeck import clock
from testdeck.screens.pickers import ScopePicker
from testdeck.screens.resource import ResourceScreen
from testdeck.services.kyaraben import screens
from testdeck.services.kyaraben.views import common
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import VirtualTable

T0 = 1_795_000_000.0  # T0 % 30 == 10: a TOTP fetched at T0 has 20 s left


class Clk:
    """The simulator's clock and testdeck's clock, moved together by the test."""

    def __init__(self, t: float = T0):
        self.t = t
        clock.freeze(t)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
        clock.freeze(self.t)


@pytest.fixture
def kdeck(deck, monkeypatch):
    """kdeck(start=...) -> (app, sim app, sim config, clock); polls and ticks made fast."""
    monkeypatch.setattr(common, "FOLLOW_INTERVAL", 0.05)
    monkeypatch.setattr(screens, "POLL_INTERVAL", 0.05)
    monkeypatch.setattr(screens, "TICK", 0.05)

    def make(start: str = "avms", **knobs):
        clk = Clk()
        app, sim_app, config = deck("kyaraben", start=start, clock=clk, **knobs)
        return app, sim_app, config, clk

    return make


def make_room(sim_app, clk) -> None:
    """The seeded ERROR VM deleted long ago: the demo user starts with the quota full (ERROR counts)."""
    sim_app.state.avms[vm_id(sim_app, "nightly")]["deleted_at"] = clk.t - 3600


def notices(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def table(app) -> VirtualTable:
    return app.screen.query_one(VirtualTable)


def vm_id(sim_app, name: str) -> str:
    return next(v["avm_id"] for v in sim_app.state.avms.values() if v["avm_name"] == name)


def cell(app, key: str, column: str) -> str:
    t = table(app)
    headings = [c.heading for c in app.screen.resource.columns]
    return t.data.rows[t.data.keys.index(key)][headings.index(column)]




async def on_row(pilot, key: str) -> None:
    assert table(pilot.app).move_to_key(key)
    await pilot.pause()


async def form_open(pilot, key: str) -> FormScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.is_mounted, what="form")
    return pilot.app.screen


async def choices(pilot, form: FormScreen, field: str, at_least: int = 1) -> None:
    widget = form.query_one(f"#f-{field}")
    if isinstance(widget, Select):
        await wait_for(pilot, lambda: len(widget._options) > at_least, what=f"{field} choices")  # + blank
    else:
        await wait_for(pilot, lambda: widget.option_count >= at_least, what=f"{field} choices")


def error_of(form: FormScreen, field: str) -> str:
    return str(form.query_one(f"#err-{field}").render())


def server_error(form: FormScreen) -> str:
    return str(form.query_one("#server-error").render())


async def pick_project(pilot, label: str) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker) and app.screen.query("OptionList"),
                   what="scope picker")
    picker = app.screen
    options = picker.options
    index = next(i for i, (_, lbl) in enumerate(options) if lbl == label)
    option_list = picker.query_one("OptionList")
    option_list.highlighted = index
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="picker closed")
