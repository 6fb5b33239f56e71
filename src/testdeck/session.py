"""A profile in use: its service, its adapter and what the status bar says of it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec

from testdeck import credentials, journal
from testdeck.config import Config, Profile
from testdeck.errors import ApiError, ConfigError, Refused
from testdeck.http import ApiClient, Health, MutationHook
from testdeck.redact import Redactor
from testdeck.resources import Service
from testdeck.services import get_service
from testdeck.text import sanitize


class ProfileSession(msgspec.Struct):
    profile: Profile
    service: Service
    client: ApiClient
    interval: float
    read_only: bool
    secret_source: str
    status_extra: Any = ""  # the service's status-bar text: str() of it when painted (a stale quota's age)
    status_at: float = 0.0
    views: dict[str, Any] = msgspec.field(default_factory=dict)  # per-resource UI state (scope)
    broken: str = ""  # why this profile could not be opened (one line); "" when it works
    # where a journal write failure is said (the app sets a toast); the CLI prints it
    warn: Any = None
    _ping: asyncio.Task | None = None

    # reprs without warn and _ping, as the dataclass's repr=False had it
    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}({', '.join(f'{name}={value!r}' for name, value in self.__rich_repr__())})"

    def __rich_repr__(self) -> Iterator[tuple[str, Any]]:
        for name in self.__struct_fields__:
            if name not in ("warn", "_ping"):
                yield name, getattr(self, name)

    @classmethod
    def open(cls, config: Config, profile: Profile, *, read_only: bool = False,
             transport: httpx.AsyncBaseTransport | None = None,
             on_mutation: MutationHook | None = None) -> ProfileSession:
        if profile.broken:  # a value of its config cannot be used (a read_only = "true"): nothing is sent
            raise ConfigError(profile.broken)
        service = get_service(profile.service)
        secret = credentials.get_secret(profile.name)
        # `read_only = true` in a profile is enforced in its adapter, like --read-only
        flag, read_only = read_only, read_only or profile.read_only
        client = service.client(profile, secret.value, read_only=read_only, transport=transport)
        if read_only and not flag:  # no --read-only given: the refusal names what did it
            client.read_only_why = f"profile {profile.name!r} has read_only = true"
        session = cls(profile, service, client, config.refresh_for(profile), read_only, secret.source)
        # every mutating request is journaled, unless the caller brings its own witness
        client.on_mutation = on_mutation or journal.hook(profile.name, service.name, client, secret.value,
                                                         on_error=session._journal_failed)
        return session

    def _journal_failed(self, message: str) -> None:
        if self.warn is not None:
            self.warn(message)
        else:
            import sys

            print(f"testdeck: {message}", file=sys.stderr)

    @classmethod
    def open_or_broken(cls, config: Config, profile: Profile, **kw: Any) -> ProfileSession:
        """open(), or a session marked broken with a one-line reason: one bad profile
        (a secret httpx cannot send, a missing CA bundle, an unreadable secrets file)
        must not take the others down."""
        try:
            return cls.open(config, profile, **kw)
        except Exception as exc:  # whatever it is, it is this profile's problem only
            # the one redactor's rules: a secret in every form a message may hold it, none shorter than
            # it takes (a one-letter secret turned "read_only" into "r***ad_only")
            reason = Redactor(sorted(credentials.known_secrets())).redact(
                sanitize(" ".join(str(exc).split()) or type(exc).__name__))
            return cls(profile, get_service(profile.service), BrokenClient(profile, reason),  # type: ignore[arg-type]
                       config.refresh_for(profile), kw.get("read_only", False), "?", broken=reason)

    async def ping(self) -> str:
        """The health check: at most one per profile in flight; a second caller shares its answer."""
        if self._ping is None or self._ping.done():
            self._ping = asyncio.ensure_future(self.client.ping())
            # (shielded: a caller gone, at exit, leaves it to fail on the closed client unread, which
            # asyncio printed as "Task exception was never retrieved" after the console ended)
            self._ping.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(self._ping)


class BrokenClient:
    """Stands in for the adapter of a profile that could not be opened: every call
    fails with the reason, as an ApiError the screens already know how to show."""

    def __init__(self, profile: Profile, reason: str):
        self.profile = profile
        self.reason = reason
        self.read_only = True
        self.health = Health()
        self.on_mutation = None

    def _fail(self) -> ApiError:
        # nothing was sent: `refused before sending`, never `no response` (that is a server that did not answer)
        return Refused(self.profile.service, self.profile.name, "-", "-", None, f"profile broken: {self.reason}")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise self._fail()

        return fail

    def remember_secret(self, value: str) -> None:
        pass  # (resources.run calls it before the call fails: not one of the async calls __getattr__ makes)

    async def aclose(self) -> None:
        pass

    async def __aenter__(self) -> BrokenClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass
