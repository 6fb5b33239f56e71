"""XPRESSO through the real console on the Pilot: submit (refusals, key/value editors), bundle
submit, follow, drill-down to sections, stop with a reason and its cancel paths.

The simulator runs on real loopback with a clock the test moves (HandClock):
requests advance only when a test says so.
"""

from __future__ import annotations

import pytest
from console_kit import refreshed
from conftest import wait_for as _wait_for
from textual.widgets import Input

from testdeck.screens.resource import ResourceScreen
from testdeck.services.xpresso import sim
from testdeck.services.xpresso import token as jwt
from testdeck.services.xpresso.inputs import KvEditor, PickInput
from testdeck.services.xpresso.screens import ItemScreen, RequestScreen
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import VirtualTable
from tests.xpresso.conftest import T0, HandClock

RUNNING_AGE = sim.STARTED + 14  # the seeded RUNNING request was created this long before T0


async def wait_for(pilot, condition, what: str = "condition"):
    # generous: eight helpers share two cores while the suite runs
    await _wait_for(pilot, condition, timeout=20, what=what)


@pytest.fixture
def hand():
    return HandClock(T0)


async def listed(pilot) -> ResourceScreen:
    app = pilot.app
    # (is_mounted first: a screen pushed but not yet composed has no table to ask)
    await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.is_mounted
                   and app.screen.table.row_count > 0, what="requests listed")
    return app.screen


async def on_row(pilot, key: str) -> ResourceScreen:
    screen = await listed(pilot)
    assert screen.table.move_to_key(key)
    await pilot.pause()
    return screen


def running_id(app) -> str:
    return next(r for r, v in app.state.requests.items() if v["created"] == T0 - RUNNING_AGE)


async def open_form(pilot, key: str) -> FormScreen:
    await listed(pilot)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.is_mounted, what="form")
    form = pilot.app.screen
    await wait_for(pilot, lambda: all("known:" in str(p.query_one(".pick-known").render())
                                      for p in form.query(PickInput)), what="pickers loaded")
    return form


def typed(form: FormScreen, name: str, value: str) -> None:
    form.query_one(f"#f-{name}").query_one(Input).value = value


async def type_into(pilot, widget: Input, text: str) -> None:
    widget.focus()
    await pilot.pause()
    await pilot.press(*text)


async def test_submit_refuses_testbeds_with_topologies_then_sends_kv_maps_and_follows(deck, hand):
    app, simapp, _ = deck("xpresso", clock=hand)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "n")
        before = len(simapp.state.requests)
        typed(form, "profile", "nightly-regression")
        typed(form, "testbeds", "pyATS_pod13_shared")
        typed(form, "topologies", sim.DEMO_TOPOLOGY)
        await pilot.press("ctrl+s")
        status = form.query_one("#server-error")
        await wait_for(pilot, lambda: "need attention" in str(status.render()), what="form validation")
        why = "give testbeds or topologies, not both (the server answers 400)"
        assert str(form.query_one("#err-testbeds").render()) == why == str(form.query_one("#err-topologies").render())
        assert str(status.render()) == "2 field(s) need attention: testbeds, topologies"
        assert len(simapp.state.requests) == before and app.screen is form  # nothing sent, form kept

        typed(form, "topologies", "")
        env = form.query_one("#f-env_vars", KvEditor)
        await type_into(pilot, env.query(".kv-key").first(Input), "ATS_HOSTS")
        await pilot.press("tab", *"h1 h2")
        assert len(env.query(".kv-key")) == 2  # typing a key opened the next row
        args = form.query_one("#f-job_args", KvEditor)
        await type_into(pilot, args.query(".kv-key").first(Input), "--turbo")
        await pilot.press("tab", *"true", "tab", *"--run-again", "tab", *"some value")
        assert args.value == [("--turbo", "true"), ("--run-again", "some value")]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestScreen), what="the new request followed")
        detail = app.screen
        # accepted, not done: how it ends shows on the screen that follows it
        assert any("submit request: accepted, following it" in str(n.message) for n in app._notifications)
        stored = simapp.state.requests[detail.request_id]
        assert stored["profile"] == sim.FAILING_PROFILE and stored["testbed_names"] == ["pyATS_pod13_shared"]
        assert stored["parameters"] == {"env_vars": {"ATS_HOSTS": "h1 h2"},
                                        "job_args": {"--turbo": True, "--run-again": "some value"}}
        await wait_for(pilot, lambda: detail.raw.get("state") == "PREPARING", what="first refresh")
        hand.advance(sim.STARTED + 1)
        await pilot.press("r")
        await wait_for(pilot, lambda: detail.raw.get("state") == "RUNNING", what="followed to RUNNING")
        assert "following" in str(detail.query_one("#title").render())
        hand.advance(sim.RUN_S)
        await pilot.press("r")
        await wait_for(pilot, lambda: detail.raw.get("state") == "FAILED", what="followed to the verdict")
        assert "following" not in str(detail.query_one("#title").render())
        await pilot.press("escape")
        listing = await listed(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: listing.table.cursor_key == detail.request_id, what="new request selected")


