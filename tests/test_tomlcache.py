"""The config and the themes are parsed once per content (tomlcache.py): the same file the next
start comes from the cache without tomllib, a changed one is parsed anew, a broken cache or TOML
is no worse than before, and secrets.toml never goes into it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from testdeck import tomlcache
from testdeck.config import load_config
from testdeck.errors import ConfigError

CONFIG = '[settings]\ntheme = "testdeck-light"\n[profiles.lab]\nservice = "xyops"\nurl = "http://127.0.0.1:1"\n'


@pytest.fixture(autouse=True)
def fresh():
    tomlcache.forget()  # this process's copy: each test reads its own cache dir
    yield
    tomlcache.forget()


def start(path) -> list[str]:
    """A fresh interpreter loads the config and the themes as the console's start does."""
    code = ("import sys\nfrom testdeck.config import load_config\nfrom testdeck.theming import load_themes\n"
            "c = load_config()\nthemes, problems = load_themes()\n"
            "print(c.theme, c.profiles['lab'].url, len(themes), problems, 'tomllib' in sys.modules)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=dict(os.environ, TESTDECK_CONFIG=str(path))).stdout.strip().split(maxsplit=4)


def test_the_next_start_reads_the_same_config_and_themes_without_tomllib(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    first = start(path)
    assert first == ["testdeck-light", "http://127.0.0.1:1", "3", "[]", "True"]  # parsed, then kept
    assert start(path) == first[:4] + ["False"]


def test_a_changed_config_is_parsed_anew(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    assert load_config(path).profiles["lab"].url == "http://127.0.0.1:1"
    path.write_text(CONFIG.replace(":1", ":2"))  # same size, same second: the text decides
    assert load_config(path).profiles["lab"].url == "http://127.0.0.1:2"
    tomlcache.forget()
    path.write_text(CONFIG)
    assert load_config(path).profiles["lab"].url == "http://127.0.0.1:1"


def test_the_cache_is_private_json_and_bounded(tmp_path):
    for port in range(tomlcache.KEEP + 5):
        tomlcache.loads(f'url = "http://h:{port}"\n')
    cache = tomlcache.cache_path()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    kept = json.loads(cache.read_text())
    assert len(kept) == tomlcache.KEEP and json.loads(list(kept.values())[-1]) == {"url": f"http://h:{port}"}


def test_a_broken_cache_is_ignored_and_replaced(tmp_path):
    cache = tomlcache.cache_path()
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    assert tomlcache.loads('a = 1\n') == {"a": 1}
    assert json.loads(cache.read_text())  # written anew


def test_invalid_toml_is_the_same_error_and_is_not_kept(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[profiles.lab\n")
    with pytest.raises(ConfigError, match=r"invalid TOML: .*\(at line 1, column 14\)"):
        load_config(path)
    assert not tomlcache.cache_path().exists()


def test_a_returned_parse_is_the_callers_own(tmp_path):
    first = tomlcache.loads('[t]\nx = [1, 2]\n')
    first["t"]["x"].append(3)
    assert tomlcache.loads('[t]\nx = [1, 2]\n') == {"t": {"x": [1, 2]}}


def test_a_text_with_a_date_is_parsed_each_time_not_kept(tmp_path):
    assert str(tomlcache.loads("when = 2026-11-26T10:00:00Z\n")["when"]) == "2026-11-26 10:00:00+00:00"
    assert not tomlcache.cache_path().exists()


def test_secrets_toml_never_reaches_the_cache(tmp_path, monkeypatch):
    from testdeck import credentials

    secret = "s3cret-value-never-cached"
    path = tmp_path / "secrets.toml"
    path.write_text(f'[secrets]\nlab = "{secret}"\n')
    path.chmod(0o600)
    (tmp_path / "config.toml").write_text(CONFIG)
    load_config()
    assert credentials._from_file("lab") == secret
    assert secret not in tomlcache.cache_path().read_text()


def test_a_text_in_use_outlives_many_newer_ones(tmp_path, monkeypatch):
    """Each `--demo` start parses a new config: the user's own, read at every start, must stay cached."""
    import tomllib

    mine, parsed = 'theme = "mine"\n', []
    real = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text: parsed.append(text) or real(text))
    for port in range(tomlcache.KEEP * 2):
        tomlcache.loads(mine)  # the user's start, between demo starts
        tomlcache.loads(f'url = "http://h:{port}"\n')
    assert parsed.count(mine) == 1
