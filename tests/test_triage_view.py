"""The triage view with all five simulators (Pilot): items, jump, fixed items go, unreachable profiles."""

from __future__ import annotations

import re

import httpx
import pytest

from testdeck.app import TestdeckApp
from testdeck.config import Config, Profile
from testdeck.credentials import env_var
from testdeck.screens.home import HomeScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.screens.triage import TriageScreen
from testdeck.services import all_services
from testdeck.sim import SimConfig
from testdeck.widgets.table import VirtualTable
from tests.conftest import FROZEN, still, wait_for
from tests.hostile import ESCAPES, FORBIDDEN


def _five(sim_server, monkeypatch, tmp_path, *, in_process=False, extra=None):
    profiles, transports, sims = {}, {}, {}
    for svc in all_services():
        name = f"t-{svc.name}"
        if in_process:
            app = svc.create_sim(SimConfig(clock=lambda: FROZEN))
            url = f"http://{svc.name}.sim"
            transports[name] = httpx.ASGITransport(app=app)
        else:
            url, app, _ = sim_server(svc.create_sim)
        sims[svc.name] = app
        profiles[name] = Profile(name, svc.name, url, timeout=10.0, fields=dict(svc.demo_fields))
        if svc.demo_secret:
            monkeypatch.setenv(env_var(name), svc.demo_secret)
    profiles.update(extra or {})
    cfg = Config(path=tmp_path / "config.toml", settings={"refresh_interval": 60.0}, profiles=profiles)
    return TestdeckApp(cfg, start="triage", save_theme=False, transports=transports), sims


def _done(app) -> int:
    return sum(1 for s in app.triage_board.states.values() if s.last_ok is not None or s.error is not None)


def _key_of(app, target):
    """The triage view's row key of the item `target` was, or None when it is not shown."""
    return next((k for k, item in app.screen.items.items() if item.ident == target.ident), None)


def _polled(app, n):
    return isinstance(app.screen, TriageScreen) and _done(app) >= n


async def test_items_of_every_service_jump_and_go_when_fixed(sim_server, monkeypatch, tmp_path):
    gone = Profile("gone", "xyops", "http://127.0.0.1:9", timeout=1.0)
    monkeypatch.setenv(env_var("gone"), "k" * 43)
    app, sims = _five(sim_server, monkeypatch, tmp_path, extra={"gone": gone})
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: _polled(app, 6), timeout=30, what="every profile polled")
        items = app.triage_board.items()
        assert {i.service for i in items} == {"alyvix", "xyops", "xpresso", "onetest", "kyaraben"}
        unreachable = [i for i in items if i.profile == "gone"]
        assert [(i.severity, i.what) for i in unreachable] == [("critical", "profile unreachable")]
        # sorted by severity, then the oldest first
        ranks = [("critical", "error", "warning").index(i.severity) for i in items]
        assert ranks == sorted(ranks)
        table = app.screen.query_one(VirtualTable)
        # polls that end close together repaint once, a moment later
        await wait_for(pilot, lambda: table.row_count == len(items), what="the table shows every item")

        # enter jumps to the item in its own resource screen, the cursor on it
        target = next(i for i in items if i.service == "alyvix" and i.resource == "sessions")
        keys = table.data.keys
        table.move_to_key(next(k for k in keys if app.screen.items[k] == target))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen)
                       and app.screen.resource.name == "sessions"
                       and app.screen.table.cursor_key == target.key, timeout=15, what="jump to the session")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen), what="back to triage")

        # fixed: the session is deleted; after a refresh its item is gone
        client = app.session("t-alyvix").client
        await client.delete_session(target.key)
        def ids() -> set[tuple]:
            return {(i.profile, i.resource, i.key, i.what) for i in app.triage_board.items()}

        before = ids()
        await pilot.press("r")
        # by resource and key: a test case may share the session's id (key '4') and fail meanwhile
        await wait_for(pilot, lambda: all((i.profile, i.resource, i.key) != ("t-alyvix", "sessions", target.key)
                                          for i in app.triage_board.items()), timeout=15, what="item gone")
        # only that item went (the simulators may add new failures meanwhile: they fail over time)
        assert before - ids() == {(target.profile, target.resource, target.key, target.what)}
        await wait_for(pilot, lambda: target not in app.screen.items.values(), what="the view follows")


