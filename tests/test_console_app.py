"""The app around the screens: quit keys, palette, keymap, profiles as contexts, help, toasts, copy, save."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from console_kit import open_test, rows_shown, said, screen_text, table, test_alerts
from conftest import wait_for

from testdeck.app import TestdeckApp
from testdeck.screens.help import HelpScreen
from testdeck.screens.home import HomeScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.screens.view import detail_text
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.keybar import KeyBar
from testdeck.widgets.statusbar import StatusBar


async def ready(pilot):
    return await rows_shown(pilot)


async def test_ctrl_c_quits_and_ctrl_p_opens_the_palette(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")  # B2: colon and ctrl+p both
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="palette")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="closed")
        await pilot.press("ctrl+c")  # B13
        await wait_for(pilot, lambda: not app.is_running, what="quit")


async def test_colon_q_quits(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("colon", "q")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.is_running, what=":q")


async def test_palette_lists_testdecks_commands_first_and_runs_an_action_by_name(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="palette")
        await pilot.pause(0.5)
        options = app.screen.query_one("CommandList")
        shown = [str(options.get_option_at_index(i).prompt) for i in range(min(6, options.option_count))]
        assert "quit" in shown[0] and not any(t in " ".join(shown) for t in ("Keys", "Maximize", "Screenshot"))
        assert any("details" in t for t in
                   (str(options.get_option_at_index(i).prompt) for i in range(options.option_count)))


async def test_keymap_from_config_remaps_and_reports(deck):
    app, _, _ = deck("xyops")
    app.config.extra["keys"] = {"resource.refresh": "f5", "nope": "x"}
    app.notices.clear()
    app._load_keymap()
    assert any("unknown binding id 'nope'" in n for n in app.notices)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        before = screen.loaded.is_set()
        screen.loaded.clear()
        await pilot.press("f5")
        await wait_for(pilot, lambda: screen.loaded.is_set(), what="refresh on f5")
        assert before is not None


async def test_the_status_ticks_on_without_laying_out_the_screen_again(deck, monkeypatch):
    """Each second the status bar says how old the rows are. It asked for a relayout each time,
    which re-laid and repainted the whole screen: every line sent again over SSH, every second."""
    from textual.screen import Screen

    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("p")  # (paused: no refresh of the rows meanwhile, the status still ticks)
        await pilot.pause(0.3)
        layouts = []
        refresh_layout = Screen._refresh_layout
        monkeypatch.setattr(Screen, "_refresh_layout", lambda self, *a, **k: layouts.append(1)
                            or refresh_layout(self, *a, **k))
        before = str(screen.query_one(StatusBar).render())
        await wait_for(pilot, lambda: str(screen.query_one(StatusBar).render()) != before, what="the age moves on")
        await pilot.pause(1.2)
        assert not layouts


async def test_prod_profile_paints_bars_and_profile_read_only_is_enforced(deck):
    app, sim_app, _ = deck("xyops")
    profile = next(iter(app.config.profiles.values()))
    profile.fields.update(environment="prod", read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert screen.has_class("-prod")
        bar = screen.query_one(StatusBar)
        assert bar.styles.background.hex.lower()[:5] == app.current_theme.error.lower()[:5] or \
            abs(bar.styles.background.r - int(app.current_theme.error[1:3], 16)) < 8
        status = str(bar.render())
        assert "[PROD]" in status and "READ-ONLY" in status
        keys = screen.query_one(KeyBar).render_line(0).text
        assert "delete" not in keys and "new" not in keys and "test" in keys  # B30: mutating keys hidden
        await pilot.press("ctrl+d")
        await pilot.pause(0.2)
        assert any("read-only" in m for m in said(app)) and len(sim_app.state.alerts) == 6
        # enforced in the adapter too, not only by the screen
        assert screen.session.client.read_only


async def test_a_profile_label_and_color_mark_every_screen_of_it(deck):
    app, _, _ = deck("kyaraben")
    next(iter(app.config.profiles.values())).fields.update(label="lab EU", color="#5f00af")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        bar = screen.query_one(StatusBar)
        await wait_for(pilot, lambda: str(bar.render()).startswith("test-kyaraben · lab EU"), what="the label")
        for widget in (bar, screen.query_one("#titlebar")):
            assert widget.styles.background.hex.upper() == "#5F00AF"


async def test_profiles_screen_badge_checked_at_and_scroll_reset(deck):
    app, _, _ = deck("xyops", start="none-such")
    profile = next(iter(app.config.profiles.values()))
    profile.fields.update(environment="prod", read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_for(pilot, lambda: home.checked_at is not None, what="checked")
        assert "checked at" in str(home.query_one("#titlebar").render())
        assert "PROD READ-ONLY" in table(app).data.rows[0]
        table(app).scroll_to(x=20, animate=False)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="opened")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        await pilot.pause(0.1)
        assert table(app).scroll_x == 0  # B29: the profile column first again


async def test_profiles_screen_polls_health_again_at_the_refresh_interval(deck):
    app, _, _ = deck("xyops", start="none-such")
    app.config.settings["refresh_interval"] = 1.0
    async with app.run_test(size=(80, 24)) as pilot:
        home = app.screen
        await wait_for(pilot, lambda: home.health.get("test-xyops", "").startswith("ok"), what="first check")
        first = home.checked_at
        # B31: checked again without a key pressed (a server that starts failing is seen on home)
        await wait_for(pilot, lambda: home.checked_at != first, timeout=8, what="re-poll")


async def test_help_scrolls_with_arrows_at_80x24(deck):
    app, _, _ = deck("kyaraben")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        body = app.screen.query_one("#help-body")
        await pilot.press("down", "down", "down")
        await pilot.pause(0.1)
        assert body.scroll_y >= 3  # B21: arrows scroll at once
        await pilot.press("end")
        await pilot.pause(0.1)
        assert "quit" in screen_text(app)


def test_details_unicode_and_human_times():
    text = detail_text({"title": "ünïcødé 🚀", "modified": 1795000000, "ts_created": "2026-11-18T08:00:00Z",
                        "count": 1795000000 // 1000})
    assert '"title": "ünïcødé 🚀"' in text  # B16
    assert '"modified": 1795000000,   # 2026-11-18' in text  # B34: the raw value and a human one
    assert "ago" in text.splitlines()[2]
    assert "#" not in [line for line in text.splitlines() if '"count"' in line][0]


async def test_details_search_selects_each_match_and_counts_them(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen) and app.screen.is_mounted, what="details")
        details = app.screen
        area = details.query_one("TextArea")
        await pilot.press("slash", *"MONITOR", "enter")  # habit 12: search in details, any case
        hint = lambda: str(details.query_one("#text-hint").render())  # noqa: E731
        await wait_for(pilot, lambda: "match 1/" in hint(), what="first match")
        assert area.selected_text == "monitor"
        total = int(hint().split("match 1/")[1].split(" ")[0])
        assert total >= 2 and details.body.lower().count("monitor") == total
        first = area.selection
        await pilot.press("n")
        assert "match 2/" in hint() and area.selection != first and area.selected_text.lower() == "monitor"
        await pilot.press("N")
        assert "match 1/" in hint() and area.selection == first
        await pilot.press("slash", *"no such text", "enter")
        assert "no match for 'no such text'" in hint()
        await pilot.press("slash", "escape")  # esc closes the search box, not the details
        assert app.screen is details
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="closed")


async def test_confirm_and_toast_name_the_record_and_profile(deck):
    app, _, _ = deck("xyops")
    next(iter(app.config.profiles.values())).fields["environment"] = "prod"
    async with app.run_test(size=(80, 24)) as pilot:
        await open_test(pilot, test_alerts, 6)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        # B20: the name, the id and which profile (prod or lab)
        assert app.screen.question == ("delete alert 'Disk [/var] almost full' (disk_full) on profile test-xyops "
                                       "(PROD)?")
        await pilot.press("y")
        await wait_for(pilot, lambda: any("delete alert 'Disk [/var] almost full': done" in m for m in said(app)),
                       what="named toast")


async def test_toasts_never_cover_the_status_bar_or_the_key_bar_at_80x24(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ready(pilot)
        bars = screen_text(app).splitlines()[-2:]
        assert "6 rows" in bars[0] and "help" in bars[1]
        for n in range(3):  # B23: toasts pile up from just above the bars
            app.notify(f"edit alert 'Disk [/var] almost full': done {n}", timeout=30, markup=False)
        await wait_for(pilot, lambda: "done 2" in screen_text(app), what="toasts shown")
        status, keys = screen_text(app).splitlines()[-2:]
        assert "6 rows" in status and "▌" not in status and keys == bars[1]  # (the age may tick meanwhile)


async def test_the_key_bar_ends_in_more_rather_than_cutting_a_key(deck):
    app, _, _ = deck("kyaraben")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        bar = screen.query_one(KeyBar)
        line = screen_text(app).splitlines()[-1].rstrip()
        assert line.endswith("? more")  # B14: some keys did not fit, and the bar says where they are
        shown = line[:-len("? more")].split("  ")
        descriptions = {d for _, d in bar.keys()}
        for piece in filter(None, (p.strip() for p in shown)):
            assert piece.split(" ", 1)[1] in descriptions, piece  # whole keys only, never a cut one
        for width in range(40, 90):  # at any width the hint is whole (at 60 it read `?`)
            await pilot.resize_terminal(width, 24)
            await pilot.pause()
            rendered = bar.render_line(0).text.rstrip()
            assert len(rendered) <= width and rendered.endswith("? more"), (width, rendered)
        await pilot.resize_terminal(200, 24)
        # wide enough: everything, no hint
        await wait_for(pilot, lambda: "more" not in screen_text(app).splitlines()[-1], what="the whole key bar")


async def test_an_action_that_is_followed_says_accepted_not_done(deck):
    from testdeck.screens.log import LogScreen
    from testdeck.widgets.form import FormScreen

    app, _, _ = deck("xyops", start="events")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="form")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="the job's log")
        toast = next(m for m in said(app) if m.startswith("run now event "))
        # B27: the server took the request; how it ends is in the log that follows, not "done"
        assert toast.endswith(": accepted, following it") and "done" not in toast


async def test_a_running_action_turns_a_spinner_in_the_status_bar_until_it_ends(deck):
    from testdeck.widgets.statusbar import SPINNER

    app, sim_app, config = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        config.latency = 0.5  # a slow server: the delete takes a while
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        bar = app.screen.query_one(StatusBar)
        await wait_for(pilot, lambda: "delete alert 'Disk [/var] almost full'…" in str(bar.render()), what="busy")
        shown = str(bar.render())
        assert any(f"{c} delete alert" in shown for c in SPINNER)
        config.latency = 0.0
        await wait_for(pilot, lambda: "disk_full" not in sim_app.state.alerts, timeout=8, what="deleted")
        await wait_for(pilot, lambda: "delete alert" not in str(bar.render()), what="spinner gone")


async def test_copy_key_and_record(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("y")
        assert app.clipboard == "disk_full"
        await pilot.press("Y")
        assert json.loads(app.clipboard)["id"] == "disk_full"
        assert any("copied" in m for m in said(app))


async def test_copy_where_the_terminal_cannot_shows_the_text_to_select(deck, monkeypatch):
    monkeypatch.setenv("TERM", "linux")  # the Linux console ignores OSC 52
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="the fallback")
        assert app.screen.title_text == "copy by hand: key disk_full" and app.screen.body == "disk_full"


async def test_save_shown_rows_as_csv_new_file_0600(deck, tmp_path):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("slash", *"!mem", "enter", "ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SavePrompt", what="prompt")
        box = app.screen.query_one("#save-path")
        assert str(tmp_path / "data") in box.value  # the data folder (no downloads folder here), never cwd
        proposed = Path(box.value).parent
        target = tmp_path / "alerts.csv"
        box.value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists(), what="saved")
        lines = target.read_text().splitlines()
        assert lines[0].startswith("id,") and len(lines) == 6 and not any("mem_low" in ln for ln in lines)
        # the data, as `testdeck get -o csv` writes it: on/off as true/false, times as sent (an age
        # such as "3m" in a saved incident record would lose when it was)
        header, first = lines[0].split(","), next(csv.reader(lines[1:2]))
        assert header[2] == "enabled" and first[2] in ("true", "false")
        assert header[-1] == "modified" and float(first[-1]) > 1e9
        assert os.stat(target).st_mode & 0o777 == 0o600
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SavePrompt", what="prompt again")
        app.screen.query_one("#save-path").value = str(target)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert "already exists" in str(app.screen.query_one("#save-error").render())
        # the reason is on screen, not cut off behind the long path (the dialog is 76 columns)
        await wait_for(pilot, lambda: "already exists, choose another name" in screen_text(app),
                       what="the reason painted")
        # a bare name goes in the folder the prompt proposed, not in the folder testdeck started in
        app.screen.query_one("#save-path").value = "bare-name.json"
        await pilot.press("enter")
        await wait_for(pilot, lambda: (proposed / "bare-name.json").exists(), what="saved in the proposed folder")
        assert json.loads((proposed / "bare-name.json").read_text())


async def test_r_refreshes_while_paused_and_manual_retry_keeps_the_backoff(deck):
    app, sim_app, config = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("p")
        sim_app.state.alerts["zzz"] = dict(sim_app.state.alerts["disk_full"], id="zzz")
        await pilot.press("r")  # B4
        await wait_for(pilot, lambda: table(app).row_count == 7, what="refresh while paused")
        assert screen.paused
        await pilot.press("p")
        config.error_rate = 1.0
        for _ in range(3):  # B18: manual retries do not double the back-off
            screen.loaded.clear()
            await pilot.press("r")
            await wait_for(pilot, lambda: screen.loaded.is_set() and screen.error is not None, timeout=8,
                           what="failed refresh")
        await pilot.pause(0.1)
        assert screen.retry_in == screen.session.interval
        assert f"retry {int(screen.session.interval)}s" in str(screen.query_one(StatusBar).render())


async def test_the_retry_countdown_counts_down_in_the_status_bar_and_the_stale_line(deck, frozen_clock):
    from testdeck import clock

    app, _, config = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        config.error_rate = 1.0
        screen._wake.set()
        await wait_for(pilot, lambda: screen.error is not None and screen.retry_in is not None, timeout=8,
                       what="a failed refresh")
        left = screen._countdown()
        assert left == 60 and "retry 60s" in str(screen.query_one(StatusBar).render())
        clock.freeze(frozen_clock + 25)  # B18: the countdown moves with the clock, once a second
        await wait_for(pilot, lambda: "retry 35s" in str(screen.query_one(StatusBar).render()), what="status")
        assert "retrying in 35s" in str(screen.query_one("#message").render())


async def test_changed_rows_are_highlighted_for_one_refresh(deck, frozen_clock):
    from testdeck import clock

    app, sim_app, _ = deck("xyops", in_process=True)  # the simulator's clock is frozen too
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        sim_app.state.alerts["mem_low"]["title"] = "Low Memory!"
        # seven seconds later every MODIFIED age reads differently: that is time passing, not a change
        clock.freeze(frozen_clock + 7)
        screen.loaded.clear()
        screen._wake.set()
        await wait_for(pilot, screen.loaded.is_set, what="the refresh")
        await wait_for(pilot, lambda: table(app).changed == {"mem_low"}, what="changed")
        assert table(app).render_line(1 + table(app).data.keys.index("mem_low")).text  # still drawn


async def test_log_title_uses_the_name_and_keys_are_lowercase(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        assert app.screen.title_text == "keys · alerts"
        descriptions = [d for _, d in app.screen.rows]
        assert all(d[:1].islower() or not d[:1].isalpha() for d in descriptions), descriptions


def test_app_class_binds_colon_and_ctrl_p_with_ids():
    ids = {b.id for b in TestdeckApp.BINDINGS}
    assert {"app.quit", "app.quit_now", "app.palette"} <= ids
    assert any("ctrl+p" in b.key and "colon" in b.key for b in TestdeckApp.BINDINGS)
    assert all(b.id for b in ResourceScreen.BINDINGS)


def test_details_say_a_time_ahead_is_ahead(monkeypatch):
    """A scheduled run's `at` eight minutes ahead read `# 0s ago`."""
    from testdeck import clock

    monkeypatch.setattr(clock, "now", lambda: 1795000000.0)
    text = detail_text({"at": "2026-11-18T11:14:40Z", "modified": 1794999700})
    assert '"at": "2026-11-18T11:14:40Z",   # in 8m' in text, text
    assert "5m0s ago" in [line for line in text.splitlines() if '"modified"' in line][0]


