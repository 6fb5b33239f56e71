"""VirtualTable: a line-API table that renders only the visible rows.

DataTable measures every cell on add and removes rows in O(n); at 10k-100k
rows that freezes the UI for seconds. Here the screen prepares a TableData
(formatted cells, widths, key index) off the event loop and swaps it in with
one assignment; rendering touches only the rows on screen. The cursor follows
its row key across refreshes, filters and sorts.

Cells carry a status meaning (ok, warning, ...) that is themed through the
`vtable--<meaning>` component classes; the glyph is part of the cell text so
NO_COLOR and 16-colour terminals read it too. Marked rows show a bar in the
left margin; columns of a declared priority hide when the terminal is narrow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import msgspec
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from testdeck.columns import MEANINGS
from testdeck.text import sanitize

MAX_COL = 48  # a measured column never grows past this; the rest is cut with …
GAP = 2  # spaces between columns
MARK = "▌"  # left margin of a marked row


PIECE = 10_000  # items per C call over rows in another order than built (sorted): cache misses, ~5 ms


def gather(get: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """list(map(get, items)), PIECE at a time: one call over 100k sorted rows held the GIL ~50 ms."""
    out: list[Any] = []
    for start in range(0, len(items), PIECE):
        out += map(get, items[start:start + PIECE])
    return out


def clean(text: str) -> str:
    """One display line: every control, C1 or bidi character (newlines and tabs too) becomes a
    visible stand-in (testdeck.text.sanitize). isprintable() is the fast path: False for all of them."""
    return text if text.isprintable() else sanitize(text)


def fit(text: str, width: int) -> str:
    """Exactly `width` cells: padded, or cut with … so a cut value never reads as another value."""
    if len(text) <= width and (text.isascii() or cell_len(text) <= width):
        return text + " " * (width - (len(text) if text.isascii() else cell_len(text)))
    if width <= 1:
        return "…"[:width]
    return set_cell_size(text, width - 1) + "…"


class TableData(msgspec.Struct):
    headings: list[str]
    keys: list[str] = msgspec.field(default_factory=list)
    rows: Sequence[tuple[str, ...]] = msgspec.field(default_factory=list)  # a list, or view.LazyCells
    widths: list[int] = msgspec.field(default_factory=list)
    index: dict[str, int] = msgspec.field(default_factory=dict)
    # per row: the meaning of each cell (None: plain), or None for a row without any
    meanings: Sequence[tuple[str | None, ...] | None] = msgspec.field(default_factory=list)
    priorities: list[int] = msgspec.field(default_factory=list)  # 0 always shown; higher hides first
    glyphs: dict[str, str] = msgspec.field(default_factory=dict)  # meaning -> glyph painted before the cell
    wants: list[int] = msgspec.field(default_factory=list)  # each measured column's longest cell, before MAX_COL (0: fixed)

    @classmethod
    def build(cls, headings: Sequence[str], rows: Sequence[tuple[str, tuple[str, ...]]],
              fixed: Sequence[int | None] = (), meanings: Sequence[tuple[str | None, ...] | None] = (),
              priorities: Sequence[int] = (), glyphs: dict[str, str] | None = None) -> TableData:
        """Clean, measure and index; meant to run in a thread for big tables."""
        cells = list(map(itemgetter(1), rows))
        if not all(all(map(str.isprintable, map(itemgetter(i), cells))) for i in range(len(headings))):
            cells = [tuple(clean(c) for c in cs) for cs in cells]  # rare: a control character somewhere
        return cls.of(headings, list(map(itemgetter(0), rows)), cells, fixed, meanings, priorities, glyphs)

    @classmethod
    def of(cls, headings: Sequence[str], keys: list[str], cells: list[tuple[str, ...]],
           fixed: Sequence[int | None] = (), meanings: Sequence[tuple[str | None, ...] | None] = (),
           priorities: Sequence[int] = (), glyphs: dict[str, str] | None = None,
           longest: Sequence[int] | None = None) -> TableData:
        """Measure and index cells already clean (see clean()). Column by column with map/itemgetter
        (C): 100k rows in milliseconds. `longest`: each column's longest cell, if known."""
        columns = range(len(headings))
        # columns where some row has a meaning get two more cells: the glyph and a space
        present = list(filter(None, meanings))
        try:
            flagged = {i for i in columns if any(map(itemgetter(i), present))}
        except IndexError:  # a short meanings tuple: no meaning past its end
            flagged = {i for i in columns if any(m[i] is not None for m in present if i < len(m))}
        widths, wants = [], []
        for i, heading in enumerate(headings):
            head = cell_len(heading) + 1  # one cell for the sort arrow, so it always shows
            glyph = 2 if i in flagged else 0
            want = fixed[i] if i < len(fixed) else None
            if want:
                widths.append(max(want + glyph, head))
                wants.append(0)
                continue
            most = longest[i] if longest is not None else max(map(len, map(itemgetter(i), cells)), default=0)
            # len() is a fast upper bound for ASCII; fit() measures real cells when it matters
            widths.append(min(MAX_COL, max(head, most + glyph)))
            wants.append(max(head, most + glyph))
        return cls(list(headings), keys, cells, widths, key_index(keys), list(meanings) if meanings else [],
                   list(priorities), dict(glyphs or {}), wants)


