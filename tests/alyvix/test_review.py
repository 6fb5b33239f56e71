"""A new user's review of the Alyvix screens (findings 2, 3, 4, 6, 7, 8): each test failed before its fix."""

from __future__ import annotations

import json
import os
import stat

from conftest import wait_for
from console_kit import said
from textual.widgets import Input, Select

from testdeck import cli, files, journal
from testdeck.widgets.form import FormScreen
from tests.alyvix.test_ui import loaded


async def form(pilot, key: str) -> FormScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.is_mounted,
                   what="the form")
    await pilot.pause(0.2)
    return pilot.app.screen


def sent(path: str) -> list[dict]:
    return [e for e in journal.read() if e.get("path") == path]


# --- 2. settings: prefilled, named, an empty save not sent ----------------------------------------------

async def test_settings_edit_shows_the_current_values_and_an_unchanged_save_sends_nothing(deck):
    app, sim_app, _ = deck("alyvix", start="license")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, "License")
        await pilot.press("right_square_bracket")  # `]` to the settings, as a user does
        screen = await loaded(pilot, "Settings")
        level = sim_app.state.settings["log_level"]
        edit = await form(pilot, "e")
        await wait_for(pilot, lambda: not edit.query_one("#f-log_level", Select).is_blank(), what="the level",
                       timeout=3)
        assert edit.query_one("#f-log_level", Select).value == level
        assert edit.query_one("#f-log_retention_period", Input).value == str(sim_app.state.settings[
            "log_retention_period"])
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "nothing changed" in str(edit.query_one("#server-error").render()),
                       what="nothing changed")
        assert not sent("/settings")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        edit = await form(pilot, "e")
        edit.query_one("#f-log_retention_period", Input).value = "9"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="saved")
        assert sim_app.state.settings["log_retention_period"] == 9
        assert [json.loads(e["body"]) if isinstance(e["body"], str) else e["body"] for e in sent("/settings")] \
            == [{"log_retention_period": 9}]
        assert "edit setting 'server settings': done" in said(app), said(app)


# --- 3. the log line ids the CLI prints are the ones describe and logs take -------------------------------

T0 = 1_795_000_000.0


def test_get_log_prints_the_ids_describe_takes_in_table_csv_and_json(sim_server, monkeypatch, tmp_path, capsys,
                                                                      frozen_clock):
    import csv
    import io

    from testdeck.services.alyvix import sim

    url, _app, _ = sim_server(sim.create_app, clock=lambda: T0)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.aly]\nservice = "alyvix"\nurl = "{url}/v0"\ntimeout = 5\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    assert cli.main(["get", "log", "-o", "json"]) == 0
    lines = json.loads(capsys.readouterr().out)
    ids = [line["id"] for line in lines]
    assert all(len(i) == 23 and i[14] == "-" for i in ids)
    assert cli.main(["get", "log", "-o", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in rows] == ids
    assert cli.main(["get", "log"]) == 0
    table_out = capsys.readouterr().out
    assert "ID" in table_out.splitlines()[0] and all(i in table_out for i in ids)
    for line in lines:
        assert cli.main(["describe", "log", line["id"]]) == 0
        assert json.loads(capsys.readouterr().out)["message"] == line["message"]
    assert cli.main(["describe", "log", "20991231235959-00000000"]) == 1
    err = capsys.readouterr().err
    assert "no response" not in err and "no line 20991231235959-00000000" in err


# --- 4. screenshots saved where logs are saved, 0600 -------------------------------------------------------

async def test_save_screenshots_defaults_to_the_save_folder_and_writes_owner_only_files(deck, frozen_clock,
                                                                                         tmp_path, monkeypatch):
    from testdeck.widgets.dialogs import TextScreen

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    app, _, _ = deck("alyvix", start="measures", clock=lambda: T0)
    app.config.profiles["test-alyvix"].fields["testcase_id"] = "2"
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, "Measures", rows=72)
        save = await form(pilot, "i")
        assert save.query_one("#f-folder", Input).value == str(files.save_dir())
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="saved")
    saved = sorted(files.save_dir().iterdir())
    assert saved and not list(cwd.iterdir())
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in saved), [oct(os.stat(p).st_mode) for p in saved]


# --- 6. the license switch's message: once, under the switch ------------------------------------------------

async def test_license_switch_left_off_is_said_once_under_the_switch_and_nothing_is_sent(deck):
    app, sim_app, _ = deck("alyvix", start="license")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, "License")
        expires = sim_app.state.license["expires"]
        key = await form(pilot, "a")
        key.query_one("#f-license", Input).value = "ALX-NEW1-2345-6789-ABCE"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        under = str(key.query_one("#err-confirm").render())
        assert under == "turn this on: the new key replaces the current license"
        assert "refused" not in str(key.query_one("#server-error").render())
        assert sim_app.state.license["expires"] == expires


# --- 7. the measures session filter names its state ----------------------------------------------------------

async def test_session_filter_form_title_does_not_say_none_chosen_while_one_is(deck, frozen_clock):
    app, sim_app, _ = deck("alyvix", start="measures", clock=lambda: T0)
    app.config.profiles["test-alyvix"].fields["testcase_id"] = "2"
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, "Measures", rows=72)
        chooser = await form(pilot, "f")
        select = chooser.query_one("#f-session", Select)
        await wait_for(pilot, lambda: len(select._options) > 1, what="sessions")
        select.value = str(next(iter(sim_app.state.sessions)))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="chosen")
        chooser = await form(pilot, "f")
        title = str(chooser.query_one(".title").render())
        assert "none chosen" not in title and "every session" in title, title


# --- 8. a new session's screen size is checked against what a desktop needs ---------------------------------

async def test_new_session_refuses_a_one_pixel_screen_before_sending(deck):
    app, sim_app, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, "Sessions", rows=5)
        new = await form(pilot, "n")
        for name, value in dict(domain="DM", username="Ops08", password="pw", width=1, height=1).items():
            new.query_one(f"#f-{name}", Input).value = str(value)
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert str(new.query_one("#err-width").render()) == "must be at least 640"
        assert str(new.query_one("#err-height").render()) == "must be at least 480"
        assert len(sim_app.state.sessions) == 5  # nothing sent


# --- 10. an edit with nothing changed is not sent -------------------------------------------------------------

async def test_session_edit_with_nothing_changed_sends_nothing(deck):
    app, sim_app, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, "Sessions", rows=5)
        edit = await form(pilot, "e")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "nothing changed" in str(edit.query_one("#server-error").render()),
                       what="nothing changed")
    assert not [e for e in journal.read() if str(e.get("path", "")).startswith("/sessions")]
