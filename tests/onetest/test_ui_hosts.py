"""OneTest agents and docker hosts through the real console on the Pilot: scopes, forms, associations."""

from __future__ import annotations

import json

from console_kit import loaded, refreshed

from testdeck import journal
from testdeck.config import load_config, save_config
from testdeck.screens.pickers import ScopePicker
from testdeck.screens.resource import ResourceScreen
from testdeck.services.onetest import sim
from testdeck.services.onetest.screens import DockerHostForm
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.statusbar import StatusBar

from .uikit import confirm_shown, error_of, form_open, on_row, pick_scope, server_error, table, wait_for


async def test_picker_remembers_the_project_of_a_profile_without_one(odeck):
    app, sim_app, _ = odeck()
    profile = app.config.profiles["test-onetest"]
    profile.fields.pop("project_id")
    save_config(app.config)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker) and app.screen.query("OptionList"),
                       what="picker on open")
        picker = app.screen
        labels = [label for _, label in picker.options]
        assert labels == ["Demo project (Demo team)", "Mobile banking (Demo team)", "Checkout load (Performance lab)"]
        picker.query_one("OptionList").highlighted = 1
        await pilot.press("enter")
        screen = await loaded(pilot, rows=1)
        assert "project Mobile b" in str(screen.query_one("#titlebar").heading)
    assert load_config(app.config.path).profiles["test-onetest"].fields["project_id"] == sim.OTHER_PROJECT_ID


async def test_agent_create_associate_and_delete(odeck):
    app, sim_app, _ = odeck(start="agents")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=2)
        form = await form_open(pilot, "n")
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert error_of(form, "hostName") == "required"
        form.query_one("#f-hostName").value = "lab-agent [new].demo.lan"
        form.query_one("#f-pollInterval").value = "10"
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        assert "at least 1,000" in error_of(form, "pollInterval")
        form.query_one("#f-pollInterval").value = "10000"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="form closed")
        (new,) = [a for a in sim_app.state.agents.values() if a["hostName"] == "lab-agent [new].demo.lan"]
        await wait_for(pilot, lambda: str(new["id"]) in table(app).data.keys, what="new row")
        await on_row(pilot, str(new["id"]))
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="associated")
        assert sim.DEMO_PROJECT_ID in new["_projects"]
        await pilot.press("escape")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "lab-agent [new].demo.lan" in str(app.screen.question) or str(new["id"]) in str(app.screen.question)
        await pilot.press("y")
        await wait_for(pilot, lambda: new["id"] not in sim_app.state.agents, what="deleted")


async def test_scope_switching_between_global_space_and_project(odeck):
    app, sim_app, _ = odeck(start="agents")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=2)
        assert "scope global" in str(screen.query_one("#titlebar").heading)
        for label, rows in (("space Demo team", 1), ("project Demo project", 3), ("global", 2)):
            await pick_scope(pilot, screen, label, rows)
            assert label[:8] in str(screen.query_one("#titlebar").heading)  # long names are cut
        assert screen.session.views["scope:agents"] == "global"


async def test_docker_host_connection_test_from_the_form_before_saving(odeck):
    app, sim_app, _ = odeck(start="dockerhosts")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=2)
        form = await form_open(pilot, "n")
        assert isinstance(form, DockerHostForm)
        before = dict(sim_app.state.dockerhosts)
        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        assert error_of(form, "hostName") == "required"
        assert "field(s) need attention: " in server_error(form) and "host" in server_error(form)  # named
        form.query_one("#f-name").value = "new docker"
        form.query_one("#f-hostName").value = "unreachable-2\x1b[2J.demo.lan"  # the reason echoes it
        form.query_one("#f-port").value = "2375"
        form.query_one("#f-secure").value = False
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: "FAILURE" in server_error(form), what="failed test")
        assert "Connection refused" in server_error(form)
        assert "\x1b" not in server_error(form) and "unreachable-2␛[2J.demo.lan" in server_error(form)
        form.query_one("#f-hostName").value = "docker9.demo.lan"
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: "SUCCESS" in server_error(form), what="good test")
        assert "24.0.7" in server_error(form)
        assert "· ·" not in server_error(form) and "False" not in server_error(form)  # no empty parts, no Python
        assert sim_app.state.dockerhosts == before  # a test saves nothing
        form.query_one("#f-clientKey").value = "console-KEY-material"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="saved")
        assert [d["hostName"] for d in sim_app.state.dockerhosts.values()][-1] == "docker9.demo.lan"
        # the secret field's value never reaches the journal (only Alyvix's did not)
        assert "KEY-material" not in journal.journal_path().read_text()
        assert json.loads(journal.read(1)[0]["body"])["clientKey"] == "***"
        await refreshed(pilot, screen)
        assert table(app).row_count == 3