def key_index(keys: list[str]) -> dict[str, int]:
    """Each key's row, PIECE at a time (see gather)."""
    index: dict[str, int] = {}
    for start in range(0, len(keys), PIECE):
        index.update(zip(keys[start:start + PIECE], range(start, start + PIECE)))
    return index


class VirtualTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    VirtualTable > .vtable--header { text-style: bold; background: $panel; }
    VirtualTable > .vtable--cursor { background: $accent 40%; }
    VirtualTable > .vtable--cursor-focus { background: $accent; color: $text; text-style: bold; }
    VirtualTable > .vtable--stale { color: $text-muted; }
    VirtualTable > .vtable--empty { color: $text-muted; text-style: italic; }
    VirtualTable > .vtable--marked { background: $secondary 35%; text-style: bold; }
    VirtualTable > .vtable--changed { background: $warning 20%; text-style: italic; }
    VirtualTable > .vtable--ok { color: $success; }
    VirtualTable > .vtable--warning { color: $warning; text-style: bold; }
    VirtualTable > .vtable--error { color: $error; text-style: bold; }
    VirtualTable > .vtable--running { color: $accent; }
    VirtualTable > .vtable--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"vtable--header", "vtable--cursor", "vtable--cursor-focus", "vtable--stale", "vtable--empty",
                         "vtable--marked", "vtable--changed", *(f"vtable--{m}" for m in MEANINGS)}
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "up", show=False, id="table.up"),
        Binding("down,j", "cursor(1)", "down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "page down", show=False, id="table.page_down"),
        Binding("home,g", "jump(0)", "top", show=False, id="table.top"),
        Binding("end,G", "jump(-1)", "bottom", show=False, id="table.bottom"),
        Binding("left,h", "pan(-8)", "left", show=False, id="table.left"),
        Binding("right", "pan(8)", "right", show=False, id="table.right"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    stale: reactive[bool] = reactive(False)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, key: str | None):
            super().__init__()
            self.table, self.key = table, key

    def __init__(self, headings: Sequence[str] = (), *, empty_text: str = "no rows", **kwargs):
        super().__init__(**kwargs)
        self.data = TableData(list(headings))
        self.empty_text = empty_text
        self.sort_column: int | None = None
        self.sort_reverse = False
        self.marked: set[str] = set()  # row keys (the screen owns the set)
        self.changed: set[str] = set()  # row keys whose cells changed at the last refresh
        self.columns: list[int] = []  # the columns shown at this width
        self.widths: list[int] = []  # their widths at this width (the last may take what is left)
        self._painted: tuple | None = None  # _paint_state() at the last set_data: what the screen shows

    # --- data -----------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.data.keys)

    @property
    def cursor_key(self) -> str | None:
        keys = self.data.keys
        return keys[self.cursor] if 0 <= self.cursor < len(keys) else None

    def set_data(self, data: TableData) -> None:
        """Swap in new rows; the cursor stays on its key (or its position if gone)."""
        key = self.cursor_key
        old_cursor = self.cursor
        before, painted = self.data, self._painted
        columns, scroll = self.columns, self.scroll_offset
        self.data = data
        self._layout()
        if key is not None and key in data.index:
            new = data.index[key]
        else:
            new = min(old_cursor, max(0, len(data.keys) - 1))
        self.cursor = new
        self._scroll_cursor_into_view()
        self._painted = self._paint_state()
        if painted is None or painted[0] != self._painted[0] or columns != self.columns or scroll != self.scroll_offset:
            self.refresh()
            return
        # Same layout: only the visible rows whose content or marks changed repaint. The triage view
        # swaps its rows every second (ages move on) and a whole repaint cost 5-35 ms a time.
        top = int(self.scroll_y)
        for row in range(top, top + max(0, self.size.height - 1)):
            if self._row_state(before, painted, row) != self._row_state(data, self._painted, row):
                self.refresh_line(row + 1)

    def _paint_state(self) -> tuple:
        """What a repaint depends on besides the rows: any change there repaints everything."""
        data = self.data
        head = (data.headings, self.widths, data.glyphs, self.sort_column, self.sort_reverse, self.stale,
                self.empty_text if not data.keys else None)
        return head, frozenset(self.changed), frozenset(self.marked)

    @staticmethod
    def _row_state(data: TableData, painted: tuple, row: int) -> tuple | None:
        if row >= len(data.keys):
            return None
        key = data.keys[row]
        meanings = data.meanings[row] if row < len(data.meanings) else None
        return key, data.rows[row], meanings, key in painted[1], key in painted[2]

    def _layout(self) -> None:
        """Choose the columns that fit: drop the highest priority numbers first (0 never)."""
        data = self.data
        shown = list(range(len(data.widths)))
        self.widths = list(data.widths)
        visible = self.scrollable_content_region.width or self.size.width  # beside a vertical scrollbar
        room = visible - 2 if visible else 0
        prios = data.priorities
        if room > 0 and prios:
            for prio in sorted({p for p in prios if p > 0}, reverse=True):
                if self._line_width(shown) <= room:
                    break
                shown = [i for i in shown if prios[i] != prio]
        self.columns = shown
        # the last column takes the room left over, as far as its longest cell wants (a log's
        # message stopped at MAX_COL with a third of the screen empty beside it)
        spare = room - self._line_width(shown)
        if shown and spare > 0 and shown[-1] < len(data.wants):
            last = shown[-1]
            self.widths[last] = max(self.widths[last], min(data.wants[last], self.widths[last] + spare))
        # the margins (one cell each side) are part of the line, so the last column can be reached
        self.virtual_size = Size(self._line_width(shown) + 2, len(data.keys) + 1)

    def _line_width(self, columns: list[int]) -> int:
        widths = self.widths
        return sum(widths[i] for i in columns) + max(0, len(columns) - 1) * GAP

    def on_resize(self, event: events.Resize) -> None:
        self._layout()

    def move_to_key(self, key: str) -> bool:
        if key in self.data.index:
            self.cursor = self.data.index[key]
            self._scroll_cursor_into_view()
            return True
        return False

    def watch_cursor(self, old: int, new: int) -> None:
        # only the two rows repaint (line 0 is the header): a whole-table repaint per cursor key
        # cost 10-50 ms with fifty profiles polling; a scroll that follows repaints all anyway
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        self.post_message(self.Highlighted(self, self.cursor_key))

    def watch_stale(self) -> None:
        self.refresh()

    def watch_has_focus(self, _has_focus: bool) -> None:
        # Textual restyles a widget and its component classes at each focus change, for :focus rules.
        # The table has none: its focused cursor is a class of its own, chosen as it paints (the
        # repaint comes with the focus change), so a focus change costs a repaint, not a restyle
        # (~5 M instructions: the resource screen's first focus, each / and esc of the filter box).
        pass

    def _cursor_class(self) -> str:
        return "vtable--cursor-focus" if self.has_focus else "vtable--cursor"

    # --- navigation -------------------------------------------------------------
    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor(self, delta: int) -> None:
        if self.row_count:
            self.cursor = max(0, min(self.row_count - 1, self.cursor + delta))
            self._scroll_cursor_into_view()

    def action_pan(self, cells: int) -> None:
        """Wide tables: show the columns cut off at the right edge."""
        self.scroll_to(x=max(0, self.scroll_x + cells), animate=False)

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * self._page)

    def action_jump(self, where: int) -> None:
        if self.row_count:
            self.cursor = 0 if where == 0 else self.row_count - 1
            self._scroll_cursor_into_view()

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        height = self._page
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def on_click(self, event: Click) -> None:
        row = int(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < self.row_count:
            self.cursor = row

    # --- rendering --------------------------------------------------------------
    def _header_cells(self) -> list[str]:
        out = []
        for i, heading in enumerate(self.data.headings):
            if i == self.sort_column:
                heading = f"{heading}{'▼' if self.sort_reverse else '▲'}"
            out.append(heading.upper())
        return out

    def render_lines(self, crop):
        # styles are worked out once per repaint, not once per line: a full repaint of a
        # 40-line table took ~6 ms in render_line alone, most of it recomputing the same styles
        self._styles = {}
        try:
            return super().render_lines(crop)
        finally:
            self._styles = None

    def _style(self, *names: str) -> Style:
        """The widget's style plus these component styles, cached for this repaint."""
        cache = getattr(self, "_styles", None)
        if cache is not None and names in cache:
            return cache[names]
        style = self.rich_style
        for name in names:
            style += self.get_component_rich_style(name)
        if cache is not None:
            cache[names] = style
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        # the width beside the vertical scrollbar, if any: a `…` drawn under it was never seen
        width = self.scrollable_content_region.width or self.size.width
        widths = self.widths
        if y == 0:
            style = self._style("vtable--header")
            cells = self._header_cells()
            text = "  ".join(fit(cells[i], widths[i]) for i in self.columns if i < len(cells))
            return self._crop(Strip([Segment(" " + text + " ", style)]), scroll_x, width, style)
        row = scroll_y + y - 1
        if row >= self.row_count:
            if row == 0:
                return Strip([Segment(fit(" " + self.empty_text, width), self._style("vtable--empty"))])
            return Strip.blank(width, self._style())
        key = self.data.keys[row]
        marked = key in self.marked
        cursor = row == self.cursor
        layers = tuple(name for name, on in (("vtable--stale", self.stale), ("vtable--changed", key in self.changed),
                                             ("vtable--marked", marked),
                                             (self._cursor_class(), cursor)) if on)
        style = self._style(*layers)
        cells = self.data.rows[row]
        meanings = self.data.meanings[row] if row < len(self.data.meanings) else None
        plain = self.stale or (cursor and self.has_focus)  # the cursor stays readable
        # Neighbours of one style go out as one segment: every later step (crop, the app's filters,
        # the driver's escape codes) works per segment, and a row was ~13 of them for ~3 styles.
        texts: list[str] = []
        styles: list[Style] = []

        def put(piece: str, piece_style: Style) -> None:
            if styles and styles[-1] is piece_style:
                texts[-1] += piece
            else:
                texts.append(piece)
                styles.append(piece_style)

        put(MARK if marked else " ", style)
        gap = " " * GAP
        for n, i in enumerate(self.columns):
            if i >= len(cells):
                break
            if n:
                put(gap, style)
            meaning = meanings[i] if meanings is not None and i < len(meanings) else None
            cell_style = style
            text = cells[i]
            if meaning is not None:
                text = f"{self.data.glyphs.get(meaning, ' ')} {text}"
                if not plain:
                    cell_style = self._style(*layers, f"vtable--{meaning}")
            put(fit(text, widths[i]), cell_style)
        put(" ", style)
        segments = list(map(Segment, texts, styles))
        return self._crop(Strip(segments), scroll_x, width, style)

    def _crop(self, strip: Strip, scroll_x: int, width: int, style: Style) -> Strip:
        """The visible part; where the line goes on past the right edge its last cell is `…` (a
        heading cut to STARTE read as a whole word): → scrolls there. Blanks past the edge (a short value
        in a wide column) are not more of the line."""
        if self.virtual_size.width - 1 <= scroll_x + width or width < 2 \
                or not strip.crop(scroll_x + width - 1, strip.cell_length).text.strip():
            return strip.crop_extend(scroll_x, scroll_x + width, style)
        return Strip.join([strip.crop_extend(scroll_x, scroll_x + width - 1, style), Strip([Segment("…", style)])])

    def get_content_height(self, container, viewport, width: int) -> int:
        return self.row_count + 1
