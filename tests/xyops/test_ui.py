"""xyOps through the real console on the Pilot: buckets, files, jobs and their logs, events, alerts."""

from __future__ import annotations

import html
import json
import re

import pytest
from conftest import wait_for
from console_kit import loaded, refreshed
from hostile import ESCAPES, FORBIDDEN
from textual.widgets import ProgressBar, Select

from testdeck.screens.log import LogScreen
from testdeck.screens.pickers import ScopePicker
from testdeck.screens.resource import ResourceScreen
from testdeck.services.xyops import views_jobs
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import VirtualTable


@pytest.fixture
def xdeck(deck, monkeypatch):
    monkeypatch.setattr(views_jobs, "POLL", 0.05)
    return lambda start, **knobs: deck("xyops", start=start, **knobs)


def table(app) -> VirtualTable:
    return app.screen.query_one(VirtualTable)




async def on_row(pilot, key: str) -> None:
    await wait_for(pilot, lambda: key in table(pilot.app).data.keys, timeout=15, what=f"row {key}")
    assert table(pilot.app).move_to_key(key), key
    await pilot.pause()


async def form_open(pilot, key: str) -> FormScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.query("#buttons"),
                   timeout=15, what="form")
    return pilot.app.screen


def error_of(form: FormScreen, field: str) -> str:
    return str(form.query_one(f"#err-{field}").render())