# --- the new-user review's findings -----------------------------------------------------------------------

async def test_a_delete_a_project_cannot_do_is_refused_at_the_key_and_the_server_stays_healthy(odeck):
    app, sim_app, _ = odeck(start="dockerhosts")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=2)
        await pick_scope(pilot, screen, "project Demo project", 2)
        before = dict(sim_app.state.dockerhosts)
        notes = []
        original = app.notify
        app.notify = lambda message, **kw: (notes.append(str(message)), original(message, **kw))[-1]
        for key in ("ctrl+d", "e", "n"):
            await pilot.press(key)
            await pilot.pause(0.2)
            assert isinstance(app.screen, ResourceScreen), key  # no question, no form
            assert "a project cannot" in notes[-1] and "docker host" in notes[-1], key
        assert "delete" in notes[0] and "update" in notes[1] and "define" in notes[2]
        assert sim_app.state.dockerhosts == before
        await refreshed(pilot, screen)
        assert screen.session.client.health.ok is True  # a local refusal says nothing of the server
        screen._update_status()
        assert "✖ error" not in str(screen.query_one(StatusBar).render())


async def test_an_agent_never_contacted_shows_never_not_57_years(odeck):
    app, sim_app, _ = odeck(start="agents")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=2)
        form = await form_open(pilot, "n")
        form.query_one("#f-hostName").value = "x"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="created")
        (new,) = [a for a in sim_app.state.agents.values() if a["hostName"] == "x"]
        await wait_for(pilot, lambda: str(new["id"]) in table(app).data.keys, what="new row")
        row = screen.records[str(new["id"])]
        assert row.raw.get("contactTime") in (None, 0)  # the server has no contact time yet
        contact = next(c for c in screen.resource.columns if c.key == "contactTime")
        assert contact.cell(row) == "never"


async def test_dissociate_in_a_project_scope_leaves_that_project_and_names_it(odeck):
    app, sim_app, _ = odeck(start="agents")
    agent = sim_app.state.agents[101]
    agent["_projects"].add(sim.OTHER_PROJECT_ID)  # used by the profile's project and by another one
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=2)
        await pick_scope(pilot, screen, "project Mobile banking", 1)  # only 101 is in that project
        await on_row(pilot, "101")
        await pilot.press("u")
        question = await confirm_shown(pilot)
        assert f"It dissociates it from project {sim.OTHER_PROJECT_ID}" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: sim.OTHER_PROJECT_ID not in agent["_projects"], what="dissociated")
        assert sim.DEMO_PROJECT_ID in agent["_projects"]  # the profile's project keeps it


async def test_an_edit_with_nothing_changed_sends_nothing(odeck):
    app, sim_app, _ = odeck(start="agents")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, rows=2)
        await on_row(pilot, "101")
        start = len(sim_app.state.sim.requests)
        form = await form_open(pilot, "e")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "nothing changed: nothing sent" in server_error(form), what="refused")
        assert not [p for m, p, _ in sim_app.state.sim.requests[start:] if m == "PUT"]
        form.query_one("#f-architecture").value = "arm64"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: sim_app.state.agents[101]["architecture"] == "arm64", what="a change is sent")


async def test_a_pem_key_pasted_into_the_masked_client_key_is_kept_whole(odeck):
    """The client key took one line: a pasted PEM kept `-----BEGIN PRIVATE KEY-----`, masked, and that was sent."""
    from textual import events

    from .test_cli import PEM

    app, sim_app, _ = odeck(start="dockerhosts")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await loaded(pilot, rows=2)
        form = await form_open(pilot, "n")
        before = dict(sim_app.state.dockerhosts)
        form.query_one("#f-hostName").value = "pem.demo.lan"
        key = form.query_one("#f-clientKey")
        key.focus()
        await pilot.pause()
        app.post_message(events.Paste(PEM.replace("\n", "\r\n") + "\r\n"))  # as a terminal may send it
        await wait_for(pilot, lambda: error_of(form, "clientKey"), what="said under the field")
        assert error_of(form, "clientKey") == "pasted 4 lines: kept whole"
        assert key.value == PEM and key.password  # whole, still masked
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen, what="saved")
        [new] = [h for k, h in sim_app.state.dockerhosts.items() if k not in before]
        assert new["clientKey"] == PEM
