"""VirtualTable: a line-API table that renders only the visible rows.

DataTable measures every cell on add and removes rows in O(n); at 10k-100k
rows that freezes the UI for seconds. Here the screen prepares a TableData
(formatted cells, widths, key index) off the event loop and swaps it in with
one assignment; rendering touches only the rows on screen. The cursor follows
its row key across refreshes, filters and sorts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from testdeck.text import sanitize

MAX_COL = 48  # a measured column never grows past this; the rest is cut with …


def clean(text: str) -> str:
    """One display line: every control, C1 or bidi character (newlines and tabs too) becomes a
    visible stand-in. isprintable() is the fast path: it is False for all of them."""
    return text if text.isprintable() else sanitize(text)


@dataclass
class TableData:
    headings: list[str]
    keys: list[str] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, headings: Sequence[str], rows: Sequence[tuple[str, tuple[str, ...]]],
              fixed: Sequence[int | None] = ()) -> TableData:
        """Measure and index; meant to run in a thread for big tables."""
        keys = [k for k, _ in rows]
        cells = [tuple(clean(c) for c in cs) for _, cs in rows]
        widths = []
        for i, heading in enumerate(headings):
            want = fixed[i] if i < len(fixed) else None
            if want:
                widths.append(max(want, 1))
                continue
            longest = max((len(r[i]) for r in cells), default=0)
            # len() is a fast upper bound for ASCII; measure real cells only when it matters
            widths.append(min(MAX_COL, max(cell_len(heading), longest)))
        return cls(list(headings), keys, cells, widths, {k: i for i, k in enumerate(keys)})


class VirtualTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    VirtualTable > .vtable--header { text-style: bold; background: $panel; }
    VirtualTable > .vtable--cursor { background: $accent 40%; }
    VirtualTable:focus > .vtable--cursor { background: $accent; color: $text; text-style: bold; }
    VirtualTable > .vtable--stale { color: $text-muted; }
    VirtualTable > .vtable--empty { color: $text-muted; text-style: italic; }
    """
    COMPONENT_CLASSES = {"vtable--header", "vtable--cursor", "vtable--stale", "vtable--empty"}
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "up", show=False),
        Binding("down,j", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home,g", "jump(0)", "top", show=False),
        Binding("end,G", "jump(-1)", "bottom", show=False),
        Binding("left,h", "pan(-8)", "left", show=False),
        Binding("right", "pan(8)", "right", show=False),
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
        self.data = data
        self.virtual_size = Size(sum(data.widths) + max(0, len(data.widths) - 1) * 2, len(data.keys) + 1)
        if key is not None and key in data.index:
            new = data.index[key]
        else:
            new = min(old_cursor, max(0, len(data.keys) - 1))
        self.cursor = new
        self._scroll_cursor_into_view()
        self.refresh()

    def move_to_key(self, key: str) -> bool:
        if key in self.data.index:
            self.cursor = self.data.index[key]
            self._scroll_cursor_into_view()
            return True
        return False

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_key))

    def watch_stale(self) -> None:
        self.refresh()

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
    def _line(self, cells: Sequence[str]) -> str:
        widths = self.data.widths
        parts = [set_cell_size(cell, widths[i]) for i, cell in enumerate(cells) if i < len(widths)]
        return "  ".join(parts)

    def _header_cells(self) -> list[str]:
        out = []
        for i, heading in enumerate(self.data.headings):
            if i == self.sort_column:
                heading = f"{heading}{'▼' if self.sort_reverse else '▲'}"
            out.append(heading.upper())
        return out

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("vtable--header")
            text = self._line(self._header_cells())
        else:
            row = scroll_y + y - 1
            if row >= self.row_count:
                if row == 0:
                    style = base + self.get_component_rich_style("vtable--empty")
                    return Strip([Segment(set_cell_size(" " + self.empty_text, width), style)])
                return Strip.blank(width, base)
            style = base
            if self.stale:
                style += self.get_component_rich_style("vtable--stale")
            if row == self.cursor:
                style += self.get_component_rich_style("vtable--cursor")
            text = self._line(self.data.rows[row])
        strip = Strip([Segment(" " + text + " ", style)])
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def get_content_height(self, container, viewport, width: int) -> int:
        return self.row_count + 1


