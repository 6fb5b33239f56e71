"""kyaraben VMs through the real console (Pilot): the table, create, delete, commands, properties, TOTP.

The simulator runs on real loopback with a clock the test moves (uikit.Clk): the state machines advance only
when a test says so, and testdeck's own clock moves with it, so countdowns and ages are exact.
"""

from __future__ import annotations

from conftest import wait_for
from textual.widgets import ProgressBar, Select, SelectionList

from testdeck.screens.log import LogScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.services.kyaraben import sim
from testdeck.services.kyaraben.views import vms
from testdeck.services.kyaraben.screens import LinesScreen, TotpScreen
from testdeck.widgets.dialogs import ConfirmScreen

from .uikit import (cell, choices, error_of, form_open, loaded, make_room, notices, on_row, refreshed, server_error,
                    table, vm_id)


# --- VMs: the table, the status bar ---------------------------------------------------------------------------

async def test_vms_load_and_the_status_bar_shows_the_quota(kdeck):
    app, sim_app, _, _ = kdeck()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        assert set(table(app).data.keys) == {v["avm_id"] for v in sim_app.state.avms.values()
                                              if v["owner"] == sim.DEMO_USER}
        assert cell(app, vm_id(sim_app, "first vm"), "status") == "READY"
        # the ERROR's reason in the table, not only in details (B15)
        assert cell(app, vm_id(sim_app, "nightly"), "status").startswith("ERROR: Heat stack creation failed")
        await wait_for(pilot, lambda: "VMs 3/3 live FULL" in str(screen.query_one("StatusBar").render()),
                       what="quota in the status bar")
        assert "1/1 async" in str(screen.query_one("StatusBar").render())


# --- create VM -------------------------------------------------------------------------------------------------

async def test_create_vm_validates_before_sending_then_creates(kdeck):
    app, sim_app, _, clk = kdeck()
    make_room(sim_app, clk)
    project_b = sim_app.state.seed["project_b"]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=2)
        form = await form_open(pilot, "n")
        await choices(pilot, form, "project", 2)
        await choices(pilot, form, "image", 4)
        project_labels = [str(label) for label, _ in form.query_one("#f-project", Select)._options[1:]]
        assert project_labels == ["demo-app", "regression"]  # alice's project is not offered
        await pilot.press("ctrl+s")  # nothing chosen
        await pilot.pause(0.1)
        assert error_of(form, "project") == "required" and error_of(form, "image") == "required"
        assert "2 field(s) need attention" in server_error(form)
        assert len(sim_app.state.avms) == 3  # nothing was sent (alice's VM, first vm, phone-ci)
        form.query_one("#f-project", Select).value = project_b
        form.query_one("#f-image", Select).value = "lollipop-tablet"
        form.query_one("#f-avm_name").value = "tablet [ci]"
        form.query_one("#f-width").value = "100"
        form.query_one("#f-dpi").value = "x"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "at least 240" in error_of(form, "width")
        assert error_of(form, "dpi") == "must be a whole number"
        assert error_of(form, "project") == ""
        assert len(sim_app.state.avms) == 3
        form.query_one("#f-width").value = "1024"
        form.query_one("#f-dpi").value = "240"
        form.query_one("#f-enable_nfc").value = True
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="form closed")
        [vm] = [v for v in sim_app.state.avms.values() if v["avm_name"] == "tablet [ci]"]
        assert (vm["project_id"], vm["image"]) == (project_b, "lollipop-tablet")
        assert vm["hwconfig"] == {**sim.HW_DEFAULTS, "width": 1024, "dpi": 240, "enable_nfc": 1}
        await wait_for(pilot, lambda: vm["avm_id"] in table(app).data.keys, what="new row")
        assert cell(app, vm["avm_id"], "name") == "tablet [ci]"  # markup-like name kept literally
        assert cell(app, vm["avm_id"], "status") == "QUEUED"
        # a form's action the server only accepted says so too
        assert "new android vm 'tablet [ci]': accepted: VM 'tablet [ci]' is QUEUED; the server starts it" in notices(app)
        await wait_for(pilot, lambda: "VMs 3/3 live" in str(screen.query_one("StatusBar").render()),
                       what="quota updated after the create")


