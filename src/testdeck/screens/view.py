"""What a resource screen shows: formatted rows, k9s-style filters, sort, per-resource view state.

Pure functions (no Textual): they run in a thread for big tables and are tested directly.
"""

from __future__ import annotations

import bisect
import json
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from testdeck import clock
from testdeck.columns import ERROR, GLYPHS, WARNING, Col, _two_units, age, plain
from testdeck.records import Record
from testdeck.resources import Resource
from testdeck.widgets.table import TableData, clean, gather, key_index

# every meaning has a glyph as well as a colour: NO_COLOR and 16-colour terminals read the glyph


class Row(msgspec.Struct):
    key: str
    cells: tuple[str, ...]
    record: Record
    meanings: tuple[str | None, ...] | None = None


class ViewState(msgspec.Struct):
    """What the user set on a resource; kept in session.views while they look elsewhere."""

    filter: str = ""
    sort_col: int | None = None
    sort_reverse: bool = False
    marks: set[str] = msgspec.field(default_factory=set)
    cursor: str | None = None
    query: str | None = None  # the chosen Query's key (None: the default view)


FORMAT_PART = 10_000  # rows formatted per pass: over 100k rows each C call below held the GIL 20-80 ms


def format_rows(resource: Resource, records: list[Record], meanings: bool = False) -> Rows:
    """_format_part() of FORMAT_PART records at a time (same rows; the longest cells of all)."""
    if len(records) <= FORMAT_PART:
        return _format_part(resource, records, meanings)
    rows = Rows()
    longest = [0] * len(resource.columns)
    for start in range(0, len(records), FORMAT_PART):
        part = _format_part(resource, records[start:start + FORMAT_PART], meanings)
        rows += part
        longest = list(map(max, longest, part.longest))
    rows.longest = longest
    return rows


def _format_part(resource: Resource, records: list[Record], meanings: bool = False) -> Rows:
    """Cells as formatted; with meanings (the screen), each status cell's meaning, and an ERROR or
    WARNING cell followed by its reason (`ERROR: quota exceeded`) where the column declares one.
    The glyph is painted by the table, so cells (filters, copies, tests) hold only the text.

    Column by column, so that most of the work for 100k rows is C (map, zip): the same cells
    as Col.cell and meanings as Col.meaning give row by row."""
    cols = resource.columns
    values = {c.key: _values(records, c.key) for c in cols}
    columns, printable = [], []
    for c in cols:
        cells, safe = _cells(c, values[c.key])
        columns.append(cells)
        printable.append(safe)
    found: list[tuple[str | None, ...] | None] = [None] * len(records)
    if meanings:
        found = _meanings(cols, values, columns, records)  # (a reason makes its column unsafe again)
        printable = [safe and not c.reason for safe, c in zip(printable, cols)]
    # one display line per cell, once per refresh (not per filter or sort): see widgets.table.clean
    columns = [cells if safe or all(map(str.isprintable, cells)) else list(map(clean, cells))
               for cells, safe in zip(columns, printable)]
    keys = values[resource.key] if resource.key in values else _values(records, resource.key)
    cells = zip(*columns) if cols else [()] * len(records)
    rows = Rows(map(Row, map(str, keys), cells, records, found))
    rows.longest = [max(map(len, column), default=0) for column in columns]  # (cheapest by column)
    return rows


class Rows(list):
    """format_rows' rows, with each column's longest cell (for build_view: a sort measures nothing)."""

    longest: list[int] | None = None


def _values(records: list[Record], key: str) -> list[Any]:
    """record.get(key) of every record."""
    kinds = set(map(type, records))
    if len(kinds) == 1:
        kind = kinds.pop()
        if issubclass(kind, Record) and kind.get is Record.get:
            if key != "raw" and key in kind.__struct_fields__:
                return list(map(operator.attrgetter(key), records))
            return [r.raw.get(key) for r in records]
    return [r.get(key) for r in records]


