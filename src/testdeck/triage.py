"""Triage: what is failing right now, across every profile. UI-free.

Each service declares what "failing" means beside its resources
(`Service.failing`: a resource, a predicate, a severity). This module lists
those resources through the same declarations the screens use, keeps the
rows that match, and turns an unreachable profile or a refused key into one
item of its own. The triage screen and `testdeck triage` both call it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from testdeck import clock
from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Ctx, Failing, Resource, Service, _epoch

SEVERITIES = ("critical", "error", "warning")
RANK = {s: i for i, s in enumerate(SEVERITIES)}
MAX_SCOPES = 20  # a scoped resource is searched in at most this many scopes per poll


@dataclass(frozen=True)
class Item:
    severity: str
    profile: str
    service: str
    what: str
    message: str = ""
    since: float | None = None  # epoch seconds
    resource: str | None = None  # where `enter` jumps, with the cursor on `key`
    key: str | None = None
    scope: str | None = None

    @property
    def ident(self) -> tuple:
        """Stable across polls: what makes an item "the same" (for new-item highlighting)."""
        return (self.profile, self.resource, self.scope, self.key, self.what if self.key is None else "")

    def sort_key(self) -> tuple:
        # most severe first, then the oldest failure first (it has hurt the longest)
        return (RANK.get(self.severity, len(RANK)), self.since if self.since is not None else float("inf"),
                self.profile, self.what)

    def as_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "profile": self.profile, "service": self.service, "what": self.what,
                "since": self.since, "message": self.message, "resource": self.resource, "key": self.key,
                "scope": self.scope}


def profile_item(profile: str, service: str, exc: ApiError) -> Item | None:
    """An unreachable profile or a refused key is one item; other errors are not triage items."""
    if exc.status is None:
        return Item("critical", profile, service, "profile unreachable", exc.message, clock.now())
    if exc.status in (401, 403):
        return Item("critical", profile, service, "key refused", exc.message, clock.now())
    return None


def _text(fn, record: Record, default: str) -> str:
    if fn is None:
        return default
    try:
        return str(fn(record) or default)
    except Exception:  # a declaration must never take the triage down
        return default


def _matches(failing: Failing, record: Record) -> bool:
    try:
        return bool(failing.when(record))
    except Exception:
        return False


def items_from(service: Service, profile: str, failing: Failing, resource: Resource, records: list[Record],
               scope: str | None) -> list[Item]:
    out = []
    for record in records:
        if not _matches(failing, record):
            continue
        since = None
        if failing.since is not None:
            try:
                since = _epoch(failing.since(record))
            except Exception:
                since = None
        noun = resource.title.lower().removesuffix("s")
        out.append(Item(failing.severity, profile, service.name,
                        _text(failing.what, record, f"{noun} {resource.row_label(record)}"),
                        _text(failing.message, record, ""), since, resource.name, resource.row_key(record), scope))
    return out


async def _scopes(resource: Resource, client: Any, profile_fields: dict) -> list[str | None]:
    if resource.scope is None:
        return [None]
    fixed = profile_fields.get(f"{resource.scope.name}_id")
    if fixed:
        return [str(fixed)]
    options = await resource.scope.options(Ctx(client))
    return [oid for oid, _label in options[:MAX_SCOPES]]


async def collect(service: Service, client: Any, profile: str, profile_fields: dict | None = None) -> list[Item]:
    """Every failing item of one profile. Raises ApiError when the profile cannot be read at all."""
    found: list[Item] = []
    errors: list[ApiError] = []
    for failing in service.failing:
        resource = service.resource(failing.resource)
        if resource is None:
            continue
        try:
            for scope in await _scopes(resource, client, profile_fields or {}):
                records = await resource.list(Ctx(client, scope=scope, query=failing.query))
                found += items_from(service, profile, failing, resource, list(records), scope)
        except ApiError as exc:
            if profile_item(profile, service.name, exc) is not None:
                raise  # unreachable or refused: the whole profile is one item
            errors.append(exc)
    if errors and not found and len(errors) == len(service.failing):
        raise errors[0]  # nothing could be read: the caller marks the profile stale
    return found


@dataclass
class ProfileState:
    """What the board knows of one profile: its items, when they were read, the last error."""

    items: list[Item] = field(default_factory=list)
    last_ok: float | None = None
    error: ApiError | None = None

    @property
    def stale(self) -> bool:
        return self.error is not None


class Board:
    """Triage items of many profiles, each refreshed on its own (stale-on-error per profile)."""

    def __init__(self) -> None:
        self.states: dict[str, ProfileState] = {}
        self.seen: set[tuple] = set()  # idents shown before: anything else is "new"
        self.new: set[tuple] = set()

    async def poll(self, profile: str, service: Service, client: Any, fields: dict | None = None) -> None:
        state = self.states.setdefault(profile, ProfileState())
        try:
            items = await collect(service, client, profile, fields)
        except ApiError as exc:
            item = profile_item(profile, service.name, exc)
            if item is not None:  # unreachable: that is the one item, and nothing else is known
                previous = next((i for i in state.items if i.what == item.what), None)
                state.items = [previous or item]
                state.error = exc
                self._mark_new()
                return
            state.error = exc  # keep the previous items, marked stale
            return
        except Exception as exc:  # an adapter bug: show it like a server error, never crash
            state.error = ApiError(service.name, profile, "GET", "triage", None, f"{type(exc).__name__}: {exc}")
            return
        state.items, state.error, state.last_ok = items, None, clock.now()
        self._mark_new()

    def _mark_new(self) -> None:
        current = {i.ident for i in self.items()}
        self.new = current - self.seen
        self.seen |= current

    def items(self) -> list[Item]:
        out = [i for s in self.states.values() for i in s.items]
        return sorted(out, key=Item.sort_key)

    def counts(self, profile: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.states.get(profile, ProfileState()).items:
            out[item.severity] = out.get(item.severity, 0) + 1
        return out


async def collect_all(targets: list[tuple[str, Service, Any, dict]]) -> Board:
    """Poll every (profile, service, client, fields) once, concurrently."""
    board = Board()
    await asyncio.gather(*(board.poll(p, s, c, f) for p, s, c, f in targets))
    return board