async def test_esc_after_a_jump_comes_back_to_triage_opened_over_a_resource(sim_server, monkeypatch, tmp_path):
    """`0` on a resource screen, `enter` on an item, `esc`: the triage view again (it went away with
    the jump and esc landed on the resource it had been opened over), then that resource. The same
    from a "profile unreachable" item (it opens the profile's first resource)."""
    gone = Profile("gone", "alyvix", "http://127.0.0.1:9", timeout=1.0)
    app, _ = _five(sim_server, monkeypatch, tmp_path, extra={"gone": gone})
    app.start = "t-kyaraben"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.is_mounted,
                       what="kyaraben's first resource")
        first = app.screen.resource.name
        for wanted in (lambda i: i.service == "alyvix" and i.resource and i.profile != "gone",
                       lambda i: i.profile == "gone" and i.what == "profile unreachable"):
            await pilot.press("0")
            await wait_for(pilot, lambda: _polled(app, 6), timeout=30, what="every profile polled")
            table = app.screen.query_one(VirtualTable)
            target = next(i for i in app.triage_board.items() if wanted(i))
            await wait_for(pilot, lambda: target in app.screen.items.values(), what="the item shown")
            table.move_to_key(next(k for k, item in app.screen.items.items() if item == target))
            await pilot.press("enter")
            resource = target.resource or app.session(target.profile).service.resources[0].name
            await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.resource.name
                           == resource and app.screen.session.profile.name == target.profile
                           and app.screen.is_mounted, timeout=15, what="the jump")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen), what="back to triage")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.resource.name == first
                           and app.screen.session.profile.name == "t-kyaraben", what="back to where triage was opened")


async def test_home_shows_the_pulse_and_0_opens_triage(sim_server, monkeypatch, tmp_path):
    app, _ = _five(sim_server, monkeypatch, tmp_path)
    app.start = None
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen) and _done(app) >= 5,
                       timeout=30, what="home polled")
        await pilot.pause(0.2)
        home = app.screen
        for name in app.config.profiles:
            assert home.pulse(name) != "…"
        kyaraben = home.pulse("t-kyaraben")
        assert "✖" in kyaraben  # the seeded VM in ERROR
        table = home.query_one(VirtualTable)
        # (polls ending close together repaint home once, up to TRIAGE_COALESCE later)
        await wait_for(pilot, lambda: kyaraben in table.data.rows[table.data.index["t-kyaraben"]], what="the pulse")
        await pilot.press("0")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen), what="triage by 0")


async def test_triage_filters_with_slash_and_shows_its_keys_with_question_mark(sim_server, monkeypatch, tmp_path):
    from testdeck.screens.help import HelpScreen, help_text

    app, _ = _five(sim_server, monkeypatch, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: _polled(app, 5), timeout=30, what="every profile polled")
        table = app.screen.query_one(VirtualTable)
        await wait_for(pilot, lambda: table.row_count == len(app.triage_board.items()), what="every item")
        every = table.row_count
        await pilot.press("slash", *"kyaraben")
        await wait_for(pilot, lambda: 0 < table.row_count < every, what="filtered")
        assert all(app.screen.items[k].service == "kyaraben" for k in table.data.keys)
        title = str(app.screen.query_one("#titlebar").render())  # a filtered view says so, and what it hides
        assert f"filter 'kyaraben': {table.row_count} of {len(app.triage_board.items())}" in title
        await pilot.press("enter")  # kept; the table has the keys again
        assert table.has_focus
        await pilot.press("escape")  # clears the filter; a second esc would go back
        await wait_for(pilot, lambda: table.row_count == len(app.triage_board.items()), what="unfiltered")
        assert isinstance(app.screen, TriageScreen)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = help_text(app.screen_stack[-2])
        assert all(word in text for word in ("jump", "details", "stale", "filter", "0", ":journal"))


