"""OneTest executions through the real console on the Pilot: start, logs, stop, views, filter, settings."""

from __future__ import annotations

from console_kit import loaded, refreshed
from textual.widgets import TextArea

from testdeck.screens.log import LogScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.services.onetest import sim
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen

from .uikit import (GHOST, confirm_shown, error_of, form_open, key_of, log_text, on_row, running_id, server_error,
                    table, wait_for)


async def test_start_validates_the_schedule_then_starts_and_follows(odeck):
    app, sim_app, clk = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        before = set(sim_app.state.executions)
        form = await form_open(pilot, "n")
        form.query_one("#f-asset").value = sim.ASSETS[0][0]
        form.query_one("#f-schedule_at").value = "7:00PM"
        form.query_one("#f-schedule_in").value = "15 minutes"
        form.query_one("#f-variables", TextArea).text = "user=bob\nno equals sign"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "ISO-8601 UTC" in error_of(form, "schedule_at")
        assert "ISO-8601 duration" in error_of(form, "schedule_in")
        assert "line 2" in error_of(form, "variables")
        form.query_one("#f-schedule_at").value = "2026-12-01T15:00:00Z"
        form.query_one("#f-schedule_in").value = "PT15M"
        form.query_one("#f-variables", TextArea).text = "user=bob"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "need attention" in server_error(form), what="both refused")
        assert error_of(form, "schedule_at") == "give 'schedule at' or 'schedule in', not both" == \
            error_of(form, "schedule_in")  # under the fields, as a rule of one field
        assert set(sim_app.state.executions) == before  # refused before sending
        form.query_one("#f-schedule_at").value = ""
        form.query_one("#f-schedule_in").value = ""
        form.query_one("#f-tags").value = "ci, manual"
        form.query_one("#f-jvm_args", TextArea).text = "-Xmx1g\n-Dx=1"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="followed log")
        (new,) = set(sim_app.state.executions) - before
        spec = sim_app.state.executions[new]["spec"]
        assert spec["tags"] == ["ci", "manual"] and spec["variables"] == {"user": "bob"}
        assert spec["advancedSettings"] == {"jvmArguments": ["-Xmx1g", "-Dx=1"]}
        assert spec["offlineToken"] == sim.DEMO_OFFLINE_TOKEN  # from the profile, never typed
        await wait_for(pilot, lambda: f"container log of execution {new}" in log_text(app), what="its log")
        clk.advance(sim.TRANSITION + 10)
        await wait_for(pilot, lambda: "step 5: OK" in log_text(app), what="log lines while running")
        clk.advance(200)
        await wait_for(pilot, lambda: "-- execution COMPLETE" in log_text(app), what="end of the run")
        await pilot.press("escape")
        screen = app.screen
        assert isinstance(screen, ResourceScreen)
        screen.session.client.execution_filter = {"status": "ALL"}  # it is finished: not in the active set
        await refreshed(pilot, screen)
        assert table(app).cursor_key == new  # the new execution is selected


async def test_follow_log_of_a_running_execution_and_the_init_log(odeck):
    app, sim_app, clk = odeck()
    eid = running_id(sim_app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await on_row(pilot, eid)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="log")
        log = app.screen
        await wait_for(pilot, lambda: f"Starting execution {eid}" in log_text(app), what="first lines")
        title = lambda: str(log.query_one(".log-title").render())  # noqa: E731
        assert "container log (i: init log)" in title()
        # while it runs: `i` switches this same screen to the init container's log, and back
        await pilot.press("i")
        await wait_for(pilot, lambda: f"-- init container log of execution {eid}" in log_text(app),
                       what="init log in the same screen")
        assert app.screen is log and "init container log (i: container log)" in title()
        assert "init complete" in log_text(app)
        await wait_for(pilot, lambda: "-- init container done · execution RUNNING" in log_text(app),
                       what="the init log's end, the execution still running")
        await pilot.press("i")
        await wait_for(pilot, lambda: log_text(app).count(f"-- container log of execution {eid}") == 2,
                       what="back to the container log")
        clk.advance(900)
        await wait_for(pilot, lambda: "-- execution COMPLETE" in log_text(app), what="followed to the end")
        assert "Execution finished: COMPLETE" in log_text(app)
        await wait_for(pilot, lambda: log.tail.feed_state == "ended", what="feed ended with the execution")
        # after the end, `i` still reads the init log (the feed starts again), in the same screen
        await pilot.press("i")
        await wait_for(pilot, lambda: log_text(app).count(f"-- init container log of execution {eid}") == 2,
                       what="init log after the end")
        assert app.screen is log
        await wait_for(pilot, lambda: log.tail.feed_state == "ended", what="the init log ends too")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")


