"""Alyvix screens through the Pilot, against the simulator over loopback."""

from __future__ import annotations

from conftest import wait_for
from console_kit import refreshed
from textual.widgets import Input, Select, SelectionList, Switch

from testdeck.screens.log import LogScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.services.alyvix.chart import RunChart
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import VirtualTable

T0 = 1_795_000_000.0


def table(app) -> VirtualTable:
    return app.screen.query_one(VirtualTable)


async def loaded(pilot, title: str, rows: int = 1) -> ResourceScreen:
    app = pilot.app

    def ready() -> bool:
        screen = app.screen
        return (isinstance(screen, ResourceScreen) and screen.resource.title == title and screen.is_mounted
                and bool(screen.query(VirtualTable)) and table(app).row_count >= rows)

    await wait_for(pilot, ready, what=f"{title} to load")
    return app.screen



async def form(pilot, key: str) -> FormScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.is_mounted, what="the form")
    await pilot.pause()
    return pilot.app.screen


def fill(screen: FormScreen, **values) -> None:
    for name, value in values.items():
        widget = screen.query_one(f"#f-{name}")
        if isinstance(widget, Switch):
            widget.value = bool(value)
        else:
            widget.value = str(value)


async def test_create_session_validates_first_and_never_shows_the_password_again(deck):
    app, sim_app, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, "Sessions", rows=5)
        new = await form(pilot, "n")
        fill(new, domain="DM", username="Ops07", password="pw-[secret]", scaling_factor=7)
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "25 to 500" in str(new.query_one("#err-scaling_factor").render())
        assert len(sim_app.state.sessions) == 5  # nothing sent
        fill(new, scaling_factor=125, width=1600, height=900)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(sim_app.state.sessions) == 6, what="the session created")
        made = sim_app.state.sessions[6]
        assert (made["username"], made["_password"], made["width"], made["scaling_factor"]) == \
            ("Ops07", "pw-[secret]", 1600, 125)
        await wait_for(pilot, lambda: table(app).row_count == 6, what="the new row")
        assert "pw-[secret]" not in str(table(app).data.rows)
        assert "pw-[secret]" not in str(screen.records["6"].raw)


async def test_a_password_that_is_also_a_number_in_the_replies_breaks_nothing(deck):
    """The new session's password is remembered as a secret; "1920" is also every session's width.
    Redacting the replies' text turned `"width": 1920` into `"width": ***`: the create read as
    refused (malformed JSON) though the server had made it, and the table stayed STALE for good."""
    import json

    from testdeck import journal

    app, sim_app, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, "Sessions", rows=5)
        new = await form(pilot, "n")
        fill(new, domain="DM", username="u", password="1920", width=1920, height=1080, scaling_factor=100)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), what="created, the form closed")
        await refreshed(pilot, screen)
        assert screen.error is None and table(app).row_count == 6
        assert screen.records["1"].raw["width"] == 1920  # a number is not the secret's text
        sent = [e for e in journal.read() if e.get("method") == "POST"][-1]
        body = json.loads(sent["body"])  # still JSON, the password redacted, the width kept
        assert body["password"] == "***" and body["width"] == 1920
        assert "1920" not in sent["curl"].split("password")[1][:12]


async def test_edit_session_sends_only_what_changed(deck):
    app, sim_app, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "Sessions", rows=5)
        await pilot.press("down")  # session 2
        edit = await form(pilot, "e")
        assert edit.query_one("#f-width", Input).value == "1920"
        assert edit.query_one("#f-password", Input).value == ""  # a password is never shown
        fill(edit, height=1200)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: sim_app.state.sessions[2]["height"] == 1200, what="the edit")
        assert sim_app.state.sessions[2]["_password"] == "secret-2"  # untouched
        await wait_for(pilot, lambda: "1920x1200" in str(table(app).data.rows), what="the row updated")


async def test_a_key_action_the_server_failed_says_how_and_that_it_may_have_acted(deck):
    """`o` (play) answered by a plain 500: the toast gives the status and the may-have-acted hint a
    form gives, not the server's words alone."""
    app, _, config = deck("alyvix", start="sessions")
    config.fail_paths.add("PUT /sessions/3")
    config.fail_text = "Internal Server Error (simulated fault)"
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "Sessions", rows=5)
        await pilot.press("down", "down", "o")
        await wait_for(pilot, lambda: any("failed" in str(n.title) for n in app._notifications), what="the toast")
        toast = next(n for n in app._notifications if "failed" in str(n.title))
        assert toast.title == "play session 'DM\\AlyvixUser03' failed"
        assert toast.message == ("server failed (HTTP 500); it may have acted anyway: check before sending again: "
                                 "Internal Server Error (simulated fault)")


