"""Typed records that never crash on a missing, extra or null field.

A service declares `@dataclass class Alert(Record): id: str = ""; ...`.
`Alert.from_api(d)` fills the typed fields it can, falls back to the
default where a value is missing, null or of the wrong type, and keeps the
whole server object in `raw` (unknown fields included) for details and JSON.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar

R = TypeVar("R", bound="Record")

_COERCE = {str: str, int: int, float: float}


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
        return [cls.from_api(x) for x in items] if isinstance(items, list) else []

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
