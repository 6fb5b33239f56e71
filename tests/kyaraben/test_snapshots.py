"""Snapshots of kyaraben's screens: in-process simulator, frozen clock, fixed terminal sizes."""

from __future__ import annotations

import pytest
from conftest import still, wait_for

from testdeck.screens.pickers import ScopePicker
from testdeck.screens.resource import ResourceScreen
from testdeck.services.kyaraben.screens import CampaignScreen, LinesScreen, TotpScreen
from testdeck.widgets.table import VirtualTable

SIZES = [(80, 24), (120, 40)]


async def rows_loaded(pilot, rows: int | None = None):
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.last_ok is not None
                   and app.screen.query_one(VirtualTable).row_count == (rows if rows is not None else
                                                                        app.screen.query_one(VirtualTable).row_count)
                   and app.screen.query_one(VirtualTable).row_count > 0, what="rows")
    await wait_for(pilot, lambda: "VMs" in app.screen.session.status_extra, what="quota status")
    app.screen._update_status()
    await pilot.pause()
    return app.screen


async def on_vm(pilot, name: str):
    screen = await rows_loaded(pilot, 3)
    key = next(r.key for r in screen.rows if r.record.get("avm_name") == name)
    screen.query_one(VirtualTable).move_to_key(key)
    await pilot.pause()
    return screen


async def choose_project(pilot, label: str = "demo-app"):
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker) and app.screen.query("OptionList"),
                   what="scope picker")
    picker = app.screen
    picker.query_one("OptionList").highlighted = next(i for i, (_, lbl) in enumerate(picker.options) if lbl == label)
    await pilot.press("enter")


@pytest.mark.parametrize("size", SIZES)
def test_vms_screen(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("kyaraben", in_process=True)
    assert snap_compare(app, terminal_size=size, run_before=lambda pilot: rows_loaded(pilot, 3))


def test_projects_screen(snap_compare, deck, frozen_clock):
    app, _, _ = deck("kyaraben", in_process=True, start="projects")
    assert snap_compare(app, terminal_size=(80, 24), run_before=lambda pilot: rows_loaded(pilot, 2))


def test_campaigns_screen_scoped_to_a_project(snap_compare, deck, frozen_clock):
    app, _, _ = deck("kyaraben", in_process=True, start="campaigns")

    async def scoped(pilot):
        await choose_project(pilot)
        await rows_loaded(pilot, 2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=scoped)


@pytest.mark.parametrize("size", SIZES)
def test_campaign_progress_view(snap_compare, deck, frozen_clock, size):
    # speed 2: the seeded campaign is 16 simulated seconds in: tests READY, RUNNING and ERROR at once
    app, _, _ = deck("kyaraben", in_process=True, start="campaigns", speed=2.0)

    async def progress(pilot):
        await choose_project(pilot)
        screen = await rows_loaded(pilot, 2)
        key = next(r.key for r in screen.rows if r.record.get("campaign_name") == "brave-small-otter")
        screen.query_one(VirtualTable).move_to_key(key)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CampaignScreen), what="progress view")
        view = pilot.app.screen
        await wait_for(pilot, lambda: view.polls >= 1, what="a poll")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=progress)


def test_totp_screen(snap_compare, deck, frozen_clock):
    app, _, _ = deck("kyaraben", in_process=True)

    async def totp(pilot):
        await on_vm(pilot, "first vm")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, TotpScreen), what="TOTP")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=totp)


def test_properties_search(snap_compare, deck, frozen_clock):
    app, _, _ = deck("kyaraben", in_process=True)

    async def properties(pilot):
        await on_vm(pilot, "first vm")
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LinesScreen), what="properties")
        tail = pilot.app.screen.tail
        await wait_for(pilot, lambda: tail.feed_state == "ended", what="lines")
        await pilot.press("slash", *"wifi", "enter")
        await wait_for(pilot, lambda: tail.view.mark is not None, what="match")
        still(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=properties)