async def test_create_vm_when_the_quota_is_full_is_refused_with_what_counts(kdeck):
    app, sim_app, _, clk = kdeck()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)  # READY, QUEUED and ERROR: 3/3
        before = dict(sim_app.state.avms)
        await pilot.press("n")  # refused before the form: nothing to type in vain
        await wait_for(pilot, lambda: "quota reached" in notices(app), timeout=10, what="quota message")
        assert app.screen is screen
        # the console's own words, with what counts, not the server's 400 ("Too many vms"): no POST went out
        assert "quota reached: 3 of 3 VMs (1 ERROR, 1 READY, 1 QUEUED)" in notices(app)
        assert "ERROR and DELETING ones too" in notices(app)
        make_room(sim_app, clk)
        form = await form_open(pilot, "n")
        await choices(pilot, form, "project", 2)
        await choices(pilot, form, "image", 4)
        form.query_one("#f-project", Select).value = sim_app.state.seed["project_a"]
        form.query_one("#f-image", Select).value = "kitkat-tablet"
        form.query_one("#f-avm_name").value = "fourth"
        await screen.session.client.create_avm(sim_app.state.seed["project_a"], "kitkat-phone", "third")  # full
        before = dict(sim_app.state.avms)
        await pilot.press("ctrl+s")  # checked again when sending
        await wait_for(pilot, lambda: "quota reached" in server_error(form), timeout=10, what="quota in form")
        assert "Too many vms" not in server_error(form)
        assert app.screen is form and form.query_one("#f-avm_name").value == "fourth"  # nothing typed is lost
        assert sim_app.state.avms == before


# --- rename, delete --------------------------------------------------------------------------------------------------

async def test_rename_vm_prefills_and_sends_the_new_name(kdeck):
    app, sim_app, _, _ = kdeck()
    key = vm_id(sim_app, "first vm")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await on_row(pilot, key)
        form = await form_open(pilot, "e")
        name = form.query_one("#f-avm_name")
        assert name.value == "first vm"
        name.value = "   "
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert error_of(form, "avm_name") == "required"  # blank after trimming
        assert sim_app.state.avms[key]["avm_name"] == "first vm"
        name.value = "renamed vm"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="form closed")
        assert sim_app.state.avms[key]["avm_name"] == "renamed vm"
        await wait_for(pilot, lambda: cell(app, key, "name") == "renamed vm", what="row renamed")


async def test_delete_vm_asks_then_shows_deleting_until_gone(kdeck):
    app, sim_app, _, clk = kdeck()
    key = vm_id(sim_app, "nightly")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await on_row(pilot, key)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert key in str(app.screen.question)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        assert sim_app.state.avms[key]["deleted_at"] is None
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: sim_app.state.avms[key]["deleted_at"] is not None, what="delete sent")
        await wait_for(pilot, lambda: cell(app, key, "status") == "DELETING", what="row DELETING")
        # the server only accepted it (202): said so, never `done`
        assert "delete android vm 'nightly': accepted: VM 'nightly' is DELETING; the server removes it" in notices(app)
        assert "done" not in notices(app)
        clk.advance(sim.world.VM_DELETING_S - 1)
        await refreshed(pilot, screen)
        assert cell(app, key, "status") == "DELETING"  # still on its way out
        clk.advance(1.5)
        await refreshed(pilot, screen)
        assert key not in table(app).data.keys and table(app).row_count == 2
        assert key not in sim_app.state.avms


async def test_bulk_delete_of_vms_says_each_was_accepted_not_done(kdeck):
    from testdeck.screens.bulk import BulkScreen

    app, sim_app, _, _ = kdeck()
    keys = [vm_id(sim_app, "nightly"), vm_id(sim_app, "first vm")]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        for key in keys:
            await on_row(pilot, key)
            await pilot.press("space")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.finished, timeout=10,
                       what="summary")
        summary = str(app.screen.query_one("#bulk-summary").render())
        assert "done 0, accepted 2, refused 0" in str(app.screen.query_one("#bulk-progress").render())
        assert "● first vm (" in summary and ": accepted: VM 'first vm' is DELETING" in summary  # not ✔ done
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="summary closed")
        await wait_for(pilot, lambda: "delete: 0 done, 2 accepted" in notices(app), what="toast")