def _cells(col: Col, values: list[Any]) -> tuple[list[str], bool]:
    """The column's cells, and whether they are printable for sure (numbers, ages: no server text)."""
    fmt = col.fmt
    if fmt is None:
        kinds = set(map(type, values))
        if kinds <= {str}:
            return values, False
        if kinds <= {str, int}:
            # plain() of an int (not a bool) is str(); a few distinct values (a count, a flag) made once each
            distinct = set(values)
            if len(distinct) * 8 < len(values):
                return list(map({v: str(v) for v in distinct}.__getitem__, values)), kinds == {int}
            return list(map(str, values)), kinds == {int}
        return [v if type(v) is str else plain(v) for v in values], False
    if fmt is age:
        now = clock.now()
        # (the common case inline: epoch seconds or milliseconds as an int; the rest as age() does it)
        return [_two_units(int(now - (v / 1000 if v > 1e12 else v))) if type(v) is int and 0 < v < 10**14
                else col.cell_of(v) for v in values], set(map(type, values)) == {int}
    try:
        return [fmt(v) for v in values], False
    except Exception:  # a formatter must never take a refresh down: that cell shows the value
        return list(map(col.cell_of, values)), False


def _meanings(cols: list[Col], values: dict[str, list[Any]], columns: list[list[str]],
              records: list[Record]) -> list[tuple[str | None, ...] | None]:
    """Per row, the meaning of each cell (None: plain), or None for a row without any; an ERROR or
    WARNING cell of a column with a reason gets it appended (in `columns`)."""
    status = [i for i, c in enumerate(cols) if c.status is not None]
    per_column = []
    for i in status:
        col = cols[i]
        found = [m if m in GLYPHS else None for m in map(col.meaning_of, values[col.key])]
        if col.reason:
            bad = [n for n, m in enumerate(found) if m in (ERROR, WARNING)]
            if bad:
                cells = columns[i] = list(columns[i])
                for n in bad:
                    why = records[n].get(col.reason)
                    if why:
                        cells[n] += f": {plain(why)}"
        per_column.append(found)
    if not per_column:
        return [None] * len(records)
    shapes: dict[tuple, tuple[str | None, ...] | None] = {}  # few distinct ones: built once each

    def shape(combo: tuple) -> tuple[str | None, ...] | None:
        if not any(combo):
            return None
        full: list[str | None] = [None] * len(cols)
        for i, m in zip(status, combo):
            full[i] = m
        return tuple(full)

    return [shapes[c] if c in shapes else shapes.setdefault(c, shape(c)) for c in zip(*per_column)]


def _text_matcher(text: str) -> Callable[[str], Any]:
    """`/regex/` (closing slash optional while typing) or a case-insensitive substring."""
    if text.startswith("/"):
        pattern = text[1:-1] if len(text) >= 2 and text.endswith("/") else text[1:]
        try:
            return re.compile(pattern, re.I).search
        except re.error as exc:
            raise ValueError(f"bad regex: {exc}") from None
    needle = text.lower()
    return lambda hay: needle in hay.lower()


def column_index(resource: Resource, name: str) -> int | None:
    """A column by its heading or its key, case-insensitive."""
    name = name.strip().lower()
    for i, c in enumerate(resource.columns):
        if name in (c.heading.lower(), c.key.lower()):
            return i
    return None


def compile_filter(text: str, resource: Resource | None = None) -> Callable[[Row], bool] | None:
    """k9s filters: `text`, `!text` (inverse), `/regex/`, `column:value` (heading or key).

    None for no filter; ValueError on a bad regex."""
    text = text.strip()
    inverse = text.startswith("!")
    if inverse:
        text = text[1:].strip()
    if not text or text == "/":
        return None
    column = None
    name, sep, value = text.partition(":")
    if sep and resource is not None and not text.startswith("/"):
        column = column_index(resource, name)
        if column is not None:
            text = value.strip()
            if not text:
                return None
    match = _text_matcher(text)
    if column is not None:
        test = (lambda row: bool(match(row.cells[column])))
    else:
        test = (lambda row: bool(match("\t".join(row.cells))))
    return (lambda row: not test(row)) if inverse else test


def _sort_key(value: Any) -> tuple:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, plain(value).lower())


SORT_CHUNK = 4_000  # rows sorted by one C call: short enough that the UI thread gets the GIL back soon


class Cancelled(Exception):
    """A newer filter or sort replaced this one: stop spending the GIL on it."""


def sort_rows(rows: list[Row], key: Callable[[Row], Any], reverse: bool = False,
              cancelled: Callable[[], bool] = lambda: False) -> list[Row]:
    """sorted(rows, key=key, reverse=reverse), in pieces (see _by_keys)."""
    keys = []
    for n, row in enumerate(rows):
        keys.append(key(row))
        if not n % 10_000 and cancelled():
            raise Cancelled
    return _by_keys(rows, keys, reverse, cancelled)


