"""Typed records that never crash on a missing, extra or null field.

A service declares `class Alert(Record): id: str = ""; ...` (a msgspec Struct:
defining one costs ~0.03 ms where a dataclass cost 1-4 ms of every start; its
instances are built in C, and an xyOps alert takes ~200 bytes, not ~360).
`Alert.from_api(d)` fills the typed fields it can, falls back to the
default where a value is missing, null or of the wrong type, and keeps the
whole server object in `raw` (unknown fields included) for details and JSON.
`raw` is left out of equality and repr, as it was of the dataclasses'. Other
attributes can be set on a record (it has a __dict__ for them).

`many()` (lists: 100k rows) builds the records in C with msgspec, a few
thousand at a time; a batch holding a row whose types do not match the
declaration exactly goes row by row, and such a row through `from_api`, so
the result is always what `from_api` gives (tests/test_records.py checks both),
except that `raw` is the row itself, not a copy (a copy of 100k rows costs ~100 ms).
"""

from __future__ import annotations

import asyncio
import functools
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import msgspec

R = TypeVar("R", bound="Record")

_COERCE = {str: str, int: int, float: float}
BATCH = 2_000  # rows per msgspec call: a few ms of C, then other threads get the GIL
_PLAIN = (str, int, float, bool, list, dict)  # msgspec.convert(strict) takes these as from_api does
_AS_SENT = object()  # api(): no bare value was wrapped, the API sent raw
_NAMES: dict[type, frozenset[str]] = {}  # get(): the fields of each record class but raw
_astuple = msgspec.structs.astuple


class Record(msgspec.Struct, dict=True):
    # named apart so that msgspec.convert never fills it with a server field called "raw": many() sets it
    raw: dict[str, Any] = msgspec.field(default_factory=dict, name="<record raw>")
    _api = _AS_SENT  # (a class attribute: from_api sets one on the record when the API sent a bare value)

    @classmethod
    def from_api(cls: type[R], data: Any) -> R:
        original = data
        if not isinstance(data, dict):
            data = {"value": data}
        kwargs: dict[str, Any] = {}
        for name, target in _plan(cls):
            if name not in data:
                continue
            value = data[name]
            if type(value) is not target:  # the common case (already the right type) costs nothing
                value = _coerce(value, target)
            if value is not None:
                kwargs[name] = value
        record = cls(raw=dict(data), **kwargs)
        if original is not data:
            record._api = original  # what the API sent, for JSON output (not the wrapper)
        return record

    @classmethod
    def many(cls: type[R], items: Any) -> list[R]:
        if not isinstance(items, list):
            return []
        fast = _fast(cls)
        if fast is None:
            return [cls.from_api(x) for x in items]
        out: list[R] = []
        for start in range(0, len(items), BATCH):
            out += fast(items[start:start + BATCH])
        return out

    @classmethod
    async def amany(cls: type[R], items: Any) -> list[R]:
        """many(), off the event loop for long lists (10k rows take tens of ms)."""
        if isinstance(items, list) and len(items) > 1000:
            return await asyncio.to_thread(cls.many, items)
        return cls.many(items)

    def api(self) -> Any:
        """The record as the API sent it (raw, unless the API sent a bare value)."""
        sent = self._api
        return self.raw if sent is _AS_SENT else sent

    def get(self, key: str, default: Any = None) -> Any:
        """A field by its API name: typed value first, then anything in raw."""
        names = _NAMES.get(self.__class__)
        if names is None:  # (a set per class: `in` the fields' tuple costs ~0.5 us for a key not in it)
            names = _NAMES[self.__class__] = frozenset(self.__struct_fields__) - {"raw"}
        if key in names:
            return getattr(self, key)
        return self.raw.get(key, default)

    # equality and reprs without raw (the dataclasses' compare=False, repr=False): two reads of the
    # same record are equal even when the server added a field; a repr is not the whole server object
    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _astuple(self)[1:] == _astuple(other)[1:]  # (raw is the first field: Record's own)

    __hash__ = None  # type: ignore[assignment]  # (mutable, as the dataclasses were)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{self.__class__.__qualname__}({shown})"

    def __rich_repr__(self) -> Iterator[tuple[str, Any]]:
        for name in self.__struct_fields__:
            if name != "raw":
                yield name, getattr(self, name)


