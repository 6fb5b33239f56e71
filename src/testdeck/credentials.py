"""Secrets: env var first, then keyring, then an opt-in 0600 file. Never the TOML.

Every lookup says where the secret came from, so `profile list` and the status
bar can tell the user without ever showing the secret itself.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import stat
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from testdeck.config import default_path, locked, secret_env_var, write_private
from testdeck.errors import CredentialError

KEYRING_SERVICE = "testdeck"
KEYRING_TIMEOUT = 3.0  # a locked Secret Service collection can hang forever

_keyring_warning: str | None = None  # set once when the keyring is unusable
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyring")
# profiles open on threads at once: callers queue here, so each call's timeout counts its own
# call and not the wait behind the others
_turn = threading.Lock()
_stuck: concurrent.futures.Future | None = None  # a keyring call that timed out and still runs
_known: set[str] = set()  # every secret handed out: crash reports redact them all


@dataclass(frozen=True)
class Secret:
    value: str | None
    source: str  # "env TESTDECK_SECRET_X", "keyring", "file <path>", "none"

    def __repr__(self) -> str:  # never leak through a repr in a traceback or log
        return f"Secret(source={self.source!r}, value={'***' if self.value else None})"


env_var = secret_env_var


def secrets_file() -> Path:
    """$TESTDECK_SECRETS_FILE, else secrets.toml next to the config in use."""
    env = os.environ.get("TESTDECK_SECRETS_FILE")
    return Path(env) if env else default_path().parent / "secrets.toml"


def known_secrets() -> set[str]:
    """Every secret read or stored by this process (for redacting crash reports)."""
    return set(_known)


def _checked(profile: str, value: str, source: str) -> str:
    """A secret must be sendable as it is: no line break or other control character."""
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise CredentialError(f"profile {profile!r}: its secret (from {source}) contains a line break or control "
                              f"character; store it again without one (value not shown)")
    _known.add(value)
    return value


def keyring_warning() -> str | None:
    """The one plain sentence to show when no keyring backend works (or None)."""
    return _keyring_warning


def _keyring_call(fn, *args):
    """Run a keyring call with a timeout; None and a warning when it cannot work."""
    global _keyring_warning, _stuck
    import keyring
    import keyring.errors

    with _turn:
        if _stuck is not None and not _stuck.done():
            # the single keyring worker is still stuck: do not queue behind it and wait again
            return None, False
        future = _pool.submit(fn, *args)
        try:
            return future.result(timeout=KEYRING_TIMEOUT), True
        except concurrent.futures.TimeoutError:
            _stuck = future
            _keyring_warning = f"keyring did not answer within {KEYRING_TIMEOUT:g}s (locked?); secrets from env vars or the secrets file only"
        except keyring.errors.NoKeyringError:
            _keyring_warning = "no keyring backend on this machine; use TESTDECK_SECRET_<PROFILE> or --insecure-storage"
        except keyring.errors.KeyringError as exc:
            _keyring_warning = f"keyring unusable ({type(exc).__name__}); secrets from env vars or the secrets file only"
        except Exception as exc:  # D-Bus errors and friends from third-party backends
            _keyring_warning = f"keyring unusable ({type(exc).__name__}); secrets from env vars or the secrets file only"
    return None, False


def _read_file() -> dict[str, str]:
    path = secrets_file()
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise CredentialError(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CredentialError(f"{path}: invalid TOML: {exc}") from None
    secrets = data.get("secrets", {})
    if not isinstance(secrets, dict):
        raise CredentialError(f"{path}: [secrets] must be a table")
    return {k: v for k, v in secrets.items() if isinstance(v, str)}


def get_secret(profile: str) -> Secret:
    var = env_var(profile)
    if os.environ.get(var):
        return Secret(_checked(profile, os.environ[var], f"env {var}"), f"env {var}")
    import keyring

    value, ok = _keyring_call(keyring.get_password, KEYRING_SERVICE, profile)
    if ok and value:
        return Secret(_checked(profile, value, "keyring"), "keyring")
    stored = _read_file().get(profile)
    if stored:
        source = f"file {secrets_file()}"
        return Secret(_checked(profile, stored, source), source)
    return Secret(None, "none")


def set_secret(profile: str, value: str, insecure_storage: bool = False) -> str:
    """Store a secret; returns where it went. The file only when asked for."""
    _checked(profile, value, "input")
    if insecure_storage:
        _update_file(lambda data: data.__setitem__(profile, value))
        return f"file {secrets_file()}"
    import keyring

    _, ok = _keyring_call(keyring.set_password, KEYRING_SERVICE, profile, value)
    if not ok:
        raise CredentialError(f"cannot store the secret: {_keyring_warning}")
    return "keyring"


def _update_file(change) -> None:
    """Read-change-write of the secrets file under its lock (concurrent adds all land)."""
    with locked(secrets_file()):
        data = _read_file()
        change(data)
        write_private(secrets_file(), tomli_w.dumps({"secrets": data}))


def delete_secret(profile: str) -> None:
    import keyring
    import keyring.errors

    def _delete(service, name):
        try:
            keyring.delete_password(service, name)
        except keyring.errors.PasswordDeleteError:
            pass

    _keyring_call(_delete, KEYRING_SERVICE, profile)
    if profile in _read_file():
        _update_file(lambda data: data.pop(profile, None))


def reset_warning() -> None:
    """For tests: forget the once-only keyring warning."""
    global _keyring_warning
    _keyring_warning = None