# --- commands followed in the log tail ----------------------------------------------------------------------------

async def test_install_apk_follows_the_command_to_ready_and_its_return_code(kdeck):
    app, sim_app, _, clk = kdeck()
    key = vm_id(sim_app, "first vm")
    apk = sim_app.state.seed["apk_2048"]
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        await on_row(pilot, key)
        form = await form_open(pilot, "i")
        await choices(pilot, form, "apk_id", 4)
        offered = [v for _, v in form.query_one("#f-apk_id", Select)._options[1:]]
        assert apk in offered and len(offered) == 4  # READY APKs of the VM's project only
        form.query_one("#f-apk_id", Select).value = apk
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="log screen")
        log = app.screen
        [command_id] = [c for c, v in sim_app.state.commands.items() if v["avm_id"] == key]
        await wait_for(pilot, lambda: "-- QUEUED" in log.tail.lines, what="QUEUED")
        assert log.tail.lines[0] == f"command {command_id} on VM {key}"
        clk.advance(sim.world.CMD_QUEUED_S + 0.5)
        await wait_for(pilot, lambda: "-- RUNNING" in log.tail.lines, what="RUNNING")
        assert log.tail.feed_state == "running"
        clk.advance(sim.world.CMD_S["install"])
        await wait_for(pilot, lambda: log.tail.feed_state == "ended", what="command finished")
        lines = log.tail.lines
        assert lines[-1] == "-- READY, return code 0"
        assert f"pkg: /data/local/tmp/{apk}.apk" in lines and "Success" in lines
        assert any(line.startswith("stderr: 3880 KB/s") for line in lines)  # stderr shown too
        assert "feed ended" in log.tail.status_text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="back to the VMs")


async def test_monkey_and_testrun_run_through_their_forms(kdeck):
    app, sim_app, _, clk = kdeck()
    key = vm_id(sim_app, "first vm")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await on_row(pilot, key)
        form = await form_open(pilot, "m")
        await choices(pilot, form, "packages", 2)
        await pilot.press("ctrl+s")  # no package chosen
        await pilot.pause(0.1)
        assert error_of(form, "packages") == "required"
        form.query_one("#f-packages", SelectionList).select("com.example.android.apis")
        form.query_one("#f-event_count").value = "40"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="monkey log")
        log = app.screen
        clk.advance(sim.world.CMD_QUEUED_S + sim.world.CMD_S["monkey"])
        await wait_for(pilot, lambda: log.tail.feed_state == "ended", what="monkey finished")
        assert log.tail.lines[-1] == "-- READY, return code 0"
        assert "Events injected: 40" in log.tail.lines and "// Monkey finished" in log.tail.lines
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is screen, what="back")

        form = await form_open(pilot, "t")
        await choices(pilot, form, "package", 1)
        form.query_one("#f-package", Select).value = "com.example.android.apis/.app.LocalSampleInstrumentation"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="testrun log")
        log = app.screen
        clk.advance(sim.world.CMD_QUEUED_S + sim.world.CMD_S["testrun"])
        await wait_for(pilot, lambda: log.tail.feed_state == "ended", what="testrun finished")
        assert "OK (2 tests)" in log.tail.lines and log.tail.lines[-1] == "-- READY, return code 0"


