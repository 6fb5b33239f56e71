"""The generic ResourceScreen driven through the Pilot, on the xyOps alerts slice."""

from __future__ import annotations

import re

from conftest import wait_for
from console_kit import rows_shown

from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import VirtualTable


def table(app) -> VirtualTable:
    return app.screen.query_one(VirtualTable)


async def ready(pilot):
    return await rows_shown(pilot, what="alerts to load")


async def test_rows_load_and_server_strings_render_literally(deck):
    app, sim_app, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        assert table(app).row_count == len(sim_app.state.alerts)
        assert table(app).data.rows[0][1] == "Disk [/var] almost full"  # markup-like text kept as is
        assert screen.error is None


async def test_filter_substring_regex_and_escape_clears(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("slash", *"LOAD")
        await wait_for(pilot, lambda: table(app).row_count == 1, what="substring filter")
        assert table(app).cursor_key == "load_avg_high"
        await pilot.press("enter")  # keep the filter, back to the table
        assert table(app).has_focus and table(app).row_count == 1
        await pilot.press("escape")  # first escape clears the filter
        await wait_for(pilot, lambda: table(app).row_count == 6, what="filter cleared")
        await pilot.press("slash", *"/^(mem|net)_/", "enter")
        await wait_for(pilot, lambda: table(app).data.keys == ["mem_low", "net_errors"], what="regex filter")


async def test_bad_regex_is_reported_and_keeps_rows(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await pilot.press("slash", *"/([/")
        await pilot.pause(0.2)
        assert "bad regex" in str(screen.query_one("#message").render())
        assert table(app).row_count == 6


async def test_sort_by_column_and_reverse_keeps_cursor_on_its_row(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("down", "down")
        chosen = table(app).cursor_key
        await pilot.press("s", "1")  # sort by the first column (id), picked by its number
        await wait_for(pilot, lambda: table(app).sort_column == 0, what="sort")
        keys = table(app).data.keys
        assert keys == sorted(keys)
        assert table(app).cursor_key == chosen
        await pilot.press("S")
        await wait_for(pilot, lambda: table(app).data.keys == sorted(keys, reverse=True), what="reverse")
        assert table(app).cursor_key == chosen


async def test_detail_shows_the_record_as_json(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="detail")
        text = app.screen.body
        assert '"id": "disk_full"' in text and '"expression": "monitors.disk_usage_var >= 90"' in text
        await pilot.press("escape")
        assert isinstance(app.screen, ResourceScreen)


async def test_create_validates_before_sending_then_creates(deck):
    app, sim_app, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="form")
        form = app.screen
        await pilot.press("ctrl+s")  # nothing filled in
        await pilot.pause(0.1)
        assert len(sim_app.state.alerts) == 6  # no request was sent
        assert "required" in str(form.query_one("#err-title").render())
        form.query_one("#f-title").value = "Swap in use"
        form.query_one("#f-expression").value = "monitors.swap > 1"
        form.query_one("#f-message").value = "swap {{monitors.swap}}"
        form.query_one("#f-samples").value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "at least 1" in str(form.query_one("#err-samples").render())
        assert len(sim_app.state.alerts) == 6
        form.query_one("#f-samples").value = "2"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="form closed")
        created = [a for a in sim_app.state.alerts.values() if a["title"] == "Swap in use"]
        assert len(created) == 1 and created[0]["samples"] == 2 and created[0]["enabled"] is True
        await wait_for(pilot, lambda: table(app).row_count == 7, what="refresh after create")
        # B27: the toast names what was created
        assert "new alert 'Swap in use': done" in [str(n.message) for n in app._notifications]


async def new_alert_form(pilot, title: str, expression: str) -> FormScreen:
    """The alerts table's `n` form, filled in (not sent)."""
    app = pilot.app
    await ready(pilot)
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="form")
    form = app.screen
    form.query_one("#f-title").value = title
    form.query_one("#f-expression").value = expression
    form.query_one("#f-message").value = "m"
    return form


