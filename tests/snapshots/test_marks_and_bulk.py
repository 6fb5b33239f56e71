"""Snapshots of the console's table features (#7): status colours, marks and a filter; the bulk
confirmation and its summary. xyOps jobs: seeded in-process simulator, frozen clock, fixed sizes."""

from __future__ import annotations

import pytest
from conftest import still, wait_for

from testdeck.screens.bulk import BulkScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.dialogs import ConfirmScreen
from testdeck.widgets.table import VirtualTable

SIZES = [(80, 24), (120, 40)]


async def marked_and_filtered(pilot):
    """jobs filtered to `integ` (one active, the others ended with exit 3), the first two rows marked."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.last_ok is not None
                   and app.screen.query_one(VirtualTable).row_count == 38, what="38 jobs")
    screen = app.screen
    await pilot.press("slash", *"integ", "enter")
    await wait_for(pilot, lambda: 0 < screen.table.row_count < 38, what="the filter")
    await pilot.press("space", "space")
    await wait_for(pilot, lambda: len(screen.marks) == 2, what="two marks")
    screen._update_status()
    await pilot.pause()
    return screen


@pytest.mark.parametrize("size", SIZES)
def test_jobs_with_status_colours_marks_and_a_filter(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("xyops", in_process=True, start="jobs")
    assert snap_compare(app, terminal_size=size, run_before=marked_and_filtered)


@pytest.mark.parametrize("size", SIZES)
def test_bulk_confirmation_lists_names_and_profile(snap_compare, deck, frozen_clock, size):
    app, _, _ = deck("xyops", in_process=True, start="jobs")

    async def confirm(pilot):
        await marked_and_filtered(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the confirmation")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=confirm)


@pytest.mark.parametrize("size", SIZES)
def test_bulk_summary_says_what_was_done_and_what_the_server_refused(snap_compare, deck, frozen_clock, size):
    app, sim_app, _ = deck("xyops", in_process=True, start="jobs")

    async def summary(pilot):
        screen = await marked_and_filtered(pilot)
        # the active job pruned meanwhile: the server refuses that one; the complete one is refused unsent
        gone = next(k for k in screen.table.data.keys[:2] if not screen.records[k].get("complete"))
        sim_app.state.jobs_runner.jobs.pop(gone)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, BulkScreen) and pilot.app.screen.finished,
                       what="the summary")
        still(pilot.app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=summary)