async def test_actions_on_a_vm_that_is_not_ready_are_refused_before_any_form(kdeck):
    app, sim_app, _, clk = kdeck()
    queued, failed = vm_id(sim_app, "phone-ci"), vm_id(sim_app, "nightly")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await on_row(pilot, queued)
        for key in ("i", "m", "t", "a"):
            await pilot.press(key)
        await wait_for(pilot, lambda: notices(app).count("not sent:") == 4, timeout=10, what="four refusals")
        assert app.screen is screen and not sim_app.state.commands  # no form opened, nothing sent
        assert "not sent: installing an APK needs a READY VM, and VM phone-ci is not; it is QUEUED: wait " \
               "until it is READY" in notices(app)
        assert "not sent: the package list needs a READY VM" in notices(app)
        await on_row(pilot, failed)
        await pilot.press("t")
        await wait_for(pilot, lambda: "is in ERROR (Heat stack creation failed" in notices(app), what="ERROR why")
        assert "delete it and create another" in notices(app)
        # READY but with nothing to run (review B25): explained instead of an empty form
        clk.advance(sim.world.VM_READY_S)
        await refreshed(pilot, screen)
        await on_row(pilot, queued)
        await pilot.press("t")
        await wait_for(pilot, lambda: "no instrumentation (test) package is installed" in notices(app),
                       what="no test package")
        await pilot.press("m")
        await wait_for(pilot, lambda: "no third-party package is installed" in notices(app), what="no package")
        assert app.screen is screen and not sim_app.state.commands


async def test_deleting_a_queued_vm_explains_why_the_server_cannot(kdeck):
    app, sim_app, _, clk = kdeck()
    key = vm_id(sim_app, "phone-ci")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await on_row(pilot, key)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: "cannot delete it yet" in notices(app), timeout=10, what="explanation")
        text = notices(app)
        assert "VM phone-ci exists (QUEUED) but the server cannot delete it yet: it has no stack" in text
        assert "Wait until it has started, or ask an administrator to remove it" in text
        assert "not visible to user" not in text
        assert sim_app.state.avms[key]["deleted_at"] is None and cell(app, key, "status") == "QUEUED"
        clk.advance(sim.world.VM_QUEUED_S)  # CREATING: it has a stack now, and the delete works
        await refreshed(pilot, screen)
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: sim_app.state.avms[key]["deleted_at"] is not None, what="delete sent")


async def test_a_followed_command_stuck_in_queued_is_said_stopped_and_can_be_resumed(kdeck, monkeypatch):
    monkeypatch.setattr(vms, "QUEUED_LIMIT", 30.0)
    app, sim_app, _, clk = kdeck()
    key = vm_id(sim_app, "phone-ci")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        # sent while the VM was QUEUED (by another client): the real server accepts it and never runs it
        command_id = await screen.session.client.run_monkey(key, ["com.example.android.apis"], 10)
        clk.advance(sim.world.VM_READY_S)
        await refreshed(pilot, screen)
        await on_row(pilot, key)
        form = await form_open(pilot, "c")
        form.query_one("#f-command_id").value = command_id
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="log screen")
        log = app.screen
        await wait_for(pilot, lambda: "-- QUEUED" in log.tail.lines, what="QUEUED")
        clk.advance(29)
        await pilot.pause(0.3)
        assert log.tail.feed_state == "running"  # not yet past the limit
        clk.advance(2)
        await wait_for(pilot, lambda: log.tail.feed_state == "ended", what="follow stopped")
        assert any(line.startswith("-- still QUEUED after ") and "has not started this command" in line
                   for line in log.tail.lines)
        assert "the VM is READY: kyaraben's workers may be busy or stopped" in log.tail.lines[-2]
        assert log.tail.lines[-1] == "-- stopped following; press c on the VM to follow it again"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        form = await form_open(pilot, "c")  # resume: prefilled with the command followed
        assert form.query_one("#f-command_id").value == command_id
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), what="following again")
        await wait_for(pilot, lambda: "-- QUEUED" in app.screen.tail.lines, what="QUEUED again")
        assert app.screen.tail.feed_state == "running"


# --- properties, packages, TOTP -----------------------------------------------------------------------------------