async def test_server_rejection_keeps_what_was_typed(deck):
    app, sim_app, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        form = await new_alert_form(pilot, "Broken", "monitors.x >")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "server refused" in str(form.query_one("#server-error").render()),
                       what="server message")
        assert "Failed to compile alert expression" in str(form.query_one("#server-error").render())
        assert app.screen is form and form.query_one("#f-title").value == "Broken"
        assert form.query_one("#f-expression").value == "monitors.x >"
        assert len(sim_app.state.alerts) == 6


async def test_a_server_failing_a_create_is_not_called_a_refusal(deck):
    """A 5xx may have acted all the same: the form says the server failed and to check before
    sending again (a second create could make two), and keeps what was typed."""
    app, sim_app, config = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        form = await new_alert_form(pilot, "Swap in use", "monitors.swap > 0")
        config.error_rate = 1.0
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "server failed" in str(form.query_one("#server-error").render()),
                       what="server message")
        said = str(form.query_one("#server-error").render())
        assert "(HTTP 500); it may have acted anyway: check before sending again" in said
        assert "simulated fault" in said and "refused" not in said
        assert app.screen is form and form.query_one("#f-title").value == "Swap in use"


async def test_edit_sends_only_changed_fields(deck):
    app, sim_app, _ = deck("xyops")
    sim_app_alerts = None
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        sim_app_alerts = sim_app.state.alerts
        sim_app_alerts["disk_full"]["notes"] = "changed on the server meanwhile"
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="edit form")
        form = app.screen
        assert form.query_one("#f-title").value == "Disk [/var] almost full"  # prefilled from the row
        form.query_one("#f-title").value = "Disk /var nearly full"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="form closed")
        stored = sim_app_alerts["disk_full"]
        assert stored["title"] == "Disk /var nearly full"
        assert stored["notes"] == "changed on the server meanwhile"  # not overwritten: sparse update


async def test_delete_asks_and_no_keeps_the_row(deck):
    app, sim_app, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        key = table(app).cursor_key
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="back")
        assert key in sim_app.state.alerts
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: key not in sim_app.state.alerts, what="deleted")
        await wait_for(pilot, lambda: key not in table(app).data.keys, what="row gone")


async def test_test_action_shows_result_and_evaluated_message(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="test form")
        form = app.screen
        await wait_for(pilot, lambda: len(form.query_one("#f-server")._options) > 1, what="server choices")
        form.query_one("#f-server").value = "s12345abcde"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="result")
        assert "WOULD FIRE" in app.screen.body and "Disk /var is 93% full" in app.screen.body


async def test_failed_refresh_keeps_rows_marks_stale_and_recovers(deck):
    app, _, config = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        rows_before = list(table(app).data.keys)
        config.error_rate = 1.0
        screen.loaded.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.error is not None, timeout=8, what="stale")
        assert table(app).stale and table(app).data.keys == rows_before  # rows stay
        message = str(screen.query_one("#message").render())
        assert "STALE" in message and "HTTP 500" in message and "Internal Server Error" in message
        config.error_rate = 0.0
        screen._wake.set()  # the backoff timer would do this; don't wait for it
        await wait_for(pilot, lambda: screen.error is None, timeout=8, what="recovery")
        assert not table(app).stale


async def test_a_toast_never_covers_the_stale_line(deck):
    app, _, config = deck("xyops")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await ready(pilot)
        config.error_rate = 1.0
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.error is not None, timeout=8, what="stale")
        app.notify("a long enough toast to reach across the right half of the screen", timeout=30)
        await wait_for(pilot, lambda: screen.query("Toast"), what="the toast")
        await pilot.pause(0.3)
        toast, line = screen.query_one("Toast").region, screen.query_one("#message").region
        assert line.height and toast.height and not toast.overlaps(line)


async def test_read_only_refuses_in_the_ui_and_sends_nothing(deck):
    app, sim_app, _ = deck("xyops", read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+d")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ResourceScreen)  # no confirm dialog, no request
        await pilot.press("n")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ResourceScreen)
        assert len(sim_app.state.alerts) == 6
        assert "READ-ONLY" in str(app.screen.query_one("StatusBar").render())


