"""Profiles in TOML: read with tomllib, written with tomli-w, atomically, mode 0600."""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from testdeck.errors import ConfigError

SERVICES = ("alyvix", "xyops", "xpresso", "onetest", "kyaraben")
DEFAULT_REFRESH = 5.0
DEFAULT_TIMEOUT = 10.0
DEFAULT_LOG_LINES = 50_000
# keys every profile may carry; anything else is a service field (group, user_id, ...)
_COMMON = {"service", "url", "verify_tls", "ca_bundle", "timeout", "refresh_interval"}


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir("testdeck"))


def default_path() -> Path:
    env = os.environ.get("TESTDECK_CONFIG")
    return Path(env).expanduser() if env else config_dir() / "config.toml"


@dataclass
class Profile:
    name: str
    service: str
    url: str
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    refresh_interval: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # service fields: group, user_id, project_id...

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"service": self.service, "url": self.url, "verify_tls": self.verify_tls}
        if self.ca_bundle:
            out["ca_bundle"] = self.ca_bundle
        out["timeout"] = self.timeout
        if self.refresh_interval is not None:
            out["refresh_interval"] = self.refresh_interval
        out.update(self.fields)
        return out

    @classmethod
    def from_toml(cls, name: str, data: dict[str, Any], where: str) -> Profile:
        service = data.get("service")
        if service not in SERVICES:
            raise ConfigError(f"{where}: profile {name!r}: service must be one of {', '.join(SERVICES)}, not {service!r}")
        url = data.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: profile {name!r}: url must start with http:// or https://")
        try:
            timeout = float(data.get("timeout", DEFAULT_TIMEOUT))
            refresh = data.get("refresh_interval")
            refresh = float(refresh) if refresh is not None else None
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: profile {name!r}: timeout and refresh_interval must be numbers") from None
        return cls(
            name=name,
            service=service,
            url=url.rstrip("/"),
            verify_tls=bool(data.get("verify_tls", True)),
            ca_bundle=data.get("ca_bundle"),
            timeout=timeout,
            refresh_interval=refresh,
            fields={k: v for k, v in data.items() if k not in _COMMON},
        )


@dataclass
class Config:
    path: Path
    profiles: dict[str, Profile] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    header: str = ""  # the user's leading comment block, kept across writes
    extra: dict[str, Any] = field(default_factory=dict)  # top-level tables we do not know: kept as is

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
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line N, column M)"
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    profiles_raw = data.get("profiles", {})
    if not isinstance(profiles_raw, dict):
        raise ConfigError(f"{path}: [profiles] must be a table")
    profiles = {}
    for name, body in profiles_raw.items():
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: profiles.{name} must be a table")
        profiles[name] = Profile.from_toml(name, body, str(path))
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ConfigError(f"{path}: [settings] must be a table")
    for key in ("refresh_interval", "log_line_cap"):
        if key in settings:
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"{path}: settings.{key} must be a positive number, not {value!r}")
    if "theme" in settings and not isinstance(settings["theme"], str):
        raise ConfigError(f"{path}: settings.theme must be a string")
    extra = {k: v for k, v in data.items() if k not in ("profiles", "settings")}
    return Config(path=path, profiles=profiles, settings=dict(settings), header=_leading_comments(text),
                  extra=extra)


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
    body = tomli_w.dumps(doc)
    return (config.header + "\n" + body) if config.header else body


def save_config(config: Config) -> None:
    """Write atomically: a temp file in the same folder, fsync, rename; mode 0600.

    A file that does not parse is never overwritten: the user may be halfway
    through editing it by hand.
    """
    path = config.path
    if path.exists():
        load_config(path)  # raises ConfigError on a broken file
    write_private(path, dump_config(config))


def write_private(path: Path, text: str) -> None:
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
