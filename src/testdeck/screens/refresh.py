"""The refresh loop of ResourceScreen: fetch, prepare off the event loop, swap in; back off on
failure with the rows kept and the stale line (age, countdown, the server's words); the status bar.

A mixin: ResourceScreen (screens/resource.py) is the screen; this is its live-data half."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.widgets import Static

from testdeck import clock
from testdeck.columns import age, duration
from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Ctx
from testdeck.screens.view import Cancelled, Row, build_view, compile_filter, format_rows, lazy_view
from testdeck.text import sanitize
from testdeck.widgets.statusbar import StatusBar

MAX_BACKOFF = 60.0
BIG_TABLE = 5_000  # rows from which the GC is told to leave the data alone
PREVIEW_FROM = 20_000  # a first load of this many rows shows them all (lazy_view) while it formats them
PREVIEW = 300  # and its first rows before that
# rows prepared and filtered on the event loop (a few ms): a thread hop let the screen paint
# between the answer and its rows, and the screen was painted empty first, then with its rows
INLINE_ROWS = 1_000

_gc_depth = 0
_gc_collect_owed = False
_gc_big_refreshes = 0
FULL_GC_EVERY = 50  # big refreshes between full passes (see gc_paused)
IDLE_S = 3.0  # a full pass waits until no key was typed for this long (at most FULL_GC_EVERY more)
AGE_EVERY = 10.0  # seconds: rows not read again for this long (failing, paused) have their ages worked out anew


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


def _prepare(resource, records: list[Record]) -> tuple[list[Row], dict[str, Record]]:
    """The rows and the records by key (in a thread from INLINE_ROWS: 100k of either on the event loop is a stall)."""
    rows = format_rows(resource, records, True)
    return rows, {r.key: r.record for r in rows}


def stale_line(error: ApiError, last_ok: float | None, retry: str = "") -> Text:
    """The STALE line of any live screen: how old the data shown is, and the server's words (sanitised)."""
    age = f"showing data from {duration(clock.now() - last_ok)} ago" if last_ok is not None else "no data yet"
    return Text(sanitize(f"STALE · {age}{retry} · {error.one_line()}"))


