"""The app shell: demo, navigation by key and palette, themes, NO_COLOR, keyring notice."""

from __future__ import annotations

import httpx
import keyring
import keyring.backends.fail
import pytest
from conftest import wait_for

from testdeck.app import TestdeckApp
from testdeck.config import Config, load_config
from testdeck.demo import start_demo
from testdeck.screens.home import HomeScreen
from testdeck.screens.resource import ResourceScreen
from testdeck.services import ORDER
from testdeck.theming import load_themes
from testdeck.widgets.table import VirtualTable


@pytest.fixture
def demo():
    d = start_demo()
    yield d
    d.stop()


async def test_demo_starts_five_simulators_that_answer(demo):
    assert sorted(p.service for p in demo.config.profiles.values()) == sorted(ORDER)
    async with httpx.AsyncClient() as client:
        for profile in demo.config.profiles.values():
            assert profile.url.startswith("http://127.0.0.1:")
            response = await client.get(profile.url + "/")
            assert response.status_code < 500  # something real answers on every port
    assert "TESTDECK_SECRET_DEMO_XYOPS" in __import__("os").environ


def test_demo_stop_cleans_up():
    d = start_demo()
    folder, name = d.folder, "TESTDECK_SECRET_DEMO_XYOPS"
    d.stop()
    assert not folder.exists() and name not in __import__("os").environ


async def test_home_pings_every_profile_and_keys_open_services(demo):
    app = TestdeckApp(demo.config, save_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_for(pilot, lambda: len(home.health) == 5 and all(v.startswith("ok") for v in home.health.values()),
                       timeout=10, what=f"all profiles healthy: {home.health}")
        await pilot.press("2")  # xyops
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="xyops screen")
        assert app.screen.resource.name == "alerts"
        await pilot.press("5")  # kyaraben replaces it; esc goes back through the history, then home
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen)
                       and app.screen.session.service.name == "kyaraben", what="kyaraben screen")
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: app.screen.resource.name == "projects", what="next resource")
        await pilot.press("escape")
        await wait_for(pilot, lambda: getattr(app.screen, "resource", None) is not None
                       and app.screen.resource.name == "avms", what="back to VMs")
        await pilot.press("escape")
        await wait_for(pilot, lambda: getattr(app.screen, "resource", None) is not None
                       and app.screen.resource.name == "alerts", what="back to alerts")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="home")
        assert len(app.screen_stack) == 2


async def test_palette_jumps_to_a_resource_of_a_profile(demo):
    app = TestdeckApp(demo.config, save_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon")
        await pilot.pause(0.2)
        await pilot.press(*"alerts (demo-xyops)")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen)
                       and app.screen.query_one(VirtualTable).row_count == 6, what="alerts via palette")


def test_shipped_themes_load():
    from testdeck.theming import check

    themes, problems = load_themes()
    names = {t.name for t in themes}
    assert {"testdeck-dark", "testdeck-light", "testdeck-high-contrast"} <= names and not problems
    for theme in themes:  # (what load_themes checks in a user's file only, at start)
        check(theme)


async def test_theme_change_is_saved_to_the_config(tmp_path):
    config = Config(path=tmp_path / "config.toml")
    app = TestdeckApp(config)
    async with app.run_test() as pilot:
        assert app.theme == "testdeck-dark"
        app.theme = "testdeck-high-contrast"
        await pilot.pause(0.1)
    assert load_config(tmp_path / "config.toml").theme == "testdeck-high-contrast"
    again = TestdeckApp(load_config(tmp_path / "config.toml"))
    assert again.theme == "testdeck-high-contrast"


@pytest.mark.parametrize("name, mode", [(None, "-dark-mode"), ("testdeck-high-contrast", "-dark-mode"),
                                        ("testdeck-light", "-light-mode")])