async def test_a_log_no_longer_available_says_so(odeck):
    app, sim_app, _ = odeck()
    old = key_of(sim_app, final="COMPLETE_WITH_ERROR", environment="perf-lab")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        screen.session.client.execution_filter = {"status": "ALL"}
        await refreshed(pilot, screen)
        await on_row(pilot, old)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen) and "no longer available" in log_text(app),
                       what="410 explained")
        assert "HTTP 410" in log_text(app)


async def test_stop_one_confirms_with_its_id_and_options(odeck):
    app, sim_app, _ = odeck()
    eid = running_id(sim_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        await on_row(pilot, eid)
        form = await form_open(pilot, "x")
        assert form.query_one("#f-ids", TextArea).text == eid
        form.query_one("#f-stop_timeout").value = "5"
        form.query_one("#f-finally_block").value = False
        await pilot.press("ctrl+s")
        question = await confirm_shown(pilot)
        asset = app.screen_stack[-3].records[eid].get("asset")  # the table's row (under the form)
        assert question.startswith(f"stop execution {asset!r} ({eid}) on profile test-onetest?")
        assert sim_app.state.executions[eid]["stopped_at"] is None  # nothing sent while it asks
        await pilot.press("enter")  # the default is No
        await wait_for(pilot, lambda: app.screen is form, what="back in the form")
        await wait_for(pilot, lambda: "not confirmed" in server_error(form), what="not sent")
        assert sim_app.state.executions[eid]["stopped_at"] is None
        await pilot.press("ctrl+s")
        await confirm_shown(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="answer")
        assert f"Stop requested for {eid}" in app.screen.body
        ex = sim_app.state.executions[eid]
        assert ex["stopped_at"] is not None
        assert ex["stop_options"] == {"stopTimeoutSecs": "5", "executeFinallyBlock": "false",
                                      "captureResults": "true"}


async def test_stop_ids_are_one_per_line_or_comma_and_a_malformed_one_is_named_before_sending(odeck):
    app, sim_app, _ = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        first, second, third = table(app).data.keys
        form = await form_open(pilot, "x")
        ids = form.query_one("#f-ids", TextArea)
        # a line copied with its status, a space inside, a hostile paste: each named, nothing sent
        ids.text = f"{first} RUNNING\n{second}\nx\x1b]52;c;ZXZpbA==\x07"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "not an execution id" in error_of(form, "ids"), what="field error")
        said = error_of(form, "ids")
        assert f"'{first} RUNNING'" in said and "'x␛]52;c;ZXZpbA==␇'" in said and f"'{second}'" not in said
        assert "\x1b" not in said
        assert not isinstance(app.screen, ConfirmScreen)  # refused in the form: nothing asked, nothing sent
        assert all(sim_app.state.executions[i]["stopped_at"] is None for i in (first, second, third))
        ids.text = f" {first} , {second}\n\n{third}\n{first}"  # commas, lines, blanks; the same one twice
        await pilot.press("ctrl+s")
        question = await confirm_shown(pilot)
        assert question.startswith("stop these 3 executions on profile test-onetest?")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="answer")
        assert "Stopping 3 executions" in app.screen.body  # one PATCH with the three
        assert all(sim_app.state.executions[i]["stopped_at"] is not None for i in (first, second, third))


async def test_stop_many_is_one_request_and_a_422_names_the_unknown(odeck):
    app, sim_app, _ = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        ids = list(table(app).data.keys)
        form = await form_open(pilot, "x")
        form.query_one("#f-ids", TextArea).text = "\n".join([ids[0], GHOST])
        await pilot.press("ctrl+s")
        question = await confirm_shown(pilot)  # names the ids typed in the form, known or not
        assert question.startswith("stop these 2 executions on profile test-onetest?") and f"'{GHOST}'" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: GHOST in server_error(form), what="422")
        assert f"Executions not found: {GHOST}" in server_error(form)
        assert all(sim_app.state.executions[i]["stopped_at"] is None for i in ids)  # nothing stopped
        form.query_one("#f-ids", TextArea).text = "\n".join(ids)
        await pilot.press("ctrl+s")
        await confirm_shown(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="answer")
        assert "Stopping 3 executions" in app.screen.body
        assert all(sim_app.state.executions[i]["stopped_at"] is not None for i in ids)


