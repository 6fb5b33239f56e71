"""A new user's review of the xyOps screens (findings 1, 4, 5, 9, 10, 11): each test failed before its fix."""

from __future__ import annotations

import json
import os
import stat

import pytest
from conftest import wait_for
from console_kit import loaded, said, screen_text
from textual.widgets import Input

from testdeck import cli, journal
from testdeck.files import save_dir
from testdeck.screens.bulk import BulkScreen
from testdeck.screens.log import LogScreen
from testdeck.services.xyops import sim, views_jobs
from testdeck.services.xyops.views import server_id
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from tests.xyops.test_cli import profile  # noqa: F401 (a fixture)
from tests.xyops.test_ui import form_open, on_row, pick_bucket, table, xdeck  # noqa: F401 (xdeck: a fixture)


def sent(api: str) -> list[dict]:
    return [e for e in journal.read() if api in str(e.get("path"))]


def finished_and_running(sim_app) -> tuple[dict, dict]:
    runner = sim_app.state.jobs_runner
    event = next(e for e in sim_app.state.events.values() if e["title"] == "Nightly backup")
    done = runner.start(event, {"duration": 5}, ago=3600)
    running = runner.start(event, {"duration": 3000})
    assert done["complete"] and not running.get("complete")
    return done, running


# --- 1. aborting a finished job -----------------------------------------------------------------------

async def test_abort_of_a_complete_job_is_refused_before_asking_with_the_reason(xdeck):
    app, sim_app, _ = xdeck("jobs")
    done, _running = finished_and_running(sim_app)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await on_row(pilot, done["id"])
        await pilot.press("x")
        await wait_for(pilot, lambda: any("already complete" in m for m in said(app)), what="the refusal")
        assert not isinstance(app.screen, ConfirmScreen)  # never asked
        assert any("not sent: already complete (success)" in m for m in said(app)), said(app)
        assert not any(m.endswith(": done") for m in said(app))
    assert not sent("abort_job")


async def test_bulk_abort_sends_only_the_active_job_and_refuses_the_complete_one(xdeck):
    app, sim_app, _ = xdeck("jobs")
    done, running = finished_and_running(sim_app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        for key in (done["id"], running["id"]):
            await on_row(pilot, key)
            await pilot.press("space")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        question = str(app.screen.question) if hasattr(app.screen, "question") else screen_text(app)
        assert "already complete" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.finished, what="bulk")
        outcomes = {o.key: o.error for o in app.screen.outcomes}
        assert outcomes[running["id"]] is None
        assert outcomes[done["id"]] == "not sent: already complete (success)"
        # counted apart from what the server refused: it was never sent
        assert "done 1, refused 0, not sent 1" in str(app.screen.query_one("#bulk-progress").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        assert "abort: 1 done, 1 not sent" in said(app)
    assert [json.loads(e["body"])["id"] if isinstance(e.get("body"), str) else e["body"]["id"]
            for e in sent("abort_job")] == [running["id"]]


async def test_abort_of_a_job_that_finished_after_the_table_was_read_is_not_sent(xy):
    client, sim_app = xy()
    done, _ = finished_and_running(sim_app)
    from testdeck.errors import ApiError
    from testdeck.resources import Ctx

    async with client:
        with pytest.raises(ApiError, match="refused before sending: already complete"):
            await views_jobs.abort(Ctx(client, key=done["id"]))  # the row said active; the server says done


@pytest.fixture
def xy(xysim):
    from testdeck.config import Profile
    from testdeck.services.xyops.client import XyOps

    url, app = xysim
    return lambda: (XyOps(Profile("xy", "xyops", url, timeout=5), sim.API_KEY), app)


def test_cli_abort_of_a_complete_job_exits_1_with_the_reason_and_sends_nothing(profile, capsys):
    done, running = finished_and_running(profile)
    assert cli.main(["do", "jobs", "abort", done["id"], "--yes"]) == 1
    err = capsys.readouterr().err
    assert "not sent: already complete (success)" in err and "done" not in err
    assert not sent("abort_job")
    assert cli.main(["do", "jobs", "abort", done["id"], running["id"], "--yes"]) == 1  # the other one is sent
    out, err = capsys.readouterr()
    assert "abort: done" in out and "not sent: already complete" in err
    assert len(sent("abort_job")) == 1


# --- 5. the jobs table when the event list fails --------------------------------------------------------

async def test_jobs_mark_event_ids_they_cannot_name_and_the_log_title_names_the_job(xdeck):
    app, sim_app, config = xdeck("jobs")
    done, _ = finished_and_running(sim_app)
    config.fail_paths.add("/api/app/get_events/v1")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await on_row(pilot, done["id"])
        row = table(app).data.rows[table(app).data.keys.index(done["id"])]
        assert f"{done['event']} (event list unavailable)" in row
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="the log")
        title = app.screen.log_title
        assert done["id"] in title and f"event {done['event']}" in title, title
        assert not title.endswith(f"job {done['event']}")