async def test_a_repaint_due_while_the_screens_are_taken_down_is_skipped(sim_server, monkeypatch, tmp_path):
    """The coalesced repaint falling due as the app shuts down (Textual's run_test takes the screens
    down with the app's timers still running): the triage view, its widgets gone, still read as
    mounted, and the repaint raised NoMatches from the app (1-2 runs in 6 of a test under load)."""
    app, _ = _five(sim_server, monkeypatch, tmp_path)
    failed = []

    def on_unmount(screen) -> None:  # its widgets are gone by now; it is still on top of the stack
        app._news_pending = True
        try:
            app._triage_flush()
        except Exception as exc:
            failed.append(exc)

    monkeypatch.setattr(TriageScreen, "on_unmount", on_unmount, raising=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen) and app.screen.is_mounted, what="triage")
    assert failed == []


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_triage_snapshot(snap_compare, sim_server, monkeypatch, tmp_path, frozen_clock, size):
    app, _ = _five(sim_server, monkeypatch, tmp_path, in_process=True)

    async def polled(pilot):
        await wait_for(pilot, lambda: _polled(app, 5), timeout=30, what="every profile polled")
        app.triage_board.new = set()  # the first poll marks everything new; the snapshot shows the steady state
        app.screen.render_items()
        still(app)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=polled)


async def test_a_profile_that_cannot_be_read_says_so_in_the_view_and_on_home(sim_server, monkeypatch, tmp_path):
    """Its first poll fails (the VM list and the projects answer 500): no items, and never "✔ 0" or
    "nothing failing": the view's STALE line names the profile, what was not read and the
    server's words; home's pulse is "? stale". Once readable, its items come and the note goes."""
    from testdeck.services.kyaraben import sim as kysim

    url, kapp, config = sim_server(kysim.create_app)
    config.fail_paths |= {"/android", "/projects"}
    config.fail_text += " " + ESCAPES["title"] + ESCAPES["bidi"]  # a hostile server's words
    svc = next(s for s in all_services() if s.name == "kyaraben")
    monkeypatch.setenv(env_var("kb"), svc.demo_secret or "")
    cfg = Config(path=tmp_path / "config.toml", settings={"refresh_interval": 60.0},
                 profiles={"kb": Profile("kb", "kyaraben", url, timeout=5.0, fields=dict(svc.demo_fields))})
    app = TestdeckApp(cfg, start="triage", save_theme=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: _polled(app, 1), timeout=15, what="polled")
        await wait_for(pilot, lambda: "STALE" in str(app.screen.query_one("#stale").render()), what="the note")
        note = str(app.screen.query_one("#stale").render())
        assert "kb (not read: avms, campaigns)" in note and "fails on purpose" in note
        assert "␛" in note and not FORBIDDEN & set(note)  # the server's escapes as stand-ins
        assert app.screen.query_one(VirtualTable).row_count == 0
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        assert app.screen.pulse("kb") == "? stale"
        config.fail_paths.clear()
        await pilot.press("0")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen) and app.triage_board.items()
                       and not app.triage_board.states["kb"].stale, timeout=15, what="read at last")
        await wait_for(pilot, lambda: "STALE" not in str(app.screen.query_one("#stale").render()), what="no note")



