"""Snapshots of XPRESSO's screens: in-process simulator, frozen clock, fixed terminal sizes."""

from __future__ import annotations

import pytest
from conftest import still, wait_for

from testdeck.screens.resource import ResourceScreen
from testdeck.services.xpresso import sim
from testdeck.services.xpresso.screens import ItemScreen, RequestScreen
from testdeck.widgets.table import VirtualTable

SIZES = [(80, 24), (120, 40)]


async def listed(pilot) -> ResourceScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.last_ok is not None
                   and app.screen.table.row_count == 8, timeout=20, what="requests listed")
    app.screen._update_status()
    await pilot.pause()
    return app.screen


async def failed_request(pilot) -> RequestScreen:
    screen = await listed(pilot)
    key = next(r.key for r in screen.rows if r.record.state == "FAILED")
    screen.table.move_to_key(key)
    await pilot.press("enter")
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, RequestScreen) and app.screen.last_ok is not None
                   and app.screen.query_one(VirtualTable).row_count == 2, timeout=20, what="request detail")
    await pilot.pause()
    return app.screen


@pytest.mark.parametrize("size", SIZES)
def test_requests_list(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("xpresso", in_process=True)
    assert snap_compare(app, terminal_size=size, run_before=listed)


@pytest.mark.parametrize("size", SIZES)
def test_request_detail(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("xpresso", in_process=True)
    assert snap_compare(app, terminal_size=size, run_before=failed_request)


def test_item_sections(snap_compare, deck, frozen_clock):
    app, _, _ = deck("xpresso", in_process=True)

    async def sections(pilot):
        await failed_request(pilot)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ItemScreen)
                       and pilot.app.screen.query_one(VirtualTable).row_count > 0, timeout=20, what="sections")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=sections)


def test_submit_form(snap_compare, deck, frozen_clock):
    app, _, _ = deck("xpresso", in_process=True)

    async def form(pilot):
        await listed(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: "known:" in str(pilot.app.screen.query(".pick-known").first().render()),
                       timeout=20, what="form with pickers")
        still(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=form)