async def test_pause_stops_polling(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await pilot.press("p")
        assert screen.paused
        assert "paused" in str(screen.query_one("StatusBar").render())
        await pilot.press("p")
        assert not screen.paused


async def test_a_bug_after_the_fetch_marks_the_table_stale_and_refreshes_go_on(deck, monkeypatch):
    """An exception while building the view (after the rows arrived) once ended the refresh
    loop for good: the screen froze on old data with no word. Now it is a stale line, and the
    next refresh works."""
    import testdeck.screens.refresh as resource_screen  # the refresh loop's half of ResourceScreen

    app, sim_app, _ = deck("xyops")
    real = resource_screen.build_view
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)

        def broken(*args, **kwargs):
            raise SystemError("bad argument to internal function")

        monkeypatch.setattr(resource_screen, "build_view", broken)
        screen.loaded.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.error is not None, what="the stale line")
        assert "SystemError: bad argument" in str(screen.query_one("#message").render())
        assert table(app).row_count == 6  # the previous rows stay
        monkeypatch.setattr(resource_screen, "build_view", real)
        sim_app.state.alerts.pop("mem_low")
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.error is None and table(app).row_count == 5, what="recovered")


def test_loaded_after_a_clear_waits_for_a_refresh_that_started_after_it():
    from testdeck.screens.refresh import Loaded

    loaded = Loaded()
    loaded.started = 1  # a refresh under way (its rows read before the test's change)
    loaded.clear()
    loaded.over(1)
    assert not loaded.is_set()
    loaded.started = 2
    loaded.over(2)
    assert loaded.is_set()


async def test_a_paused_stale_screen_does_not_promise_retries(deck):
    """Paused, with the server down and `r` failed: the STALE line counted `retrying in 2s, 4s…` while
    nothing was retried (the status bar said paused)."""
    app, _, config = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await pilot.press("p")
        config.error_rate = 1.0
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.error is not None, timeout=8, what="stale")
        await pilot.pause(0.3)
        message = str(screen.query_one("#message").render())
        assert "retrying in" not in message and "paused: r retries, p resumes" in message, message
        await pilot.press("p")
        await pilot.pause(0.1)
        assert "paused" not in str(screen.query_one("#message").render())


async def test_a_refresh_that_takes_long_says_so_in_the_status_bar(deck):
    """A server taking its time: the status bar read `● ok 13s ago next 0s` for the whole timeout."""
    app, _, config = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        config.latency = 3.0
        await pilot.press("r")
        await wait_for(pilot, lambda: re.search(r"reading \ds", str(screen.query_one("StatusBar").render())),
                       timeout=6, what="reading Ns")
        assert "next 0s" not in str(screen.query_one("StatusBar").render())
        config.latency = 0.0


async def test_ages_move_on_while_the_reads_fail(deck, frozen_clock, monkeypatch):
    """Ages were worked out only at a read: while the server failed, a row kept saying `3m` for an
    alert the STALE line said was read 20 minutes ago."""
    from testdeck import clock
    from testdeck.screens import resource as resource_screen

    monkeypatch.setattr(resource_screen, "AGE_EVERY", 0.1)  # (the screen's interval; 10 s in use)
    app, _, sim = deck("xyops", in_process=True)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        col = [c.key for c in screen.resource.columns].index("modified")
        before = {row[0]: row[col] for row in table(app).data.rows}
        sim.fail_paths.add("get_alerts/v1")
        clock.freeze(frozen_clock + 20 * 60)
        screen.loaded.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.loaded.is_set() and screen.error is not None, what="a failed read")
        await wait_for(pilot, lambda: {row[0]: row[col] for row in table(app).data.rows} != before,
                       what="the ages worked out anew")
        after = {row[0]: row[col] for row in table(app).data.rows}
        assert after.keys() == before.keys()
        old, new = before["disk_full"], after["disk_full"]
        assert (old, new) == ("30m0s", "50m0s")  # twenty minutes on
        assert "STALE" in str(screen.query_one("#message").render())  # still said to be old data