async def test_properties_open_searchable_and_search_finds_a_property(kdeck):
    app, sim_app, _, _ = kdeck()
    key = vm_id(sim_app, "first vm")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await on_row(pilot, key)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, LinesScreen), what="properties")
        assert app.screen.title_text.startswith("properties · VM first vm ·")  # B26: the name, not the id
        tail = app.screen.tail
        await wait_for(pilot, lambda: tail.feed_state == "ended" and tail.line_count > 20, what="properties lines")
        assert tail.lines == sorted(tail.lines) and "aicd.screen.width = 1280" in tail.lines
        await pilot.press("slash", *"WIFI.INTERFACE", "enter")
        await wait_for(pilot, lambda: tail.view.mark is not None, what="a match")
        assert tail.lines[tail.view.mark - tail.view.first] == "wifi.interface = eth1"
        assert "match 1/2" in tail.status_text  # wifi.interface and wifi.interface.mac
        await pilot.press("n")
        mac = ":".join(key[i:i + 2] for i in range(0, 12, 2))
        assert tail.lines[tail.view.mark - tail.view.first] == f"wifi.interface.mac = {mac}"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")

        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, LinesScreen), what="packages")
        tail = app.screen.tail
        await wait_for(pilot, lambda: tail.feed_state == "ended", what="packages lines")
        assert tail.lines == sim.world.SEED_PACKAGES


async def test_totp_counts_down_expires_and_r_fetches_a_new_one(kdeck):
    app, sim_app, _, clk = kdeck()
    key = vm_id(sim_app, "first vm")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        await on_row(pilot, key)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, TotpScreen), what="TOTP screen")
        totp = app.screen
        first = totp.totp.totp
        assert first == await screen.session.client.get_totp(key) and len(first) == 6 and first.isdigit()
        assert totp.query_one("#totp-code").value == first
        bar = totp.query_one("#totp-bar", ProgressBar)
        assert totp.left_text == "valid 20 s more (until 11:07:00Z)" and bar.progress == 20
        clk.advance(5)
        await wait_for(pilot, lambda: totp.left_text.startswith("valid 15 s more"), what="countdown")
        assert bar.progress == 15 and not totp.expired
        clk.advance(15)
        await wait_for(pilot, lambda: totp.expired, what="expiry")
        assert totp.left_text == "expired: press r for a new code" and bar.progress == 0
        assert totp.query_one("#totp-code").has_class("-expired")
        await pilot.press("r")
        await wait_for(pilot, lambda: not totp.expired, what="a new code")
        second = totp.totp.totp
        assert second != first and second == await screen.session.client.get_totp(key)
        assert totp.query_one("#totp-code").value == second
        assert totp.left_text.startswith("valid 30 s more")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is screen, what="closed")


async def test_totp_renew_failure_keeps_the_old_code_and_says_why(kdeck):
    app, sim_app, config, _ = kdeck()
    key = vm_id(sim_app, "first vm")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, rows=3)
        await on_row(pilot, key)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, TotpScreen), what="TOTP screen")
        totp = app.screen
        first = totp.totp.totp
        config.error_rate = 1.0
        await pilot.press("r")
        await wait_for(pilot, lambda: totp.query_one("#totp-error").has_class("-shown"), timeout=8,
                       what="error shown")
        assert "HTTP 500" in str(totp.query_one("#totp-error").render())
        assert totp.totp.totp == first and app.screen is totp


async def test_a_failed_quota_read_keeps_the_last_good_quota_marked_stale(kdeck):
    """The table refreshes fine while /user/quota fails: the status bar keeps the last quota, marked
    stale, and the profile's health stays ok (it read `✖ error … status: Internal Server Error`)."""
    app, sim_app, _, clk = kdeck()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=3)
        bar = lambda: str(screen.query_one("StatusBar").render())  # noqa: E731
        await wait_for(pilot, lambda: "VMs 3/3 live FULL" in bar(), what="quota in the status bar")
        sim_app.state.config.fail_paths.add("/user/quota")
        clk.advance(screen.session.interval + 20)
        await refreshed(pilot, screen)
        await wait_for(pilot, lambda: "stale" in bar(), what="the quota marked stale")
        from testdeck.columns import duration

        waited = duration(screen.session.interval + 20)  # since the last good read
        assert f"VMs 3/3 live FULL, 1/1 async (stale {waited}: quota not read)" in bar()
        # the table's reads fail too: the quota is not read again, and its age still moves on
        sim_app.state.config.fail_paths.add("/android")
        clk.advance(600)
        later = duration(screen.session.interval + 20 + 600)
        await wait_for(pilot, lambda: f"(stale {later}: quota not read)" in bar(), what="the quota's age moving on")
        assert "● ok" in bar() and "✖ error" not in bar() and "Internal Server Error" not in bar()
        assert screen.error is None
