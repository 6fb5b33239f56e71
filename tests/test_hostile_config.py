"""Config and secrets under pressure: concurrent saves, symlinks, unsafe names, bad values,
no keyring, secrets beside --config; broken profiles and crashes in the TUI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from conftest import wait_for
from keyring.backends.fail import Keyring as NoKeyring

from testdeck import cli, credentials
from testdeck.config import Config, Profile, load_config, save_config, update_config
from testdeck.credentials import env_var
from testdeck.errors import ConfigError, CredentialError

CONFIG = "config.toml"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- saves re-read, lock, keep symlinks -------------------------------------------------------

def test_twelve_concurrent_profile_adds_all_land(tmp_path):
    path = tmp_path / CONFIG
    env = {**os.environ, "TESTDECK_CONFIG": str(path)}
    procs = [subprocess.Popen([sys.executable, "-m", "testdeck", "profile", "add", f"p{i}", "--service", "alyvix",
                               "--url", f"http://h{i}:1", "--no-secret"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(12)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 12
    assert sorted(load_config(path).profiles) == sorted(f"p{i}" for i in range(12))


def test_a_theme_save_keeps_a_profile_added_meanwhile(tmp_path):
    from types import SimpleNamespace

    from testdeck.app import TestdeckApp

    path = tmp_path / CONFIG
    save_config(Config(path=path, profiles={"a": Profile("a", "alyvix", "http://a:1")}))
    app = TestdeckApp(load_config(path))  # its copy goes stale below
    update_config(path, lambda c: c.profiles.__setitem__("b", Profile("b", "alyvix", "http://b:1")))
    app._theme_changed(SimpleNamespace(name="testdeck-light"))
    fresh = load_config(path)
    assert sorted(fresh.profiles) == ["a", "b"] and fresh.theme == "testdeck-light"


def test_a_symlinked_config_stays_a_symlink(tmp_path):
    real = tmp_path / "dotfiles" / "testdeck.toml"
    real.parent.mkdir()
    save_config(Config(path=real, profiles={"a": Profile("a", "alyvix", "http://a:1")}))
    link = tmp_path / CONFIG
    link.symlink_to(real)
    update_config(link, lambda c: c.settings.__setitem__("theme", "x"))
    assert link.is_symlink() and load_config(real).theme == "x"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_a_broken_file_is_never_overwritten(tmp_path):
    path = write(tmp_path / CONFIG, "[profiles.a\n")
    with pytest.raises(ConfigError):
        update_config(path, lambda c: None)
    assert path.read_text() == "[profiles.a\n"


# --- names, values ---------------------------------------------------------------------------

@pytest.mark.parametrize("names", [("prod-xyops", "prod_xyops"), ("prod.xyops", "PROD-XYOPS")])
def test_names_whose_secret_variables_collide_are_refused_naming_both(tmp_path, names):
    a, b = names
    path = write(tmp_path / CONFIG, f'[profiles."{a}"]\nservice = "alyvix"\nurl = "http://a:1"\n'
                                    f'[profiles."{b}"]\nservice = "alyvix"\nurl = "http://b:1"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert a in str(info.value) and b in str(info.value) and env_var(a) in str(info.value)


def test_profile_add_refuses_a_colliding_or_unsafe_name(tmp_path, capsys):
    assert cli.main(["profile", "add", "prod-xy", "--service", "alyvix", "--url", "http://a:1", "--no-secret"]) == 0
    assert cli.main(["profile", "add", "prod_xy", "--service", "alyvix", "--url", "http://b:1", "--no-secret"]) == 2
    err = capsys.readouterr().err
    assert "'prod-xy'" in err and "'prod_xy'" in err
    for bad in ("prød", "a b", "_lead", "x" * 65, "evil\x1b]0;t\x07"):
        assert cli.main(["profile", "add", bad, "--service", "alyvix", "--url", "http://a:1", "--no-secret"]) == 2
        assert "not allowed" in capsys.readouterr().err
    assert list(load_config().profiles) == ["prod-xy"]


@pytest.mark.parametrize("line, message", [
    ("timeout = 0", "timeout must be more than 0"),
    ("timeout = -3", "timeout must be more than 0"),
    ("refresh_interval = 0.2", "refresh_interval must be at least 1"),
    ("max_body_mb = 0", "max_body_mb must be more than 0"),
    ('timeout = "fast"', "timeout must be a number"),
])
def test_bad_timeouts_intervals_and_caps_are_refused(tmp_path, line, message):
    path = write(tmp_path / CONFIG, f'[profiles.a]\nservice = "alyvix"\nurl = "http://a:1"\n{line}\n')
    assert message in load_config(path).profiles["a"].broken


def test_settings_refresh_under_a_second_and_a_missing_url_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="refresh_interval must be at least 1"):
        load_config(write(tmp_path / CONFIG, "[settings]\nrefresh_interval = 0.5\n"))
    assert "url is missing" in load_config(write(tmp_path / CONFIG, '[profiles.a]\nservice = "alyvix"\n')
                                           ).profiles["a"].broken


def test_max_body_is_read_and_written(tmp_path):
    path = write(tmp_path / CONFIG, '[profiles.a]\nservice = "alyvix"\nurl = "http://a:1"\nmax_body_mb = 512\n'
                                    'timeout = 3\nrefresh_interval = 2.5\n')
    assert load_config(path).profiles["a"].max_body_mb == 512
    update_config(path, lambda c: None)
    # a save writes numbers as they were: not 512.0 and 3.0 (L4)
    assert {"max_body_mb = 512", "timeout = 3", "refresh_interval = 2.5"} <= set(path.read_text().splitlines())


# --- secrets ----------------------------------------------------------------------------------

def test_a_secret_with_a_line_break_is_refused_naming_the_profile_not_the_value(monkeypatch):
    monkeypatch.setenv(env_var("lab"), "abc\r\nX-Injected: 1")
    with pytest.raises(CredentialError) as info:
        credentials.get_secret("lab")
    assert "'lab'" in str(info.value) and "abc" not in str(info.value)


def test_no_keyring_saves_neither_profile_nor_secret_and_offers_the_file(tmp_path, monkeypatch, capsys):
    keyring.set_keyring(NoKeyring())
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("s3cret-value\n"))
    code = cli.main(["profile", "add", "lab", "--service", "alyvix", "--url", "http://a:1", "--secret-stdin"])
    err = capsys.readouterr().err
    assert code == 1 and "--insecure-storage" in err and "not saved" in err
    assert load_config().profiles == {}


def test_secrets_file_goes_next_to_the_config_given(tmp_path, monkeypatch):
    monkeypatch.delenv("TESTDECK_SECRETS_FILE")
    other = tmp_path / "elsewhere" / CONFIG
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("s3cret-value\n"))
    assert cli.main(["--config", str(other), "profile", "add", "lab", "--service", "alyvix", "--url",
                     "http://a:1", "--secret-stdin", "--insecure-storage"]) == 0
    assert (other.parent / "secrets.toml").exists()
    assert stat.S_IMODE((other.parent / "secrets.toml").stat().st_mode) == 0o600


# --- the TUI: broken profiles, a 0644 secrets file, crashes ---------------------------------------

async def test_a_profile_that_cannot_open_is_broken_and_the_others_work(deck, monkeypatch):
    from testdeck.screens.home import HomeScreen

    app, _, _ = deck("xyops", start="home")
    app.start = None
    app.config.profiles["bad"] = Profile("bad", "xyops", "http://127.0.0.1:9")
    monkeypatch.setenv(env_var("bad"), "clé-non-ascii-0123")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen)
                       and app.screen.health.get("test-xyops", "").startswith("ok")
                       and "bad" in app.screen.health, what="health")
        assert app.screen.health["bad"].startswith("broken · ") and "non-ASCII" in app.screen.health["bad"]
        assert "clé" not in app.screen.health["bad"]
        assert app.is_running


async def test_a_world_readable_secrets_file_is_a_clean_line_not_a_crash(deck, monkeypatch):
    from testdeck.screens.home import HomeScreen

    app, _, _ = deck("xyops")
    monkeypatch.delenv(env_var("test-xyops"))  # no env var, no keyring entry: the file is read
    app.start = None
    secrets = Path(os.environ["TESTDECK_SECRETS_FILE"])
    secrets.write_text('[secrets]\nother = "x"\n')
    secrets.chmod(0o644)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen) and "test-xyops" in app.screen.health,
                       what="health")
        assert "chmod 600" in app.screen.health["test-xyops"]
        assert app.is_running


async def test_the_tui_crash_report_has_no_locals_and_no_secret(deck, monkeypatch, capsys):
    app, _, _ = deck("xyops")
    key = os.environ[env_var("test-xyops")]

    def explode(self):
        api_key = key  # noqa: F841  (a local the default crash report would print)
        raise RuntimeError(f"boom {key}")

    monkeypatch.setattr(type(app), "action_explode", explode, raising=False)
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            app.call_later(app.run_action, "explode")
            await pilot.pause(0.5)
    assert app.return_code == 1  # and the CLI returns it: a crash is not a success
    text = capsys.readouterr().err  # Textual prints its crash report to stderr on the way out
    assert "RuntimeError: boom ***" in text and key not in text
    assert "─ locals ─" not in text


# --- profile keys checked: a bad one marks its profile broken, fail closed --------------------------

@pytest.mark.parametrize("line, words", [
    ("readonly = true", "unknown key 'readonly' (read_only?)"),
    ('read_only = "true"', "read_only must be true or false"),
    ('read_only = "yes"', "read_only must be true or false"),
    ("read_only = 1", "read_only must be true or false"),
    ('verify_tls = "false"', "verify_tls must be true or false"),
    ("verify_ssl = false", "unknown key 'verify_ssl' (verify_tls?)"),
    ("timout = 5", "unknown key 'timout' (timeout?)"),
    ("environment = true", "environment must be a string"),
    ('label = ["a"]', "label must be a string"),
    ("ca_bundle = 5", "ca_bundle must be the path"),
    ('project_id = ["x"]', "project_id must be a string or a number"),
    ('timeout = "3"', "timeout must be a number"),
    ("timeout = nan", "timeout must be a number"),
    ('user_id = "José"', "user_id is sent in an HTTP header"),
    ('group = " qa"', "group is sent in an HTTP header"),
])
def test_a_profile_key_that_cannot_be_used_marks_that_profile_broken(tmp_path, line, words):
    path = write(tmp_path / CONFIG, f'[profiles.a]\nservice = "xyops"\nurl = "http://a:1"\n{line}\n'
                                    f'[profiles.b]\nservice = "xyops"\nurl = "http://b:1"\n')
    conf = load_config(path)
    assert words in conf.profiles["a"].broken and str(path) in conf.profiles["a"].broken
    assert conf.profiles["b"].broken == ""
    update_config(path, lambda c: None)  # a save keeps the broken table as it was: never "fixed" by a drop
    assert words in load_config(path).profiles["a"].broken


@pytest.mark.parametrize("line, leaked", [
    ('secret = "Hunter2-secret"', "Hunter2"),
    ('url = "http://admin:Hunter2pw@h:1"', "Hunter2"),
])
def test_a_secret_in_the_config_is_refused_and_never_shown(tmp_path, line, leaked):
    body = line if line.startswith("url") else f'url = "http://h:1"\n{line}'
    conf = load_config(write(tmp_path / CONFIG, f'[profiles.a]\nservice = "xyops"\n{body}\n'))
    broken = conf.profiles["a"]
    assert broken.broken and "secret" in broken.broken and leaked not in broken.broken
    assert leaked not in broken.url


def test_unknown_keys_and_tables_are_noted_with_a_close_match_and_kept(tmp_path):
    path = write(tmp_path / CONFIG, '[settings]\nrefresh = 2\n[setting]\ntheme = "x"\n[profile.lab]\nservice = "xyops"\n'
                                    '[profiles.a]\nservice = "xyops"\nurl = "http://a:1"\nnotes = "n"\n'
                                    '[profiles.a.extra]\nx = 1\n[keys]\n')
    conf = load_config(path)
    text = "\n".join(conf.warnings)
    assert "[settings]: unknown key 'refresh' (refresh_interval?)" in text
    assert "unknown table 'setting' (settings?)" in text and "unknown table 'profile' (profiles?)" in text
    assert "profile 'a': unknown key 'extra'" in text and "profile 'a': unknown key 'notes'" in text
    assert "'keys'" not in text  # [keys] is the console's key map: known
    assert conf.profiles["a"].broken == "" and conf.profiles["a"].fields["extra"] == {"x": 1}


async def test_a_profile_with_a_bad_value_is_broken_in_the_console_and_the_others_work(deck, tmp_path, monkeypatch):
    from testdeck.screens.home import HomeScreen

    monkeypatch.setattr(credentials, "_known", set())  # short secrets other tests of this process made

    app, _, _ = deck("xyops", start="home")
    app.start = None
    bad = load_config(write(tmp_path / "other.toml", '[profiles.dead]\nservice = "xpresso"\n'
                                                     'url = "http://127.0.0.1:9"\ntimeout = "3"\n')).profiles["dead"]
    app.config.profiles["dead"] = bad
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen)
                       and app.screen.health.get("test-xyops", "").startswith("ok")
                       and "dead" in app.screen.health, what="health")
        assert app.screen.health["dead"].startswith("broken · ") and "timeout must be a number" in app.screen.health["dead"]
        assert app.is_running


async def test_a_broken_session_is_opened_again_once_the_secrets_file_is_fixed(deck, monkeypatch):
    from testdeck.screens.home import HomeScreen

    app, _, _ = deck("xyops", start="home")
    key = os.environ.pop(env_var("test-xyops"))
    monkeypatch.delenv(env_var("test-xyops"), raising=False)
    app.start = None
    secrets = Path(os.environ["TESTDECK_SECRETS_FILE"])
    secrets.write_text(f'[secrets]\n"test-xyops" = "{key}"\n')
    secrets.chmod(0o644)
    async with app.run_test(size=(140, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen) and "test-xyops" in app.screen.health,
                       what="health")
        assert "chmod 600" in app.screen.health["test-xyops"]
        secrets.chmod(0o600)  # what the message says to run
        await pilot.press("t")
        await wait_for(pilot, lambda: app.screen.health["test-xyops"].startswith("ok"), what="reopened")


def test_a_broken_profile_reads_refused_before_sending_never_no_response(tmp_path):
    import asyncio

    from testdeck.errors import ApiError
    from testdeck.session import ProfileSession

    conf = load_config(write(tmp_path / CONFIG, '[profiles.a]\nservice = "xyops"\nurl = "http://a:1"\ntimeout = "3"\n'))
    session = ProfileSession.open_or_broken(conf, conf.profiles["a"])
    with pytest.raises(ApiError) as info:
        asyncio.run(session.client.ping())
    assert "refused before sending: profile broken:" in str(info.value) and "no response" not in str(info.value)
    with pytest.raises(ConfigError, match="timeout must be a number"):
        ProfileSession.open(conf, conf.profiles["a"])


def test_a_secret_with_a_space_at_either_end_is_refused_when_loaded(monkeypatch):
    monkeypatch.setenv(env_var("lab"), " abc-key")
    with pytest.raises(CredentialError, match="starts or ends with a space") as info:
        credentials.get_secret("lab")
    assert "abc-key" not in str(info.value)


# --- themes: a bad one is a notice and the default theme, never a crash ------------------------------

def test_a_theme_with_a_bad_colour_is_a_notice_and_the_console_starts(tmp_path, monkeypatch):
    from testdeck.app import TestdeckApp
    from testdeck.theming import load_themes

    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "halfbad.toml").write_text('name = "halfbad"\nprimary = "notacolour"\n')
    (tmp_path / "themes" / "wrongtype.toml").write_text('name = "wrongtype"\nprimary = "#112233"\ndark = "yes"\n')
    themes, problems = load_themes()  # themes/ beside $TESTDECK_CONFIG (tmp_path/config.toml)
    assert {"halfbad", "wrongtype"}.isdisjoint(t.name for t in themes)
    assert any("halfbad.toml" in p and "notacolour" in p for p in problems) and len(problems) == 2
    app = TestdeckApp(Config(path=tmp_path / CONFIG, settings={"theme": "halfbad"}), save_theme=False)
    assert app.theme == "testdeck-dark"
    assert any("'halfbad' not found" in n for n in app.notices)


# --- a keyring that never answers holds up nothing ----------------------------------------------------

def test_a_keyring_that_never_answers_neither_hangs_the_cli_nor_its_exit(tmp_path):
    import time

    path = write(tmp_path / CONFIG, '[profiles.a]\nservice = "xyops"\nurl = "http://127.0.0.1:9"\n')
    env = {**os.environ, "TESTDECK_CONFIG": str(path), "PYTHON_KEYRING_BACKEND": "forever_keyring.Forever",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "testdeck", "profile", "list"], env=env, capture_output=True,
                          text=True, timeout=60)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "did not answer within 3s" in done.stderr
    assert took < 3 + 5, f"profile list took {took:.1f}s with a keyring that never answers"  # 3 s, then exit


def test_a_stuck_keyring_call_leaves_no_thread_that_holds_the_exit(monkeypatch):
    import threading
    import time

    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.1)
    release = threading.Event()
    try:
        assert credentials._keyring_call(release.wait) == (None, False)
        stuck = [t for t in threading.enumerate() if t.is_alive() and t.name.startswith("keyring")]
        assert stuck and all(t.daemon for t in stuck)  # the interpreter does not wait for them at exit
    finally:
        release.set()
        time.sleep(0.05)


async def test_prod_red_wins_over_a_profile_colour(deck):
    from textual.color import Color

    from testdeck.screens.resource import ResourceScreen
    from testdeck.widgets.statusbar import StatusBar

    app, _, _ = deck("xyops")
    next(iter(app.config.profiles.values())).fields.update(environment="prod", color="#00af00")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.loaded.is_set(),
                       what="resource screen")
        red = Color.parse(app.current_theme.error)
        for widget in (app.screen.query_one(StatusBar), app.screen.query_one("#titlebar")):
            got = widget.styles.background.rgb  # the theme's red (give or take a rounding), not the profile's green
            assert all(abs(a - b) < 8 for a, b in zip(got, red.rgb)), (widget, got, red.rgb)


def test_an_alyvix_v0_profile_never_sends_its_secret():
    from testdeck.services.alyvix.client import Alyvix

    assert "Authorization" not in Alyvix(Profile("a", "alyvix", "http://h:1/v0"), "eyJhb.jwt")._http.headers
    assert Alyvix(Profile("a", "alyvix", "https://h:1"), "eyJhb.jwt")._http.headers["Authorization"] == \
        "Bearer eyJhb.jwt"


@pytest.mark.parametrize("text, words", [
    ('lab = "k"\n', "outside the \\[secrets\\] table"),
    ('[secrets]\nlab = 1234\n', "must be a string"),
])
def test_a_secrets_file_entry_that_cannot_be_read_is_said_not_ignored(text, words):
    path = Path(os.environ["TESTDECK_SECRETS_FILE"])
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(CredentialError, match=words) as info:
        credentials.get_secret("lab")
    assert "1234" not in str(info.value)
    assert credentials.get_secret("other").value is None  # another profile is not held up by it


def test_profile_remove_says_when_the_keyring_entry_may_be_left(tmp_path, capsys):
    from keyring.backend import KeyringBackend

    class Locked(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            pass

        def delete_password(self, service, username):
            raise ConnectionError("org.freedesktop.DBus.Error.AccessDenied")

    assert cli.main(["profile", "add", "w", "--service", "alyvix", "--url", "http://a:1", "--no-secret"]) == 0
    keyring.set_keyring(Locked())
    assert cli.main(["profile", "remove", "w"]) == 1
    out = capsys.readouterr()
    assert "removed w" in out.out and "keyring entry" in out.err and "ConnectionError" in out.err
    assert "w" not in load_config().profiles


async def test_r_on_a_broken_profiles_screen_opens_it_again_once_fixed(deck, monkeypatch):
    from testdeck.screens.resource import ResourceScreen

    app, _, _ = deck("xyops")
    key = os.environ[env_var("test-xyops")]
    monkeypatch.delenv(env_var("test-xyops"))
    secrets = Path(os.environ["TESTDECK_SECRETS_FILE"])
    secrets.write_text(f'[secrets]\n"test-xyops" = "{key}"\n')
    secrets.chmod(0o644)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.error is not None,
                       what="stale")
        screen = app.screen
        assert "chmod 600" in screen.error.message and "no response" not in str(screen.error)
        secrets.chmod(0o600)
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.error is None and screen.rows, what="rows after the fix")
        assert not screen.session.broken