class Loaded(asyncio.Event):
    """Set when a refresh is over; after clear(), only by a refresh that started after it. Tests
    clear it, wake the screen and wait: a refresh already under way (its rows read before their
    change) must not pass for the one they asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.started = 0  # refreshes started so far (each one's number)
        self._after = 0  # a refresh numbered up to this one started before the last clear()

    def clear(self) -> None:
        self._after = self.started
        super().clear()

    def over(self, number: int) -> None:
        if number > self._after:
            self.set()


class RefreshMixin:
    """Live data for ResourceScreen (its state, table and status bar are the screen's)."""

    preview_of: int | None = None  # while a big first load shows its lazy view: how many rows (filter, sort wait)
    reading_since: float | None = None  # time.monotonic() a refresh began, while it runs

    # --- refresh loop -----------------------------------------------------------
    def ctx(self, record: Record | None = None) -> Ctx:
        key = self.resource.row_key(record) if record is not None else None
        marked = [self.records[k] for k in self.table.data.keys if k in self.marks and k in self.records] \
            if self.marks else []  # (100k keys walked on the event loop for nothing, at every refresh)
        return Ctx(self.session.client, scope=self.scope, row=record, key=key, query=self.query_value,
                   marked=marked, read_at=self.last_ok if record is not None else None)

    def read_early(self) -> asyncio.Future | None:
        """The first list call, sent as the screen is made: the request travels while the widgets
        are built and styled (40-70 ms of a cold start) instead of after. The first refresh takes its
        answer, or its error, as its own; a start target goes up once it is in (TestdeckApp)."""
        if not self._scoped() or self.session.broken:
            return None
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # (a screen made outside the app's loop: its first refresh reads)
            return None
        ctx = Ctx(self.session.client, scope=self.scope, query=self.query_value)

        async def read() -> list[Record]:
            with gc_paused(lambda: 0, collect=False):  # as in _refresh: 100k records decoded with the
                return await self.resource.list(ctx)  # collector on took 0.3-0.4 s more

        task = asyncio.ensure_future(read())
        # (a screen left before its first refresh never reads it: not an unhandled error then)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    async def _prepared(self, records: list[Record]) -> tuple[list[Row], dict[str, Record]]:
        if len(records) < INLINE_ROWS:
            return _prepare(self.resource, records)
        return await asyncio.to_thread(_prepare, self.resource, records)

    def _scoped(self) -> bool:
        return self.resource.scope is None or bool(self.scope)

    @work(exit_on_error=False, group="poll")
    async def _poll(self) -> None:
        interval = self.session.interval
        delay = interval
        manual = False
        await self._recall()
        while True:
            self._wake.clear()  # before the refresh: an `r` pressed during it is not lost
            # a manual refresh (r) runs while paused, and a failed one does not lengthen the back-off
            if (manual or not self.paused) and self._scoped():
                self.reading_since = time.monotonic()
                try:
                    ok = await self.refresh_now()
                except Exception as exc:  # a bug after the fetch must not end the refreshes for good
                    self._mark_stale(self._bug(exc))
                    ok = False
                finally:
                    self.reading_since = None
                if ok:
                    delay = interval
                elif not manual:
                    delay = min(MAX_BACKOFF, max(delay * 2, interval))
                self.retry_in = None if ok else delay
                if not ok:
                    self._show_message()
            elif manual and not self._scoped():  # r with nothing chosen: read the choices again (they
                self.action_pick_scope()  # failed, or the picker was closed) and offer them
            # with nothing chosen nothing refreshes: no countdown to nothing
            self.next_at = clock.now() + delay if self._scoped() else None
            self._update_status()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
                manual = True
            except TimeoutError:
                manual = False

    async def refresh_now(self) -> bool:
        """One refresh: fetch, prepare off-loop, swap in. False (and stale) on failure. `loaded` is
        set when it is over, rows and status shown (tests wait on it)."""
        number = self.loaded.started = self.loaded.started + 1
        try:
            return await self._refresh()
        finally:
            self.loaded.over(number)

    async def _refresh(self) -> bool:
        # the first load skips the young collection (on 100k rows a stall of half a second or
        # more, when the user waits for the table): its little garbage goes at the first full pass
        with gc_paused(lambda: len(self.rows), collect=self.last_ok is not None, idle=self._keyboard_idle):
            try:
                if self.session.broken:  # `r` and each retry open it again: a fix (chmod 600) takes effect
                    self.app.forget_broken(self.session.profile.name)
                    self.session = await self.app.open_session(self.session.profile.name)
                early, self._first_read = self._first_read, None
                records = list(await (early if early is not None else self.resource.list(self.ctx())))
                if self.last_ok is None and len(records) >= PREVIEW_FROM and not self.filter_text \
                        and self.sort_col is None:
                    await self._preview(records)
                rows, by_key = await self._prepared(records)
            except ApiError as exc:
                self._mark_stale(exc)
                return False
            except Exception as exc:  # a bug must not close the console: show it like a server error
                self._mark_stale(self._bug(exc))
                return False
            finally:
                self.preview_of = None
            first = self.last_ok is None
            old = {r.key: self._compared(r) for r in self.rows} if not first and len(self.rows) < BIG_TABLE else {}
            self.rows = rows
            self.records = by_key
            # rows whose cells changed since the last refresh stay highlighted until the next one
            self.table.changed = {r.key for r in rows if r.key in old and old[r.key] != self._compared(r)} \
                if old else set()
            gone = self.marks - self.records.keys()
            self.marks.difference_update(gone)  # marks follow keys; a deleted row takes its mark
            self.error = None
            self.table.stale = False
            self.last_ok = clock.now()
            self._remember(records)
            filtered = await self._apply_view()
        if self.header is not None:
            self.header.show_records([r.record for r in rows], self.ctx())
        if first and self.state.cursor:
            self.table.move_to_key(self.state.cursor)
        if self._jump is not None:  # a jump from triage: on its row, or said that it is not here
            self._land()
        await self._refresh_service_status()
        self.table.empty_text = "no rows match the filter" if self.filter_text else "no rows"
        if filtered:
            self._show_message()
        self._update_status()
        return True

    @work(exclusive=True, group="ages", exit_on_error=False)
    async def _reage(self) -> None:
        """Ages (`3m`) are worked out as rows are formatted, at each read: while the reads failed or were
        paused they stood still, and a row said 3m for a thing the STALE line said was 20 minutes old."""
        if (self.last_ok is None or clock.now() - self.last_ok < AGE_EVERY or self.reading_since is not None
                or self.preview_of is not None or not self.rows or len(self.rows) >= BIG_TABLE
                or not any(c.fmt is age for c in self.resource.columns)):
            return
        shown = self.rows
        rows, _ = await self._prepared([r.record for r in shown])
        if self.rows is not shown or self.reading_since is not None:  # a read came meanwhile: it wins
            return
        self.rows = rows
        await self._apply_view()

    # --- the last good rows, kept for when the resource is opened again ------------------------------
    # A screen is made anew each time its resource is opened (1-5, [ ], esc, a jump). Its last good
    # rows are kept in the session (tables under BIG_TABLE rows: a big one is not held in memory
    # while another screen shows) and shown at once when it comes back: never "no data yet" for a
    # table seen a minute ago because the server is failing now. Their age is in the status bar,
    # the refresh follows at once, and if it fails the STALE line says how old they are.
    def _memory_key(self) -> str:
        return f"rows:{self.resource.name}"

    def _remember(self, records: list[Record]) -> None:
        if len(records) < BIG_TABLE:
            self.session.views[self._memory_key()] = (self.scope, self.query_value, records, self.last_ok)
        else:
            self.session.views.pop(self._memory_key(), None)

    async def _recall(self) -> None:
        kept = self.session.views.get(self._memory_key())
        if kept is None or kept[:2] != (self.scope, self.query_value) or self.last_ok is not None:
            return
        records, at = kept[2], kept[3]
        rows, by_key = await self._prepared(records)
        if self.last_ok is not None:  # (nothing else refreshes first today; if it ever does, it wins)
            return
        self.rows, self.records, self.last_ok = rows, by_key, at
        await self._apply_view()
        if self.header is not None:
            self.header.show_records(records, self.ctx())
        if self.state.cursor:
            self.table.move_to_key(self.state.cursor)
        self._update_status()

    async def _preview(self, records: list[Record]) -> None:
        """A first big load: its first PREVIEW rows at once (formatted here: a few ms), then every
        row (lazy_view: keys and index of all, ~0.1-0.2 s in a thread at 100k), formatted as
        painted, while the whole list is formatted (about 40% of a 100k-row load). A filter or
        sort typed meanwhile is applied when that is done, and the status bar says so."""
        first = records[:PREVIEW]
        rows, self.records = _prepare(self.resource, first)
        self.table.set_data(build_view(self.resource, rows, None, None, False))
        self.preview_of = len(records)
        self._update_status()
        data, self.records = await asyncio.to_thread(lazy_view, self.resource, records)
        self.table.set_data(data)

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
        if self.last_ok is None and not self._scoped():  # the choices could not be read (P's list)
            name = self.resource.scope.name
            self.table.empty_text = f"no {name} chosen, and the {name}s could not be read: r or P tries again"
        elif self.last_ok is None:
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
        if self.preview_of is not None:  # the lazy view has no cells to filter or sort: refresh_now applies it
            return False
        # a newer filter or sort (the next key typed) makes this one stop: exclusive workers
        # cancel the coroutine, never the thread, and five keys left five threads sharing the GIL
        self._view_gen += 1
        gen = self._view_gen
        try:
            if len(self.rows) < INLINE_ROWS:
                data = build_view(self.resource, self.rows, match, self.sort_col, self.sort_reverse, lambda: False)
            else:
                data = await asyncio.to_thread(build_view, self.resource, self.rows, match, self.sort_col,
                                               self.sort_reverse, lambda: self._view_gen != gen)
        except Cancelled:
            return False
        self.table.sort_column, self.table.sort_reverse = self.sort_col, self.sort_reverse
        self.table.set_data(data)
        if self._select is not None and self.table.move_to_key(self._select):
            self._select = None
        return True

    def _message_line(self, create: bool = True) -> Static | None:
        """The STALE or info line above the status bar, mounted the first time there is one: most
        screens never show it, and a hidden widget still cost its mount and styles (~1.6 M instructions
        of a cold start)."""
        found = self.query("#message")
        if found:
            return found.first(Static)
        if not create:
            return None
        line = Static("", id="message")
        self.mount(line, before=self.query_one(StatusBar))
        return line

    def _show_message(self) -> None:
        self.set_class(self.error is not None, "-message")  # toasts rise above it (ResourceScreen's CSS)
        msg = self._message_line(create=self.error is not None)
        if msg is None:
            return
        msg.remove_class("-stale", "-info")
        if self.error is None:
            msg.update("")
            return
        left = self._countdown()
        if self.paused:  # nothing is retried while paused: saying so would be a promise not kept
            retry = " · paused: r retries, p resumes"
        else:
            retry = f" · retrying in {left}s" if self.retry_in and left is not None else ""
        msg.update(stale_line(self.error, self.last_ok, retry))
        msg.add_class("-stale")

    def _info(self, text: str) -> None:
        msg = self._message_line()
        msg.remove_class("-stale")
        msg.update(Text(sanitize(text)))
        msg.add_class("-info")
        self.add_class("-message")

    def _reading_for(self) -> int | None:
        """Seconds a refresh has run, from the first: a server that hangs showed `next 0s` for its whole
        timeout, a screen that looked frozen."""
        if self.reading_since is None:
            return None
        took = int(time.monotonic() - self.reading_since)
        return took if took >= 1 else None

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
        rows = f"{shown}/{total} rows" if shown != total else f"{total} row" if total == 1 else f"{total} rows"
        if self.preview_of is not None:
            rows = f"{self.preview_of} rows · preparing filter and sort"
        self.query_one(StatusBar).show(
            profile=self.session.profile.name, ok=health, age=age, interval=self.session.interval,
            paused=self.paused, read_only=self.session.read_only,
            rows=rows, extra=str(self.session.status_extra),  # (str(): a stale quota works out its age now)
            next_in=self._countdown(), retrying=self.retry_in is not None, marks=len(self.marks), busy=self.busy,
            reading=self._reading_for(),
            environment=self.session.profile.fields.get("environment"), label=self.session.profile.fields.get("label"))
        if self.error is not None:
            self._show_message()
