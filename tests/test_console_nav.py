"""Navigation: sticky scopes, no-scope refusals, drill-down, history, per-resource state, queries."""

from __future__ import annotations

import msgspec
from console_kit import burst, open_test, said, screen_text, table, test_alerts
from conftest import wait_for

from testdeck.screens.home import HomeScreen
from testdeck.screens.pickers import ScopePicker
from testdeck.screens.resource import ResourceScreen
from testdeck.services.kyaraben.views.projects import projects


def on(app, name: str) -> bool:
    return isinstance(app.screen, ResourceScreen) and app.screen.resource.name == name and app.screen.is_mounted


async def choose(pilot, label: str) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker) and app.screen.query("OptionList"),
                   what="scope picker")
    options = app.screen.options
    app.screen.query_one("OptionList").highlighted = next(i for i, (_, lbl) in enumerate(options) if lbl == label)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="picker closed")


async def test_a_scope_chosen_once_is_sticky_for_the_profile_and_in_the_title_at_80(deck):
    app, _, _ = deck("kyaraben", start="apks")
    async with app.run_test(size=(80, 24)) as pilot:
        await choose(pilot, "regression")
        await wait_for(pilot, lambda: on(app, "apks") and app.screen.last_ok is not None, what="apks")
        assert "project regression" in app.screen.query_one("#titlebar").heading.plain
        await pilot.press("right_square_bracket")  # camera: same scope name, no picker
        await wait_for(pilot, lambda: on(app, "camera"), what="camera")
        assert not isinstance(app.screen, ScopePicker)
        assert app.screen.scope == app.session("test-kyaraben").views["scope:project"]
        await pilot.press("right_square_bracket", "right_square_bracket")
        await wait_for(pilot, lambda: on(app, "campaigns"), what="campaigns")
        await pilot.pause(0.1)
        first_line = screen_text(app).splitlines()[0]
        assert "campaigns · project regression" in first_line  # B10: the scope name at 80 columns


async def test_no_scope_says_so_and_refuses_actions_locally(deck):
    app, sim_app, _ = deck("kyaraben", start="apks")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker), what="picker")
        await pilot.press("escape")
        await wait_for(pilot, lambda: on(app, "apks"), what="apks")
        await pilot.pause(0.2)
        assert "no project chosen: press P" in screen_text(app)  # B3: not "loading…" forever
        before = len(sim_app.state.apks) if hasattr(sim_app.state, "apks") else None
        await pilot.press("n")
        await pilot.pause(0.1)
        assert any("no project chosen" in m for m in said(app))
        assert on(app, "apks")  # no form opened, nothing sent
        if before is not None:
            assert len(sim_app.state.apks) == before


async def test_enter_drills_into_a_project_and_esc_goes_back_through_history(deck):
    drilling = msgspec.structs.replace(projects, name="projects-drill", drill="apks", label="project_name")
    app, _, _ = deck("kyaraben")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_test(pilot, drilling, 2)
        keys = table(app).data.keys
        rows = table(app).data.rows
        target = next(k for k, r in zip(keys, rows) if r[0] == "demo-app")
        table(app).move_to_key(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: on(app, "apks") and app.screen.last_ok is not None, what="apks of demo-app")
        assert app.screen.scope == target
        assert "project demo-app" in app.screen.query_one("#titlebar").heading.plain
        await pilot.press("escape")
        await wait_for(pilot, lambda: on(app, "projects-drill"), what="back to projects")
        assert table(app).cursor_key == target  # the cursor kept per resource
        await pilot.press("escape")
        await wait_for(pilot, lambda: on(app, "avms"), what="back to the first screen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="profiles at the bottom")


async def test_filter_sort_and_marks_are_kept_per_resource(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_test(pilot, test_alerts, 6)
        await pilot.press("slash", *"!mem", "enter", "s", "2", "space")
        await wait_for(pilot, lambda: screen.sort_col == 1 and table(app).row_count == 5 and screen.marks,
                       what="state set")
        marks = set(screen.marks)
        app.open_resource(screen.session, screen.session.service.resources[0])
        await wait_for(pilot, lambda: on(app, "alerts"), what="other resource")
        await pilot.press("escape")
        await wait_for(pilot, lambda: on(app, "alerts-test") and table(app).row_count == 5, what="back")
        again = app.screen
        assert again.filter_text == "!mem" and again.sort_col == 1 and again.marks == marks
        assert "filter !mem" in again.query_one("#titlebar").heading.plain


async def test_a_query_key_switches_the_server_side_view_and_shows_in_the_title(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_test(pilot, test_alerts, 6)
        burst(app, "F")
        await wait_for(pilot, lambda: table(app).row_count == 2, what="disabled only")
        assert "disabled only" in screen.query_one("#titlebar").heading.plain
        assert screen.ctx().query == "off"
        await pilot.press("F")  # again: the default view
        await wait_for(pilot, lambda: table(app).row_count == 6, what="all again")


async def test_a_resource_opened_again_shows_its_last_rows_at_once_even_when_the_server_fails(deck):
    """Seen a moment ago, then the server fails: coming back shows the rows it had (their age in
    the status bar), then the STALE line with the server's words; never "no data yet". Once the
    server answers again, fresh rows."""
    from testdeck.screens.resource import ResourceScreen

    app, sim_app, config = deck("xyops", start="alerts")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: on(app, "alerts") and app.screen.loaded.is_set()
                       and table(app).row_count, what="alerts")
        before = list(table(app).data.keys)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and not on(app, "alerts"),
                       what="the next resource")
        config.fail_paths.add("/get_alerts/v1")
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: on(app, "alerts") and list(table(app).data.keys) == before,
                       what="the rows it had, at once")
        screen = app.screen  # (every read of the alerts fails now: these rows can only be the kept ones)
        await wait_for(pilot, screen.loaded.is_set, timeout=15, what="the refresh failed")
        assert list(table(app).data.keys) == before and table(app).stale
        await wait_for(pilot, lambda: "STALE" in screen_text(app), what="the STALE line painted")
        text = screen_text(app)
        assert "STALE · showing data from" in text and "fails on purpose" in text and "no data yet" not in text
        config.fail_paths.clear()
        sim_app.state.alerts.pop(before[0])
        screen.loaded.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.loaded.is_set() and not table(app).stale, what="fresh again")
        assert list(table(app).data.keys) == before[1:]



