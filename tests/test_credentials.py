"""Secrets contract: env var, then keyring (with a timeout), then an opt-in 0600 file."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from keyring.backend import KeyringBackend

from testdeck import credentials
from testdeck.credentials import Secret, delete_secret, env_var, get_secret, keyring_warning, set_secret
from testdeck.errors import CredentialError


def secrets_path() -> Path:
    return Path(os.environ["TESTDECK_SECRETS_FILE"])


class HangingKeyring(KeyringBackend):
    priority = 1

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    def get_password(self, service, username):
        time.sleep(self.delay)
        return "too-late"

    def set_password(self, service, username, password):
        time.sleep(self.delay)

    def delete_password(self, service, username):
        time.sleep(self.delay)


class BrokenKeyring(KeyringBackend):
    """A third-party backend failing with something that is not a KeyringError (D-Bus style)."""

    priority = 1

    def get_password(self, service, username):
        raise ConnectionError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service, username, password):
        raise ConnectionError("org.freedesktop.DBus.Error.ServiceUnknown")

    def delete_password(self, service, username):
        raise ConnectionError("org.freedesktop.DBus.Error.ServiceUnknown")


@pytest.mark.parametrize("profile, var", [
    ("demo-xyops.eu", "TESTDECK_SECRET_DEMO_XYOPS_EU"),
    ("prod", "TESTDECK_SECRET_PROD"),
    ("Team B/ci 2", "TESTDECK_SECRET_TEAM_B_CI_2"),
    ("kyaraben_1", "TESTDECK_SECRET_KYARABEN_1"),
])
def test_env_var_name(profile, var):
    assert env_var(profile) == var


def test_env_var_wins_over_keyring(isolated, monkeypatch):
    isolated.store[("testdeck", "demo-xyops.eu")] = "from-keyring"
    monkeypatch.setenv("TESTDECK_SECRET_DEMO_XYOPS_EU", "from-env")
    s = get_secret("demo-xyops.eu")
    assert s.value == "from-env"
    assert s.source == "env TESTDECK_SECRET_DEMO_XYOPS_EU"


def test_keyring_used_with_service_testdeck_and_profile_username(isolated):
    isolated.store[("testdeck", "prod")] = "k-123"
    isolated.store[("other", "prod")] = "wrong"
    s = get_secret("prod")
    assert (s.value, s.source) == ("k-123", "keyring")
    assert get_secret("staging") == Secret(None, "none")
    assert keyring_warning() is None


def test_set_get_delete_round_trip(isolated):
    assert set_secret("prod", "s3cr3t") == "keyring"
    assert isolated.store == {("testdeck", "prod"): "s3cr3t"}
    assert get_secret("prod").value == "s3cr3t"
    delete_secret("prod")
    assert get_secret("prod") == Secret(None, "none")
    assert not secrets_path().exists(), "the file is only ever written when asked for"


def test_no_keyring_backend_says_so_once_and_keeps_working():
    keyring.set_keyring(keyring.backends.fail.Keyring())
    assert keyring_warning() is None
    s = get_secret("prod")
    assert s == Secret(None, "none")
    warning = keyring_warning()
    assert warning and "keyring" in warning.lower()
    assert "\n" not in warning
    get_secret("prod")
    get_secret("other")
    assert keyring_warning() == warning, "the same one sentence, not one per lookup"
    delete_secret("prod")  # does not raise
    with pytest.raises(CredentialError) as info:
        set_secret("prod", "x")
    assert "keyring" in str(info.value)
    # the opt-in file still works on such a machine
    assert set_secret("prod", "filed", insecure_storage=True).startswith("file ")
    assert get_secret("prod").value == "filed"


def test_env_var_works_without_keyring(monkeypatch):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    monkeypatch.setenv("TESTDECK_SECRET_PROD", "e")
    assert get_secret("prod").value == "e"


def test_backend_raising_a_non_keyring_error_is_a_warning():
    keyring.set_keyring(BrokenKeyring())
    assert get_secret("prod") == Secret(None, "none")
    assert "keyring" in (keyring_warning() or "")


def test_hanging_keyring_times_out_with_a_warning(monkeypatch):
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.2)
    keyring.set_keyring(HangingKeyring(delay=1.0))
    start = time.monotonic()
    s = get_secret("prod")
    took = time.monotonic() - start
    assert s == Secret(None, "none")
    assert took < 0.8, f"get_secret waited {took:.2f}s for a keyring that hangs"
    assert keyring_warning() and "keyring" in keyring_warning()
    time.sleep(1.0)  # let the stuck worker finish before the next test


def test_insecure_file_storage_is_0600_and_named_as_source():
    where = set_secret("demo", "file-secret", insecure_storage=True)
    path = secrets_path()
    assert where == f"file {path}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    s = get_secret("demo")
    assert (s.value, s.source) == ("file-secret", f"file {path}")
    set_secret("other", "second", insecure_storage=True)
    assert get_secret("demo").value == "file-secret"
    assert get_secret("other").value == "second"
    delete_secret("demo")
    assert get_secret("demo") == Secret(None, "none")
    assert get_secret("other").value == "second"


def test_keyring_wins_over_file(isolated):
    set_secret("demo", "file-secret", insecure_storage=True)
    isolated.store[("testdeck", "demo")] = "ring"
    assert get_secret("demo").source == "keyring"


def test_world_readable_secrets_file_is_refused():
    path = secrets_path()
    path.write_text('[secrets]\ndemo = "leaky"\n')
    path.chmod(0o644)
    with pytest.raises(CredentialError) as info:
        get_secret("demo")
    msg = str(info.value)
    assert str(path) in msg
    assert "644" in msg and "chmod 600" in msg
    assert "leaky" not in msg
    with pytest.raises(CredentialError):
        set_secret("demo", "again", insecure_storage=True)
    assert "leaky" in path.read_text()


def test_broken_secrets_file_is_a_credential_error_without_the_contents():
    path = secrets_path()
    path.write_text('[secrets]\ndemo = "unterminated-s3cr3t\n')
    path.chmod(0o600)
    with pytest.raises(CredentialError) as info:
        get_secret("demo")
    assert str(path) in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_secrets_file_without_a_secrets_table_is_a_credential_error_not_a_crash():
    path = secrets_path()
    path.write_text('secrets = "oops"\n')
    path.chmod(0o600)
    with pytest.raises(CredentialError):
        get_secret("demo")


def test_repr_never_shows_the_value():
    s = Secret("hunter2-very-secret", "keyring")
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s)
    assert "hunter2" not in f"{s!r} {[s]} {({'s': s})}"
    assert "keyring" in repr(s)
    assert "hunter2" not in repr(Secret("hunter2", "env TESTDECK_SECRET_X"))
    from rich.pretty import pretty_repr  # how Textual's tracebacks show locals

    assert "hunter2" not in pretty_repr(s) and "keyring" in pretty_repr(s)


def test_secret_never_written_to_config(isolated):
    set_secret("prod", "not-in-toml")
    cfg = Path(os.environ["TESTDECK_CONFIG"])
    assert not cfg.exists() or "not-in-toml" not in cfg.read_text()


def test_hanging_keyring_is_not_waited_for_again_on_every_lookup(monkeypatch):
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.3)
    keyring.set_keyring(HangingKeyring(delay=1.5))
    get_secret("a")
    start = time.monotonic()
    for name in ("b", "c", "d", "e", "f"):
        assert get_secret(name) == Secret(None, "none")
    took = time.monotonic() - start
    assert took < 0.3, f"5 lookups behind a stuck keyring took {took:.2f}s"
    time.sleep(1.5)  # the stuck call ends: the keyring is tried again
    keyring.set_keyring(keyring.backends.fail.Keyring())
    credentials.reset_warning()
    get_secret("g")
    assert "no keyring backend" in (keyring_warning() or "")
