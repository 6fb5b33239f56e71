"""OneTest's Pilot helpers (for test_ui_*): the console on the simulator over real loopback with a clock
the test moves, so executions, logs and agent states advance only when a test says so."""

from __future__ import annotations

import pytest
from conftest import wait_for as _wait_for

from testdeck.screens.pickers import ScopePicker
from testdeck.services.onetest import sim, views_executions_log
from testdeck.widgets.dialogs import ConfirmScreen
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import VirtualTable


async def wait_for(pilot, condition, what: str = "condition", timeout: float = 20.0):
    """The harness's wait with room for a loaded machine (eight suites share two cores)."""
    await _wait_for(pilot, condition, timeout=timeout, what=what)


@pytest.fixture
def odeck(deck, monkeypatch, clock):
    """odeck(start=...) -> (app, sim app, the clock both run on); log follows poll fast."""
    monkeypatch.setattr(views_executions_log, "FOLLOW_INTERVAL", 0.05)

    def make(start: str = "executions", **knobs):
        app, sim_app, _ = deck("onetest", start=start, clock=clock, **knobs)
        return app, sim_app, clock

    return make


def table(app) -> VirtualTable:
    return app.screen.query_one(VirtualTable)




def key_of(sim_app, status: str | None = None, **match) -> str:
    st = sim_app.state.sim
    for eid, ex in sim_app.state.executions.items():
        if all(ex.get(k) == v for k, v in match.items()) and ex["project"] == sim.DEMO_PROJECT_ID:
            return eid
    raise AssertionError(f"no execution {match} ({st})")


async def on_row(pilot, key: str) -> None:
    assert table(pilot.app).move_to_key(key)
    await pilot.pause()


async def form_open(pilot, key: str) -> FormScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.is_mounted
                   and pilot.app.screen.query("#server-error"), what="form composed")
    return pilot.app.screen


def error_of(form: FormScreen, field: str) -> str:
    return str(form.query_one(f"#err-{field}").render())


def server_error(form: FormScreen) -> str:
    return str(form.query_one("#server-error").render())


def log_text(app) -> str:
    return "\n".join(app.screen.tail.lines)


async def confirm_shown(pilot) -> str:
    """Wait for the confirmation; its question."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="confirmation")
    return pilot.app.screen.question


GHOST = "0badc0de-0000-4000-8000-000000000000"  # well formed, on no server


def running_id(sim_app) -> str:
    return key_of(sim_app, tags=["ci", "smoke"])  # the seeded RUNNING one


async def pick_scope(pilot, screen, label: str, rows: int) -> None:
    await pilot.press("P")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ScopePicker) and pilot.app.screen.query("OptionList"),
                   what="picker")
    picker = pilot.app.screen
    picker.query_one("OptionList").highlighted = [lbl for _, lbl in picker.options].index(label)
    await pilot.press("enter")
    await wait_for(pilot, lambda: pilot.app.screen is screen and screen.last_ok is not None
                   and table(pilot.app).row_count == rows, what=f"rows of {label}")
