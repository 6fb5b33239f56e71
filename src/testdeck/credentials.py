"""Secrets: env var first, then keyring, then an opt-in 0600 file. Never the TOML.

Every lookup says where the secret came from, so `profile list` and the status
bar can tell the user without ever showing the secret itself.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec

from testdeck.config import default_path, locked, secret_env_var, write_private
from testdeck.errors import CredentialError

KEYRING_SERVICE = "testdeck"
KEYRING_TIMEOUT = 3.0  # a locked Secret Service collection can hang forever

_keyring_warning: str | None = None  # set once when the keyring is unusable
# profiles open on threads at once: callers queue here, so each call's timeout counts its own
# call and not the wait behind the others
_turn = threading.Lock()
_stuck: threading.Thread | None = None  # a keyring call that timed out and still runs
_known: set[str] = set()  # every secret handed out: crash reports redact them all


class Secret(msgspec.Struct, frozen=True):
    value: str | None
    source: str  # "env TESTDECK_SECRET_X", "keyring", "file <path>", "none"

    def __repr__(self) -> str:  # never leak through a repr in a traceback or log
        return f"Secret(source={self.source!r}, value={'***' if self.value else None})"

    def __rich_repr__(self) -> Iterator[tuple[str, str | None]]:  # rich (Textual's tracebacks' locals) too
        yield "source", self.source
        yield "value", "***" if self.value else None


env_var = secret_env_var


def secrets_file() -> Path:
    """$TESTDECK_SECRETS_FILE, else secrets.toml next to the config in use."""
    env = os.environ.get("TESTDECK_SECRETS_FILE")
    return Path(env) if env else default_path().parent / "secrets.toml"


def known_secrets() -> set[str]:
    """Every secret read or stored by this process (for redacting crash reports)."""
    return set(_known)


def _checked(profile: str, value: str, source: str) -> str:
    """A secret must be sendable as it is in a header: no line break or other control character,
    nothing but ASCII, no space at either end."""
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise CredentialError(f"profile {profile!r}: its secret (from {source}) contains a line break or control "
                              f"character; store it again without one (value not shown)")
    if not value.isascii():
        raise CredentialError(f"profile {profile!r}: its secret (from {source}) has a non-ASCII character, which "
                              f"an HTTP header cannot carry; store it again (value not shown)")
    if value != value.strip():
        raise CredentialError(f"profile {profile!r}: its secret (from {source}) starts or ends with a space, which "
                              f"an HTTP header cannot carry; store it again without (value not shown)")
    _known.add(value)
    return value


def keyring_warning() -> str | None:
    """The one plain sentence to show when no keyring backend works (or None)."""
    return _keyring_warning


def _keyring_call(fn, *args):
    """Run a keyring call with a timeout; None and a warning when it cannot work.

    The call runs on a daemon thread of its own: one that never returns (a locked collection)
    is left behind, and neither holds up the next lookup nor keeps the process from exiting
    (a thread pool's workers are joined at exit: `testdeck get` printed its rows, then hung)."""
    global _keyring_warning, _stuck
    import keyring.errors

    with _turn:
        if _stuck is not None and _stuck.is_alive():
            # the last keyring call is still stuck: do not start another and wait again
            return None, False
        box: dict[str, object] = {}

        def run() -> None:
            try:
                box["value"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001  (handed to the caller below)
                box["error"] = exc

        worker = threading.Thread(target=run, name="keyring", daemon=True)
        worker.start()
        worker.join(KEYRING_TIMEOUT)
        if worker.is_alive():
            _stuck = worker
            _keyring_warning = f"keyring did not answer within {KEYRING_TIMEOUT:g}s (locked?); secrets from env vars or the secrets file only"
            return None, False
        exc = box.get("error")
        if exc is None:
            return box.get("value"), True
        if isinstance(exc, keyring.errors.NoKeyringError):
            _keyring_warning = "no keyring backend on this machine; use TESTDECK_SECRET_<PROFILE> or --insecure-storage"
        elif isinstance(exc, Exception):  # KeyringError, D-Bus errors and friends from third-party backends
            _keyring_warning = f"keyring unusable ({type(exc).__name__}); secrets from env vars or the secrets file only"
        else:
            raise exc  # type: ignore[misc]
    return None, False


def _toml(path: Path) -> dict[str, object]:
    import tomllib  # (only with a secrets file: a console on env vars or a keyring reads none)

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CredentialError(f"{path}: invalid TOML: {exc}") from None


def _read_file() -> dict[str, object]:
    path = secrets_file()
    if not path.exists():
        return {}
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise CredentialError(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
    data = _toml(path)
    secrets = data.get("secrets", {})
    if not isinstance(secrets, dict):
        raise CredentialError(f"{path}: [secrets] must be a table")
    return secrets


def _from_file(profile: str) -> str | None:
    path = secrets_file()
    secrets = _read_file()
    value = secrets.get(profile)
    if value is None and path.exists() and profile in _toml(path):
        raise CredentialError(f"{path}: the secret for {profile!r} is outside the [secrets] table; "
                              f"put it under [secrets] (value not shown)")
    if value is not None and not isinstance(value, str):
        raise CredentialError(f"{path}: the secret for {profile!r} must be a string in quotes (value not shown)")
    return value or None


def get_secret(profile: str) -> Secret:
    var = env_var(profile)
    if os.environ.get(var):
        return Secret(_checked(profile, os.environ[var], f"env {var}"), f"env {var}")
    import keyring

    value, ok = _keyring_call(keyring.get_password, KEYRING_SERVICE, profile)
    if ok and value:
        return Secret(_checked(profile, value, "keyring"), "keyring")
    stored = _from_file(profile)
    if stored:
        source = f"file {secrets_file()}"
        return Secret(_checked(profile, stored, source), source)
    return Secret(None, "none")


def set_secret(profile: str, value: str, insecure_storage: bool = False) -> str:
    """Store a secret; returns where it went. The file only when asked for. A copy left in the
    other store is removed: the keyring is read before the file, so an old key there would
    have kept being used after a new one went to the file."""
    _checked(profile, value, "input")
    import keyring

    if insecure_storage:
        _update_file(lambda data: data.__setitem__(profile, value))
        _keyring_delete(profile)
        return f"file {secrets_file()}"
    _, ok = _keyring_call(keyring.set_password, KEYRING_SERVICE, profile, value)
    if not ok:
        raise CredentialError(f"cannot store the secret: {_keyring_warning}")
    if profile in _read_file():
        _update_file(lambda data: data.pop(profile, None))
    return "keyring"


def _update_file(change) -> None:
    """Read-change-write of the secrets file under its lock (concurrent adds all land)."""
    with locked(secrets_file()):
        data = _read_file()
        change(data)
        import tomli_w

        write_private(secrets_file(), tomli_w.dumps({"secrets": data}))


def _keyring_delete(profile: str) -> str | None:
    """Remove the profile's keyring entry; why it may still be there, or None (removed, absent,
    or no keyring backend at all)."""
    import keyring
    import keyring.errors

    def _delete(service, name):
        try:
            keyring.delete_password(service, name)
        except keyring.errors.PasswordDeleteError:
            pass  # no such entry

    _, ok = _keyring_call(_delete, KEYRING_SERVICE, profile)
    if ok or (_keyring_warning or "").startswith("no keyring backend"):
        return None
    return _keyring_warning


def delete_secret(profile: str) -> str | None:
    """Remove the profile's secret from the keyring and the file; None, or why its keyring
    entry may be left (the file entry is always removed)."""
    problem = _keyring_delete(profile)
    if profile in _read_file():
        _update_file(lambda data: data.pop(profile, None))
    return problem


def reset_warning() -> None:
    """For tests: forget the once-only keyring warning."""
    global _keyring_warning
    _keyring_warning = None
