"""Config contract: profiles in TOML, atomic 0600 writes, clear errors, comments kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from testdeck import config as cfg
from testdeck.config import Config, Profile, default_path, load_config, save_config
from testdeck.errors import ConfigError

FULL = """\
# testdeck profiles for the QA team
# edit with care: ops on-call uses this file

[settings]
refresh_interval = 2.5
theme = "ansi-dark"
log_line_cap = 1234

[profiles.demo-xyops]
service = "xyops"
url = "https://xyops.example.com/"
verify_tls = false
timeout = 7.5
refresh_interval = 1.0

[profiles.xp]
service = "xpresso"
url = "http://xp.local:8080"
ca_bundle = "/etc/ssl/corp.pem"
group = "qa-team"

[profiles.ky]
service = "kyaraben"
url = "https://ky.example.com"
user_id = "u-42"

[profiles.ot]
service = "onetest"
url = "https://ot.example.com"
project_id = "p1"
space_id = "s1"
"""


def config_path() -> Path:
    return Path(os.environ["TESTDECK_CONFIG"])


def write(text: str) -> Path:
    path = config_path()
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_is_an_empty_config():
    path = config_path()
    assert not path.exists()
    conf = load_config()
    assert conf.path == path
    assert conf.profiles == {}
    assert conf.settings == {}
    assert not path.exists(), "loading must not create the file"


def test_testdeck_config_env_is_honoured(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere" / "my.toml"
    other.parent.mkdir()
    other.write_text('[profiles.a]\nservice = "alyvix"\nurl = "http://a:1"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(other))
    assert default_path() == other
    conf = load_config()
    assert conf.path == other
    assert list(conf.profiles) == ["a"]
    save_config(conf)
    assert not (tmp_path / "config.toml").exists()


def test_default_path_without_env_is_platform_config_dir(monkeypatch):
    monkeypatch.delenv("TESTDECK_CONFIG")
    path = default_path()
    assert path.name == "config.toml"
    assert path.parent.name == "testdeck"


def test_full_profiles_are_read():
    write(FULL)
    conf = load_config()
    assert set(conf.profiles) == {"demo-xyops", "xp", "ky", "ot"}
    x = conf.profiles["demo-xyops"]
    assert (x.service, x.url, x.verify_tls, x.timeout, x.refresh_interval) == (
        "xyops", "https://xyops.example.com", False, 7.5, 1.0)
    assert x.fields == {}
    xp = conf.profiles["xp"]
    assert xp.ca_bundle == "/etc/ssl/corp.pem"
    assert xp.verify_tls is True
    assert xp.timeout == cfg.DEFAULT_TIMEOUT
    assert xp.fields == {"group": "qa-team"}
    assert conf.profiles["ky"].fields == {"user_id": "u-42"}
    assert conf.profiles["ot"].fields == {"project_id": "p1", "space_id": "s1"}
    assert [p.name for p in conf.profiles_for("onetest")] == ["ot"]
    assert conf.refresh_for(x) == 1.0
    assert conf.refresh_for(xp) == 2.5


def test_settings_are_read_with_defaults():
    write(FULL)
    conf = load_config()
    assert conf.refresh_interval == 2.5
    assert conf.theme == "ansi-dark"
    assert conf.log_line_cap == 1234
    empty = Config(path=config_path())
    assert empty.refresh_interval == cfg.DEFAULT_REFRESH
    assert empty.theme is None
    assert empty.log_line_cap == cfg.DEFAULT_LOG_LINES


def test_round_trip_keeps_every_field():
    write(FULL)
    first = load_config()
    save_config(first)
    second = load_config()
    assert second.profiles == first.profiles
    assert second.settings == first.settings
    assert second.profiles["xp"].fields["group"] == "qa-team"
    assert second.profiles["ky"].fields["user_id"] == "u-42"


def test_new_profile_round_trip_from_scratch():
    conf = load_config()
    conf.profiles["k"] = Profile(name="k", service="kyaraben", url="https://k.example",
                                 timeout=3.0, fields={"user_id": "abc"})
    save_config(conf)
    again = load_config()
    assert again.profiles["k"] == conf.profiles["k"]
    text = config_path().read_text()
    assert "secret" not in text.lower()


@pytest.mark.parametrize("body, words", [
    ('service = "jenkins"\nurl = "http://x"\n', "service"),
    ('url = "http://x"\n', "service"),
])
def test_a_profile_of_no_known_service_is_a_config_error_naming_the_file(body, words):
    path = write("[profiles.bad]\n" + body)
    with pytest.raises(ConfigError) as info:
        load_config()
    msg = str(info.value)
    assert str(path) in msg
    assert "bad" in msg
    assert words in msg


@pytest.mark.parametrize("body, words", [
    ('service = "xyops"\nurl = "ftp://x"\n', "url"),
    ('service = "xyops"\n', "url"),
    ('service = "xyops"\nurl = "http://x"\ntimeout = "slow"\n', "timeout"),
])
def test_a_bad_value_marks_only_its_profile_broken_naming_the_file(body, words):
    path = write("[profiles.bad]\n" + body + '[profiles.good]\nservice = "xyops"\nurl = "http://g"\n')
    conf = load_config()
    msg = conf.profiles["bad"].broken
    assert str(path) in msg
    assert "'bad'" in msg
    assert words in msg
    assert conf.profiles["good"].broken == ""


def test_broken_toml_is_one_line_naming_file_and_line():
    path = write('[profiles.a]\nservice = "xyops"\nurl = = "http://x"\n')
    with pytest.raises(ConfigError) as info:
        load_config()
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert "line 3" in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_wrong_typed_settings_are_a_config_error_at_load():
    path = write('[settings]\nrefresh_interval = "fast"\n')
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(path) in str(info.value)
    assert "refresh_interval" in str(info.value)


def test_save_is_0600_and_leaves_no_temp_file():
    path = config_path()
    os.umask(0o022)
    save_config(Config(path=path, profiles={"a": Profile("a", "alyvix", "http://a:1")}))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")] == []


def test_save_tightens_a_world_readable_file():
    path = write(FULL)
    path.chmod(0o644)
    save_config(load_config())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_creates_the_folder(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "er" / "config.toml"
    monkeypatch.setenv("TESTDECK_CONFIG", str(path))
    save_config(Config(path=path, profiles={"a": Profile("a", "alyvix", "http://a:1")}))
    assert load_config().profiles["a"].url == "http://a:1"


def test_failed_write_leaves_the_old_file_intact(monkeypatch):
    path = write(FULL)
    conf = load_config()
    conf.profiles.clear()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_config(conf)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == FULL
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == ["config.toml"]


def test_failed_write_midway_leaves_the_old_file_intact(monkeypatch):
    path = write(FULL)
    conf = load_config()

    def boom(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        save_config(conf)
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == FULL
    assert sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock")) == ["config.toml"]


def test_broken_existing_file_is_never_overwritten():
    broken = '# half-edited by hand\n[profiles.a\nservice = "xyops"\n'
    path = write(broken)
    conf = Config(path=path, profiles={"b": Profile("b", "alyvix", "http://b:1")})
    with pytest.raises(ConfigError):
        save_config(conf)
    assert path.read_text(encoding="utf-8") == broken


def test_leading_comment_block_survives_save():
    path = write(FULL)
    conf = load_config()
    conf.profiles["new"] = Profile("new", "alyvix", "http://new:1")
    save_config(conf)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# testdeck profiles for the QA team\n# edit with care: ops on-call uses this file\n")
    again = load_config()
    assert "new" in again.profiles and "xp" in again.profiles
    save_config(again)
    assert path.read_text(encoding="utf-8") == text, "repeated saves are stable"


def test_unknown_top_level_tables_survive_save():
    path = write(FULL + '\n[aliases]\nprod = "demo-xyops"\n')
    save_config(load_config())
    assert "[aliases]" in path.read_text(encoding="utf-8")
    import tomllib
    assert tomllib.loads(path.read_text(encoding="utf-8"))["aliases"] == {"prod": "demo-xyops"}


def test_a_save_writes_no_defaults_into_profiles_it_does_not_mean_to_change(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[profiles.ot]\nservice = "onetest"\nurl = "http://ot"\n\n'
                    '[profiles.ky]\nservice = "kyaraben"\nurl = "http://ky"\nuser_id = "u"\n')
    # what picking a OneTest project does: one field of one profile
    cfg.update_config(path, lambda fresh: fresh.profiles["ot"].fields.__setitem__("project_id", "3600"))
    text = path.read_text()
    assert 'project_id = "3600"' in text
    assert "verify_tls" not in text and "timeout" not in text  # were written into both profiles
    loaded = load_config(path)
    assert loaded.profiles["ky"].verify_tls is True and loaded.profiles["ky"].timeout == cfg.DEFAULT_TIMEOUT
