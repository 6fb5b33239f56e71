"""How a table shows a record: Col (a column of a Resource), the meaning of a state (OK, WARNING,
ERROR, RUNNING, MUTED) with its glyph, and the cell formatters a Col's fmt uses (plain, age,
duration, timestamp, yes_no). Declarations only, no Textual: the screens render them."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from typing import Any

import msgspec

from testdeck import clock
from testdeck.records import Record

# What a state means, declared per column by each service (Col.status); the screen
# themes each meaning and pairs it with a glyph so NO_COLOR stays readable.
OK, WARNING, ERROR, RUNNING, MUTED = "ok", "warning", "error", "running", "muted"
# the glyph of each meaning, everywhere a state is shown (tables, detail screens): readable without colour
GLYPHS = {OK: "✔", WARNING: "▲", ERROR: "✖", RUNNING: "●", MUTED: "○"}
MEANINGS = (OK, WARNING, ERROR, RUNNING, MUTED)


class Col(msgspec.Struct):
    key: str
    title: str | None = None
    fmt: Callable[[Any], str] | None = None
    width: int | None = None  # fixed width; None measures the data
    # state -> meaning (OK, WARNING, ...): a dict of raw values, or a callable on the raw value
    status: dict[str, str] | Callable[[Any], str | None] | None = None
    # 0: always shown; 1, 2, ...: hidden first (highest first) when the terminal is narrow
    priority: int = 0
    # a field whose text follows the state in the table when the meaning is ERROR or WARNING
    # (kyaraben status_reason), so the reason is seen without opening details
    reason: str | None = None
    # the API field CSV writes for this column when `key` is one the console derives for display
    # (xyOps jobs' event title, marked "(event list unavailable)" when it cannot be named: never data)
    csv: str | None = None

    def meaning(self, record: Record) -> str | None:
        return self.meaning_of(record.get(self.key))

    def meaning_of(self, value: Any) -> str | None:
        if self.status is None:
            return None
        if callable(self.status):
            try:
                return self.status(value)
            except Exception:
                return None
        return self.status.get(str(value)) if value is not None else None

    @property
    def heading(self) -> str:
        return self.title or self.key

    def cell(self, record: Record) -> str:
        return self.cell_of(record.get(self.key))

    def cell_of(self, value: Any) -> str:
        if self.fmt is not None:
            try:
                return self.fmt(value)
            except Exception:  # a formatter must never take a refresh down
                return str(value)
        return value if type(value) is str else plain(value)  # most cells: 100k rows, 7 columns


# --- formatters ----------------------------------------------------------------

def plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def yes_no(value: Any) -> str:
    return "yes" if value else "no"


def _epoch(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value) / (1000 if value > 1e12 else 1)
    try:
        text = str(value).replace("Z", "+00:00")
        return _dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def duration(seconds: Any) -> str:
    """Two most significant units: 45s, 3m12s, 2h5m, 4d3h."""
    try:
        s = max(0, int(float(seconds)))
    except (TypeError, ValueError):
        return ""
    return _two_units(s)


def _two_units(s: int) -> str:
    if s < 1:
        return "0s"
    if s >= 86400:
        return f"{s // 86400}d{s % 86400 // 3600}h"
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60}m"
    if s >= 60:
        return f"{s // 60}m{s % 60}s"
    return f"{s}s"


def age(value: Any) -> str:
    """'3m12s' since an epoch or ISO-8601 timestamp, against the (freezable) clock."""
    at = _epoch(value)
    if at is None:
        return ""
    return duration(clock.now() - at)


def timestamp(value: Any) -> str:
    at = _epoch(value)
    if at is None:
        return ""
    return _dt.datetime.fromtimestamp(at, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
