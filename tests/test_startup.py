"""Start-up never waits on a keyring (or the network) for profiles not shown yet."""

from __future__ import annotations

import asyncio
import threading

import keyring
import pytest
from keyring.backend import KeyringBackend

from testdeck.app import TestdeckApp
from testdeck.config import Config, Profile
from testdeck.screens.home import HomeScreen
from testdeck.screens.triage import TriageScreen
from testdeck.widgets.table import VirtualTable

from conftest import wait_for


class HeldKeyring(KeyringBackend):
    """A keyring that does not answer until the test lets it (a locked Secret Service)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.asked: list[str] = []

    def get_password(self, service, username):
        self.asked.append(username)
        self.release.wait(2.0)  # under KEYRING_TIMEOUT: a late answer, not a timeout
        return None

    def set_password(self, service, username, password):
        raise NotImplementedError

    def delete_password(self, service, username):
        raise NotImplementedError


def three_profiles(tmp_path) -> Config:
    # nothing listens on port 9: a poll would only ever fail, and nothing may wait on it
    return Config(path=tmp_path / "c.toml", settings={"refresh_interval": 60.0},
                  profiles={n: Profile(n, "xyops", "http://127.0.0.1:9") for n in ("a", "b", "c")})


async def test_home_shows_and_answers_keys_while_the_keyring_is_held(tmp_path):
    ring = HeldKeyring()
    keyring.set_keyring(ring)
    app = TestdeckApp(three_profiles(tmp_path), save_theme=False)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen)
                           and app.screen.query_one(VirtualTable).row_count == 3, what="home rows")
            table = app.screen.query_one(VirtualTable)
            await pilot.press("down")
            assert table.cursor == 1  # the key was handled while the keyring still holds
            assert not ring.release.is_set() and not app.sessions  # nothing opened yet: no one waited
            assert [row[5] for row in table.data.rows] == ["…", "…", "…"]  # the secret source, not known yet
            ring.release.set()
            await wait_for(pilot, lambda: len(app.sessions) == 3, what="sessions opened on threads")
            await wait_for(pilot, lambda: [row[5] for row in table.data.rows] == ["none"] * 3, what="secret sources")
            assert sorted(ring.asked) == ["a", "b", "c"]
            assert not app.notices  # each lookup had its own timeout: no false "keyring did not answer"
    finally:
        ring.release.set()


async def test_a_start_target_held_by_the_keyring_shows_the_profiles_meanwhile_never_a_blank_screen(tmp_path):
    from testdeck.screens.resource import ResourceScreen

    ring = HeldKeyring()
    keyring.set_keyring(ring)
    app = TestdeckApp(three_profiles(tmp_path), save_theme=False, start="b")
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            # a fast target skips the profiles' first frames; a held one shows them meanwhile
            await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="profiles while b opens")
            assert isinstance(app.screen, HomeScreen)  # no resource of a guessed profile
            ring.release.set()
            await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="profile b's screen")
            assert isinstance(app.screen_stack[-2], HomeScreen)  # esc goes back to the profiles
    finally:
        ring.release.set()


async def test_a_fast_start_target_opens_over_the_profiles_screen(tmp_path, monkeypatch):
    from testdeck import app as app_module
    from testdeck.screens.resource import ResourceScreen

    monkeypatch.setattr(app_module, "HOME_LATEST", 30.0)  # "fast" even on a loaded machine
    ring = HeldKeyring()
    ring.release.set()
    keyring.set_keyring(ring)
    app = TestdeckApp(three_profiles(tmp_path), save_theme=False, start="b")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="profile b's screen")
        # it goes up alone: the profiles are composed beneath it once its first refresh is over
        # (nothing listens on port 9: it fails at once), not beside it, on the way to its first frame
        assert [type(s) for s in app.screen_stack[1:]] == [ResourceScreen]
        await wait_for(pilot, lambda: [type(s) for s in app.screen_stack[1:]] == [HomeScreen, ResourceScreen],
                       what="the profiles beneath it")
        home = app.screen_stack[1]
        await wait_for(pilot, lambda: home.is_mounted and home.query(VirtualTable), what="the profiles composed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is home and home.query_one(VirtualTable).row_count == 3,
                       what="back to the profiles")


async def test_esc_on_a_start_target_before_its_profiles_were_composed_goes_to_them(tmp_path, monkeypatch):
    from testdeck import app as app_module
    from testdeck.screens.resource import ResourceScreen

    ring = HeldKeyring()
    ring.release.set()
    keyring.set_keyring(ring)
    monkeypatch.setattr(app_module, "HOME_AFTER_MAX", 30.0)
    monkeypatch.setattr(ResourceScreen, "_poll", lambda self: None)  # no first refresh: no profiles yet
    app = TestdeckApp(three_profiles(tmp_path), save_theme=False, start="b")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="profile b's screen")
        await pilot.pause()
        assert [type(s) for s in app.screen_stack[1:]] == [ResourceScreen]
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen) and len(app.screen_stack) == 2
                       and app.screen.query_one(VirtualTable).row_count == 3, what="the profiles")


async def test_a_profile_opens_when_first_shown_and_triage_opens_the_rest(tmp_path, monkeypatch):
    from testdeck.screens.resource import ResourceScreen

    ring = HeldKeyring()
    ring.release.set()
    keyring.set_keyring(ring)
    monkeypatch.setattr(HomeScreen, "action_test", lambda self: None)  # home's health pings open every profile
    app = TestdeckApp(three_profiles(tmp_path), save_theme=False, start="b")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="profile b's screen")
        assert list(app.sessions) == ["b"] and ring.asked == ["b"]
        await pilot.press("0")
        await wait_for(pilot, lambda: isinstance(app.screen, TriageScreen) and len(app.triage_board.items()) == 3,
                       what="every profile polled")
        assert sorted(app.sessions) == ["a", "b", "c"]
        assert {i.what for i in app.triage_board.items()} == {"profile unreachable"}


def test_a_service_loads_without_its_simulator():
    """The console imports a service's views; its simulator (starlette) only when one is wanted."""
    import subprocess
    import sys

    code = ("import sys; from testdeck.services import get_service; s = get_service('xyops'); "
            "a = 'testdeck.services.xyops.sim' in sys.modules or 'starlette' in sys.modules; "
            "s.demo_secret; b = 'testdeck.services.xyops.sim' in sys.modules; print(a, b)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_the_command_holds_the_collector_until_the_console_has_painted(tmp_path):
    """`testdeck` (launch.main) starts with the cyclic collector off (start-up objects live as long as
    the process; collecting them as they piled up was a tenth of a cold start); the console's first
    frame freezes them and turns it back on. A fresh interpreter: this one's collector is the test run's."""
    import subprocess
    import sys

    code = (
        "import asyncio, gc, sys\n"
        "from testdeck import launch\n"
        "launch.hold_gc()\n"
        "from testdeck.app import TestdeckApp\n"
        "from testdeck.config import Config\n"
        "held = not gc.isenabled()\n"
        "async def main():\n"
        "    app = TestdeckApp(Config(path=sys.argv[1]), save_theme=False)\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        await pilot.pause()\n"
        "        print(held, gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "config.toml")], capture_output=True,
                         text=True, check=True).stdout
    assert out.split() == ["True", "True", "True"]


def test_a_headless_verb_turns_the_collector_back_on(tmp_path, monkeypatch):
    import gc

    from testdeck import cli, launch

    monkeypatch.setenv("TESTDECK_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    launch.hold_gc()
    try:
        assert not gc.isenabled()
        assert cli.main(["journal", "-n", "1"]) == 0
        assert gc.isenabled()  # `testdeck logs -f` may run for hours
    finally:
        gc.enable()


def test_the_installed_command_goes_through_the_launcher():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["testdeck"] == "testdeck.launch:main"


async def test_d_on_the_profiles_screen_shows_a_profiles_whole_health_and_hides_a_secret_put_in_the_config(tmp_path):
    """At 80 columns the health reason is cut (`error · connection fa…`): `d` shows it whole, with the
    profile's config, where a secret someone wrote into it is not shown."""
    from testdeck.widgets.dialogs import TextScreen

    keyring.set_keyring(HeldKeyring())
    keyring.get_keyring().release.set()
    config = three_profiles(tmp_path)
    config.profiles["a"].fields.update({"api_key": "hunter2-in-the-config", "label": "lab EU"})
    app = TestdeckApp(config, save_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="profiles")
        home = app.screen
        await wait_for(pilot, lambda: home.health.get("a", "").startswith("error"), what="a's health")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen) and app.screen.is_mounted, what="details")
        body = app.screen.body
    assert f"health: {home.health['a']}" in body and len(home.health["a"]) > 40  # more than 80 columns could show
    assert "label = 'lab EU'" in body and "hunter2" not in body and "api_key = *** (not shown" in body


