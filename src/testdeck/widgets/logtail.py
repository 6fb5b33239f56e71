"""LogTail: follow a growing log without freezing the console.

Why a custom line-API view instead of Textual's `Log` or `RichLog`:
`Log` has `max_lines` and fast batched `write_lines`, but no wrap; `RichLog`
wraps but renders every line through Rich on write (slow, and its lines are
markup-prone renderables). `_LogView` keeps the raw lines in a plain list,
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

import asyncio
import datetime as _dt
import re
from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Iterable

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from testdeck import feeds
from testdeck.errors import ApiError
from testdeck.resources import LogFeed
from testdeck.widgets.files import readable, save_dir, write_new
from testdeck.text import sanitize

FLUSH_INTERVAL = 0.05  # seconds between batched flushes into the view
FLUSH_CHUNK = 25_000  # most lines moved into the view per flush (bounds one stall)

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


def _safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "log"


class _LogView(ScrollView, can_focus=True):
    """Renders only the visible rows of a bounded list of plain-text lines."""

    COMPONENT_CLASSES = {"logtail--match", "logtail--match-line"}

    DEFAULT_CSS = """
    _LogView {
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


class _PromptInput(Input):
    """An Input that escape closes (instead of popping the screen)."""

    BINDINGS = [Binding("escape", "cancel", "cancel", show=False)]

    class Cancelled(Message):
        def __init__(self, input: "_PromptInput") -> None:
            super().__init__()
            self.input = input

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled(self))