async def test_stop_marked_executions_lists_them_and_sends_one_patch(odeck):
    app, sim_app, _ = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        first, second, third = table(app).data.keys
        for key in (first, third):
            await on_row(pilot, key)
            await pilot.press("space")
        assert screen.marks == {first, third}
        form = await form_open(pilot, "x")
        assert form.query_one("#f-ids", TextArea).text.split() == [first, third]  # the marks, in table order
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="cancelled")
        assert all(sim_app.state.executions[i]["stopped_at"] is None for i in (first, second, third))
        form = await form_open(pilot, "x")
        form.query_one("#f-capture_results").value = False
        await pilot.press("ctrl+s")
        question = await confirm_shown(pilot)
        assert question.startswith("stop these 2 executions on profile test-onetest?")
        assert first in question and third in question and second not in question
        assert all(sim_app.state.executions[i]["stopped_at"] is None for i in (first, third))  # asked first
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="answer")
        assert "Stopping 2 executions" in app.screen.body  # the PATCH's answer: one request for both
        # named as what it stopped, not the row under the cursor; the marks it took are done with
        assert app.screen.title_text == "stop · 2 executions"
        assert any(str(n.message) == "stop 2 executions: done" for n in app._notifications)
        assert screen.marks == set()
        assert sim_app.state.executions[second]["stopped_at"] is None
        for key in (first, third):
            ex = sim_app.state.executions[key]
            assert ex["stopped_at"] is not None and ex["stop_options"]["captureResults"] == "false"


async def test_quick_switches_failed_all_and_active_again(odeck):
    from testdeck.services.onetest.models import ACTIVE_STATUSES, FAILED_STATUSES

    app, sim_app, _ = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        active = set(table(app).data.keys)

        def statuses() -> set[str]:
            return {r.record.get("status") for r in screen.rows}

        await pilot.press("F")
        await wait_for(pilot, lambda: screen.last_ok is not None and screen.rows
                       and statuses() <= set(FAILED_STATUSES), what="failed runs")
        assert "· failed" in str(screen.query_one("#titlebar").heading)
        assert {"COMPLETE_WITH_ERROR", "LAUNCH_FAILED"} <= statuses()
        await pilot.press("A")
        await wait_for(pilot, lambda: screen.last_ok is not None and active < set(table(app).data.keys),
                       what="all runs: the active ones and the history")
        assert "COMPLETE" in statuses() and statuses() & set(ACTIVE_STATUSES)
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.last_ok is not None and set(table(app).data.keys) == active,
                       what="the active ones again")


async def test_detail_shows_the_verdict_and_the_server_filter_fetches_history(odeck):
    app, sim_app, _ = odeck()
    failed = key_of(sim_app, final="COMPLETE_WITH_ERROR", environment="qa")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        form = await form_open(pilot, "f")
        form.query_one("#f-environment").value = "qa"
        form.query_one("#f-completed_after").value = "last week"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "ISO-8601 UTC" in error_of(form, "completed_after")
        form.query_one("#f-completed_after").value = ""
        form.query_one("#f-status").select("ALL")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="filter summary")
        assert "environment=qa" in app.screen.body
        await pilot.press("escape")
        await refreshed(pilot, screen)
        assert "filter status=ALL, environment=qa" in str(screen.query_one("#titlebar").heading)
        assert table(app).row_count == 3 and failed in table(app).data.keys
        await on_row(pilot, failed)
        await pilot.press("d")  # (enter drills into the declared log)
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="detail")
        assert '"verdict": "FAIL"' in app.screen.body and "2 of 14 tests failed" in app.screen.body


async def test_settings_changes_confirm_the_restart_warning_before_sending(odeck):
    app, sim_app, _ = odeck()
    eid = running_id(sim_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        await on_row(pilot, eid)
        before = dict(sim_app.state.executions[eid]["settings"])
        form = await form_open(pilot, "o")
        form.query_one("#f-name").value = "logLevel"
        form.query_one("#f-value").value = "DEBUG"
        await pilot.press("ctrl+s")
        question = await confirm_shown(pilot)
        assert f"({eid}) on profile test-onetest?" in question and "restart/redeploy" in question
        assert "It sets the advanced configuration 'logLevel' to 'DEBUG'." in question  # what changes, to what
        await pilot.press("n")
        await wait_for(pilot, lambda: "not confirmed" in server_error(form), what="not sent")
        assert sim_app.state.executions[eid]["settings"] == before
        await pilot.press("ctrl+s")
        await confirm_shown(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: sim_app.state.executions[eid]["settings"].get("logLevel") == "DEBUG",
                       what="sent after yes")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="form closed")
        form = await form_open(pilot, "C")
        form.query_one("#f-configurations", TextArea).text = '{"logLevel": "TRACE", "threads": 4}'
        await pilot.press("ctrl+s")
        question = await confirm_shown(pilot)
        assert "It sets 2 advanced configurations: 'logLevel' to 'TRACE', 'threads' to '4'." in question
        assert "restart/redeploy" in question
        await pilot.press("escape")
        await wait_for(pilot, lambda: "not confirmed" in server_error(form), what="C not sent")


