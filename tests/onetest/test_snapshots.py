"""Snapshots of OneTest's screens: in-process simulator, frozen clock, fixed terminal sizes."""

from __future__ import annotations

import pytest
from conftest import still, wait_for

from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.table import VirtualTable

SIZES = [(80, 24), (120, 40)]


def rows_loaded(rows: int):
    async def run_before(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.last_ok is not None
                       and app.screen.query_one(VirtualTable).row_count == rows, what="rows")
        app.screen._update_status()
        still(app)
        await pilot.pause()
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_executions_screen(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("onetest", in_process=True, start="executions")
    assert snap_compare(app, terminal_size=size, run_before=rows_loaded(3))


@pytest.mark.parametrize("size", SIZES)
def test_agents_screen(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("onetest", in_process=True, start="agents")
    assert snap_compare(app, terminal_size=size, run_before=rows_loaded(2))


@pytest.mark.parametrize("size", SIZES)
def test_dockerhosts_screen(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("onetest", in_process=True, start="dockerhosts")
    assert snap_compare(app, terminal_size=size, run_before=rows_loaded(2))


def test_execution_history_with_verdicts(snap_compare, deck, frozen_clock):
    app, _, _ = deck("onetest", in_process=True, start="executions")

    async def run_before(pilot):
        await rows_loaded(3)(pilot)
        screen = pilot.app.screen
        screen.session.client.execution_filter = {"status": "ALL"}
        screen.loaded.clear()
        screen._wake.set()
        await rows_loaded(9)(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