class LogTail(Widget, can_focus=False):
    """Follow a growing plain-text log: batched, capped, searchable, savable."""

    BINDINGS = [
        Binding("f", "toggle_follow", "follow"),
        Binding("w", "toggle_wrap", "wrap"),
        Binding("slash", "search", "search"),
        Binding("n", "next_match", "next match", show=False),
        Binding("N", "prev_match", "previous match", show=False),
        Binding("s", "save", "save"),
        Binding("G", "end", "end", show=False),
        Binding("g", "home", "top", show=False),
    ]

    DEFAULT_CSS = """
    LogTail { height: 1fr; layout: vertical; }
    LogTail > .logtail-status { height: 1; background: $panel; color: $text; padding: 0 1; }
    LogTail > _PromptInput { display: none; height: 3; }
    LogTail > _PromptInput.-open { display: block; }
    """

    class FeedFinished(Message):
        """The followed feed ended (`error` is None) or failed (`error` holds the exception)."""

        def __init__(self, tail: "LogTail", error: BaseException | None) -> None:
            super().__init__()
            self.tail = tail
            self.error = error

    class Saved(Message):
        """The buffer was written to `path` (`lines` lines)."""

        def __init__(self, tail: "LogTail", path: Path, lines: int) -> None:
            super().__init__()
            self.tail = tail
            self.path = path
            self.lines = lines

    def __init__(self, feed: LogFeed | None = None, *, title: str = "log", line_cap: int = 50_000,
                 follow: bool = True, wrap: bool = False, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = title
        self.line_cap = max(1, int(line_cap))
        self._view = _LogView(self.line_cap, follow=follow, wrap=wrap, id="logtail-view")
        self._pending: list[str] = []
        self._flush_timer: Timer | None = None
        self.received = 0  # lines received in total (including dropped ones)
        self.feed_state = "no feed"  # no feed | running | ended | error: ... | stopped
        self._initial_feed = feed
        self._note = ""
        self._drained = asyncio.Event()
        self._ready = False  # on_mount has run: timers and workers are available

    # --- public API ---------------------------------------------------------

    @property
    def lines(self) -> list[str]:
        """The buffered lines (raw, oldest first, at most line_cap). Read only."""
        return self._view.lines

    @property
    def line_count(self) -> int:
        return len(self._view.lines)

    @property
    def following(self) -> bool:
        return self._view.following

    @property
    def wrap(self) -> bool:
        return self._view.wrap

    @property
    def view(self) -> _LogView:
        return self._view

    def write_lines(self, lines: Iterable[str]) -> None:
        """Queue lines for the next batched flush (cheap; safe to call often)."""
        if not isinstance(lines, list):
            lines = list(lines)
        if not lines:
            return
        pending = self._pending
        pending.extend(lines)
        self.received += len(lines)
        if len(pending) > self.line_cap:  # older ones could never be shown: drop now
            del pending[: len(pending) - self.line_cap]
        if self._flush_timer is None and self._ready:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._on_flush_timer)

    def flush(self, limit: int | None = None) -> None:
        """Move pending lines into the view now (at most `limit` when given)."""
        pending = self._pending
        if not pending:
            return
        if limit is not None and len(pending) > limit:
            batch = pending[:limit]
            del pending[:limit]
        else:
            batch = pending
            self._pending = []
        joined = "\n".join(batch)
        if "\r" in joined or joined.count("\n") != len(batch) - 1:
            batch = [part for line in batch
                     for part in line.replace("\r\n", "\n").removesuffix("\n").split("\n")]
        # one line each now: sanitise here, once, so the view, search and save all see safe text
        batch = [line if line.isprintable() else sanitize(line, multiline=True) for line in batch]
        self._view.append(batch)
        if len(self._pending) < FLUSH_CHUNK:
            self._drained.set()
        self._update_status()

    def follow(self, feed: LogFeed) -> None:
        """Consume `feed` in a worker (replacing any feed being followed)."""
        self.feed_state = "running"
        if not self._ready:  # started on mount
            self._initial_feed = feed
            return
        self._update_status()
        self._consume(feed)

    # --- feed worker --------------------------------------------------------

    @work(exclusive=True, group="logtail-feed", exit_on_error=False)
    async def _consume(self, feed: LogFeed) -> None:
        error: BaseException | None = None
        feeds.NOTICE.set(self.write_lines)  # followed: a poll that fails is said here and retried (feeds.py)
        try:
            async for batch in feed:
                if batch:
                    self.write_lines(batch)
                if len(self._pending) >= FLUSH_CHUNK:
                    # backpressure: stop pulling until the view has caught up
                    self._drained.clear()
                    await self._drained.wait()
                else:
                    await asyncio.sleep(0)  # a feed that never awaits must not starve input
            self.feed_state = "ended"
        except asyncio.CancelledError:
            self.feed_state = "stopped"
            raise
        except ApiError as exc:
            error = exc
            self.feed_state = f"error: {exc.one_line()}"
        except Exception as exc:  # any feed failure is shown, never crashes the app
            error = exc
            self.feed_state = f"error: {type(exc).__name__}: {exc}"
        finally:
            aclose = getattr(feed, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except BaseException:
                    pass
        self.flush()
        self._update_status()
        self.post_message(self.FeedFinished(self, error))

    # --- composition & timers -------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._view
        yield _PromptInput(id="logtail-search", placeholder="search (case-insensitive), enter = next match")
        yield _PromptInput(id="logtail-save", placeholder="save to file")
        yield Static(classes="logtail-status", id="logtail-status")

    def on_mount(self) -> None:
        self._ready = True
        self._update_status()
        if self._pending and self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._on_flush_timer)
        if self._initial_feed is not None:
            feed, self._initial_feed = self._initial_feed, None
            self.follow(feed)

    def _on_flush_timer(self) -> None:
        self._flush_timer = None
        self.flush(FLUSH_CHUNK)
        if self._pending:
            self._flush_timer = self.set_timer(FLUSH_INTERVAL, self._on_flush_timer)

    def _update_status(self) -> None:
        try:
            status = self.query_one("#logtail-status", Static)
        except Exception:  # not composed yet
            return
        view = self._view
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{len(view.lines):,} lines")
        if self.received > len(view.lines) + len(self._pending):
            text.append(f" (of {self.received:,})", style="dim")
        text.append("  ")
        text.append("following" if view.following else "paused", style="green" if view.following else "yellow")
        text.append(f"  wrap {'on' if view.wrap else 'off'}")
        text.append("  feed ")
        text.append(sanitize(self.feed_state), style="bold red" if self.feed_state.startswith("error") else "")
        if self._note:
            text.append(f"  {self._note}")
        status.update(text)

    @property
    def status_text(self) -> str:
        """The status line as plain text (for tests and screen readers)."""
        content = self.query_one("#logtail-status", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    # --- actions ------------------------------------------------------------

    @on(_LogView.FollowChanged)
    def _follow_changed(self, message: _LogView.FollowChanged) -> None:
        message.stop()
        self._update_status()

    def action_toggle_follow(self) -> None:
        view = self._view
        view.following = not view.following
        if view.following:
            self.flush()
            view.scroll_end(animate=False, immediate=True, x_axis=False)
        self._update_status()

    def action_toggle_wrap(self) -> None:
        self._view.set_wrap(not self._view.wrap)
        self._update_status()

    def action_end(self) -> None:
        self._view.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_home(self) -> None:
        self._view._user_scrolled_up()
        self._view.scroll_home(animate=False, immediate=True)

    def _open(self, input_id: str, value: str) -> None:
        for other in self.query(_PromptInput):
            other.remove_class("-open")
        prompt = self.query_one(f"#{input_id}", _PromptInput)
        prompt.value = value
        prompt.add_class("-open")
        prompt.focus()
        prompt.cursor_position = len(value)

    def _close(self, prompt: _PromptInput) -> None:
        prompt.remove_class("-open")
        self._view.focus()

    def action_search(self) -> None:
        self._open("logtail-search", self._view.query_text)

    def action_next_match(self) -> None:
        self._jump(1)

    def action_prev_match(self) -> None:
        self._jump(-1)

    def _jump(self, direction: int) -> None:
        view = self._view
        if not view.query_text:
            self._note = "no search (press /)"
        else:
            self.flush()
            target = view.jump(direction)
            if target is None:
                self._note = f"no match for {view.query_text!r}"
            else:
                n = bisect_left(view.matches, target) + 1
                self._note = f"match {n}/{len(view.matches)} for {view.query_text!r}"
        self._update_status()

    def default_save_path(self) -> Path:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return save_dir() / f"testdeck-{_safe_filename(self.title)}-{stamp}.log"

    def action_save(self) -> None:
        self._open("logtail-save", str(self.default_save_path()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        prompt = event.input
        if not isinstance(prompt, _PromptInput):
            return
        event.stop()
        self._close(prompt)
        if prompt.id == "logtail-search":
            self._view.set_query(event.value)
            if event.value:
                self._jump(1)
            else:
                self._note = ""
                self._update_status()
        elif prompt.id == "logtail-save":
            if event.value.strip():
                self.save(Path(event.value.strip()).expanduser())

    @on(_PromptInput.Cancelled)
    def _prompt_cancelled(self, message: _PromptInput.Cancelled) -> None:
        message.stop()
        self._close(message.input)

    def save(self, path: Path) -> None:
        """Write the whole buffer to `path` (never overwrites) in a thread; reports the result."""
        self.flush()
        self._save_worker(path, list(self._view.lines))

    @work(thread=True, group="logtail-save", exit_on_error=False)
    def _save_worker(self, path: Path, lines: list[str]) -> None:
        try:
            resolved = write_new(path, "\n".join(lines) + "\n" if lines else "")
        except OSError as exc:
            self.app.call_from_thread(self.notify, f"log not saved: {readable(exc)}", severity="error",
                                      markup=False)
            return
        self.app.call_from_thread(self._saved, resolved, len(lines))

    def _saved(self, path: Path, count: int) -> None:
        self._note = f"saved {count:,} lines to {path}"
        self._update_status()
        self.notify(f"saved {count:,} lines to {path}", markup=False)
        self.post_message(self.Saved(self, path, count))