def _by_keys(rows: list[Row], keys: list[Any], reverse: bool, cancelled: Callable[[], bool]) -> list[Row]:
    """The rows in the order of their keys, like sorted(): stable, reversed or not.

    list.sort is one C call that never lets go of the GIL: 100k rows held the UI thread for
    ~100 ms from a worker thread. Pieces of SORT_CHUNK rows are sorted on their own, then
    merged two by two (_merge), also by sorted(): it finds two runs and merges them in one
    linear pass (heapq.merge did it in Python: a second of CPU for 100k rows)."""
    by = keys.__getitem__
    runs = [sorted(range(start, min(start + SORT_CHUNK, len(rows))), key=by, reverse=reverse)
            for start in range(0, len(rows), SORT_CHUNK)] or [[]]
    while len(runs) > 1:
        if cancelled():
            raise Cancelled
        # each pair in its order: the earlier rows first, so equal keys keep their order
        runs = [_merge(runs[i], runs[i + 1], keys, reverse) if i + 1 < len(runs) else runs[i]
                for i in range(0, len(runs), 2)]
    return gather(rows.__getitem__, runs[0])


def _merge(first: list[int], then: list[int], keys: list[Any], reverse: bool) -> list[int]:
    """Two sorted runs as one, `first`'s rows before `then`'s on equal keys; by sorted() on pieces
    of at most 2 x SORT_CHUNK rows (the last merge of 100k rows was one 40-100 ms call).

    A pivot row of the longer run splits both where the merge would: what goes before it
    (in `first`, equal keys too; in `then`, only strictly smaller ones) is merged on its own."""
    if len(first) + len(then) <= 2 * SORT_CHUNK or not first or not then:
        return sorted(first + then, key=keys.__getitem__, reverse=reverse)
    before = operator.gt if reverse else operator.lt  # the order the run is sorted in
    if len(first) >= len(then):
        m = len(first) // 2
        pivot = keys[first[m]]
        j = bisect.bisect_left(then, True, key=lambda n: not before(keys[n], pivot))
        return _merge(first[:m], then[:j], keys, reverse) + _merge(first[m:], then[j:], keys, reverse)
    m = len(then) // 2
    pivot = keys[then[m]]
    i = bisect.bisect_left(first, True, key=lambda n: before(pivot, keys[n]))
    return _merge(first[:i], then[:m], keys, reverse) + _merge(first[i:], then[m:], keys, reverse)