async def test_kv_editor_refuses_duplicate_keys_before_sending(deck, hand):
    app, simapp, _ = deck("xpresso", clock=hand)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "n")
        before = len(simapp.state.requests)
        typed(form, "profile", sim.DEMO_PROFILE)
        harness = form.query_one("#f-harness_args", KvEditor)
        await type_into(pilot, harness.query(".kv-key").first(Input), "--loglevel")
        await pilot.press("tab", *"INFO", "tab", *"--loglevel", "tab", *"DEBUG")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = form.query_one("#err-harness_args")
        assert "key '--loglevel' given twice" in str(error.render())
        assert len(simapp.state.requests) == before and app.screen is form
        await pilot.press("escape", "y")  # typed: it asks before discarding
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="cancelled")
        assert len(simapp.state.requests) == before


async def test_bundle_submit_completes_the_bundle_name(deck, hand):
    app, simapp, _ = deck("xpresso", clock=hand)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, "b")
        assert {f.name for f in form.form.fields}.isdisjoint({"testbeds", "topologies", "env_vars"})
        bundle = form.query_one("#f-bundle", PickInput).query_one(Input)
        await type_into(pilot, bundle, "week")
        await wait_for(pilot, lambda: bundle._suggestion == "weekly-bundle", what="completion offered")
        await pilot.press("right")  # accept the completion
        assert bundle.value == "weekly-bundle"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestScreen), what="bundle request followed")
        rid = app.screen.request_id
        assert simapp.state.requests[rid]["bundle"] == sim.DEMO_BUNDLE
        await pilot.press("escape")
        screen = await listed(pilot)
        await wait_for(pilot, lambda: screen.table.cursor_key == rid, what="the new request selected")
        await pilot.press("enter")  # enter on a bundle request opens its detail screen too
        await wait_for(pilot, lambda: isinstance(app.screen, RequestScreen) and app.screen.request_id == rid,
                       what="bundle request detail")


async def help_lists(pilot, title: str, row: tuple[str, str]) -> None:
    """`?` on a screen with no help binding of its own: its keys, and esc back."""
    from testdeck.screens.help import HelpScreen

    under = pilot.app.screen
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")
    assert pilot.app.screen.title_text == title and row in pilot.app.screen.rows, pilot.app.screen.rows
    await pilot.press("escape")
    await wait_for(pilot, lambda: pilot.app.screen is under, what="help closed")


async def test_drill_down_to_sections_json_masked_until_revealed(deck, hand):
    app, simapp, _ = deck("xpresso", clock=hand)
    failed = next(r for r, v in simapp.state.requests.items() if v["job"].verdict == "FAILED"
                  and v["group"] == sim.DEMO_GROUP and v["created"] < T0 - 3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_row(pilot, failed)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestScreen), what="request screen")
        detail = app.screen
        items = detail.query_one(VirtualTable)
        await wait_for(pilot, lambda: items.row_count == 2, what="items")
        assert "fail 2" in str(detail.query_one("#summary").render())
        await help_lists(pilot, "keys · request", ("x", "stop"))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="json")
        text = app.screen.body
        assert f'"postback_token": "Jwt {jwt.MASK}"' in text and "eyJ" not in text
        await pilot.press("escape", "v", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="json revealed")
        # revealed; the profile's own token stays redacted by the core (#6: echoed secrets never shown)
        assert '"postback_token": "Jwt eyJ' in app.screen.body or '"postback_token": "Jwt ***"' in app.screen.body
        await pilot.press("escape", "v")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ItemScreen), what="item results")
        item = app.screen
        sections = item.query_one(VirtualTable)
        await wait_for(pilot, lambda: sections.row_count > 0, what="sections")
        await help_lists(pilot, "keys · item", ("c", "run/clean"))
        rows = sections.data.rows
        failed_rows = [r for r in rows if r[2] == "✖ failed"]
        assert [r[1].strip() for r in failed_rows] == ["bgp_regression.py", "tc_bgp_regression_02",
                                                       "ospf_checks.py", "tc_ospf_checks_02"]
        sections.move_to_key(sections.data.keys[rows.index(failed_rows[1])])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="section")
        assert '"section_name": "tc_bgp_regression_02"' in app.screen.body
        await pilot.press("escape", "c")
        await wait_for(pilot, lambda: item.which == "clean", what="clean results")
        assert sections.row_count == 0 and "no clean results" in sections.empty_text