async def test_open_names_a_profiles_resource_and_does_not_guess_between_two_profiles(tmp_path):
    """`--open alerts` with two xyOps profiles opened the first (a broken one) silently; now it says
    which profiles have it and how to name one: `--open b/alerts`."""
    from testdeck.screens.resource import ResourceScreen

    keyring.set_keyring(HeldKeyring())
    keyring.get_keyring().release.set()
    app = TestdeckApp(three_profiles(tmp_path), save_theme=False, start="alerts")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="the profiles")
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
        assert any("3 profiles have it (a, b, c)" in m and "--open a/alerts" in m for m in said), said
        assert isinstance(app.screen, HomeScreen)  # no resource of a guessed profile
    app = TestdeckApp(three_profiles(tmp_path), save_theme=False, start="b/jobs")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="b's jobs")
        assert app.screen.session.profile.name == "b" and app.screen.resource.name == "jobs"


def _xyops_alerts(sim_server, tmp_path, monkeypatch, seen: list[str], hold: threading.Event | None = None) -> Config:
    """One xyOps profile on a simulator that notes each path asked (and holds get_alerts while `hold` is clear)."""
    from testdeck.credentials import env_var
    from testdeck.services import get_service

    svc = get_service("xyops")

    def counting(config):
        inner = svc.create_sim(config)

        async def app(scope, receive, send):
            if scope["type"] == "http":
                seen.append(scope["path"])
                while hold is not None and "get_alerts" in scope["path"] and not hold.is_set():
                    await asyncio.sleep(0.01)  # (the simulator's own loop, on its thread)
            await inner(scope, receive, send)

        return app

    url, _, _ = sim_server(counting)
    monkeypatch.setenv(env_var("x"), svc.demo_secret)
    return Config(path=tmp_path / "c.toml", settings={"refresh_interval": 60.0},
                  profiles={"x": Profile("x", "xyops", url, fields=dict(svc.demo_fields))})