async def test_a_jump_lands_on_the_items_own_row_in_the_view_that_lists_it(sim_server, monkeypatch, tmp_path):
    """For every service's failing items: `enter` opens the resource in the view the declaration
    reads (OneTest's finished run is not in the active-only view, where another run of the same
    asset sat under the cursor), the cursor on the item's own row, also over a cursor left on
    another row by an earlier visit. A row gone since triage read it is said, plainly."""
    from tests.console_kit import said

    app, _ = _five(sim_server, monkeypatch, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: _polled(app, 5), timeout=30, what="every profile polled")
        items = app.triage_board.items()
        targets = list({(i.profile, i.resource): i for i in reversed(items) if i.resource}.values())
        assert {(i.service, i.resource) for i in targets} >= {
            ("alyvix", "sessions"), ("alyvix", "testcases"), ("xyops", "jobs"), ("xyops", "firing"),
            ("xpresso", "requests"), ("onetest", "executions"), ("onetest", "agents"), ("kyaraben", "avms")}
        jobs = [i for i in items if i.resource == "jobs"]
        targets.append(next(i for i in jobs if i != targets[[t.resource for t in targets].index("jobs")]))
        for target in targets:
            # (by ident: a simulator's times move, an OneTest agent's contact among them)
            await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen)
                           and _key_of(app, target) is not None, what=f"{target.what} shown")
            app.screen.query_one(VirtualTable).move_to_key(_key_of(app, target))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.is_mounted
                           and app.screen.resource.name == target.resource and app.screen.loaded.is_set()
                           and app.screen.table.cursor_key == target.key, timeout=15, what=f"the jump to {target}")
            screen = app.screen
            assert screen.query_value == target.query, target  # the declaration's view
            assert screen.scope == target.scope
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen), what="back to triage")
        assert not [m for m in said(app) if "not in" in m]

        target = next(i for i in app.triage_board.items() if i.resource == "sessions")
        await app.session(target.profile).client.delete_session(target.key)  # fixed since triage read it
        app.screen.query_one(VirtualTable).move_to_key(_key_of(app, target))
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("not in" in m for m in said(app)), timeout=15, what="the notice")
        notice = next(m for m in said(app) if "not in" in m)
        assert notice.startswith(f"{target.what}: not in sessions now") and "the cursor is not on it" in notice
        assert app.screen.table.cursor_key != target.key

        # a filter left on the resource (kept while the user looked elsewhere) that hides the row
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen), what="back to triage")
        target = next(i for i in app.triage_board.items() if i.resource == "requests")
        app.session(target.profile).views["view:requests"].filter = "no such request"
        app.screen.query_one(VirtualTable).move_to_key(_key_of(app, target))
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("hidden by the filter" in m for m in said(app)), timeout=15,
                       what="the filter named")
        assert f"{target.what}: not in requests · failed now (hidden by the filter 'no such request'" in said(app)[-1]


async def test_a_profile_that_becomes_unreachable_keeps_its_items_marked_stale(sim_server, monkeypatch, tmp_path):
    """Read, then its server stops answering: the view keeps every item it had, each marked `stale`
    with its age, under the one "profile unreachable" item; `d` and `s` say the same whole."""
    from testdeck.services.xyops import sim as xysim
    from testdeck.widgets.dialogs import TextScreen

    url, _xapp, config = sim_server(xysim.create_app)
    monkeypatch.setenv(env_var("lab-xyops"), xysim.API_KEY)
    cfg = Config(path=tmp_path / "config.toml", settings={"refresh_interval": 60.0},
                 profiles={"lab-xyops": Profile("lab-xyops", "xyops", url, timeout=2.0)})
    app = TestdeckApp(cfg, start="triage", save_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: _polled(app, 1), timeout=15, what="polled")
        known = {i.ident for i in app.triage_board.items()}
        assert len(known) > 3 and not app.triage_board.states["lab-xyops"].stale
        config.drop_rate = 1.0  # every connection dropped: the profile is unreachable
        await pilot.press("r")
        await wait_for(pilot, lambda: app.triage_board.states["lab-xyops"].down, timeout=20, what="unreachable")
        table = app.screen.query_one(VirtualTable)
        await wait_for(pilot, lambda: table.row_count == len(known) + 1, what="every item still shown")
        rows = {app.screen.items[k].ident: table.data.rows[table.data.index[k]] for k in table.data.keys}
        down = next(r for r in rows.values() if r[3] == "profile unreachable")
        assert down[0] == "critical" and not down[5].startswith("stale")
        assert set(rows) - {app.triage_board.items()[0].ident} == known
        assert all(re.match(r"stale \d+s · ", r[5]) for ident, r in rows.items() if ident in known)
        table.move_to_key(next(k for k, i in app.screen.items.items() if i.ident in known))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="the item whole")
        assert "read: stale: last read" in app.screen.body and "could not be read since" in app.screen.body
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen), what="back")
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="the stale profiles")
        assert "lab-xyops · xyops · profile unreachable" in app.screen.body
        assert f"items kept from earlier polls (shown stale): {len(known)}" in app.screen.body