async def test_a_big_table_is_not_kept_while_another_screen_shows(deck, monkeypatch):
    from testdeck.screens import refresh

    app, _, _ = deck("xyops", start="alerts")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: on(app, "alerts") and app.screen.loaded.is_set(), what="alerts")
        views = app.screen.session.views
        assert len(views["rows:alerts"][2]) == table(app).row_count > 3
        monkeypatch.setattr(refresh, "BIG_TABLE", 3)  # these 6 alerts are now a "big" table
        app.screen.loaded.clear()
        await pilot.press("r")
        await wait_for(pilot, app.screen.loaded.is_set, what="refreshed")
        assert "rows:alerts" not in views


# --- keys typed in one burst with a key that changes screens act on the new screen --------------------------

async def test_a_burst_after_a_screen_switch_lands_in_the_new_screens_filter(deck):
    """`]/web⏎` typed at once on alerts: the firing screen opened with an empty filter box (`web` and
    enter lost)."""
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: on(app, "alerts") and table(app).row_count, what="alerts")
        burst(app, "right_square_bracket", "slash", "w", "e", "b", "enter")
        await wait_for(pilot, lambda: on(app, "firing") and app.screen.filter_text == "web"
                       and not app.screen.query_one("#filter").has_class("-active"),  # enter kept it, closed the box
                       what="firing, filtered")


async def test_a_burst_after_0_lands_in_the_triage_views_filter(deck):
    from testdeck.screens.triage import TriageScreen
    from testdeck.widgets.filterbox import FilterBox

    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: on(app, "alerts") and table(app).row_count, what="alerts")
        burst(app, "0", "slash", "d", "i", "s", "k", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen) and app.screen.query(FilterBox),
                       what="triage")
        await wait_for(pilot, lambda: app.screen.query_one(FilterBox).value == "disk"
                       and not app.screen.query_one(FilterBox).has_class("-active"),  # enter kept it, closed the box
                       what="the filter typed and kept")
        assert isinstance(app.screen, TriageScreen)  # enter did not jump anywhere


async def test_a_burst_after_the_palette_opens_another_profile_lands_on_its_screen(deck):
    """`alerts (second)⏎/disk⏎`: enter in the palette acts after the key is done, and the profile opens
    on a thread: `/disk` went to the palette's input, then nowhere (`2/disk⏎` alike opened an alert's
    details on the screen being left)."""
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: on(app, "alerts") and table(app).row_count, what="alerts")
        app.config.profiles["second"] = msgspec.structs.replace(app.config.profiles["test-xyops"], name="second")
        await pilot.press("colon")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="palette")
        await pilot.press(*"alerts (second")
        await pilot.pause(0.3)
        burst(app, "enter", "slash", "d", "i", "s", "k", "enter")
        await wait_for(pilot, lambda: on(app, "alerts") and app.screen.session.profile.name == "second"
                       and app.screen.filter_text == "disk" and not app.screen.query_one("#filter").has_class("-active"),
                       what="second's alerts, filtered, the filter kept")
