"""Profiles in TOML: read with tomllib (each text parsed once: tomlcache.py), written with tomli-w, atomically,
mode 0600."""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import re
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec

from testdeck import tomlcache
from testdeck.errors import ConfigError

SERVICES = ("alyvix", "xyops", "xpresso", "onetest", "kyaraben")
DEFAULT_REFRESH = 5.0
DEFAULT_TIMEOUT = 10.0
DEFAULT_LOG_LINES = 50_000
DEFAULT_MAX_BODY_MB = 64.0
MIN_REFRESH = 1.0
# keys every profile may carry; anything else is a service field (group, user_id, ...)
_COMMON = {"service", "url", "verify_tls", "ca_bundle", "timeout", "refresh_interval", "max_body_mb"}
# the other keys a profile is known to carry (kept in Profile.fields), with the type each must have;
# any `<scope>_id` (project_id, space_id, testcase_id, ...) is an id: a string or a whole number
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "environment": str, "label": str, "color": str, "read_only": bool,
    "user_id": str, "group": str, "auth_scheme": str, "group_header": str,
}
_HEADER_FIELDS = ("user_id", "group", "auth_scheme", "group_header")  # sent in HTTP headers
_KNOWN = _COMMON | set(_FIELDS) | {"project_id", "space_id"}
_TABLES = ("profiles", "settings", "keys")  # top-level tables read (keys: the console's key map)
_SETTINGS = ("refresh_interval", "theme", "log_line_cap")
# a key that looks like it holds a secret: refused in a profile (secrets never go into the TOML)
_SECRET_KEY = re.compile(r"secret|passw|token|api_?key|^key$|jwt|credential", re.IGNORECASE)


def looks_secret(key: str) -> bool:
    """A key named like a secret (the profiles screen hides its value too)."""
    return bool(_SECRET_KEY.search(key))
# profile names: safe in a file name, an env var (after upper-casing) and a terminal
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
NAME_RULE = "1-64 characters: letters, digits, '_', '.', '-', starting with a letter or digit"


def secret_env_var(profile: str) -> str:
    """TESTDECK_SECRET_<PROFILE>: upper-cased, every other character as `_`."""
    return "TESTDECK_SECRET_" + re.sub(r"[^A-Z0-9]", "_", profile.upper())