async def pick_bucket(pilot, title: str) -> None:
    """The bucket picker `files` opens with: choose the bucket by its title."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker) and app.screen.query("OptionList"),
                   what="bucket picker")
    picker = app.screen
    picker.query_one("OptionList").highlighted = next(i for i, (_, label) in enumerate(picker.options)
                                                       if label == title)
    await pilot.press("enter")


def bucket_id(sim_app, title: str) -> str:
    return next(b["id"] for b in sim_app.state.buckets.values() if b["title"] == title)


async def test_create_bucket_validates_json_then_creates_it_with_its_data(xdeck):
    app, sim_app, _ = xdeck("buckets")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        before = len(sim_app.state.buckets)
        form = await form_open(pilot, "n")
        form.query_one("#f-title").value = "Incident 42"
        form.query_one("#f-data").text = '{"owner": "ops", '
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "not valid JSON" in error_of(form, "data"), what="json error")
        form.query_one("#f-data").text = '["not", "an object"]'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "must be a JSON object" in error_of(form, "data"), what="object error")
        assert len(sim_app.state.buckets) == before  # nothing was sent
        form.query_one("#f-data").text = '{"owner": "ops", "sev": 2}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="form closed")
        new = bucket_id(sim_app, "Incident 42")
        assert sim_app.state.bucket_data[new] == {"owner": "ops", "sev": 2}
        await wait_for(pilot, lambda: new in table(app).data.keys, what="new row")


async def test_edit_bucket_data_replaces_the_whole_object(xdeck):
    app, sim_app, _ = xdeck("buckets")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        bid = bucket_id(sim_app, "Release artefacts")
        await on_row(pilot, bid)
        form = await form_open(pilot, "J")
        area = form.query_one("#f-data")
        await wait_for(pilot, lambda: "2.4.1" in area.text, what="current data")
        assert "update_bucket REPLACES" in str(form.query_one(".title").render())
        assert json.loads(area.text) == {"version": "2.4.1", "channel": "stable", "approved": True}
        area.text = '{"version": "2.5.0"}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="form closed")
        assert sim_app.state.bucket_data[bid] == {"version": "2.5.0"}  # channel and approved are gone


async def test_delete_bucket_confirmation_names_it_and_says_its_data_and_files_go(xdeck, tmp_path):
    app, sim_app, _ = xdeck("buckets")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await loaded(pilot)
        bid = bucket_id(sim_app, "Release artefacts")
        await on_row(pilot, bid)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        question = app.screen.question
        assert f"delete bucket 'Release artefacts' ({bid}) on profile test-xyops?" in question
        assert "Its JSON data and all its files are deleted with it" in question
        await pilot.pause()
        shown = " ".join(html.unescape(t) for t in re.findall(r">([^<]*)</text>", app.export_screenshot()))
        shown = " ".join(shown.replace("\xa0", " ").split())
        # seen at 80x24, wrapped, not cut: the bucket, the profile, and that its data and files go too
        assert "delete bucket 'Release artefacts'" in shown and "profile test-xyops?" in shown
        assert "Its JSON data and all its files are deleted with it;" in shown
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, what="kept")
        assert bid in sim_app.state.buckets and sim_app.state.bucket_files[bid]
        path = sim_app.state.bucket_files[bid][0]["path"]
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: bid not in sim_app.state.buckets, what="deleted")
        client = screen.session.client
        from testdeck.errors import ApiError
        with pytest.raises(ApiError):  # its files went with it
            await client.download_bucket_file(path, tmp_path / "gone")
        await wait_for(pilot, lambda: bid not in table(app).data.keys, what="row gone")


async def test_delete_marked_buckets_one_confirmation_says_their_files_go(xdeck):
    app, sim_app, _ = xdeck("buckets")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        ids = [bucket_id(sim_app, "Release artefacts"), bucket_id(sim_app, "The Void")]
        for bid in ids:
            await on_row(pilot, bid)
            await pilot.press("space")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        question = app.screen.question
        assert "these 2 buckets" in question and "'Release artefacts'" in question and "'The Void'" in question
        assert "Their JSON data and all their files are deleted with them" in question
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="kept")
        assert all(bid in sim_app.state.buckets for bid in ids)


async def test_files_whose_bucket_list_failed_say_so_and_r_asks_again(xdeck):
    """The bucket list fails as `files` opens: the screen says nothing is chosen and why, shows no
    countdown to a refresh that cannot happen, and `r` reads the buckets again (it did nothing)."""
    app, _, config = xdeck("files")
    config.fail_paths.add("get_buckets/v1")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.error is not None,
                       what="the bucket list failed")
        screen = app.screen
        assert "the buckets could not be read: r or P tries again" in table(app).empty_text
        await pilot.pause(1.2)
        assert screen.next_at is None
        config.fail_paths.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker) and app.screen.query("OptionList"),
                       what="the bucket picker, read again")


async def test_the_scope_picker_moves_with_j_k_g_G_like_the_tables(xdeck):
    app, _, _ = xdeck("files")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker) and app.screen.query("OptionList"),
                       what="bucket picker")
        options = app.screen.query_one("OptionList")
        assert options.highlighted == 0 and options.option_count > 2
        # (keys typed as a screen goes up wait until it has painted: typeahead.py; under load, longer)
        await pilot.press("j", "j")
        await wait_for(pilot, lambda: options.highlighted == 2, what="j j")
        await pilot.press("k")
        await wait_for(pilot, lambda: options.highlighted == 1, what="k")
        await pilot.press("G")
        await wait_for(pilot, lambda: options.highlighted == options.option_count - 1, what="G")
        await pilot.press("g")
        await wait_for(pilot, lambda: options.highlighted == 0, what="g")


async def test_upload_files_with_progress_then_delete_one_with_confirmation(xdeck, tmp_path):
    app, sim_app, _ = xdeck("files")
    small, big = tmp_path / "Notes One.txt", tmp_path / "big.bin"
    small.write_text("one\n")
    big.write_bytes(b"x" * 700_000)
    async with app.run_test(size=(120, 40)) as pilot:
        await pick_bucket(pilot, "The Void")
        screen = await loaded(pilot)
        bid = bucket_id(sim_app, "The Void")
        await wait_for(pilot, lambda: table(app).data.keys == ["test.png"], what="the bucket's files")
        form = await form_open(pilot, "n")
        form.query_one("#f-paths").text = f"{tmp_path / 'missing.txt'}"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "no such file" in error_of(form, "paths"), what="path error")
        form.query_one("#f-paths").text = f"{small}\n{big}\n"
        bar = form.query_one("#progress", ProgressBar)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="upload done")
        names = [f["filename"] for f in sim_app.state.bucket_files[bid]]
        assert names == ["test.png", "Notes One.txt", "big.bin"]
        assert bar.progress == bar.total == small.stat().st_size + big.stat().st_size
        await refreshed(pilot, screen)
        await on_row(pilot, "Notes One.txt")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")  # the default answer keeps it
        await wait_for(pilot, lambda: app.screen is screen, what="kept")
        assert len(sim_app.state.bucket_files[bid]) == 3
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: len(sim_app.state.bucket_files[bid]) == 2, what="deleted")
        assert "Notes One.txt" not in [f["filename"] for f in sim_app.state.bucket_files[bid]]


async def test_download_a_file_streams_it_to_a_new_local_path(xdeck, tmp_path):
    app, sim_app, _ = xdeck("files")
    async with app.run_test(size=(120, 40)) as pilot:
        await pick_bucket(pilot, "Release artefacts")
        await loaded(pilot)
        await on_row(pilot, "build.log")
        form = await form_open(pilot, "w")
        assert form.query_one("#f-dest").value.endswith("build.log")
        taken = tmp_path / "taken.log"
        taken.write_text("mine")
        form.query_one("#f-dest").value = str(taken)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "nothing is overwritten" in error_of(form, "dest"), what="exists error")
        form.query_one("#f-dest").value = str(tmp_path / "copy.log")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="result")
        assert (tmp_path / "copy.log").read_bytes() == b"build ok\n" * 200 and taken.read_text() == "mine"


async def test_follow_a_running_job_to_completion(xdeck):
    app, sim_app, _ = xdeck("jobs", speed=20.0)
    runner = sim_app.state.jobs_runner
    event = next(e for e in sim_app.state.events.values() if e["title"] == "Deploy web")
    job = runner.start(event, {"duration": 20, "lines": 10, "exit_code": 0})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await on_row(pilot, job["id"])
        assert table(app).data.rows[table(app).data.keys.index(job["id"])][0] == "Deploy web"
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="log")
        log = app.screen
        await wait_for(pilot, lambda: log.tail.feed_state == "ended", timeout=10, what="job finished")
        lines = log.tail.lines
        assert lines[0].startswith(f"-- job {job['id']} · Deploy web")
        assert [line for line in lines if ": step " in line or ": progress " in line] == \
            [line for line in runner.log(job).splitlines()]  # every line once, in order
        assert lines[-1].startswith("-- complete · result success")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")


async def test_a_followed_job_log_outlasts_a_server_failing_for_a_while(xdeck, monkeypatch):
    """The job's reads answer 500 for a while (past the client's own retries): the log says so
    (`!! poll failed, retrying in ...` with the server's words) and goes on once the server
    answers again, every line once and in order; it never ends with "feed error" meanwhile."""
    from testdeck import feeds

    monkeypatch.setattr(feeds, "BACKOFF", (0.05, 0.1))
    app, sim_app, config = xdeck("jobs", speed=20.0)
    runner = sim_app.state.jobs_runner
    event = next(e for e in sim_app.state.events.values() if e["title"] == "Deploy web")
    # (long enough to be running still whatever the machine's load: 30 s, a line every 0.1 s)
    job = runner.start(event, {"duration": 600, "lines": 300, "exit_code": 0})

    def steps() -> list[str]:
        return [line for line in app.screen.tail.lines if ": step " in line or ": progress " in line]

    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await on_row(pilot, job["id"])
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen) and steps(), what="log")
        log = app.screen
        config.fail_paths |= {"/get_job/v1", "/tail_live_job_log/v1"}
        config.fail_text += " " + ESCAPES["title"] + ESCAPES["clear"] + ESCAPES["c1_osc"]  # a hostile server's words
        # (each poll is the client's three attempts, 0.75 s of its own back-off, before it fails)
        await wait_for(pilot, lambda: sum(line.startswith("!! poll failed") for line in log.tail.lines) >= 2,
                       timeout=20, what="failures said")
        assert log.tail.feed_state == "running"
        failed = next(line for line in log.tail.lines if line.startswith("!! poll failed"))
        assert "HTTP 500" in failed and "fails on purpose" in failed
        assert "␛" in failed and not FORBIDDEN & set(failed)  # shown as stand-ins, never sent to the terminal
        before = len(steps())
        config.fail_paths.clear()
        await wait_for(pilot, lambda: len(steps()) >= before + 5, timeout=20, what="the log goes on")
        assert log.tail.feed_state == "running"
        shown = steps()
        assert shown == runner.log(job).splitlines()[:len(shown)]  # every line once, in order


async def test_abort_a_running_job_after_confirmation(xdeck):
    app, sim_app, _ = xdeck("jobs")
    runner = sim_app.state.jobs_runner
    event = next(iter(sim_app.state.events.values()))
    job = runner.start(event, {"duration": 3000})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        await on_row(pilot, job["id"])
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: runner.advance(job).get("code") == "abort", what="aborted")
        await refreshed(pilot, screen)
        row = table(app).data.rows[table(app).data.keys.index(job["id"])]
        assert "complete" in row and "abort" in row


async def test_run_an_event_now_and_land_on_its_log(xdeck):
    app, sim_app, _ = xdeck("events", speed=50.0)
    eid = next(e["id"] for e in sim_app.state.events.values() if e["title"] == "Health check")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await on_row(pilot, eid)
        form = await form_open(pilot, "x")
        area = form.query_one("#f-params")
        assert json.loads(area.text)["duration"] == 6  # the event's own params, to override
        area.text = '{"exit_code": 7}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="log of the new job")
        log = app.screen
        await wait_for(pilot, lambda: log.tail.feed_state == "ended", timeout=10, what="job finished")
        assert log.tail.lines[-1].startswith("-- complete · result exit 7 · Script exited with code: 7")
        [job] = [j for j in sim_app.state.jobs.values() if j["event"] == eid and j.get("username") != "admin"]
        assert job["code"] == 7


async def test_test_alert_on_a_server_chosen_from_the_servers_list(xdeck):
    app, sim_app, _ = xdeck("alerts")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await on_row(pilot, "load_avg_high")
        form = await form_open(pilot, "t")
        select = form.query_one("#f-server", Select)
        await wait_for(pilot, lambda: len(select._options) > 4, what="servers")  # + blank
        labels = [str(label) for label, _ in select._options[1:]]
        assert labels == [f"{s['hostname']} ({s['id']})" for s in sim_app.state.servers.values()]
        select.value = "s67890fghij"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="result")
        assert "WOULD FIRE" in app.screen.body and "11.2 (8 CPU cores)" in app.screen.body


async def test_new_alert_checks_the_id_rule_and_edits_actions_not_email_fields(xdeck):
    app, sim_app, _ = xdeck("alerts")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        form = await form_open(pilot, "n")
        names = [f.name for f in form.form.fields]
        assert "email" not in names and "web_hook" not in names and "actions" in names
        form.query_one("#f-id").value = "Bad-Id"
        form.query_one("#f-title").value = "Swap"
        form.query_one("#f-expression").value = "monitors.swap > 1"
        form.query_one("#f-message").value = "swap"
        form.query_one("#f-actions").text = '[{"type": "email", "condition": "sometimes"}]'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "lowercase" in error_of(form, "id"), what="id error")
        assert "condition must be one of" in error_of(form, "actions")
        assert "Bad-Id" not in sim_app.state.alerts
        form.query_one("#f-id").value = "swap_used"
        form.query_one("#f-actions").text = '[{"type": "email", "condition": "alert_new", "email": "o@x.io"}]'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="created")
        assert sim_app.state.alerts["swap_used"]["actions"][0]["email"] == "o@x.io"


async def test_jobs_of_one_event_from_the_events_list_and_from_the_jobs_screen(xdeck):
    app, sim_app, _ = xdeck("events")
    eid = next(e["id"] for e in sim_app.state.events.values() if e["title"] == "Integration tests")
    mine = {j["id"] for j in sim_app.state.jobs.values() if j["event"] == eid}
    async with app.run_test(size=(120, 40)) as pilot:
        events = await loaded(pilot)
        await on_row(pilot, eid)
        await pilot.press("o")
        await wait_for(pilot, lambda: app.screen is not events and isinstance(app.screen, ResourceScreen)
                       and app.screen.last_ok is not None and table(app).row_count, timeout=15, what="event jobs")
        screen = app.screen
        assert screen.resource.name == "event_jobs" and screen.scope == eid
        assert "event Integrat" in str(screen.query_one("#titlebar").heading)  # shortened by the screen
        assert set(table(app).data.keys) == mine
        app.open_resource(screen.session, screen.session.service.resource("jobs"))
        jobs_screen = await loaded(pilot)
        form = await form_open(pilot, "v")
        select = form.query_one("#f-event", Select)
        await wait_for(pilot, lambda: len(select._options) > 6, what="events")
        select.value = eid
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is not jobs_screen and isinstance(app.screen, ResourceScreen)
                       and app.screen.last_ok is not None and table(app).row_count, timeout=15, what="event jobs")
        assert app.screen.resource.name == "event_jobs" and set(table(app).data.keys) == mine
