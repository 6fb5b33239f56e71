"""Snapshots of the Alyvix sessions, measures (with the chart) and log screens: seeded
in-process simulator, frozen clock, 80x24 and 120x40."""

from __future__ import annotations

import pytest
from conftest import still, wait_for

from testdeck.screens.log import LogScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.services.alyvix.chart import RunChart
from testdeck.widgets.table import VirtualTable

SIZES = [(80, 24), (120, 40)]


def rows_loaded(title: str, rows: int):
    async def run_before(pilot):
        app = pilot.app

        def ready() -> bool:
            screen = app.screen
            return (isinstance(screen, ResourceScreen) and screen.resource.title == title
                    and bool(screen.query(VirtualTable)) and screen.query_one(VirtualTable).row_count >= rows
                    and bool(screen.session.status_extra))
        await wait_for(pilot, ready, what=title)
        await pilot.pause()
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_sessions_screen(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("alyvix", in_process=True, start="sessions")
    assert snap_compare(app, terminal_size=size, run_before=rows_loaded("Sessions", 5))


@pytest.mark.parametrize("size", SIZES)
def test_measures_screen_with_its_chart(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("alyvix", in_process=True, start="measures")
    app.config.profiles["test-alyvix"].fields["testcase_id"] = "1"
    loaded = rows_loaded("Measures", 72)

    async def run_before(pilot):
        await loaded(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.query_one(RunChart).lines, what="the chart")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_log_screen_following(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("alyvix", in_process=True, start="log")
    loaded = rows_loaded("Server log", 6)

    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogScreen)
                       and pilot.app.screen.tail.line_count == 7, what="the tail")
        await pilot.press("v")  # level DEBUG, switched while following
        await wait_for(pilot, lambda: pilot.app.screen.tail.line_count == 11, what="the debug lines")
        still(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
