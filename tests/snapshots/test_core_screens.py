"""Snapshots of the main screens at 80x24 and 120x40: seeded simulator, frozen clock."""

from __future__ import annotations

import pytest
from conftest import still, wait_for

from testdeck.screens.help import HelpScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import VirtualTable

SIZES = [(80, 24), (120, 40)]


async def alerts_loaded(pilot):
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen)
                   and app.screen.query_one(VirtualTable).row_count > 0, what="alerts")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_alerts_screen(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("xyops", in_process=True)
    assert snap_compare(app, terminal_size=size, run_before=alerts_loaded)


def test_home_screen(snap_compare, deck, frozen_clock):
    app, _, _ = deck("xyops", in_process=True, start="none-such")

    async def home(pilot):
        await wait_for(pilot, lambda: "ok" in str(pilot.app.screen.query_one(VirtualTable).data.rows),
                       what="health")
        await wait_for(pilot, lambda: pilot.app.screen.pulse("test-xyops") != "…", what="the triage pulse")
        pilot.app.screen.render_rows()
        await pilot.press("escape")  # nothing to close; home stays
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=home)


@pytest.mark.parametrize("size", SIZES)
def test_new_alert_form_with_errors(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("xyops", in_process=True)

    async def form(pilot):
        await alerts_loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.is_mounted, what="form")
        await pilot.press("ctrl+s")
        still(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=form)


def test_alert_detail(snap_compare, deck, frozen_clock):
    app, _, _ = deck("xyops", in_process=True)

    async def detail(pilot):
        await alerts_loaded(pilot)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, TextScreen), what="detail")
        still(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=detail)


def test_delete_confirmation(snap_compare, deck, frozen_clock):
    app, _, _ = deck("xyops", in_process=True)

    async def confirm(pilot):
        await alerts_loaded(pilot)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="confirm")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=confirm)


@pytest.mark.parametrize("size", SIZES)
def test_stale_after_server_errors(snap_compare, deck, frozen_clock, size):
    app, _, config = deck("xyops", in_process=True)

    async def stale(pilot):
        await alerts_loaded(pilot)
        screen = pilot.app.screen
        config.error_rate = 1.0
        screen._wake.set()
        # the loop sets retry_in right after the failed refresh: wait for it before fixing it
        await wait_for(pilot, lambda: screen.error is not None and screen.retry_in is not None, timeout=8,
                       what="stale")
        # a manual wake does not lengthen the back-off: retry in the interval, on a frozen clock
        screen._show_message()
        screen._update_status()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=stale)


def test_filtered_and_sorted(snap_compare, deck, frozen_clock):
    app, _, _ = deck("xyops", in_process=True, read_only=True)

    async def filtered(pilot):
        await alerts_loaded(pilot)
        await pilot.press("s", "2", "slash", *"o", "enter")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=filtered)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("xyops", in_process=True)

    async def help_screen(pilot):
        await alerts_loaded(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")
        still(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=help_screen)