async def test_help_and_palette_show_the_keys_that_work_after_a_remap(deck):
    """[keys] moved refresh, quit and the palette: `?` and the palette said r, q, `: ctrl+p`; and the
    palette offered "Copy selected text · ^c" while ctrl+c quits."""
    app, _, _ = deck("xyops")
    app.config.extra["keys"] = {"resource.refresh": "R", "app.quit": "Q", "app.palette": "ctrl+o", "app.theme": "f2"}
    app._load_keymap()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        rows = dict((d, k) for k, d in app.screen.rows)
        assert rows["refresh"] == "R" and rows["quit"] == "^c ^q  Q" and rows["filter"] == "/"
        assert rows["command palette: jump to a service, resource or profile, run an action by name; :q quits"] == "^o"
        assert rows["move"] == "↑ ↓  k j"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="help closed")
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="palette")
        await pilot.pause(0.5)
        options = app.screen.query_one("CommandList")
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert "refresh\nthis screen · R" in shown and not any("Copy selected text" in t for t in shown), shown
        assert "theme\nchange theme (f2)" in shown and "triage\neverything failing across every profile (0)" in shown


async def test_question_mark_lists_the_keys_of_the_log_view_and_the_details(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        from console_kit import open_test  # noqa: F401  (the jobs resource has a log)
        from testdeck.screens.log import LogScreen

        app.open_resource(app.screen.session, app.screen.session.service.resource("jobs"))
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.resource.name == "jobs"
                       and app.screen.is_mounted and app.screen.table.row_count > 0, what="jobs")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="log view")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help on the log view")
        assert app.screen.title_text.startswith("keys · log · job") and ("g", "top") in app.screen.rows
        assert ("n", "next match") in app.screen.rows and not any(d == "Scroll Up" for _, d in app.screen.rows)
        await pilot.press("escape", "escape", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="details")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help on the details")
        assert ("/", "search") in app.screen.rows and ("N", "previous match") in app.screen.rows
        assert not any(d in ("Cut", "Paste") for _, d in app.screen.rows)  # a read-only text's editing keys


async def test_the_palette_finds_a_resource_by_its_title(deck):
    app, _, _ = deck("onetest")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("colon", *"docker hosts")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="palette")
        await pilot.pause(0.5)
        options = app.screen.query_one("CommandList")
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert shown and shown[0].startswith("dockerhosts (test-onetest)"), shown


async def test_start_up_notices_show_as_a_toast_when_a_start_target_opens_first(deck):
    """With --open, a refused [keys] entry was only ever listed on the profiles screen, never seen."""
    app, _, _ = deck("xyops")  # (the deck opens its profile: --open)
    app.config.extra["keys"] = {"bogus.id": "z"}
    app._load_keymap()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert any("unknown binding id 'bogus.id'" in text for text in said(app)), said(app)
