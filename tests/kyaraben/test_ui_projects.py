"""kyaraben inside a project through the real console (Pilot): the project scope, uploads, campaigns."""

from __future__ import annotations

import pytest
from conftest import wait_for
from textual.widgets import ProgressBar, SelectionList

from testdeck import triage
from testdeck.config import load_config, save_config
from testdeck.errors import ApiError
from testdeck.screens.resource import ResourceScreen
from testdeck.services.kyaraben import sim
from testdeck.services.kyaraben.views import campaigns, files
from testdeck.services.kyaraben.screens import CampaignScreen

from .uikit import cell, choices, error_of, form_open, loaded, on_row, pick_project, refreshed, table


# --- scopes and uploads ---------------------------------------------------------------------------------------------

async def test_scoped_resource_asks_for_the_project_and_P_switches_it(kdeck):
    app, sim_app, _, _ = kdeck(start="apks")
    save_config(app.config)  # a config file whose profile has no project_id
    seed = sim_app.state.seed
    async with app.run_test(size=(120, 40)) as pilot:
        await pick_project(pilot, "demo-app")
        screen = await loaded(pilot, rows=5)
        assert screen.scope == seed["project_a"] and "project demo-app" in str(screen.query_one("#titlebar").heading)
        assert seed["apk_2048"] in table(app).data.keys
        await pilot.press("P")
        await pick_project(pilot, "regression")
        await wait_for(pilot, lambda: screen.last_ok is not None and screen.scope == seed["project_b"],
                       what="other project loaded")
        assert table(app).row_count == 0
        # the project carries to the other resources inside a project, per profile: no picker again
        app.open_resource(screen.session, files.camera)
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen is not screen
                       and app.screen.last_ok is not None, what="camera")
        assert app.screen.scope == seed["project_b"] and app.screen.resource is files.camera
        # a view choice: the config file and the profile's fields are untouched, so triage still reads
        # every project (it read only the picked one when the pick was saved as the profile's project_id)
        profile = screen.session.profile
        assert "project_id" not in load_config(app.config.path).profiles[profile.name].fields
        assert "project_id" not in profile.fields
        assert await triage._scopes(campaigns.campaigns, screen.session.client, profile.fields) == [
            seed["project_a"], seed["project_b"]]
        screen = app.screen
        # opened with a scope: no picker, rows at once
        scoped = ResourceScreen(screen.session, campaigns.campaigns, scope=seed["project_a"])
        app.push_screen(scoped)
        await wait_for(pilot, lambda: scoped.last_ok is not None and table(app).row_count == 2, what="campaigns")
        assert app.screen is scoped


async def test_upload_apk_shows_progress_and_the_new_apk(kdeck, tmp_path):
    app, sim_app, _, clk = kdeck(start="apks")
    good = tmp_path / "com.acme.shop_7.apk"
    good.write_bytes(b"PK\x03\x04" + bytes(300_000))
    bad = tmp_path / "notes.txt"
    bad.write_text("not an apk")
    async with app.run_test(size=(120, 40)) as pilot:
        await pick_project(pilot, "demo-app")
        screen = await loaded(pilot, rows=5)
        before = len(sim_app.state.apks)
        form = await form_open(pilot, "n")
        form.query_one("#f-path").value = str(bad)
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert error_of(form, "path") == "an APK file must end with .apk"
        assert len(sim_app.state.apks) == before  # nothing was sent
        form.query_one("#f-path").value = str(good)
        bar = form.query_one("#progress", ProgressBar)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="upload done")
        [apk] = [a for a in sim_app.state.apks.values() if a["filename"] == good.name]
        assert apk["project_id"] == sim_app.state.seed["project_a"] and apk["package"] == "com.acme.shop"
        assert bar.has_class("-active") and bar.total >= good.stat().st_size and bar.progress == bar.total
        await wait_for(pilot, lambda: apk["apk_id"] in table(app).data.keys, what="new row")
        assert cell(app, apk["apk_id"], "status") == "UPLOADING"
        clk.advance(sim.world.UPLOAD_S)
        await refreshed(pilot, screen)
        assert cell(app, apk["apk_id"], "status") == "READY"


# --- campaigns: create, progress --------------------------------------------------------------------------------------