async def test_quick_filter_keys_switch_the_list_and_back(deck, hand):
    from testdeck.services.xpresso.client import ACTIVE_STATES, FAILED_STATES

    app, simapp, _ = deck("xpresso", clock=hand)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await listed(pilot)
        every = await screen.session.client.get_requests()
        assert {r.state for r in every} >= {"FAILED", "PASSED", "RUNNING"}  # the keys have something to tell

        async def view(key: str, want: set[str], label: str) -> None:
            await pilot.press(key)
            await wait_for(pilot, lambda: screen.last_ok is not None and set(screen.table.data.keys) == want,
                           what=f"{label} rows")
            assert f"· {label}" in str(screen.query_one("#titlebar").heading)

        await view("F", {r.request_id for r in every if r.state in FAILED_STATES}, "failed")
        await view("R", {r.request_id for r in every if r.state in ACTIVE_STATES}, "active")
        await view("O", {r.request_id for r in every if r.state == "PASSED"}, "passed")
        await view("X", {r.request_id for r in every if r.state == "STOPPED"}, "stopped")
        mine = {r.request_id for r in every if r.submitter == sim.DEMO_USER}
        assert mine and mine != {r.request_id for r in every}  # alice's are left out
        await view("M", mine, "mine")
        await pilot.press("M")  # the same key again: back to the default view
        await wait_for(pilot, lambda: len(screen.table.data.keys) == len(every), what="all again")


async def test_stop_marked_requests_asks_one_reason_and_confirmation(deck, hand):
    app, simapp, _ = deck("xpresso", clock=hand)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await listed(pilot)
        active = [r.request_id for r in await screen.session.client.get_requests()
                  if r.state in ("RUNNING", "QUEUED", "PREPARING")]
        assert len(active) >= 2, active
        passed = next(r.request_id for r in await screen.session.client.get_requests() if r.state == "PASSED")
        for rid in [*active[:2], passed]:  # a request that has ended is left out, as xyOps jobs and OneTest runs
            assert screen.table.move_to_key(rid)
            await pilot.press("space")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, (FormScreen, ConfirmScreen)), what="stop dialog")
        assert isinstance(app.screen, FormScreen)  # the reason first, once for all of them
        assert str(app.screen.query_one("#save").label) == "Stop  ctrl+s"  # it said Save
        app.screen.query_one("#f-reason", Input).value = "lab maintenance"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="one confirmation")
        question = app.screen.question
        assert "these 2 requests" in question and all(rid in question for rid in active[:2])
        assert "1 marked not sent: " in question and "already ended (PASSED)" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: all(simapp.state.requests[r]["stopped_after"] is not None
                                          for r in active[:2]), what="both stopped")
        assert simapp.state.requests[passed]["stopped_after"] is None
        assert {simapp.state.requests[r]["stop_reason"] for r in active[:2]} == {"lab maintenance"}


async def test_stop_from_the_list_asks_a_reason_then_confirms_n_and_esc_cancel(deck, hand):
    app, simapp, _ = deck("xpresso", clock=hand)
    rid = running_id(simapp)

    async def reason_form() -> FormScreen:
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="reason form")
        return app.screen

    async def confirmation(form: FormScreen, reason: str) -> ConfirmScreen:
        form.query_one("#f-reason", Input).value = reason
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        return app.screen

    async with app.run_test(size=(100, 30)) as pilot:
        screen = await on_row(pilot, rid)
        await reason_form()
        await pilot.press("escape")  # esc on the reason: nothing asked, nothing sent
        await wait_for(pilot, lambda: app.screen is screen, what="cancelled")
        form = await reason_form()
        form.query_one("#f-reason", Input).value = "   "
        await pilot.press("ctrl+s")  # a reason is required: refused before any confirmation
        await wait_for(pilot, lambda: "required" in str(form.query_one("#err-reason").render()), what="reason needed")
        assert app.screen is form
        ask = await confirmation(form, "pod needed for a hotfix")
        assert f"stop request 'Job_Regression' ({rid}) on profile test-xpresso?" in ask.question
        await pilot.press("n")  # no: back on the form, nothing sent
        await wait_for(pilot, lambda: app.screen is form, what="back on the form")
        assert simapp.state.requests[rid]["stopped_after"] is None
        await confirmation(form, "pod needed for a hotfix")
        await pilot.press("y")
        await wait_for(pilot, lambda: simapp.state.requests[rid]["stopped_after"] is not None, what="stopped")
        assert simapp.state.requests[rid]["stop_reason"] == "pod needed for a hotfix"
        await wait_for(pilot, lambda: app.screen is screen, what="form closed")
        await refreshed(pilot, screen)
        await pilot.press("x")  # a second stop: it has ended, said at the key (the server would answer 400)
        await wait_for(pilot, lambda: any("already ended (STOPPED)" in str(n.message) for n in app._notifications),
                       what="refused at the key")
        assert app.screen is screen