def check_name(name: str, others: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why `name` cannot be a profile name (beside `others`), or None."""
    if not NAME_RE.fullmatch(name):
        return f"profile name {name!r} is not allowed ({NAME_RULE})"
    var = secret_env_var(name)
    for other in others:
        if other != name and secret_env_var(other) == var:
            return f"profiles {other!r} and {name!r} would both read their secret from {var}; rename one"
    return None


def config_dir() -> Path:
    import platformdirs  # (not imported when $TESTDECK_CONFIG names the file)

    return Path(platformdirs.user_config_dir("testdeck"))


def default_path() -> Path:
    env = os.environ.get("TESTDECK_CONFIG")
    return Path(env).expanduser() if env else config_dir() / "config.toml"


class Profile(msgspec.Struct):
    name: str
    service: str
    url: str
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    refresh_interval: float | None = None
    fields: dict[str, Any] = msgspec.field(default_factory=dict)  # service fields: group, user_id, project_id...
    max_body_mb: float = DEFAULT_MAX_BODY_MB  # a response body over this is refused while it streams
    # why this profile cannot be used (a value of the wrong type, a misspelt key), "" when it can:
    # it is marked broken, the others work; saves write its table back exactly as read
    broken: str = ""
    raw: dict[str, Any] = msgspec.field(default_factory=dict)  # its table as read: not in ==, nor in repr

    # equality and reprs without raw, as the dataclass's compare=False, repr=False had it (raw is the last field)
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return msgspec.structs.astuple(self)[:-1] == msgspec.structs.astuple(other)[:-1]

    __hash__ = None  # type: ignore[assignment]  # (mutable)

    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{name}={value!r}' for name, value in self.__rich_repr__())})"

    def __rich_repr__(self) -> Iterator[tuple[str, Any]]:
        for name in self.__struct_fields__[:-1]:
            yield name, getattr(self, name)

    @property
    def read_only(self) -> bool:
        return self.fields.get("read_only") is True

    def badges(self, read_only: bool = False) -> str:
        """Its environment and READ-ONLY (--read-only or its own), or BROKEN: the profiles' mode column."""
        if self.broken:
            return "BROKEN"
        env = self.fields.get("environment")
        parts = [str(env).upper()] if env else []
        return " ".join(parts + (["READ-ONLY"] if read_only or self.read_only else []))

    def to_toml(self) -> dict[str, Any]:
        if self.broken:  # never "fix" a value by dropping it (a read_only = "true" would become writable)
            return dict(self.raw)
        # defaults are not written: a save changes only what it means to (picking a project wrote
        # verify_tls and timeout into every profile of the file)
        out: dict[str, Any] = {"service": self.service, "url": self.url}
        if not self.verify_tls:
            out["verify_tls"] = False
        if self.ca_bundle:
            out["ca_bundle"] = self.ca_bundle
        if self.timeout != DEFAULT_TIMEOUT:
            out["timeout"] = self._as_read("timeout", self.timeout)
        if self.refresh_interval is not None:
            out["refresh_interval"] = self._as_read("refresh_interval", self.refresh_interval)
        if self.max_body_mb != DEFAULT_MAX_BODY_MB:
            out["max_body_mb"] = self._as_read("max_body_mb", self.max_body_mb)
        out.update(self.fields)
        return out

    def _as_read(self, key: str, value: float) -> float | int:
        """An unchanged number as the file had it: a save wrote `timeout = 3` back as `3.0`."""
        old = self.raw.get(key)
        return old if isinstance(old, int) and not isinstance(old, bool) and old == value else value

    @classmethod
    def from_toml(cls, name: str, data: dict[str, Any], where: str) -> Profile:
        """The profile; a ConfigError naming file, profile and key when a value cannot be used."""
        here = f"{where}: profile {name!r}"
        service = data.get("service")
        if service not in SERVICES:
            raise ConfigError(f"{here}: service must be one of {', '.join(SERVICES)}, not {service!r}")
        url = data.get("url")
        if url in (None, ""):
            raise ConfigError(f"{here}: url is missing")
        problem = url_problem(url)
        if problem:
            raise ConfigError(f"{here}: {problem}")
        for key in ("verify_tls", "read_only"):
            if key in data and not isinstance(data[key], bool):
                # fail closed: a read_only that cannot be read must not leave the profile writable
                raise ConfigError(f"{here}: {key} must be true or false (no quotes), not {data[key]!r}")
        ca_bundle = data.get("ca_bundle")
        if ca_bundle is not None and (not isinstance(ca_bundle, str) or not ca_bundle.strip()):
            raise ConfigError(f"{here}: ca_bundle must be the path of a PEM file or folder, as a string, "
                              f"not {ca_bundle!r}")
        timeout = _number(data, "timeout", DEFAULT_TIMEOUT, 0, here)
        refresh = _number(data, "refresh_interval", None, MIN_REFRESH, here)
        max_body = _number(data, "max_body_mb", DEFAULT_MAX_BODY_MB, 0, here)
        fields = {k: v for k, v in data.items() if k not in _COMMON}
        for key, value in fields.items():
            problem = field_problem(key, value)
            if problem:
                raise ConfigError(f"{here}: {problem}")
        return cls(
            name=name,
            service=service,
            url=url.rstrip("/"),
            verify_tls=data.get("verify_tls", True),
            ca_bundle=ca_bundle,
            timeout=timeout,
            refresh_interval=refresh,
            fields=fields,
            max_body_mb=max_body,
            raw=dict(data),
        )

    @classmethod
    def unusable(cls, name: str, data: dict[str, Any], reason: str) -> Profile:
        """A profile marked broken: shown and reported with its reason, never used, saved as read."""
        url = data.get("url")
        shown = hide_userinfo(url) if isinstance(url, str) else ""
        fields = {k: v for k, v in data.items() if k not in _COMMON}
        return cls(name=name, service=data["service"], url=shown.rstrip("/"), fields=fields, broken=reason,
                   raw=dict(data))


def url_problem(url: Any) -> str | None:
    """Why `url` cannot be a profile's URL (never quoting it: it may hold a password), or None."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "url must start with http:// or https://"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        return "url is not a valid URL"
    if "@" in parts.netloc:
        return ("url must not hold a user name or password (user:password@host): secrets never go "
                "into the config; give the secret with `testdeck profile add` or TESTDECK_SECRET_<PROFILE>")
    if not parts.hostname or re.search(r"\s", url):
        return "url has no host or holds a space"
    return None


def hide_userinfo(url: str) -> str:
    """The URL with any user:password@ replaced by ***@ (for showing a refused one)."""
    return re.sub(r"^(\w+://)[^/]*@", r"\1***@", url)


def field_problem(key: str, value: Any) -> str | None:
    """Why a profile key other than the common ones cannot be used, or None (a key unlike any known
    one is kept, and noted by load_config)."""
    if _SECRET_KEY.search(key) and key not in _FIELDS:
        return (f"{key!r} looks like a secret, and secrets never go into the config (value not shown): "
                f"remove it and store it with `testdeck profile add` or TESTDECK_SECRET_<PROFILE>")
    kind = _FIELDS.get(key) or ((str, int) if key.endswith("_id") else None)
    if kind is None:
        close = suggest(key, _KNOWN)
        # a misspelt key is refused: `readonly = true` silently ignored left a prod profile writable
        return f"unknown key {key!r} ({close}?); fix its name" if close else None
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        want = {bool: "true or false (no quotes)", str: "a string"}.get(kind, "a string or a number")  # type: ignore[call-overload]
        return f"{key} must be {want}, not {value!r}"
    if key in _HEADER_FIELDS:
        text = str(value)
        if re.search(r"[\x00-\x1f\x7f]", text) or not text.isascii() or text != text.strip():
            return (f"{key} is sent in an HTTP header, which cannot carry a line break, a control or non-ASCII "
                    f"character or a leading or trailing space (value not shown)")
    return None


def suggest(word: str, known: Any) -> str | None:
    """The known name `word` most likely misspells (readonly -> read_only), or None."""
    flat = {re.sub(r"[^a-z0-9]", "", k.lower()): k for k in known}
    squashed = re.sub(r"[^a-z0-9]", "", word.lower())
    if squashed in flat:
        return flat[squashed]
    import difflib

    found = difflib.get_close_matches(word.lower(), list(known), n=1, cutoff=0.75)
    if found:
        return found[0]
    starts = [k for k in known if len(squashed) >= 4 and re.sub(r"[^a-z0-9]", "", k).startswith(squashed)]
    return starts[0] if len(starts) == 1 else None


def _number(data: dict[str, Any], key: str, default: Any, low: float, where: str) -> Any:
    """A positive number (over 0 when low is 0, at least `low` otherwise), or a ConfigError saying so."""
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {key} must be a number, not {value!r}")
    if value < low or value <= 0:
        rule = f"at least {low:g}" if low else "more than 0"
        raise ConfigError(f"{where}: {key} must be {rule} (seconds for times, MiB for sizes), not {value!r}")
    return float(value)


assert Profile.__struct_fields__[-1] == "raw"  # (__eq__ and the reprs leave out the last field)


class Config(msgspec.Struct):
    path: Path
    profiles: dict[str, Profile] = msgspec.field(default_factory=dict)
    settings: dict[str, Any] = msgspec.field(default_factory=dict)
    header: str = ""  # the user's leading comment block, kept across writes
    extra: dict[str, Any] = msgspec.field(default_factory=dict)  # top-level tables we do not know: kept as is
    warnings: list[str] = msgspec.field(default_factory=list)  # unknown tables and keys: kept, said once

    @property
    def refresh_interval(self) -> float:
        return float(self.settings.get("refresh_interval", DEFAULT_REFRESH))

    @property
    def log_line_cap(self) -> int:
        return int(self.settings.get("log_line_cap", DEFAULT_LOG_LINES))

    @property
    def theme(self) -> str | None:
        return self.settings.get("theme")

    def refresh_for(self, profile: Profile) -> float:
        return profile.refresh_interval or self.refresh_interval

    def profiles_for(self, service: str) -> list[Profile]:
        return [p for p in self.profiles.values() if p.service == service]


def load_config(path: Path | None = None) -> Config:
    """Read the config; a missing file is an empty config, a broken one a ConfigError."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomlcache.loads(text)
    except ValueError as exc:  # tomllib's TOMLDecodeError; its message already says "(at line N, column M)"
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    profiles_raw = data.get("profiles", {})
    if not isinstance(profiles_raw, dict):
        raise ConfigError(f"{path}: [profiles] must be a table")
    profiles, warnings = {}, []
    for name, body in profiles_raw.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: profiles.{name} must be a table")
        problem = check_name(name, list(profiles))
        if problem:
            raise ConfigError(f"{path}: {problem}")
        try:
            profiles[name] = Profile.from_toml(name, body, str(path))
        except ConfigError as exc:
            if body.get("service") not in SERVICES:
                raise
            # one bad value marks that profile broken (said where it is used); the others work
            profiles[name] = Profile.unusable(name, body, str(exc))
            continue
        for key in sorted(set(body) - _KNOWN):
            if not key.endswith("_id"):
                warnings.append(f"{path}: profile {name!r}: unknown key {key!r} (kept, not used)")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ConfigError(f"{path}: [settings] must be a table")
    _number(settings, "refresh_interval", None, MIN_REFRESH, f"{path}: settings")
    _number(settings, "log_line_cap", None, 0, f"{path}: settings")
    if "theme" in settings and not isinstance(settings["theme"], str):
        raise ConfigError(f"{path}: settings.theme must be a string")
    warnings += [_unknown(f"{path}: [settings]: unknown key", key, _SETTINGS) for key in settings if key not in _SETTINGS]
    extra = {k: v for k, v in data.items() if k not in ("profiles", "settings")}
    warnings += [_unknown(f"{path}: unknown {'table' if isinstance(v, dict) else 'key'}", k, _TABLES)
                 for k, v in extra.items() if k not in _TABLES]
    return Config(path=path, profiles=profiles, settings=dict(settings), header=_leading_comments(text),
                  extra=extra, warnings=warnings)


def _unknown(what: str, key: str, known: Any) -> str:
    close = suggest(key, known)
    return f"{what} {key!r}" + (f" ({close}?)" if close else "") + " (kept, not used)"


def _leading_comments(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line)
        else:
            break
    return "\n".join(lines).rstrip() + "\n" if lines else ""


def dump_config(config: Config) -> str:
    doc: dict[str, Any] = {}
    if config.settings:
        doc["settings"] = config.settings
    doc["profiles"] = {name: p.to_toml() for name, p in config.profiles.items()}
    doc.update({k: v for k, v in config.extra.items() if k not in doc})
    import tomli_w

    body = tomli_w.dumps(doc)
    return (config.header + "\n" + body) if config.header else body


def save_config(config: Config) -> None:
    """Write this whole config (a new file: the demo's). Changes to a file in use go
    through update_config, which re-reads it first."""
    with locked(config.path):
        if config.path.exists():
            load_config(config.path)  # raises ConfigError on a broken file
        write_private(config.path, dump_config(config))


def update_config(path: Path, change: Callable[[Config], None]) -> Config:
    """Apply `change` to a fresh read of the file, under an exclusive lock, and write it back.

    Another process's change made since we read the file is kept: we never write a
    stale copy. A file that does not parse is never overwritten (the user may be
    halfway through editing it by hand). Returns the config as written."""
    with locked(path):
        fresh = load_config(path)
        change(fresh)
        write_private(path, dump_config(fresh))
    return fresh


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive flock on a lock file beside the (real) file, held for a read-change-write."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(target.with_name(f".{target.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_private(path: Path, text: str) -> None:
    """Atomically (temp file, fsync, rename), mode 0600; a symlink stays a symlink (its target is written)."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