async def test_campaign_create_builds_the_tests_and_progress_reaches_one(kdeck):
    app, sim_app, _, clk = kdeck(start="campaigns")
    seed = sim_app.state.seed
    async with app.run_test(size=(120, 40)) as pilot:
        await pick_project(pilot, "demo-app")
        screen = await loaded(pilot, rows=2)
        form = await form_open(pilot, "n")
        await choices(pilot, form, "images", 4)
        await choices(pilot, form, "apks", 4)
        await choices(pilot, form, "packages", 3)
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert error_of(form, "images") == "required" and len(sim_app.state.campaigns) == 3
        form.query_one("#f-campaign_name").value = "ui-run"
        form.query_one("#f-images", SelectionList).select("kitkat-tablet")
        form.query_one("#f-images", SelectionList).select("lollipop-phone")
        form.query_one("#f-apks", SelectionList).select(seed["apk_apis"])
        form.query_one("#f-packages", SelectionList).select("com.example.android.apis")
        form.query_one("#f-width").value = "480"
        form.query_one("#f-enable_gps").value = False
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="form closed")
        [(cid, camp)] = [(k, c) for k, c in sim_app.state.campaigns.items() if c["campaign_name"] == "ui-run"]
        assert [t["image"] for t in camp["tests"]] == ["kitkat-tablet", "lollipop-phone"]
        for t in camp["tests"]:
            assert t["apks"] == [seed["apk_apis"]] and t["packages"] == ["com.example.android.apis"]
            assert t["hwconfig"]["width"] == 480 and t["hwconfig"]["enable_gps"] == 0
        await wait_for(pilot, lambda: cid in table(app).data.keys, what="campaign row")
        await on_row(pilot, cid)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, CampaignScreen), what="progress view")
        view = app.screen
        bar = view.query_one("#camp-bar", ProgressBar)
        assert view.state == "QUEUED" and view.campaign.progress == 0.0 and bar.progress == 0
        assert view.table.row_count == 2
        assert str(view.table.get_cell("0", view.table.ordered_columns[2].key)) == "kitkat-tablet"
        assert str(view.table.get_cell("1", view.table.ordered_columns[3].key)) == "480x600 160dpi"
        clk.advance(sim.world.CAMPAIGN_VM_S + sim.world.CAMPAIGN_CMD_S + 0.5)  # installed, the run going
        await wait_for(pilot, lambda: view.state == "RUNNING" and 0 < view.campaign.progress < 1,
                       what="running")
        assert view.campaign.progress == 0.5 and bar.progress == 50
        assert "RUNNING" in [str(view.table.get_cell(str(n), view.table.ordered_columns[1].key)) for n in (0, 1)]
        clk.advance(sim.world.CAMPAIGN_CMD_S)
        await wait_for(pilot, lambda: view.state == "READY", what="campaign READY")
        assert view.campaign.progress == 1.0 and bar.progress == 100 and bar.percentage == 1.0
        assert "OK (2 tests)" in view.stdout_text  # the selected (first) test's stdout
        assert "kitkat-tablet" in str(view.query_one("#camp-out-title").render())
        await pilot.press("down")
        await wait_for(pilot, lambda: "lollipop-phone" in str(view.query_one("#camp-out-title").render()),
                       what="second test selected")
        polls = view.polls
        await pilot.pause(0.3)
        assert view.polls == polls  # finished: no more polling
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")


async def test_campaign_progress_keeps_data_and_marks_stale_on_errors(kdeck):
    app, sim_app, config, clk = kdeck(start="campaigns")
    cid = next(k for k, c in sim_app.state.campaigns.items() if c["campaign_name"] == "brave-small-otter")
    async with app.run_test(size=(120, 40)) as pilot:
        await pick_project(pilot, "demo-app")
        await loaded(pilot, rows=2)
        await on_row(pilot, cid)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, CampaignScreen), what="progress view")
        view = app.screen
        assert view.state == "RUNNING" and view.table.row_count == 4
        config.error_rate = 1.0
        await wait_for(pilot, lambda: view.error is not None, timeout=8, what="stale")
        assert "STALE" in view.message_text and "HTTP 500" in view.message_text
        assert view.state == "RUNNING" and view.table.row_count == 4  # last data kept
        # the server's words pass the one sanitiser here too (they went raw to this screen's line)
        view.error = ApiError("kyaraben", "p", "GET", "/x", 500, "evil\x1b]0;owned\x07\x1b[2J text")
        view._show_message()
        assert "\x1b" not in view.message_text and "\x07" not in view.message_text and "evil" in view.message_text
        assert app.screen is view
        config.error_rate = 0.0
        clk.advance(60)
        await pilot.press("r")
        await wait_for(pilot, lambda: view.error is None and view.state == "ERROR", timeout=8, what="recovered")
        assert view.message_text == "" and view.campaign.progress == pytest.approx(6 / 7, abs=1e-3)
        statuses = [str(view.table.get_cell(str(n), view.table.ordered_columns[1].key)) for n in range(4)]
        assert statuses == ["READY", "READY", "READY", "ERROR"]


async def test_upload_form_says_a_folder_is_a_folder_not_a_missing_file(kdeck, tmp_path):
    app, sim_app, _, _ = kdeck(start="apks")
    async with app.run_test(size=(120, 40)) as pilot:
        await pick_project(pilot, "demo-app")
        await loaded(pilot, rows=5)
        before = len(sim_app.state.apks)
        form = await form_open(pilot, "n")
        form.query_one("#f-path").value = str(tmp_path)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: error_of(form, "path") != "", what="the path's error")
        assert error_of(form, "path") == f"{tmp_path} is a folder: give a file's path"
        assert len(sim_app.state.apks) == before  # nothing was sent
