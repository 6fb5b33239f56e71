"""LogView: the rows of a long, growing log, drawn only where they are on screen.

Why a custom line-API view instead of Textual's `Log` or `RichLog`:
`Log` has `max_lines` and fast batched `write_lines`, but no wrap; `RichLog`
wraps but renders every line through Rich on write (slow, and its lines are
markup-prone renderables). `LogView` keeps the raw lines in a plain list,
renders only the rows on screen, and wraps by slicing (hard wrap at the
width, like `less`), so ingest costs a few hundred nanoseconds per line and
the wrap toggle is a single O(lines) pass. `benchmarks/log_tail.py` measures
it against `Log`.

Lines are sanitised as they come in (testdeck.text.sanitize: control, C1 and
bidi characters become visible stand-ins, tabs kept), so what is drawn and what
save writes are both safe for a terminal; tabs are expanded only when a line is
drawn. Nothing a server sends is ever parsed as markup.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip


# C0/C1 control characters (tab is expanded first) -> visible replacement char.
_CTRL = {i: "\ufffd" for i in (*range(0, 32), *range(127, 160)) if i != 9}


def _clean(line: str) -> str:
    """What is drawn for a raw line: tabs expanded, control characters replaced."""
    if line.isprintable():
        return line
    return line.expandtabs(8).translate(_CTRL)


def _width(line: str) -> int:
    if line.isascii() and line.isprintable():
        return len(line)
    return cell_len(_clean(line))


def _rows(line: str, width: int) -> int:
    """Rows a line takes when hard-wrapped at `width` cells."""
    if line.isascii() and line.isprintable():
        return max(1, -(-len(line) // width))
    return max(1, len(chop_cells(_clean(line), width)))


class LogView(ScrollView, can_focus=True):
    """Renders only the visible rows of a bounded list of plain-text lines."""

    COMPONENT_CLASSES = {"logtail--match", "logtail--match-line"}

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        background: $surface;
        color: $text;
        overflow-y: scroll;
        overflow-x: auto;
        &:focus { background-tint: $foreground 5%; }
        & > .logtail--match { background: $warning; color: $background; text-style: bold; }
        & > .logtail--match-line { background: $accent 30%; }
    }
    """

    def __init__(self, line_cap: int, *, follow: bool = True, wrap: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.line_cap = max(1, int(line_cap))
        self.lines: list[str] = []  # raw lines, oldest first
        self.first = 0  # absolute number of lines[0] (= lines dropped so far)
        self.following = follow
        self.wrap = wrap
        self._max_width = 0  # widest line seen (no-wrap virtual width; never shrinks)
        self._wrap_width = 0
        self._starts: list[int] = []  # wrap mode: absolute first row of each line
        self._rows_end = 0  # wrap mode: absolute row after the last line
        self.query_text = ""
        self.matches: list[int] = []  # absolute line numbers matching query_text
        self.mark: int | None = None  # absolute line number of the current match

    # --- ingest -------------------------------------------------------------

    def append(self, new: list[str]) -> None:
        """Add lines (already split), enforce the cap, keep the view where it should be."""
        if not new:
            return
        cap = self.line_cap
        if len(new) > cap:
            self.first += len(self.lines) + len(new) - cap
            self.lines.clear()
            new = new[-cap:]
        self._max_width = max(self._max_width, max(map(_width, new)))
        base = len(self.lines)
        self.lines.extend(new)
        if self.wrap and self._wrap_width:
            width, end = self._wrap_width, self._rows_end
            starts = self._starts
            for line in new:
                starts.append(end)
                end += _rows(line, width)
            self._rows_end = end
        if self.query_text:
            q = self.query_text
            abs0 = self.first + base
            self.matches.extend(abs0 + i for i, line in enumerate(new) if q in line.lower())
        dropped_rows = 0
        excess = len(self.lines) - cap
        if excess > 0:
            del self.lines[:excess]
            self.first += excess
            if self.wrap and self._starts:
                if excess >= len(self._starts):
                    dropped_rows = self._rows_end - self._starts[0]
                    self._starts.clear()
                else:
                    dropped_rows = self._starts[excess] - self._starts[0]
                    del self._starts[:excess]
            else:
                dropped_rows = excess
            if self.matches and self.matches[0] < self.first:
                del self.matches[: bisect_left(self.matches, self.first)]
            if self.mark is not None and self.mark < self.first:
                self.mark = None
        self._update_virtual_size()
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif dropped_rows:
            # paused: keep the same lines on screen although older ones went away
            self.scroll_to(y=max(0, self.scroll_y - dropped_rows), animate=False, immediate=True)
        self.refresh()

    def _total_rows(self) -> int:
        if self.wrap and self._wrap_width:
            return self._rows_end - (self._starts[0] if self._starts else self._rows_end)
        return len(self.lines)

    def _update_virtual_size(self) -> None:
        if self.wrap:
            self.virtual_size = Size(self._wrap_width, self._total_rows())
        else:
            self.virtual_size = Size(self._max_width, len(self.lines))

    def _rewrap(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        self._wrap_width = width
        starts: list[int] = []
        end = 0
        for line in self.lines:
            starts.append(end)
            end += _rows(line, width)
        self._starts, self._rows_end = starts, end

    # --- geometry helpers ---------------------------------------------------

    def row_of(self, absolute_line: int) -> int:
        """First visual row (0-based, relative to the top) of an absolute line."""
        index = absolute_line - self.first
        if self.wrap and self._starts:
            return self._starts[index] - self._starts[0]
        return index

    def line_at_row(self, row: int) -> tuple[int, int]:
        """(index into self.lines, sub-row) for a visual row."""
        if self.wrap and self._starts:
            target = row + self._starts[0]
            index = bisect_right(self._starts, target) - 1
            return index, target - self._starts[index]
        return row, 0

    def set_wrap(self, wrap: bool) -> None:
        top_index, _ = self.line_at_row(int(self.scroll_y)) if self.lines else (0, 0)
        self.wrap = wrap
        if wrap:
            self._rewrap()
        else:
            self._starts, self._rows_end = [], 0
        self._update_virtual_size()
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif self.lines:
            self.scroll_to(x=0, y=self.row_of(self.first + min(top_index, len(self.lines) - 1)),
                           animate=False, immediate=True)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap and self.scrollable_content_region.width != self._wrap_width:
            self.set_wrap(True)
        elif self.following:  # a smaller window: the end must stay in view (the last lines went below it)
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    # --- user scrolling pauses following ------------------------------------

    def _user_scrolled_up(self) -> None:
        if self.following:
            self.following = False
            self.post_message(self.FollowChanged(False))

    class FollowChanged(Message):
        def __init__(self, following: bool) -> None:
            super().__init__()
            self.following = following

    def action_scroll_up(self) -> None:
        self._user_scrolled_up()
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self._user_scrolled_up()
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self._user_scrolled_up()
        super().action_scroll_home()

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not (event.ctrl or event.shift):
            self._user_scrolled_up()
        super()._on_mouse_scroll_up(event)

    # --- rendering ----------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        row = scroll_y + y
        if row >= self._total_rows() or not self.lines:
            return Strip.blank(width, base)
        index, sub = self.line_at_row(row)
        if index >= len(self.lines):
            return Strip.blank(width, base)
        raw = self.lines[index]
        text = _clean(raw)
        absolute = self.first + index
        style = base
        if absolute == self.mark:
            style = base + self.get_component_rich_style("logtail--match-line", partial=True)
        offset = 0  # column of `text` within the clean line (for match spans)
        if self.wrap and self._wrap_width:
            w = self._wrap_width
            if text.isascii():
                offset = sub * w
                text = text[offset: offset + w]
            else:
                parts = chop_cells(text, w)
                offset = sum(len(p) for p in parts[:sub])
                text = parts[sub] if sub < len(parts) else ""
        segments = self._segments(text, raw, offset, style)
        strip = Strip(segments, cell_len(text))
        if self.wrap:
            return strip.extend_cell_length(width, style).crop(0, width)
        if width > 1 and strip.cell_length > scroll_x + width and strip.crop(scroll_x + width - 1).text.strip():
            # the line goes on past the right edge (wrap off): `…`, or a reason read as cut short (`…All connecti`)
            return Strip.join([strip.crop_extend(scroll_x, scroll_x + width - 1, style), Strip([Segment("…", style)])])
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def _segments(self, text: str, raw: str, offset: int, style: Style) -> list[Segment]:
        q = self.query_text
        if not q or q not in raw.lower():
            return [Segment(text, style)]
        hit = style + self.get_component_rich_style("logtail--match", partial=True)
        # spans are found on the clean line so they match what is drawn
        clean_lower = _clean(raw).lower()
        if len(clean_lower) != len(_clean(raw)):  # exotic case-folding: no highlight
            return [Segment(text, style)]
        segments: list[Segment] = []
        pos = 0
        end = offset + len(text)
        start = clean_lower.find(q, max(0, offset - len(q) + 1))
        while start != -1 and start < end:
            a, b = max(start, offset) - offset, min(start + len(q), end) - offset
            if a > pos:
                segments.append(Segment(text[pos:a], style))
            if b > a:
                segments.append(Segment(text[a:b], hit))
            pos = max(pos, b)
            start = clean_lower.find(q, start + len(q))
        if pos < len(text):
            segments.append(Segment(text[pos:], style))
        return segments

    # --- search -------------------------------------------------------------

    def set_query(self, query: str) -> None:
        self.query_text = query.lower()
        q = self.query_text
        first = self.first
        self.matches = [first + i for i, line in enumerate(self.lines) if q in line.lower()] if q else []
        self.mark = None
        self.refresh()

    def jump(self, direction: int) -> int | None:
        """Mark and show the next (1) or previous (-1) match; None when there is none."""
        if not self.matches:
            self.mark = None
            self.refresh()
            return None
        if self.mark is not None:
            ref = self.mark
        else:  # start from the screen: first match at/after the top (or before the bottom)
            top, _ = self.line_at_row(int(self.scroll_y))
            ref = self.first + top - (1 if direction > 0 else -self.size.height)
        if direction > 0:
            i = bisect_right(self.matches, ref)
            target = self.matches[i % len(self.matches)]
        else:
            i = bisect_left(self.matches, ref) - 1
            target = self.matches[i % len(self.matches)]
        self.mark = target
        self._user_scrolled_up()
        self.show_line(target)
        return target

    def show_line(self, absolute_line: int) -> None:
        row = self.row_of(absolute_line)
        height = self.scrollable_content_region.height or self.size.height
        x = None
        if not self.wrap and self.query_text:
            col = _clean(self.lines[absolute_line - self.first]).lower().find(self.query_text)
            w = self.scrollable_content_region.width
            x = 0 if col + len(self.query_text) <= w else max(0, col - w // 3)
        self.scroll_to(x=x, y=max(0, row - height // 2), animate=False, immediate=True)
        self.refresh()