def _sort_keys(values: list[Any]) -> list[Any]:
    """_sort_key of each value; a column all text or all numbers (the usual) sorts by the plain values."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return list(map(str.lower, values))
    if kinds <= {int, float}:
        return values
    return list(map(_sort_key, values))


def filter_sort(resource: Resource, rows: list[Row], match: Any, sort_col: int | None,
                reverse: bool, cancelled: Callable[[], bool] = lambda: False) -> list[Row]:
    if match is not None:
        kept = []
        for n, r in enumerate(rows):
            if match(r):
                kept.append(r)
            # (every 10k rows, a stopped filter ran on for 10-30 ms: at 10 keys/s three or four
            # threads shared the GIL with the screen, and keys waited 40-60 ms)
            if not n % 1_000 and cancelled():
                raise Cancelled
        rows = kept
    if sort_col is not None and sort_col < len(resource.columns):
        values = _values(list(map(operator.attrgetter("record"), rows)), resource.columns[sort_col].key)
        if cancelled():
            raise Cancelled
        rows = _by_keys(rows, _sort_keys(values), reverse, cancelled)
    return rows


def build_view(resource: Resource, rows: list[Row], match: Any, sort_col: int | None,
               reverse: bool, cancelled: Callable[[], bool] = lambda: False) -> TableData:
    """Filter, sort and measure: pure, runs in a thread. Raises Cancelled once `cancelled()`.

    Every row of format_rows' list shown (sorted or not): the longest cells it measured, so a
    sort touches no cell (in sorted order, 700k cells were as many cache misses: a second for
    100k rows)."""
    shown = filter_sort(resource, rows, match, sort_col, reverse, cancelled)
    cols = resource.columns
    cells = gather(operator.attrgetter("cells"), shown)
    longest = rows.longest if match is None and isinstance(rows, Rows) else None
    # a column showing reasons is measured (its width is a minimum), so the reason is not cut early
    fixed = [None if c.reason else c.width for c in cols]
    return TableData.of([c.heading for c in cols], gather(operator.attrgetter("key"), shown), cells, fixed,
                        gather(operator.attrgetter("meanings"), shown) if any(c.status is not None for c in cols)
                        else (), [c.priority for c in cols], GLYPHS, longest)


LAZY_BLOCK = 64  # rows formatted together when first painted: a screenful is one or two blocks
LAZY_SAMPLE = 512  # rows formatted at once to measure the columns of a lazy view


def lazy_view(resource: Resource, records: list[Record]) -> tuple[TableData, dict[str, Record]]:
    """Every row in server order, its cells formatted when first painted; and the records by key.

    What a big first load shows while format_rows works on the whole list (~0.6-1 s for 100k
    rows): the table can be scrolled, jumped to its end and acted on at once. Widths are those
    of the first LAZY_SAMPLE rows; the whole list's rows replace these a moment later (and with
    them filter and sort, which need every cell)."""
    sample = build_view(resource, format_rows(resource, records[:LAZY_SAMPLE], True), None, None, False)
    keys = list(map(str, _values(records, resource.key)))
    lazy = _Lazy(resource, records)
    meanings = LazyCells(lazy, "meanings") if sample.meanings else []
    data = msgspec.structs.replace(sample, keys=keys, index=key_index(keys), rows=LazyCells(lazy, "cells"),
                                   meanings=meanings)
    return data, dict(zip(keys, records))


class _Lazy:
    """format_rows() of a block of LAZY_BLOCK records, the first time one of its rows is asked for
    (on the event loop, by the table's paint: a block is a fraction of a millisecond)."""

    def __init__(self, resource: Resource, records: list[Record]):
        self.resource, self.records = resource, records
        self.blocks: dict[int, Rows] = {}

    def row(self, n: int) -> Row:
        block, at = divmod(n, LAZY_BLOCK)
        rows = self.blocks.get(block)
        if rows is None:
            start = block * LAZY_BLOCK
            rows = self.blocks[block] = format_rows(self.resource, self.records[start:start + LAZY_BLOCK], True)
        return rows[at]


class LazyCells(Sequence):
    """TableData.rows (cells) or .meanings of a lazy view: only what the table reads by index."""

    def __init__(self, lazy: _Lazy, part: str):
        self.lazy, self.part = lazy, part

    def __len__(self) -> int:
        return len(self.lazy.records)

    def __getitem__(self, n):  # type: ignore[override]
        if isinstance(n, slice):
            return [self[i] for i in range(len(self))[n]]
        return getattr(self.lazy.row(range(len(self))[n]), self.part)


# --- details ----------------------------------------------------------------------------------------------

# (patterns compiled at first use, by re's own cache: only the details view needs them)
_TIME_KEY = (r"(?i)(^|_)(ts|time|date|at|created|modified|updated|started|finished|ended|expires|since|"
             r"last|generated|scheduled)($|_)|time|date")
_JSON_LINE = r'^(\s*)"(?P<k>[^"]+)": (?P<v>-?\d+(?:\.\d+)?|"[^"]*")(?P<comma>,?)$'


def _human_time(key: str, raw: str) -> str | None:
    from testdeck.columns import _epoch, age, timestamp

    if not re.search(_TIME_KEY, key):
        return None
    value: Any = raw.strip('"')
    if not raw.startswith('"'):
        number = float(raw)
        if not (1e9 <= number < 1e10 or 1e12 <= number < 1e13):  # seconds or milliseconds since 1970
            return None
        value = number
    if _epoch(value) is None:
        return None
    from testdeck import clock
    from testdeck.columns import duration

    when = timestamp(value)
    at = _epoch(value)
    ahead = at is not None and at - clock.now() >= 1  # a schedule: "in 8m", never "0s ago"
    ago = f"in {duration(at - clock.now())}" if ahead else (f"{age(value)} ago" if age(value) else "")
    if raw.startswith('"'):
        return ago or None
    return f"{when}, {ago}" if ago else when


def detail_text(value: Any) -> str:
    """Details as JSON with unicode as typed, and epoch/ISO times followed by a human form."""
    if isinstance(value, str):
        return value
    if isinstance(value, Record):
        value = value.raw
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    out = []
    for line in text.splitlines():
        m = re.match(_JSON_LINE, line)
        human = _human_time(m["k"], m["v"]) if m else None
        out.append(f"{line}   # {human}" if human else line)
    return "\n".join(out)
