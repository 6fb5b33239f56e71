"""Snapshots of the xyOps screens: in-process simulator, frozen clock, fixed terminal sizes."""

from __future__ import annotations

import pytest
from conftest import wait_for

from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.table import VirtualTable

SIZES = [(80, 24), (120, 40)]


def rows_loaded(count: int):
    async def run(pilot):
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.last_ok is not None
                       and app.screen.query_one(VirtualTable).row_count == count, what=f"{count} rows")
        app.screen._update_status()
        await pilot.pause()
    return run


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("resource,rows", [("jobs", 38), ("buckets", 3), ("servers", 4)])
def test_xyops_screens(snap_compare, deck, frozen_clock, resource, rows, size):
    app, _, _ = deck("xyops", in_process=True, start=resource)
    assert snap_compare(app, terminal_size=size, run_before=rows_loaded(rows))