async def test_the_first_read_is_sent_once_as_the_screen_is_made(sim_server, tmp_path, monkeypatch):
    """The first list call goes out as the screen is made; the first refresh takes its answer:
    one request, not a second one after mounting."""
    from testdeck.screens.resource import ResourceScreen

    seen: list[str] = []
    app = TestdeckApp(_xyops_alerts(sim_server, tmp_path, monkeypatch, seen), save_theme=False, start="x/alerts")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.table.row_count,
                       what="the alerts")
        screen = app.screen
        await wait_for(pilot, screen.loaded.is_set, what="the first refresh over")
        assert [p for p in seen if "get_alerts" in p] == ["/api/app/get_alerts/v1"]
        assert screen.error is None and screen.last_ok is not None
        screen.loaded.clear()
        await pilot.press("r")
        await wait_for(pilot, screen.loaded.is_set, what="a second refresh")
        assert len([p for p in seen if "get_alerts" in p]) == 2  # later refreshes read anew


async def test_a_start_target_goes_up_with_its_rows_in_its_first_frame(sim_server, tmp_path, monkeypatch):
    """Pushed before its first read was in, the screen was painted empty, then again with its rows."""
    from testdeck.screens.resource import ResourceScreen

    app = TestdeckApp(_xyops_alerts(sim_server, tmp_path, monkeypatch, []), save_theme=False, start="x/alerts")
    frames: list[int] = []  # rows in the table, at each frame of the resource screen handed to the terminal
    display = app._display

    def frame(screen, renderable):
        if renderable is not None and isinstance(screen, ResourceScreen):
            frames.append(screen.table.row_count if screen.query(VirtualTable) else -1)
        return display(screen, renderable)

    app._display = frame
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: frames and frames[-1] > 0, what="a frame with the alerts")
        assert frames[0] > 0, frames


@pytest.mark.parametrize("wait", [None, 30.0])
async def test_a_start_target_whose_server_does_not_answer_goes_up_saying_it_reads(sim_server, tmp_path,
                                                                                    monkeypatch, wait):
    """It waits for its first read a quarter of a second at most, and no later than the profiles
    would show (HOME_LATEST, 0.3 s: the `wait` of 30 s): a hung server gets the screen that says
    so, never a blank one, and not the profiles first."""
    from testdeck import app as app_module
    from testdeck.screens.resource import ResourceScreen

    if wait is not None:
        monkeypatch.setattr(app_module, "FIRST_ROWS_WAIT", wait)

    hold = threading.Event()
    app = TestdeckApp(_xyops_alerts(sim_server, tmp_path, monkeypatch, [], hold), save_theme=False, start="x/alerts")
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.query(VirtualTable),
                           timeout=3, what="the alerts screen")
            screen = app.screen
            assert not screen.loaded.is_set() and screen.table.row_count == 0
            assert [type(s) for s in app.screen_stack[1:]] == [ResourceScreen]  # not the profiles first
            await wait_for(pilot, lambda: "reading" in str(screen.query_one("StatusBar").render()),
                           what="the status bar saying it reads")
            hold.set()
            await wait_for(pilot, lambda: screen.table.row_count > 0, what="the alerts once answered")
    finally:
        hold.set()


async def test_a_start_target_parses_textuals_base_css_once(sim_server, tmp_path, monkeypatch):
    """Textual's parse cache keys on a class's depth: Widget's and Screen's default CSS were parsed
    again for the resource screen and again for its table. The default screen gives them their
    deepest tie-breakers at the first parse (StartScreen)."""
    from textual.css.stylesheet import Stylesheet

    from testdeck.screens.resource import ResourceScreen

    parsed: list[str] = []
    parse_rules = Stylesheet._parse_rules

    def spy(self, css, read_from, is_default_rules=False, tie_breaker=0, scope=""):
        if (css, read_from, is_default_rules, tie_breaker, scope) not in self._parse_cache:
            parsed.append(read_from[1])
        return parse_rules(self, css, read_from, is_default_rules, tie_breaker, scope)

    monkeypatch.setattr(Stylesheet, "_parse_rules", spy)
    app = TestdeckApp(_xyops_alerts(sim_server, tmp_path, monkeypatch, []), save_theme=False, start="x/alerts")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.table.row_count,
                       what="the alerts")
        assert "VirtualTable.DEFAULT_CSS" in parsed  # (the spy saw the table's styles)
        assert parsed.count("Widget.DEFAULT_CSS") == 1 and parsed.count("Screen.DEFAULT_CSS") == 1, parsed