async def test_stop_from_the_detail_confirms_showing_the_request_n_cancels(deck, hand):
    app, simapp, _ = deck("xpresso", clock=hand)
    rid = running_id(simapp)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_row(pilot, rid)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestScreen), what="request screen")
        detail = app.screen

        async def reason_then_confirm(reason: str) -> ConfirmScreen:
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="reason form")
            assert rid in app.screen.form.title and "Job_Regression" in app.screen.form.title
            assert app.screen.submit_label == "Stop"  # B22: the button says what it does, not "Save"
            app.screen.query_one("#f-reason", Input).value = reason
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
            assert rid in app.screen.question and reason in app.screen.question
            assert "on profile test-xpresso?" in app.screen.question  # which server, as every confirmation says
            return app.screen

        await reason_then_confirm("not now")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is detail, what="back on the request")
        assert simapp.state.requests[rid]["stopped_after"] is None
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="reason form")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is detail, what="esc cancels the reason")
        await reason_then_confirm("testbed needed")
        await pilot.press("y")
        await wait_for(pilot, lambda: detail.raw.get("state") == "STOPPED", what="stopped and refreshed")
        from testdeck import journal
        assert journal.read(1)[0]["action"] == "stop"  # not "PATCH /api/v1/requests/…/stop"
        assert "testbed needed" in str(detail.query_one("#header").render())
        await pilot.press("x")  # a second stop: the server refuses; its words are shown
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="reason form")
        app.screen.query_one("#f-reason", Input).value = "again"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: any("cannot be stopped" in str(n.message) for n in app._notifications),
                       what="server's refusal shown")


async def test_the_request_screens_stale_line_shows_the_servers_escapes_as_stand_ins(deck, hand):
    """A failed refresh of a request: the STALE line is the console's one (how old, the server's
    words) and its control characters show as visible stand-ins, like everywhere else."""
    from testdeck.errors import ApiError

    app, simapp, _ = deck("xpresso", clock=hand)
    some = next(r for r, v in simapp.state.requests.items() if v["group"] == sim.DEMO_GROUP)
    async with app.run_test(size=(120, 40)) as pilot:
        await on_row(pilot, some)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestScreen), what="request screen")
        detail = app.screen
        detail.error = ApiError("xpresso", "p", "GET", "/x", 500, "boom \x1b]0;owned\x07 \x1b[2J")
        detail.show()
        await pilot.pause()
        text = str(detail.query_one("#message").render())
        assert text.startswith("STALE · ") and "boom" in text and "HTTP 500" in text
        assert "␛" in text and "\x1b" not in text and "\x07" not in text


async def test_a_request_opened_from_its_row_says_how_old_the_rows_data_is_when_its_refresh_fails(deck, hand):
    """The row's data is as old as the list's reading, not "0s ago": the first refresh of the
    request fails and the STALE line counts from when the list was read."""
    from testdeck import clock

    app, simapp, config = deck("xpresso", clock=hand)
    some = next(r for r, v in simapp.state.requests.items() if v["group"] == sim.DEMO_GROUP)
    clock.freeze(T0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await on_row(pilot, some)
            assert screen.selected().raw.get("items"), "the list's row carries the request's items"
            clock.freeze(T0 + 150)
            config.fail_paths.add(f"/requests/{some}")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RequestScreen) and app.screen.error is not None,
                           what="the request's refresh failed")
            text = str(app.screen.query_one("#message").render())
            assert text.startswith("STALE · showing data from 2m30s ago") and "HTTP 500" in text
    finally:
        clock.freeze(None)