async def test_the_configured_theme_colours_the_first_screen(tmp_path, name, mode):
    """A dark theme is set at start without Textual's watcher (its re-parse of the whole
    stylesheet cost every start ~5 ms): its colours must still be the ones used."""
    config = Config(path=tmp_path / "config.toml", settings={"theme": name} if name else {})
    app = TestdeckApp(config, save_theme=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        theme = app.get_theme(name or "testdeck-dark")
        assert app.theme == theme.name and mode in app.classes and f"-theme-{theme.name}" in app.classes
        assert app.screen.styles.background.hex.upper() == theme.background.upper()


def test_user_theme_from_config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TESTDECK_CONFIG", str(tmp_path / "config.toml"))  # themes/ beside the config in use
    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "mine.toml").write_text('name = "mine"\nprimary = "#ff0000"\ndark = true\n')
    (tmp_path / "themes" / "broken.toml").write_text('name = "broken"\nprimary = \n')
    themes, problems = load_themes()
    assert "mine" in {t.name for t in themes}
    assert len(problems) == 1 and "broken.toml" in problems[0]


def test_a_theme_that_replaces_another_or_has_a_misspelt_field_is_said(tmp_path, monkeypatch):
    """Both were silent: a user file named like the shipped default replaced it, two files of one
    name left the later one, and a misspelt field (`primay`) was dropped without a word."""
    monkeypatch.setenv("TESTDECK_CONFIG", str(tmp_path / "config.toml"))
    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "a.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    (folder / "b.toml").write_text('name = "mine"\nprimary = "#0000ff"\n')
    (folder / "dupe.toml").write_text('name = "testdeck-dark"\nprimary = "#00ff00"\n')
    (folder / "typo.toml").write_text('name = "typo"\nprimary = "#00ff00"\nsecondray = "#0000ff"\n')
    (folder / "no-primary.toml").write_text('name = "np"\nprimay = "#00ff00"\n')
    themes, problems = load_themes()
    assert [t.primary for t in themes if t.name == "mine"][-1] == "#0000ff"  # the later file, as before
    assert any(f"{folder / 'b.toml'}: 'mine' replaces the theme of that name in {folder / 'a.toml'}" in p
               for p in problems), problems
    assert any("dupe.toml: 'testdeck-dark' replaces the theme of that name in" in p and "testdeck-dark.toml" in p
               for p in problems), problems
    assert any("typo.toml: unknown field 'secondray' (secondary?); ignored" in p for p in problems), problems
    assert any("no-primary.toml: unknown field 'primay' (primary?)" in p for p in problems), problems
    assert "typo" in {t.name for t in themes}  # still used, with what it has right


def test_no_color_is_respected(monkeypatch, tmp_path):
    monkeypatch.setenv("NO_COLOR", "1")
    app = TestdeckApp(Config(path=tmp_path / "c.toml"), save_theme=False)
    assert app.no_color


async def test_without_colour_the_focused_no_is_the_button_that_stands_out(monkeypatch, tmp_path):
    """NO_COLOR turned the error variant's red box into a light grey one that outshone the focused
    default, No: the eye read Delete as selected."""
    from textual.widgets import Button

    from testdeck.widgets.dialogs import ConfirmScreen

    monkeypatch.setenv("NO_COLOR", "1")
    app = TestdeckApp(Config(path=tmp_path / "c.toml"), save_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ConfirmScreen("delete alert 'x'?"))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen.query(Button),
                       what="the question")
        await pilot.pause()
        no, yes = app.screen.query_one("#no", Button), app.screen.query_one("#yes", Button)
        assert no.has_focus
        assert yes.styles.background == no.styles.background  # only focus tells them apart


async def test_missing_keyring_is_said_once_and_the_console_works(demo):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    from testdeck.config import Profile

    xy = demo.config.profiles["demo-xyops"]
    demo.config.profiles["jump-host"] = Profile("jump-host", "xyops", xy.url)  # no env var: keyring is asked
    app = TestdeckApp(demo.config, save_theme=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        notices = [n for n in app.notices if "keyring" in n]
        assert len(notices) == 1
        assert "keyring" in str(app.screen.query_one("#notice").render())
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen)
                       and app.screen.query_one(VirtualTable).row_count == 6, what="alerts with env secret")