async def test_play_break_stop_with_single_keys_stop_asks_first(deck):
    app, sim_app, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, "Sessions", rows=5)
        await pilot.press("down", "down")  # session 3, on break
        assert table(app).cursor_key == "3"
        await pilot.press("o")
        await wait_for(pilot, lambda: sim_app.state.sessions[3]["control"] == "play", what="play")
        await refreshed(pilot, screen)
        assert screen.records["3"].state in ("running", "waiting")
        await pilot.press("b")
        await wait_for(pilot, lambda: sim_app.state.sessions[3]["control"] == "break", what="break")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="stop asks first")
        # the name as the table shows it: DOMAIN\user with one backslash (repr() doubled it)
        assert "stop session 'DM\\AlyvixUser03' (3) on profile" in app.screen.question
        await pilot.press("n")
        await pilot.pause(0.2)
        assert sim_app.state.sessions[3]["control"] == "break"
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="stop asks again")
        await pilot.press("y")
        await wait_for(pilot, lambda: sim_app.state.sessions[3]["control"] == "stop", what="stop")
        await refreshed(pilot, screen)
        assert screen.records["3"].state == "stopped"


async def test_enable_and_disable_test_cases_from_a_checklist(deck):
    app, sim_app, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "Sessions", rows=5)
        checklist = await form(pilot, "t")  # session 1: test cases 1, 2, 3 enabled
        boxes = checklist.query_one(SelectionList)
        await wait_for(pilot, lambda: boxes.option_count == 5, what="the test cases")
        assert sorted(boxes.selected) == [1, 2, 3]
        boxes.deselect(2)
        boxes.select(5)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), what="saved")
    enabled = [x["id"] for x in sim_app.state.sessions[1]["test_case_list"] if x["enabled"]]
    assert enabled == [1, 3, 5]


async def test_delete_session_asks_and_no_keeps_it(deck):
    app, sim_app, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "Sessions", rows=5)
        await pilot.press("end")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert 5 in sim_app.state.sessions
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: table(app).row_count == 4, what="the row gone")
    assert 5 not in sim_app.state.sessions


async def test_testcase_create_with_server_filenames_edit_and_delete(deck):
    app, sim_app, _ = deck("alyvix", start="testcases")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, "Test cases", rows=5)
        assert screen.records["2"].last_state == 2  # sap_login's last run failed
        new = await form(pilot, "n")
        picker = new.query_one("#f-filename")
        await wait_for(pilot, lambda: len(picker._options) > 5, what="filenames from the server")
        fill(new, name="teams")
        picker.value = "teams_call"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: 6 in sim_app.state.testcases, what="created")
        await wait_for(pilot, lambda: table(app).row_count == 6, what="the new row")
        await pilot.press("end")
        edit = await form(pilot, "e")
        fill(edit, arguments="--room 9")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: sim_app.state.testcases[6]["arguments"] == "--room 9", what="edited")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: 6 not in sim_app.state.testcases, what="deleted")


async def test_measures_chart_and_run_detail(deck, frozen_clock):
    app, _, _ = deck("alyvix", start="measures", clock=lambda: T0)
    app.config.profiles["test-alyvix"].fields["testcase_id"] = "2"  # no picker: sap_login
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, "Measures", rows=72)
        chart = screen.query_one(RunChart)
        await wait_for(pilot, lambda: len(chart.runs) == 72 and chart.lines, what="the chart fed and drawn")
        drawn = chart.plain
        assert "✖" in drawn and "━" in drawn and "┄" in drawn
        assert table(app).data.rows[0][2] == "critical"
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="the run's transactions")
        text = app.screen.query_one("TextArea").text
        assert "login" in text and "not_executed" in text and "15.0s" in text  # login's critical threshold


async def test_log_follow_polls_only_new_lines_and_filters_switch_while_following(deck):
    now = [T0]
    app, sim_app, _ = deck("alyvix", start="log", clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "Server log", rows=6)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="the log tail")
        tail = app.screen.tail
        feed = app.screen.feed
        await wait_for(pilot, lambda: tail.line_count == 7, what="the first lines")  # marker + 6
        now[0] += 65  # two heartbeats
        feed.wake()
        await wait_for(pilot, lambda: tail.line_count == 9, what="only the new lines")
        assert tail.lines[-1].endswith("heartbeat #2") and sum("heartbeat #1" in ln for ln in tail.lines) == 1
        await pilot.press("v", "v", "v")  # level: DEBUG, WARNING, CRITICAL
        assert feed.level == "CRITICAL"
        assert "level CRITICAL" in str(app.screen.query_one(".log-title").render())
        await wait_for(pilot, lambda: tail.lines[-1].endswith("after 30000 ms"), what="critical lines")
        assert tail.lines[-3] == "── source all · level CRITICAL ──"
        await pilot.press("o", "o")  # source CLIENT
        await wait_for(pilot, lambda: tail.lines[-2] == "── source CLIENT · level CRITICAL ──",
                       what="client critical lines")
        assert "cannot log on" in tail.lines[-1]
        sim_app.state.posted.append((now[0] + 1, "CLIENT", "CRITICAL", "Session [x] crashed"))
        now[0] += 2
        feed.wake()
        await wait_for(pilot, lambda: tail.lines[-1].endswith("Session [x] crashed"), what="a followed line")
        assert tail.feed_state == "running"


