"""Triage: what is failing right now, across every profile. UI-free.

Each service declares what "failing" means beside its resources
(`Service.failing`: a resource, a predicate, a severity). This module lists
those resources through the same declarations the screens use, keeps the
rows that match, and turns an unreachable profile or a refused key into one
item of its own (what it read before stays, marked stale). The triage screen
and `testdeck triage` both call it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from testdeck import clock
from testdeck.columns import _epoch
from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Ctx, Failing, Resource, Service

SEVERITIES = ("critical", "error", "warning")
RANK = {s: i for i, s in enumerate(SEVERITIES)}
MAX_SCOPES = 20  # a scoped resource is searched in at most this many scopes per poll


class Item(msgspec.Struct, frozen=True):
    severity: str
    profile: str
    service: str
    what: str
    message: str = ""
    since: float | None = None  # epoch seconds
    resource: str | None = None  # where `enter` jumps, with the cursor on `key`
    key: str | None = None
    scope: str | None = None
    query: str | None = None  # the Query value of the view that lists it (the Failing's query)
    read_at: float | None = None  # when a poll last read it: not in == nor in the hash

    # equality and hash without read_at, as the dataclass's compare=False had it (read_at is the last field)
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return msgspec.structs.astuple(self)[:-1] == msgspec.structs.astuple(other)[:-1]

    def __hash__(self) -> int:
        return hash(msgspec.structs.astuple(self)[:-1])

    @property
    def down(self) -> bool:
        """The profile's own item: unreachable, or its key refused."""
        return self.resource is None and self.what in DOWN

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


DOWN = ("profile unreachable", "key refused", "profile broken")


def profile_item(profile: str, service: str, exc: ApiError) -> Item | None:
    """An unreachable profile, a refused key or a profile that cannot be used (its config or secret:
    session.BrokenClient) is one item; other errors are not triage items."""
    if exc.status is None:
        broken = exc.message.startswith("profile broken")
        return Item("critical", profile, service, DOWN[2] if broken else DOWN[0], exc.message, clock.now())
    if exc.status in (401, 403):
        return Item("critical", profile, service, DOWN[1], exc.message, clock.now())
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
        if failing.within is not None and since is not None and clock.now() - since > failing.within:
            continue
        noun = resource.title.lower().removesuffix("s")
        out.append(Item(failing.severity, profile, service.name,
                        _text(failing.what, record, f"{noun} {resource.row_label(record)}"),
                        _text(failing.message, record, ""), since, resource.name, resource.row_key(record), scope,
                        failing.query, clock.now()))
    return out


async def _scopes(resource: Resource, client: Any, profile_fields: dict) -> list[str | None]:
    if resource.scope is None:
        return [None]
    fixed = profile_fields.get(f"{resource.scope.name}_id")
    if fixed:
        return [str(fixed)]
    options = await resource.scope.options(Ctx(client))
    return [oid for oid, _label in options[:MAX_SCOPES]]


assert Item.__struct_fields__[-1] == "read_at"  # (__eq__ and __hash__ leave out the last field)


class Reading(msgspec.Struct):
    """One poll of a profile: the items found, and the resources that could not be read (their error)."""

    items: list[Item]
    unread: dict[str, ApiError] = msgspec.field(default_factory=dict)


async def _listed(resource: Resource, client: Any, scope: str | None, query: str | None) -> list[Record]:
    return list(await resource.list(Ctx(client, scope=scope, query=query)))