async def test_every_stale_profile_is_in_view_prod_first_at_80x24(sim_server, monkeypatch, tmp_path):
    """Seven profiles read in part (their alerts answer 500), three of them prod: at 80x24 the STALE
    lines show the prod ones (never hidden) and `+4 more` naming the rest; `s` shows all seven whole."""
    from testdeck.services.xyops import sim as xysim
    from testdeck.widgets.dialogs import TextScreen
    from tests.console_kit import screen_text

    url, _xapp, config = sim_server(xysim.create_app)
    config.fail_paths.add("/search_alerts/v1")
    names = ["lab-a", "lab-b", "lab-c", "lab-d", "x-prod", "y-prod", "z-prod"]
    profiles = {}
    for name in names:
        fields = {"environment": "prod"} if name.endswith("prod") else {}
        profiles[name] = Profile(name, "xyops", url, timeout=5.0, fields=fields)
        monkeypatch.setenv(env_var(name), xysim.API_KEY)
    cfg = Config(path=tmp_path / "config.toml", settings={"refresh_interval": 60.0}, profiles=profiles)
    app = TestdeckApp(cfg, start="triage", save_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _polled(app, 7), timeout=20, what="every profile polled")
        # (polled is not yet stale: a profile's failing read may end after its others)
        await wait_for(pilot, lambda: "+4 more" in screen_text(app)
                       and all(f"{n} [PROD]" in screen_text(app) for n in names[4:]), what="the STALE lines")
        shown = [line for line in screen_text(app).splitlines() if "·" in line and ("STALE" in line or "more" in line
                                                                                    or "(not read" in line)]
        assert [line.split("·")[1].split()[0] for line in shown[:3]] == ["x-prod", "y-prod", "z-prod"]
        assert all("[PROD] (not read: firing)" in line for line in shown[:3])
        assert "+4 more, s shows every one whole: lab-a, lab-b, lab-c, lab-d" in shown[3]
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="every stale profile")
        body = app.screen.body
        assert [line.split(" ")[0] for line in body.split("\n\n")] == names[4:] + names[:4]  # prod first
        assert body.count("not read: firing") == 7 and body.count("fails on purpose") == 7


async def test_at_80x24_the_message_has_room_and_d_shows_an_item_whole(sim_server, monkeypatch, tmp_path):
    from testdeck.widgets.dialogs import TextScreen
    from tests.console_kit import screen_text

    app, _ = _five(sim_server, monkeypatch, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: _polled(app, 5), timeout=30, what="every profile polled")
        vm = next(i for i in app.triage_board.items() if i.resource == "avms")
        assert len(vm.message) > 40
        await wait_for(pilot, lambda: _key_of(app, vm) is not None, what="the VM's item")
        app.screen.query_one(VirtualTable).move_to_key(_key_of(app, vm))
        await pilot.pause()
        line = next(line for line in screen_text(app).splitlines() if vm.what in line)
        assert vm.message[:24] in line  # (it was cut at 7 cells: "Heat s…")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="the item whole")
        body = app.screen.body
        for part in ("severity: error", "profile: t-kyaraben", "service: kyaraben", f"what: {vm.what}",
                     f"where: avms · row {vm.key}", "read: at the last poll", vm.message):
            assert part in body
        assert re.search(r"since: 20\d\d-\d\d-\d\d \d\d:\d\d:\d\dZ, \S+ ago", body)