async def test_post_a_message_to_the_server_log(deck):
    app, sim_app, _ = deck("alyvix", start="log")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "Server log", rows=6)
        post = await form(pilot, "m")
        fill(post, message="maintenance [db] starts")
        post.query_one("#f-log_level").value = "WARNING"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: sim_app.state.posted, what="posted")
        await wait_for(pilot, lambda: "maintenance [db] starts" in str(table(app).data.rows), what="shown")
    assert sim_app.state.posted[0][1:] == ("EXTERNAL", "WARNING", "maintenance [db] starts")


async def test_license_key_needs_confirmation_and_settings_hide_the_private_key(deck):
    app, sim_app, _ = deck("alyvix", start="license")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "License")
        expires = sim_app.state.license["expires"]
        key = await form(pilot, "a")
        fill(key, license="ALX-NEW1-2345-6789-ABCE")
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "replaces the current license" in str(key.query_one("#err-confirm").render())
        assert sim_app.state.license["expires"] == expires  # nothing sent
        fill(key, confirm=True)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), what="the key set")
        assert sim_app.state.license["expires"] > expires + 300 * 86400
        sim_app.state.settings["private_key"] = "pk-do-not-show"
        app.open_target("settings")
        screen = await loaded(pilot, "Settings")
        assert "pk-do-not-show" not in str(table(app).data.rows) + str(screen.records)
        edit = await form(pilot, "e")
        assert edit.query_one("#f-private_key", Input).value == ""
        fill(edit, log_retention_period=0)
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert sim_app.state.settings["log_retention_period"] == 7
        fill(edit, log_retention_period=30)
        edit.query_one("#f-log_level").value = "debug"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: sim_app.state.settings["log_level"] == "debug", what="saved")
    assert sim_app.state.settings["log_retention_period"] == 30
    assert sim_app.state.settings["private_key"] == "pk-do-not-show"  # kept: the field was left empty


async def test_measures_quick_range_change_and_drill_from_a_test_case(deck, frozen_clock):
    app, _, _ = deck("alyvix", start="testcases", clock=lambda: T0)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "Test cases", rows=5)
        await pilot.press("down", "enter")  # sap_login: enter drills into its measures
        screen = await loaded(pilot, "Measures", rows=72)
        assert screen.scope == "2"
        chart = screen.query_one(RunChart)
        await pilot.press("W")  # last 7 days
        await wait_for(pilot, lambda: table(app).row_count == 504 and len(chart.runs) == 504, what="a week of runs")
        assert chart.window == (T0 - 7 * 86400, T0)
        await pilot.press("H")  # last hour
        await wait_for(pilot, lambda: table(app).row_count == 3 and len(chart.runs) == 3, what="an hour of runs")
        assert chart.window == (T0 - 3600, T0) and "11-18" not in chart.plain.splitlines()[-1]


async def test_measures_of_one_session_chosen_with_f_then_every_session_again(deck, frozen_clock):
    app, sim_app, _ = deck("alyvix", start="measures", clock=lambda: T0)
    app.config.profiles["test-alyvix"].fields["testcase_id"] = "2"
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, "Measures", rows=72)
        users = [r.record.get("domain_username") for r in screen.rows]
        session = next(s for s in sim_app.state.sessions.values()
                       if f"{s['domain']}\\{s['username']}" in users)
        user = f"{session['domain']}\\{session['username']}"
        mine = users.count(user)
        assert 0 < mine < len(users)
        chooser = await form(pilot, "f")
        select = chooser.query_one("#f-session", Select)
        await wait_for(pilot, lambda: len(select._options) == len(sim_app.state.sessions) + 1, what="sessions")
        select.value = str(session["id"])
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen and screen.last_ok is not None
                       and table(app).row_count == mine, what="that session's runs")
        assert {r.record.get("domain_username") for r in screen.rows} == {user}
        assert f"session {user}" in str(screen.query_one("#titlebar").heading)
        assert len(screen.query_one(RunChart).runs) == mine  # the chart follows
        chooser = await form(pilot, "f")
        select = chooser.query_one("#f-session", Select)
        await wait_for(pilot, lambda: select.value == str(session["id"]), what="the current choice shown")
        select.clear()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen and table(app).row_count == len(users), what="all again")
        assert "session" not in str(screen.query_one("#titlebar").heading)


async def test_checklist_reads_without_colour(deck):
    app, _, _ = deck("alyvix", start="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, "Sessions", rows=5)
        checklist = await form(pilot, "t")
        boxes = checklist.query_one(SelectionList)
        await wait_for(pilot, lambda: boxes.option_count == 5, what="the test cases")
        await pilot.pause()

        def glyphs() -> list[str]:  # the box's middle cell of each line: the state with no colour at all
            return [boxes.render_line(y).text[1] for y in range(boxes.option_count)]

        assert glyphs() == ["x", "x", "x", " ", " "]  # session 1: test cases 1, 2, 3 enabled
        boxes.deselect(2)
        boxes.select(5)
        await pilot.pause()
        assert glyphs() == ["x", " ", "x", " ", "x"]