async def collect(service: Service, client: Any, profile: str, profile_fields: dict | None = None) -> Reading:
    """Every failing item of one profile. Raises ApiError when the profile is unreachable or its key
    refused; a resource that could not be read is in `unread` (its items are not known, not gone)."""
    found: list[Item] = []
    unread: dict[str, ApiError] = {}
    # what one poll has read, or failed to: declarations on the same list (xyOps' failed and warned
    # jobs) read it once, and a read that failed is not tried again in the same poll
    read: dict[tuple, list | ApiError] = {}

    async def once(key: tuple, reading) -> Any:
        if key not in read:
            try:
                read[key] = await reading()
            except ApiError as exc:
                read[key] = exc
        if isinstance(read[key], ApiError):
            raise read[key]
        return read[key]

    for failing in service.failing:
        resource = service.resource(failing.resource)
        if resource is None:
            continue
        try:
            scopes = await once((resource.name,), lambda: _scopes(resource, client, profile_fields or {}))
            for scope in scopes:
                records = await once((resource.name, scope, failing.query), lambda: _listed(resource, client, scope,
                                                                                        failing.query))
                found += items_from(service, profile, failing, resource, records, scope)
        except ApiError as exc:
            if profile_item(profile, service.name, exc) is not None:
                raise  # unreachable or refused: the whole profile is one item
            unread.setdefault(resource.name, exc)
    return Reading(found, unread)


class ProfileState(msgspec.Struct):
    """What the board knows of one profile: its items, when they were read, the last error."""

    items: list[Item] = msgspec.field(default_factory=list)
    last_ok: float | None = None
    error: ApiError | None = None
    unread: tuple[str, ...] = ()  # resources whose last read failed ("*": all of them)
    fresh: set[tuple] = msgspec.field(default_factory=set)  # idents of the items the last poll read

    @property
    def stale(self) -> bool:
        return self.error is not None

    @property
    def down(self) -> bool:
        """Unreachable or its key refused: an item of its own (its other items are kept, stale)."""
        return self.error is not None and any(i.down for i in self.items)

    @property
    def unclear(self) -> bool:
        """Stale, and not down (that is an item of its own): its failing items are not all known,
        so the profile cannot be called clear (the view's STALE note, the `triage` gate)."""
        return self.stale and not self.down

    def not_read(self) -> str:
        """What the last poll could not read: `not read: jobs` ("not read" when nothing was)."""
        parts = [r for r in self.unread if r != "*"]
        return "not read: " + ", ".join(parts) if parts else "not read"

    @property
    def unknown(self) -> bool:
        """Failed before anything was read: no items, and none can be claimed."""
        return self.error is not None and self.last_ok is None and not self.items

    def stale_age(self, item: Item, now: float) -> float | None:
        """Seconds since a kept item was last read (the last poll could not read it); None if fresh."""
        if not self.stale or item.down or item.ident in self.fresh:
            return None
        return max(0.0, now - (item.read_at if item.read_at is not None else now))


class Board:
    """Triage items of many profiles, each refreshed on its own (stale-on-error per profile)."""

    def __init__(self) -> None:
        self.states: dict[str, ProfileState] = {}
        self.seen: set[tuple] = set()  # idents shown before: anything else is "new"
        self.new: set[tuple] = set()

    async def poll(self, profile: str, service: Service, client: Any, fields: dict | None = None) -> None:
        # (a profile is in `states` once a poll has ended: while its first is on the way it has no
        # count, not "✔ 0")
        state = self.states.get(profile) or ProfileState()
        try:
            reading = await collect(service, client, profile, fields)
        except ApiError as exc:
            item = profile_item(profile, service.name, exc)
            if item is not None:  # unreachable or refused: its one item, over what it last read (kept, stale)
                previous = next((i for i in state.items if i.down and i.what == item.what), None)
                state.items = [previous or item] + [i for i in state.items if not i.down]
                state.fresh = {item.ident}
            else:
                state.fresh = set()
            state.error, state.unread = exc, ("*",)  # (the previous items stay, marked stale)
        except Exception as exc:  # an adapter bug: show it like a server error, never crash
            state.error = ApiError(service.name, profile, "GET", "triage", None, f"{type(exc).__name__}: {exc}")
            state.unread, state.fresh = ("*",), set()
        else:
            fresh = {i.ident for i in reading.items}
            if reading.unread:  # read in part: what could not be read keeps its previous items, stale
                kept = [i for i in state.items if i.resource in reading.unread and i.ident not in fresh]
                state.items = reading.items + kept
                state.error, state.unread = next(iter(reading.unread.values())), tuple(reading.unread)
            else:
                state.items, state.error, state.unread, state.last_ok = reading.items, None, (), clock.now()
            state.fresh = fresh
        self.states[profile] = state
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
