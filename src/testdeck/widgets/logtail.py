"""LogTail: follow a growing log without freezing the console.

Lines arrive from a feed (testdeck.feeds), are sanitised at intake and moved into the view
(widgets/logview.py: why it is a custom line-API view) in batches, at most FLUSH_CHUNK per
FLUSH_INTERVAL, so a burst of a million lines never stalls the screen. Around the view: follow,
wrap, search (`/`, `n`/`N`), save to a new 0600 file, and the status line.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import re
from bisect import bisect_left
from pathlib import Path
from typing import Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from testdeck import feeds
from testdeck.errors import ApiError
from testdeck.resources import LogFeed
from testdeck.files import chosen, readable, save_dir, write_new
from testdeck.text import quoted, sanitize
from testdeck.widgets.logview import LogView

FLUSH_INTERVAL = 0.05  # seconds between batched flushes into the view
FLUSH_CHUNK = 25_000  # most lines moved into the view per flush (bounds one stall)


def _safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "log"


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
        self._view = LogView(self.line_cap, follow=follow, wrap=wrap, id="logtail-view")
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
    def view(self) -> LogView:
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

    @on(LogView.FollowChanged)
    def _follow_changed(self, message: LogView.FollowChanged) -> None:
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
                self._note = f"no match for {quoted(view.query_text)}"
            else:
                n = bisect_left(view.matches, target) + 1
                self._note = f"match {n}/{len(view.matches)} for {quoted(view.query_text)}"
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
                self.save(chosen(event.value, self.default_save_path()))

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