@functools.cache
def _fields(cls: type) -> dict[str, msgspec.structs.FieldInfo]:
    """The fields by name, their annotations resolved (~0.7 ms a class: done once, for both paths)."""
    return {f.name: f for f in msgspec.structs.fields(cls)}


@functools.cache
def _plan(cls: type) -> list[tuple[str, Any]]:
    """(field name, plain target type) per field; resolved once per class."""
    plan = []
    for name, f in _fields(cls).items():
        if name == "raw":
            continue
        hint = f.type
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        target = typing.get_origin(hint) or hint
        if target in (typing.Union, types.UnionType) and args:
            target = typing.get_origin(args[0]) or args[0]
        plan.append((name, target))
    return plan


def _converts_as_from_api(hint: Any, default: Any) -> bool:
    """Whether msgspec.convert(strict) of a field declared `hint` gives what from_api gives, or fails."""
    if hint is Any:
        return default is None  # (a null: None, where from_api gives the default)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)  # `X | None`: a null is None, the default only when that is None
        return (default is None and len(args) == 2 and type(None) in args
                and all(a is type(None) or a in _PLAIN for a in args))
    return hint in _PLAIN or hint in (list[Any], dict[str, Any])


def _no_post_init(self: Any) -> None:
    pass


@functools.cache
def _fast(cls: type[R]) -> Callable[[list], list[R]] | None:
    """A batch builder for `cls`: msgspec.convert(strict) builds the records, then each gets its raw.

    Straight into `cls` when every declared type converts as from_api takes it (the usual record:
    str, int, float, bool, list, dict, Any or `X | None` defaulting to None). Otherwise, or when
    `cls` has a __post_init__ (which reads raw: msgspec would call it before raw is set), into a
    twin: a subclass redeclaring the other fields with the plan's plain types (Any for the rest)
    and no __post_init__, whose objects become `cls` objects (same layout) and then get their raw
    and __post_init__. None when no twin can match from_api (a field of another type whose
    default is not None: a null there must give the default)."""
    fields = _fields(cls)
    redeclared = []
    for name, target in _plan(cls):
        f = fields[name]
        if _converts_as_from_api(f.type, f.default):
            continue
        if target not in _PLAIN:
            if f.default is not None:
                return None
            target = Any
        default = f.default if f.default_factory is msgspec.NODEFAULT else msgspec.field(default_factory=f.default_factory)
        redeclared.append((name, target, default))
    post_init = getattr(cls, "__post_init__", None)
    if not redeclared and post_init is None:
        into = list[cls]  # type: ignore[valid-type]

        def build(items: list, records: list) -> list[R]:
            for record, item in zip(records, items):
                record.raw = item  # (not a copy, unlike from_api: a list's rows are fresh from the decoder)
            return records
    else:
        twin = msgspec.defstruct(f"_{cls.__name__}Twin", redeclared, bases=(cls,), module=cls.__module__,
                                 namespace={"__post_init__": _no_post_init} if post_init else None)
        into = list[twin]  # type: ignore[valid-type]

        def build(items: list, records: list) -> list[R]:
            for record, item in zip(records, items):
                record.__class__ = cls
                record.raw = item
                if post_init is not None:
                    post_init(record)
            return records

    def one(item: Any) -> R:
        if isinstance(item, dict):
            try:
                return build([item], msgspec.convert([item], into, strict=True))[0]
            except (msgspec.ValidationError, TypeError, ValueError):
                pass  # a wrong type somewhere (a null, "3" for an int): from_api's tolerance
        return cls.from_api(item)

    def batch(items: list) -> list[R]:
        try:
            records = msgspec.convert(items, into, strict=True)
        except (msgspec.ValidationError, TypeError, ValueError):
            return [one(x) for x in items]
        return build(items, records)

    return batch


def _coerce(value: Any, target: Any) -> Any:
    """Best effort to the declared type; None (use the default) when impossible."""
    if value is None:
        return None
    if target is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return bool(value)
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        return None
    if target in _COERCE:
        if isinstance(value, (dict, list)):
            return None
        try:
            return _COERCE[target](value)
        except (TypeError, ValueError, OverflowError):  # int(inf): JSON "1e400" parses as inf
            return None
    if target in (list, dict):
        return value if isinstance(value, target) else None
    return value
