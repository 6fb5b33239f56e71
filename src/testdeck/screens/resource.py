"""ResourceScreen: the one generic screen that renders any declared Resource.

Live refresh with backoff, stale-on-error (rows stay, marked, with age and
the server's message), k9s filters, sort, marks and bulk actions, details,
actions with forms and confirmation, log tail, drill-down. Everything heavy
(formatting, filtering, sorting, measuring) runs off the event loop; the
table swaps prepared data in. What the user set (filter, sort, marks, cursor,
query) lives in session.views, so it is there again when they come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from testdeck import clock, journal
from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Action, Ctx, Resource, age, duration
from testdeck.screens.pickers import ScopePicker, SortPicker
from testdeck.screens.view import Cancelled, Row, ViewState, build_view, compile_filter, format_rows  # noqa: F401
from testdeck.session import ProfileSession
from testdeck.text import sanitize
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen, submit_label
from testdeck.widgets.keybar import KeyBar
from testdeck.widgets.statusbar import StatusBar
from testdeck.widgets.table import TableData, VirtualTable

MAX_BACKOFF = 60.0
BIG_TABLE = 5_000  # rows from which the GC is told to leave the data alone
NARROW = 100  # below this width the title drops the prev/next hint so the scope always shows

_gc_depth = 0
_gc_collect_owed = False
_gc_big_refreshes = 0
FULL_GC_EVERY = 50  # big refreshes between full passes (see gc_paused)
IDLE_S = 3.0  # a full pass waits until no key was typed for this long (at most FULL_GC_EVERY more)


@contextlib.contextmanager
def gc_paused(rows: Callable[[], int], collect: bool = True, idle: Callable[[], bool] = lambda: True):
    """No cyclic GC while a refresh allocates its rows: with 100k live records a full
    pass is a 200-400 ms freeze of the UI. Afterwards a big table's objects are
    frozen (moved out of the collector's scans) *before* collection resumes; they
    hold no reference cycles, so refcounting still frees old rows.

    Before freezing, the young generations are collected: the refresh's own garbage
    cycles (asyncio and httpx frames, tracebacks holding whole bodies) are there, and
    a frozen cycle is never collected (it leaked +3.5 MiB per refresh at 20k rows).
    Young only: what earlier refreshes froze is not scanned again. A filter or sort makes no
    such garbage (no request) and skips it (collect=False): on 100k rows that collection is
    a 150-300 ms freeze of the UI after every key.

    Freezing also keeps what was merely alive at that moment (the UI's own passing cycles:
    tasks, messages, render caches) when it dies later: 60-250 KiB per refresh at 20k rows.
    So every FULL_GC_EVERY big refreshes everything is unfrozen and collected once, which
    keeps memory flat. That full pass stalls the UI (~0.1-0.4 s at 20k rows, more at 100k),
    so it waits for a moment when no key was typed for IDLE_S (`idle`)."""
    global _gc_depth, _gc_collect_owed, _gc_big_refreshes
    _gc_depth += 1
    _gc_collect_owed |= collect  # a refresh nested in a filter still collects on the way out
    gc.disable()
    try:
        yield
    finally:
        _gc_depth -= 1
        if _gc_depth == 0:
            if rows() >= BIG_TABLE:
                if _gc_collect_owed:
                    _gc_big_refreshes += 1
                    if _gc_big_refreshes >= FULL_GC_EVERY and (idle() or _gc_big_refreshes >= 2 * FULL_GC_EVERY):
                        _gc_big_refreshes = 0
                        gc.unfreeze()
                        gc.collect()
                    else:
                        gc.collect(1)
                gc.freeze()
            _gc_collect_owed = False
            gc.enable()


def as_text(value: Any) -> str:
    from testdeck.screens.view import detail_text

    return detail_text(value)


class FilterInput(Input):
    """The filter box, safe for fast typists.

    A terminal delivers `/dis⏎ esc s` as one burst: the keys after enter are already queued to
    this input before its Submitted message is handled, so they used to be typed into the
    closed box or lost. Enter and esc are handled here, at once; keys that arrive once the box
    is closed go back to the app, which sends them to the table."""

    closed = True

    async def _on_key(self, event: events.Key) -> None:
        if self.closed:
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        if event.key in ("enter", "escape"):
            event.stop()
            event.prevent_default()
            self.closed = True
            screen = self.screen
            if event.key == "enter":
                screen.close_filter()
            else:
                screen.action_back()
            return
        await super()._on_key(event)


# keys the generic screen, the table and the app answer to; resource actions must not shadow them
RESERVED_KEYS = {"slash", "enter", "d", "r", "p", "s", "S", "l", "P", "left_square_bracket", "right_square_bracket",
                 "escape", "question_mark", "up", "down", "k", "j", "g", "G", "home", "end", "pageup", "pagedown",
                 "left", "right", "h", "space", "ctrl+space", "asterisk", "y", "Y", "ctrl+s", "minus",
                 "q", "colon", "ctrl+p", "ctrl+c", "ctrl+t", "1", "2", "3", "4", "5"}


class ResourceScreen(Screen):
    DEFAULT_CSS = """
    ResourceScreen #titlebar { height: 1; background: $primary; color: $text; padding: 0 1; }
    ResourceScreen #title { width: 1fr; text-style: bold; }
    ResourceScreen #tabs { width: auto; }
    ResourceScreen #filter { dock: top; display: none; height: 3; }
    ResourceScreen #filter.-active { display: block; }
    ResourceScreen #message { height: auto; max-height: 3; padding: 0 1; display: none; }
    ResourceScreen #message.-stale { display: block; background: $error 30%; color: $text; }
    ResourceScreen #message.-info { display: block; color: $text-muted; }
    """
    BINDINGS = [
        Binding("slash", "filter", "filter", id="resource.filter"),
        Binding("enter", "drill", "open", show=False, id="resource.open"),
        Binding("d", "detail", "details", show=False, id="resource.details"),
        Binding("r", "refresh", "refresh", show=False, id="resource.refresh"),
        Binding("p", "pause", "pause", show=False, id="resource.pause"),
        Binding("s", "sort", "sort", show=False, id="resource.sort"),
        Binding("S", "sort_reverse", "reverse sort", show=False, id="resource.reverse"),
        Binding("space", "mark", "mark", show=False, id="resource.mark"),
        Binding("ctrl+space,asterisk", "mark_all", "mark all shown", show=False, id="resource.mark_all"),
        Binding("y", "copy_key", "copy key", show=False, id="resource.copy_key"),
        Binding("Y", "copy_record", "copy record", show=False, id="resource.copy_record"),
        Binding("ctrl+s", "save", "save table", show=False, id="resource.save"),
        Binding("l", "log", "log", id="resource.log"),
        Binding("P", "pick_scope", "scope", id="resource.scope"),
        Binding("left_square_bracket", "switch(-1)", "prev", show=False, id="resource.prev"),
        Binding("right_square_bracket", "switch(1)", "next", show=False, id="resource.next"),
        Binding("escape,minus", "back", "back", show=False, id="resource.back"),
        Binding("question_mark", "help", "help", id="resource.help"),
    ]

    def __init__(self, session: ProfileSession, resource: Resource, scope: str | None = None):
        super().__init__()
        self.session = session
        self.resource = resource
        self.state: ViewState = session.views.setdefault(f"view:{resource.name}", ViewState())
        if scope:
            self.set_sticky_scope(scope)
        self.scope = self.sticky_scope()
        self.rows: list[Row] = []
        self.records: dict[str, Record] = {}
        self.paused = False
        self.last_ok: float | None = None
        self.error: ApiError | None = None
        self.retry_in: float | None = None
        self.next_at: float | None = None  # clock time of the next refresh or retry
        self.busy: str | None = None  # a running action, shown with a spinner
        self.loaded = asyncio.Event()  # set after each completed refresh attempt (tests wait on it)
        self._wake = asyncio.Event()
        self._view_gen = 0  # bumped by each filter/sort: older threads see it and stop
        self._select: str | None = None  # a row key to put the cursor on once a refresh brings it
        self.header = resource.header() if resource.header is not None else None
        for action in resource.actions:
            self._bindings.bind(action.key, f"act('{action.label}')", action.label)
        for query in resource.queries:
            self._bindings.bind(query.key, f"query('{query.key}')", query.label)

    # --- the view state (kept per resource) ------------------------------------------
    @property
    def filter_text(self) -> str:
        return self.state.filter

    @filter_text.setter
    def filter_text(self, value: str) -> None:
        self.state.filter = value

    @property
    def sort_col(self) -> int | None:
        return self.state.sort_col

    @sort_col.setter
    def sort_col(self, value: int | None) -> None:
        self.state.sort_col = value

    @property
    def sort_reverse(self) -> bool:
        return self.state.sort_reverse

    @sort_reverse.setter
    def sort_reverse(self, value: bool) -> None:
        self.state.sort_reverse = value

    @property
    def marks(self) -> set[str]:
        return self.state.marks

    def sticky_scope(self) -> str | None:
        """The scope chosen last for any resource of this profile with the same scope name."""
        if self.resource.scope is None:
            return None
        scope = self.resource.scope
        return self.session.views.get(f"scope:{scope.name}") or scope.default_for(self.session.profile.fields)

    def set_sticky_scope(self, scope_id: str, label: str | None = None) -> None:
        if self.resource.scope is None:
            return
        self.session.views[f"scope:{self.resource.scope.name}"] = scope_id
        self.session.views[f"scope:{self.resource.name}"] = scope_id  # (read by older tests and screens)
        if label:
            self.session.views[f"scope-label:{scope_id}"] = label

    @property
    def query_value(self) -> str | None:
        query = next((q for q in self.resource.queries if q.key == self.state.query), None)
        return query.value if query else None

    # --- layout ---------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="titlebar"):
            yield Label(self._title(), id="title")
            yield Label(self._tabs(), id="tabs", shrink=True)
        yield FilterInput(placeholder="filter: text, !text, /regex/, column:value  (enter keep, esc clear)",
                          id="filter")
        if self.header is not None:
            yield self.header
        table = VirtualTable([c.heading for c in self.resource.columns], empty_text=self._empty_text())
        table.marked = self.state.marks
        yield table
        yield Static("", id="message")
        yield StatusBar()
        yield KeyBar()

    def _empty_text(self) -> str:
        if self.resource.scope is not None and not self.scope:
            return f"no {self.resource.scope.name} chosen: press P"
        return "loading…"

    def _title(self) -> Text:
        """Most important first, so a cut at 80 columns loses the least: what, where, then who."""
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(self.resource.title.lower(), style="bold")
        if self.resource.scope is not None:
            scope = self.session.views.get(f"scope-label:{self.scope}") or self.scope or "(none)"
            title.append(f" · {self.resource.scope.name} ")
            scope = sanitize(scope)
            title.append(scope if len(scope) <= 24 else scope[:23] + "…", style="bold")
        query = next((q for q in self.resource.queries if q.key == self.state.query), None)
        if query is not None:
            title.append(f" · {query.label}", style="bold")
        if self.resource.subtitle is not None:
            try:
                extra = self.resource.subtitle(Ctx(self.session.client, scope=self.scope, query=self.query_value))
            except Exception:  # a title must never take the screen down
                extra = ""
            if extra:
                title.append(f" · {extra}", style="bold")
        if self.filter_text:
            title.append(f" · filter {sanitize(self.filter_text)}")
        title.append(f" · {self.session.service.title} · {self.session.profile.name}")
        return title

    def _tabs(self) -> Text:
        """Only the neighbours `[` and `]` lead to: eight names would not fit 80 columns."""
        resources = self.session.service.resources
        if len(resources) < 2 or self.resource not in resources:
            return Text("")
        i = resources.index(self.resource)
        prev, nxt = resources[i - 1].name, resources[(i + 1) % len(resources)].name
        return Text(f"[ {prev} · {nxt} ]", style="dim", no_wrap=True, overflow="ellipsis")

    def on_resize(self, event: events.Resize) -> None:
        for tabs in self.query("#tabs"):  # (not there yet on the first resize)
            tabs.display = event.size.width >= NARROW

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # keys a resource cannot use are hidden from the footer, not just inert
        if action == "log":
            return self.resource.log is not None
        if action == "pick_scope":
            return self.resource.scope is not None
        if action == "switch":
            return len(self.session.service.resources) > 1
        if action == "act" and self.session.read_only:
            # read-only: mutating keys leave the footer; on_key still says why they do nothing
            found = self.resource.action(str(parameters[0])) if parameters else None
            return not (found is not None and found.mutates)
        return True

    def on_key(self, event: events.Key) -> None:
        if not self.session.read_only:
            return
        for action in self.resource.actions:
            if action.mutates and event.key == action.key:
                event.stop()
                self.notify(f"{action.label}: refused, testdeck runs read-only", severity="error", markup=False)

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def on_unmount(self) -> None:
        # A frozen screen left behind is never collected (widget trees are cycles): let go
        # of its rows so refcounting frees them, and hand frozen objects back to the GC.
        self.rows, self.records = [], {}
        for table in self.query(VirtualTable):
            table.data = TableData([])
        gc.unfreeze()

    def on_mount(self) -> None:
        self._paint_profile()
        self.table.focus()
        self.set_interval(1.0, self._update_status)
        self.set_interval(0.2, self._spin)
        self._update_status()
        if self.resource.scope is not None and not self.scope:
            self.action_pick_scope()
        self._poll()

    def _paint_profile(self) -> None:
        from testdeck.screens.home import paint_profile

        paint_profile(self, self.session)

    def on_screen_resume(self) -> None:
        self.table.marked = self.state.marks

    # --- refresh loop -----------------------------------------------------------
    def ctx(self, record: Record | None = None) -> Ctx:
        key = self.resource.row_key(record) if record is not None else None
        marked = [self.records[k] for k in self.table.data.keys if k in self.marks and k in self.records]
        return Ctx(self.session.client, scope=self.scope, row=record, key=key, query=self.query_value,
                   marked=marked)

    def _scoped(self) -> bool:
        return self.resource.scope is None or bool(self.scope)

    @work(exit_on_error=False, group="poll")
    async def _poll(self) -> None:
        interval = self.session.interval
        delay = interval
        manual = False
        while True:
            self._wake.clear()  # before the refresh: an `r` pressed during it is not lost
            # a manual refresh (r) runs while paused, and a failed one does not lengthen the back-off
            if (manual or not self.paused) and self._scoped():
                try:
                    ok = await self.refresh_now()
                except Exception as exc:  # a bug after the fetch must not end the refreshes for good
                    self._mark_stale(self._bug(exc))
                    ok = False
                if ok:
                    delay = interval
                elif not manual:
                    delay = min(MAX_BACKOFF, max(delay * 2, interval))
                self.retry_in = None if ok else delay
                if not ok:
                    self._show_message()
            self.next_at = clock.now() + delay
            self._update_status()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
                manual = True
            except TimeoutError:
                manual = False

    async def refresh_now(self) -> bool:
        """One refresh: fetch, prepare off-loop, swap in. False (and stale) on failure."""
        # the first load skips the young collection (on 100k rows a stall of half a second or
        # more, when the user waits for the table): its little garbage goes at the first full pass
        with gc_paused(lambda: len(self.rows), collect=self.last_ok is not None, idle=self._keyboard_idle):
            try:
                records = await self.resource.list(self.ctx())
                rows = await asyncio.to_thread(format_rows, self.resource, list(records), True)
            except ApiError as exc:
                self._mark_stale(exc)
                return False
            except Exception as exc:  # a bug must not close the console: show it like a server error
                self._mark_stale(self._bug(exc))
                return False
            finally:
                self.loaded.set()
            first = self.last_ok is None
            old = {r.key: self._compared(r) for r in self.rows} if not first and len(self.rows) < BIG_TABLE else {}
            self.rows = rows
            self.records = {r.key: r.record for r in rows}
            # rows whose cells changed since the last refresh stay highlighted until the next one
            self.table.changed = {r.key for r in rows if r.key in old and old[r.key] != self._compared(r)}
            gone = self.marks - self.records.keys()
            self.marks.difference_update(gone)  # marks follow keys; a deleted row takes its mark
            self.error = None
            self.table.stale = False
            self.last_ok = clock.now()
            filtered = await self._apply_view()
        if self.header is not None:
            self.header.show_records([r.record for r in rows], self.ctx())
        if first and self.state.cursor:
            self.table.move_to_key(self.state.cursor)
        await self._refresh_service_status()
        self.table.empty_text = "no rows match the filter" if self.filter_text else "no rows"
        if filtered:
            self._show_message()
        self._update_status()
        return True

    def _compared(self, row: Row) -> tuple[str, ...]:
        """The cells that tell a change: not ages and durations, which read differently as time
        passes (with them, every row of a table with an age column lit up on most refreshes)."""
        return tuple(cell for cell, col in zip(row.cells, self.resource.columns) if col.fmt not in (age, duration))

    def _keyboard_idle(self) -> bool:
        return time.monotonic() - getattr(self.app, "last_key_at", 0.0) >= IDLE_S

    async def _refresh_service_status(self) -> None:
        """The service's own status-bar text (kyaraben: VM quota), at most once per interval."""
        status = self.session.service.status
        if status is None or clock.now() - self.session.status_at < self.session.interval:
            return
        try:
            self.session.status_extra = await status(self.session.client)
        except ApiError as exc:
            self.session.status_extra = f"status: {exc.message}"
        self.session.status_at = clock.now()

    def _bug(self, exc: Exception) -> ApiError:
        return ApiError(self.session.service.name, self.session.profile.name, "GET", self.resource.name, None,
                        f"{type(exc).__name__}: {exc}")

    def _mark_stale(self, exc: ApiError) -> None:
        self.error = exc
        if self.last_ok is None:
            self.table.empty_text = "no data yet"
        self.table.stale = True
        self._show_message()
        self._update_status()

    async def _apply_view(self) -> bool:
        """Filter, sort and swap the rows in; False (rows unchanged) on a bad filter."""
        try:
            match = compile_filter(self.filter_text, self.resource)
        except ValueError as exc:
            self._info(f"filter: {exc}")
            return False
        # a newer filter or sort (the next key typed) makes this one stop: exclusive workers
        # cancel the coroutine, never the thread, and five keys left five threads sharing the GIL
        self._view_gen += 1
        gen = self._view_gen
        try:
            data = await asyncio.to_thread(build_view, self.resource, self.rows, match, self.sort_col,
                                           self.sort_reverse, lambda: self._view_gen != gen)
        except Cancelled:
            return False
        self.table.sort_column, self.table.sort_reverse = self.sort_col, self.sort_reverse
        self.table.set_data(data)
        if self._select is not None and self.table.move_to_key(self._select):
            self._select = None
        return True

    def _show_message(self) -> None:
        msg = self.query_one("#message", Static)
        msg.remove_class("-stale", "-info")
        if self.error is None:
            msg.update("")
            return
        if self.last_ok is not None:
            age = f"showing data from {duration(clock.now() - self.last_ok)} ago"
        else:
            age = "no data yet"
        left = self._countdown()
        retry = f" · retrying in {left}s" if self.retry_in and left is not None else ""
        msg.update(Text(sanitize(f"STALE · {age}{retry} · {self.error.one_line()}")))
        msg.add_class("-stale")

    def _info(self, text: str) -> None:
        msg = self.query_one("#message", Static)
        msg.remove_class("-stale")
        msg.update(Text(sanitize(text)))
        msg.add_class("-info")

    def _countdown(self) -> int | None:
        if self.next_at is None:
            return None
        return max(0, round(self.next_at - clock.now()))

    def _spin(self) -> None:
        if self.busy:
            self._update_status()

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        age = clock.now() - self.last_ok if self.last_ok is not None else None
        health = self.session.client.health.ok if self.error is None else False
        shown, total = self.table.row_count, len(self.rows)
        self.query_one(StatusBar).show(
            profile=self.session.profile.name, ok=health, age=age, interval=self.session.interval,
            paused=self.paused, read_only=self.session.read_only,
            rows=f"{shown}/{total} rows" if shown != total else f"{total} rows", extra=self.session.status_extra,
            next_in=self._countdown(), retrying=self.retry_in is not None, marks=len(self.marks), busy=self.busy,
            environment=self.session.profile.fields.get("environment"), label=self.session.profile.fields.get("label"))
        if self.error is not None:
            self._show_message()

    # --- keys ------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.notify("refreshing…", timeout=1)
        self._wake.set()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._update_status()
        if not self.paused:
            self._wake.set()

    def action_filter(self) -> None:
        box = self.query_one("#filter", FilterInput)
        box.add_class("-active")
        box.value = self.filter_text
        box.closed = False
        self.set_focus(box)

    async def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value
            self.query_one("#title", Label).update(self._title())
            self._refilter()

    @work(exclusive=True, group="filter", exit_on_error=False)
    async def _refilter(self) -> None:
        with gc_paused(lambda: len(self.rows), collect=False):
            shown = await self._apply_view()
        if shown:
            self._show_message()
        self._update_status()

    def close_filter(self) -> None:
        """enter in the filter box: keep the filter, back to the table now (not after the next idle)."""
        box = self.query_one("#filter", FilterInput)
        box.closed = True
        box.remove_class("-active")
        self.set_focus(self.table)

    def action_back(self) -> None:
        """esc: close the filter, then clear it, then clear marks, then go back in the history."""
        box = self.query_one("#filter", FilterInput)
        if box.has_class("-active") or self.filter_text:
            box.closed = True
            box.remove_class("-active")
            if box.value:
                box.value = ""  # clearing the filter is the first escape
            else:
                self.filter_text = ""
                self._refilter()
            self.query_one("#title", Label).update(self._title())
            self.set_focus(self.table)
            return
        if self.marks:
            self.marks.clear()
            self.table.refresh()
            self._update_status()
            return
        self.app.go_back()

    def action_sort(self) -> None:
        # pushed here, not from a worker: a digit typed right after `s` must reach the picker
        self.app.push_screen(SortPicker(self.resource, self.sort_col, self.sort_reverse), self._sorted)

    def _sorted(self, chosen: tuple[int | None, bool] | None) -> None:
        if chosen is not None:
            self.sort_col, self.sort_reverse = chosen
            self._refilter()

    def action_sort_reverse(self) -> None:
        if self.sort_col is None:
            self.sort_col = 0
        self.sort_reverse = not self.sort_reverse
        self._refilter()

    def action_mark(self) -> None:
        key = self.table.cursor_key
        if key is None:
            return
        self.marks.symmetric_difference_update({key})
        self.table.action_cursor(1)  # the next row is the likely next mark (k9s, mutt)
        self.table.refresh()
        self._update_status()

    def action_mark_all(self) -> None:
        """Mark every row the filter shows; if they all are, unmark them."""
        shown = set(self.table.data.keys)
        if shown and shown <= self.marks:
            self.marks.difference_update(shown)
        else:
            self.marks.update(shown)
        self.table.refresh()
        self._update_status()

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        if event.key is not None:
            self.state.cursor = event.key

    def action_switch(self, step: int) -> None:
        resources = self.session.service.resources
        i = resources.index(self.resource) if self.resource in resources else -1
        self.app.open_resource(self.session, resources[(i + step) % len(resources)])

    def action_query(self, key: str) -> None:
        """A server-side view (failed jobs, history): the same key again returns to the default."""
        self.state.query = None if self.state.query == key else key
        self._reload()

    def _reload(self) -> None:
        """Another view of the resource: new title, no rows of the old view, fetch now."""
        self.query_one("#title", Label).update(self._title())
        self.rows, self.records, self.last_ok = [], {}, None
        self.table.set_data(TableData([c.heading for c in self.resource.columns]))
        self.table.empty_text = "loading…"
        self._wake.set()

    def selected(self) -> Record | None:
        key = self.table.cursor_key
        return self.records.get(key) if key is not None else None

    def action_drill(self) -> None:
        """enter: into what the row contains where declared (its log, a resource scoped to it), else details."""
        record = self.selected()
        drill = self.resource.drill
        if record is None:
            return
        if callable(drill):
            self.app.push_screen(drill(self.ctx(record)))
            return
        if drill == "log" and self.resource.log is not None:
            self.action_log()
            return
        target = self.session.service.resource(drill) if drill else None
        if target is None:
            self.action_detail()
            return
        if target.scope is not None:
            self.session.views[f"scope:{target.scope.name}"] = self.resource.row_key(record)
            self.session.views[f"scope-label:{self.resource.row_key(record)}"] = self.resource.row_label(record)
        self.app.open_resource(self.session, target)

    def action_copy_key(self) -> None:
        from testdeck.screens.export import copy

        key = self.table.cursor_key
        if key is not None:
            copy(self, key, f"key {key}")

    def action_copy_record(self) -> None:
        from testdeck.screens.export import copy

        record = self.selected()
        if record is not None:
            copy(self, json.dumps(record.raw, ensure_ascii=False, default=str, indent=2),
                 f"{self._noun()} {self.resource.row_label(record)!r} as JSON")

    def action_save(self) -> None:
        from testdeck.screens.export import save_table

        save_table(self)

    @work(exit_on_error=False, group="ui")
    async def action_pick_scope(self) -> None:
        scope = self.resource.scope
        if scope is None:
            self.notify("this resource is not inside anything", timeout=2)
            return
        try:
            options = await scope.options(self.ctx())
        except ApiError as exc:
            self._mark_stale(exc)
            return
        if not options:
            self._info(f"no {scope.name} to choose from: create one first")
            return
        chosen = await self.app.push_screen_wait(ScopePicker(f"choose a {scope.name} for {self.resource.title.lower()}",
                                                             options))
        if chosen:
            self.scope = chosen
            self.set_sticky_scope(chosen, dict(options).get(chosen, ""))
            if scope.remember is not None:
                try:
                    scope.remember(self.app.config, self.session.profile, chosen)
                except Exception as exc:  # the choice still holds for this session
                    self.notify(f"could not save the choice: {exc}", severity="warning", markup=False)
            self.query_one("#title", Label).update(self._title())
            self.rows, self.records, self.last_ok = [], {}, None
            self.marks.clear()
            self.table.set_data(TableData([c.heading for c in self.resource.columns]))
            self.table.empty_text = "loading…"
            self._wake.set()

    @work(exit_on_error=False, group="ui")
    async def action_detail(self) -> None:
        record = self.selected()
        if record is None:
            return
        ctx = self.ctx(record)
        detail: Any = record
        if self.resource.detail is not None:
            try:
                detail = await self.resource.detail(ctx)
            except ApiError as exc:
                self.notify(exc.message, title="details failed; showing the row", severity="warning", markup=False)
        await self.app.push_screen(TextScreen(f"{self._noun()} {self.resource.row_label(record)} · {ctx.key}",
                                              as_text(detail)))

    def action_log(self) -> None:
        record = self.selected()
        if self.resource.log is None or record is None:
            self.notify(f"{self.resource.title.lower()} have no log", timeout=2)
            return
        from testdeck.screens.log import LogScreen

        ctx = self.ctx(record)
        self.app.push_screen(LogScreen(f"log · {self._noun()} {self.resource.row_label(record)}",
                                       self.resource.log(ctx), line_cap=self.app.config.log_line_cap))

    def action_help(self) -> None:
        from testdeck.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(f"keys · {self.resource.title.lower()}", self))

    # --- resource actions ---------------------------------------------------------
    def action_act(self, label: str) -> None:
        action = self.resource.action(label)
        if action is None:
            return
        if not self._scoped():
            self.notify(f"{label}: no {self.resource.scope.name} chosen: press P first", severity="warning",
                        markup=False)
            return
        if action.mutates and self.session.read_only:
            self.notify(f"{label}: refused, testdeck runs read-only", severity="error", markup=False)
            return
        if action.bulk and self.marks:
            from testdeck.screens.bulk import run_bulk

            run_bulk(self, action)
            return
        record = self.selected()
        if action.row and record is None:
            self.notify(f"{label}: select a row first", severity="warning", timeout=2)
            return
        # keys typed from now until the form is ready wait for it (widgets/typeahead.py); the hold
        # starts with the key that opens the form, before any later key of a burst is dispatched
        hold = self.app.hold_keys() if action.form is not None and hasattr(self.app, "hold_keys") else None
        opening: list[FormScreen] = []
        worker = self._run_action(action, self.ctx(record if action.row else None), hold, opening)
        if hold is not None:

            def abandon() -> None:  # esc among the held keys: give up opening the form
                if opening and opening[0].is_current:
                    opening[0].dismiss(None)
                else:
                    worker.cancel()

            hold.on_escape = abandon

    @work(exit_on_error=False, group="ui")
    async def _run_action(self, action: Action, ctx: Ctx, hold: Any = None, opening: list | None = None) -> None:
        confirm = self._confirmer(action, ctx) if action.confirm else None
        if action.form is not None:
            try:
                result = await self._run_form(action, ctx, confirm, hold.release if hold else None,
                                              opening if opening is not None else [])
            finally:
                if hold is not None:
                    hold.release(replay=False)  # the form never got ready: drop the keys, never misroute
            if result is None:
                return
        else:
            if confirm is not None and not await confirm():
                return
            self.busy = f"{action.label} {self._named(ctx)}".strip()
            try:
                with journal.acting(action.label):
                    result = await action.call(ctx)
            except ApiError as exc:
                self.notify(exc.message, title=f"{action.label} {self._named(ctx)} failed".replace("  ", " "),
                            severity="error", markup=False, timeout=8)
                return
            finally:
                self.busy = None
                self._update_status()
        await self._after(action, ctx, result)

    async def _run_form(self, action: Action, ctx: Ctx, confirm: Any, on_ready: Any, opening: list) -> Any:
        assert action.form is not None
        if action.form.initial is not None:
            try:
                initial = await action.form.initial(ctx)
            except ApiError as exc:
                self.notify(exc.message, title=action.label, severity="error", markup=False)
                return None
        else:
            names = {f.name for f in action.form.fields}
            initial = {k: v for k, v in ctx.row.raw.items() if k in names} if ctx.row else {}
        form: FormScreen | None = None

        async def submit(values: dict, changed: dict) -> Any:
            ctx.values, ctx.changed = values, changed
            ctx.progress = form.report_progress if form is not None else None
            with journal.acting(action.label):  # the journal names what the user asked for
                return await action.call(ctx)

        screen_class = action.form.screen() if action.form.screen is not None else FormScreen
        # a confirmed action with a form asks after the form validates, before anything is sent
        form = screen_class(action.form, ctx, initial, submit, upload=action.upload,
                            submit_label=submit_label(action.label), confirm=confirm, on_ready=on_ready)
        opening.append(form)
        return await self.app.push_screen_wait(form)

    def _confirmer(self, action: Action, ctx: Ctx) -> Callable[[], Any]:
        """Ask before a confirmed action runs: straight away, or after its form validates."""

        async def ask() -> bool:
            return bool(await self.app.push_screen_wait(
                ConfirmScreen(self.confirm_question(action, [ctx.row]), submit_label(action.label))))

        return ask

    def _noun(self) -> str:
        title = self.resource.title.lower()
        return title[:-1] if title.endswith("s") else title

    def _named(self, ctx: Ctx) -> str:
        """How a toast names the record: the noun and its label ("alert 'Disk full'")."""
        if ctx.row is not None:
            return f"{self._noun()} {self.resource.row_label(ctx.row)!r}"
        named = ctx.values.get(self.resource.label) if self.resource.label else None
        return f"{self._noun()} {named!r}" if named else self._noun()

    def confirm_question(self, action: Action, rows: list[Record | None]) -> str:
        """Names (Resource.label) and ids of what the action touches, and on which profile."""
        where = f"on profile {self.session.profile.name}"
        env = self.session.profile.fields.get("environment")
        if env:
            where += f" ({str(env).upper()})"
        # sanitised before repr(): a stand-in (␛) reads better than repr's \x1b, and is as safe
        names = [f"{sanitize(self.resource.row_label(r))!r} ({sanitize(self.resource.row_key(r))})"
                 if self.resource.row_label(r) != self.resource.row_key(r)
                 else repr(sanitize(self.resource.row_key(r))) for r in rows if r is not None]
        note = action.confirm_note(rows)
        note = f"\n{note}" if note else ""
        if len(names) == 1:
            return f"{action.label} {self._noun()} {names[0]} {where}?{note}"
        shown = "\n".join(f"  {n}" for n in names[:12])
        more = f"\n  … and {len(names) - 12} more" if len(names) > 12 else ""
        return f"{action.label} these {len(names)} {self.resource.title.lower()} {where}?\n{shown}{more}{note}"

    async def _after(self, action: Action, ctx: Ctx, result: Any) -> None:
        if action.select is not None:
            self._select = action.select(result)
        if action.refresh:
            self._reload()
        if action.mutates:
            # a followed action was only accepted: how it ends shows in the log that follows (B27)
            outcome = "accepted, following it" if action.follow is not None else "done"
            self.notify(f"{action.label} {self._named(ctx)}: {outcome}", timeout=3, markup=False)
            self.session.status_at = 0.0  # a mutation may change the quota: ask again
            self._wake.set()
        if action.show is not None:
            await self.app.push_screen(TextScreen(f"{action.label} · {self._named(ctx)}", action.show(result)))
        elif action.follow is not None:
            from testdeck.screens.log import LogScreen

            await self.app.push_screen(LogScreen(f"{action.label} · {self._named(ctx)}", action.follow(ctx, result),
                                                 line_cap=self.app.config.log_line_cap))
        elif action.screen is not None:
            await self.app.push_screen(action.screen(ctx, result))