# --- 4. a bucket file is downloaded where logs are saved ----------------------------------------------------

async def test_download_defaults_to_the_save_folder_under_a_free_name(xdeck, tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    (save_dir() / "build.log").write_text("mine")
    app, sim_app, _ = xdeck("files")
    async with app.run_test(size=(120, 40)) as pilot:
        await pick_bucket(pilot, "Release artefacts")
        await loaded(pilot)
        await on_row(pilot, "build.log")
        form = await form_open(pilot, "w")
        assert form.query_one("#f-dest", Input).value == str(save_dir() / "build-1.log")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="result")
    got = save_dir() / "build-1.log"
    assert got.read_bytes() == b"build ok\n" * 200 and (save_dir() / "build.log").read_text() == "mine"
    assert stat.S_IMODE(os.stat(got).st_mode) == 0o600 and not list(cwd.iterdir())


# --- 9. the test-alert server id follows the real rule -------------------------------------------------------

def test_server_id_rule_is_the_real_servers_lowercase_rule():
    assert server_id("local") is None and server_id("s12345abcde") is None and server_id("web_01") is None
    assert server_id("Local") == server_id("WEB1") == "lowercase letters, digits and _ only (^[a-z0-9_]+$)"


async def test_test_alert_refuses_an_uppercase_server_id_before_sending(xdeck):
    app, _sim_app, _ = xdeck("alerts")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        form = await form_open(pilot, "t")
        form.query_one("#f-server_id", Input).value = "Local"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "lowercase" in str(form.query_one("#err-server_id").render()),
                       what="the rule")
    assert not sent("test_alert")


# --- 10. an edit with nothing changed is not sent (each update bumps the revision) -------------------------

async def test_bucket_edits_with_nothing_changed_send_nothing(xdeck):
    app, sim_app, _ = xdeck("buckets")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot)
        bid = next(iter(sim_app.state.buckets))
        revision = sim_app.state.buckets[bid].get("revision")
        await on_row(pilot, bid)
        for key in ("e", "J"):
            form = await form_open(pilot, key)
            await pilot.pause(0.2)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "nothing changed" in str(form.query_one("#server-error").render()),
                           what=f"{key}: nothing changed")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen, what="back")
        form = await form_open(pilot, "e")
        form.query_one("#f-title", Input).value = "Renamed"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="saved")
    assert len(sent("update_bucket")) == 1
    assert sim_app.state.buckets[bid]["title"] == "Renamed"
    assert sim_app.state.buckets[bid].get("revision") != revision or revision is None


# --- 11. the servers table shows the OS at 100 columns (the README lists it) -------------------------------

@pytest.mark.parametrize("width,groups", [(100, False), (120, True)])
async def test_servers_show_the_os_at_100_and_120_columns(xdeck, width, groups):
    app, _sim_app, _ = xdeck("servers")
    async with app.run_test(size=(width, 30)) as pilot:
        await loaded(pilot)
        await pilot.pause(0.1)
        head = screen_text(app).splitlines()[1]
        assert "OS" in head.split() and "MEMORY" in head and "CPUS" in head, head
        assert ("GROUPS" in head) is groups, head