async def test_a_broken_profile_is_an_item_in_the_view_as_in_the_cli(tmp_path):
    """A profile that cannot be used (a read_only that is not true or false) was skipped by the view:
    nothing failing on screen while `testdeck triage` exits 3 for it."""
    bad = Profile("bad", "xyops", "http://127.0.0.1:9", broken="read_only must be true or false")
    app = TestdeckApp(Config(path=tmp_path / "c.toml", profiles={"bad": bad}), save_theme=False, start="triage")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen) and app.triage_board.items(),
                       what="the broken profile's item")
        (item,) = app.triage_board.items()
        assert item.what == "profile broken" and "read_only must be true or false" in item.message


async def test_a_broken_profile_fixed_in_the_file_is_polled_as_fixed(tmp_path, sim_server, monkeypatch):
    """The triage poll held the broken session it first opened: after the file was fixed, the view
    kept saying "profile broken" until a restart."""
    from testdeck.config import load_config
    from testdeck.services import get_service

    svc = get_service("xyops")
    url, _, _ = sim_server(svc.create_sim)
    monkeypatch.setenv(env_var("x"), svc.demo_secret)
    path = tmp_path / "c.toml"
    text = f'[profiles.x]\nservice = "xyops"\nurl = "{url}"\nread_only = "{{}}"\n'
    path.write_text(text.format("true"))  # a string, not a boolean: broken, nothing is sent
    app = TestdeckApp(load_config(path), save_theme=False, start="triage")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen) and app.triage_board.items(),
                       what="the broken profile's item")
        assert [i.what for i in app.triage_board.items()] == ["profile broken"]
        path.write_text(text.replace('"{}"', "{}").format("true"))
        await pilot.press("r")
        await wait_for(pilot, lambda: app.triage_board.items()
                       and "profile broken" not in {i.what for i in app.triage_board.items()},
                       what="the fixed profile polled")
        assert {i.service for i in app.triage_board.items()} == {"xyops"}  # its own failing items now


async def test_r_while_a_profiles_poll_is_out_polls_it_again_once_it_is_back(sim_server, monkeypatch, tmp_path):
    """`r` after a fix: a poll that was out when it was pressed may have read the server before the
    fix. It polls again as soon as it is back, not a whole interval later (the wake was one event,
    cleared by whichever profile woke first)."""
    import asyncio

    from testdeck.services import get_service
    from testdeck.triage import Board

    xyops = get_service("xyops")
    url, _app, _ = sim_server(xyops.create_sim)
    profiles = {name: Profile(name, "xyops", url, fields=dict(xyops.demo_fields)) for name in ("a", "b")}
    for name in profiles:
        monkeypatch.setenv(env_var(name), xyops.demo_secret)
    cfg = Config(path=tmp_path / "config.toml", settings={"refresh_interval": 60.0}, profiles=profiles)
    polls: list[str] = []  # each poll's profile, as it starts
    held: list[str] = []  # a's polls held out
    gate: asyncio.Event | None = None
    poll = Board.poll

    async def held_poll(self, name, *args):
        polls.append(name)
        if name == "a" and gate is not None:
            held.append(name)
            await gate.wait()  # a's poll is out, as on a slow server
        return await poll(self, name, *args)

    monkeypatch.setattr(Board, "poll", held_poll)
    app = TestdeckApp(cfg, start="triage", save_theme=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: _done(app) == 2, what="the first round")
        gate = asyncio.Event()
        await pilot.press("r")
        await wait_for(pilot, lambda: held, what="a's poll out")
        b_polls = polls.count("b")
        await pilot.press("r")  # the fix is in: b polls again at once, a's poll is still out
        await wait_for(pilot, lambda: polls.count("b") > b_polls, what="b polled again")
        a_polls = polls.count("a")
        gate.set()
        await wait_for(pilot, lambda: polls.count("a") > a_polls, timeout=10, what="a polled again once back")  # (not 60 s)