async def test_switching_to_the_init_log_and_back_writes_the_container_log_once(odeck):
    app, sim_app, _ = odeck()
    eid = running_id(sim_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        await on_row(pilot, eid)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen)
                       and f"Starting execution {eid}" in log_text(app), what="container log")
        await pilot.press("i")
        await wait_for(pilot, lambda: "-- init container done" in log_text(app), what="init log")
        await pilot.press("i")
        await wait_for(pilot, lambda: log_text(app).count(f"-- container log of execution {eid}") == 2,
                       what="back to the container log")
        await pilot.pause(0.3)  # a few more polls
        lines = app.screen.tail.lines
        assert sum(f"Starting execution {eid}" in line for line in lines) == 1
        body = [line for line in lines if not line.startswith("-- ")]
        assert len(body) == len(set(body)), "a log line written twice"
        assert "after line" in [line for line in lines if line.startswith(f"-- container log of execution {eid}")][-1]


async def test_executions_at_80_columns_show_status_verdict_asset_and_started(odeck):
    app, sim_app, _ = odeck()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot, rows=3)
        shown = [screen.resource.columns[i].heading for i in table(app).columns]
        assert {"status", "asset", "verdict", "started"} <= set(shown), shown
        assert table(app).virtual_size.width <= 80  # nothing cut off at the right edge


async def test_schedule_at_in_the_past_is_refused_in_the_form(odeck):
    app, sim_app, _ = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        before = set(sim_app.state.executions)
        form = await form_open(pilot, "n")
        form.query_one("#f-asset").value = sim.ASSETS[0][0]
        form.query_one("#f-schedule_at").value = "2020-01-01T00:00:00Z"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert "in the past" in error_of(form, "schedule_at")
        assert set(sim_app.state.executions) == before


async def test_stop_on_an_execution_that_ended_is_refused_at_the_key(odeck):
    app, sim_app, _ = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await pilot.press("A")  # every execution, the ended ones too
        await wait_for(pilot, lambda: any(r.record.get("status") == "COMPLETE" for r in screen.rows), what="all")
        done = next(r.key for r in screen.rows if r.record.get("status") == "COMPLETE")
        before = dict(sim_app.state.executions[done])
        await on_row(pilot, done)
        await pilot.press("x")
        await wait_for(pilot, lambda: any("not sent: already ended (COMPLETE)" in str(n.message)
                                          for n in app._notifications), what="the refusal")
        assert not isinstance(app.screen, (FormScreen, ConfirmScreen)) and sim_app.state.executions[done] == before


async def test_stop_with_marks_leaves_out_the_runs_that_ended(odeck):
    app, sim_app, _ = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await pilot.press("A")  # every execution, the ended ones too
        await wait_for(pilot, lambda: any(r.record.get("status") == "COMPLETE" for r in screen.rows), what="all")
        ended = [r.key for r in screen.rows if r.record.get("status") in ("COMPLETE", "LAUNCH_FAILED")][:2]
        running = next(r.key for r in screen.rows if r.record.get("status") == "RUNNING")
        before = {k: dict(sim_app.state.executions[k]) for k in ended}
        for key in ended:
            await on_row(pilot, key)
            await pilot.press("space")
        await pilot.press("x")  # only ended runs marked: refused at the key
        await wait_for(pilot, lambda: any("not sent: the marked executions have all ended" in str(n.message)
                                          for n in app._notifications), what="the refusal")
        assert not isinstance(app.screen, (FormScreen, ConfirmScreen))
        await on_row(pilot, running)
        await pilot.press("space")
        form = await form_open(pilot, "x")
        assert form.query_one("#f-ids", TextArea).text == running  # the ended marks are not offered
        form.query_one("#f-ids", TextArea).text = "\n".join([running, ended[0]])  # typed back: still left out
        await pilot.press("ctrl+s")
        question = await confirm_shown(pilot)
        assert running in question and ended[0] not in question
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="answer")
        assert f"Stop requested for {running}" in app.screen.body
        assert "Not sent, already ended: " in app.screen.body and ended[0] in app.screen.body
        assert sim_app.state.executions[running]["stopped_at"] is not None
        assert {k: sim_app.state.executions[k] for k in ended} == before
        assert screen.marks == set(ended)  # what was not sent stays marked


async def test_a_server_filter_without_status_keeps_the_chosen_view_as_its_form_says(odeck):
    app, sim_app, _ = odeck()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await pilot.press("A")
        await wait_for(pilot, lambda: table(app).row_count == 9, what="every run")
        form = await form_open(pilot, "f")
        assert "none: the view a/A/F chose" in str(form.query_one("#label-status").render())  # not "the active ones"
        form.query_one("#f-environment").value = "qa"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="filter summary")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.last_ok is not None and table(app).row_count == 3, what="qa runs")
        assert {r.record.get("environment") for r in screen.rows} == {"qa"}
        assert any(not r.record.active for r in screen.rows)  # the ended ones too: the view A holds
