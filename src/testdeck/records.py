"""Typed records that never crash on a missing, extra or null field.

A service declares `@dataclass class Alert(Record): id: str = ""; ...`.
`Alert.from_api(d)` fills the typed fields it can, falls back to the
default where a value is missing, null or of the wrong type, and keeps the
whole server object in `raw` (unknown fields included) for details and JSON.

`many()` (lists: 100k rows) builds the records in C with msgspec, a few
thousand at a time; a batch holding a row whose types do not match the
declaration exactly goes row by row, and such a row through `from_api`, so
the result is always what `from_api` gives (tests/test_records.py checks both),
except that `raw` is the row itself, not a copy (a copy of 100k rows costs ~100 ms).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

R = TypeVar("R", bound="Record")

_COERCE = {str: str, int: int, float: float}
BATCH = 2_000  # rows per msgspec call: a few ms of C, then other threads get the GIL


@dataclasses.dataclass
class Record:
    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False)

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
            record.__dict__["_api"] = original  # what the API sent, for JSON output (not the wrapper)
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
        return self.__dict__.get("_api", self.raw)

    def get(self, key: str, default: Any = None) -> Any:
        """A field by its API name: typed value first, then anything in raw."""
        if key != "raw" and key in self.__dataclass_fields__:
            return getattr(self, key)
        return self.raw.get(key, default)


@functools.cache
def _plan(cls: type) -> list[tuple[str, Any]]:
    """(field name, plain target type) per field; resolved once per class."""
    hints = typing.get_type_hints(cls)
    plan = []
    for f in dataclasses.fields(cls):
        if f.name == "raw":
            continue
        hint = hints.get(f.name)
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        target = typing.get_origin(hint) or hint
        if target in (typing.Union, types.UnionType) and args:
            target = typing.get_origin(args[0]) or args[0]
        plan.append((f.name, target))
    return plan


@functools.cache
def _fast(cls: type[R]) -> Callable[[list], list[R]] | None:
    """A batch builder for `cls`: msgspec fills a plain twin dataclass (same fields, the plain
    types of the plan) strictly, then each object becomes a `cls` (same layout: a __dict__)
    and gets its raw. None when the twin cannot match from_api (an Any field whose default
    is not None: a null there must give the default)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    spec = []
    for name, target in _plan(cls):
        f = fields[name]
        if target not in (str, int, float, bool, list, dict):
            if f.default is not None:
                return None
            target = Any
        default = (dataclasses.field(default=f.default) if f.default is not dataclasses.MISSING
                   else dataclasses.field(default_factory=f.default_factory))
        spec.append((name, target, default))
    twin = list[dataclasses.make_dataclass(f"_{cls.__name__}Twin", spec)]  # type: ignore[misc]
    post_init = getattr(cls, "__post_init__", None)

    def build(items: list, objects: list) -> list[R]:
        for obj, item in zip(objects, items):
            obj.__class__ = cls
            obj.raw = item  # (not a copy, unlike from_api: a list's rows are fresh from the decoder)
            if post_init is not None:
                obj.__post_init__()
        return objects

    def one(item: Any) -> R:
        if isinstance(item, dict):
            try:
                return build([item], msgspec.convert([item], twin, strict=True))[0]
            except (msgspec.ValidationError, TypeError, ValueError):
                pass  # a wrong type somewhere (a null, "3" for an int): from_api's tolerance
        return cls.from_api(item)

    def batch(items: list) -> list[R]:
        try:
            objects = msgspec.convert(items, twin, strict=True)
        except (msgspec.ValidationError, TypeError, ValueError):
            return [one(x) for x in items]
        return build(items, objects)

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
