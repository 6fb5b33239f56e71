"""ResourceScreen: the one generic screen that renders any declared Resource.

Live refresh with backoff, stale-on-error (rows stay, marked, with age and
the server's message), filter, sort, details, actions with forms and
confirmation, log tail. Everything heavy (formatting, filtering, sorting,
measuring) runs off the event loop; the table swaps prepared data in.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import re
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from testdeck import clock
from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Action, Ctx, Resource, duration, plain
from testdeck.session import ProfileSession
from testdeck.text import sanitize
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen, submit_label
from testdeck.widgets.statusbar import StatusBar
from testdeck.widgets.table import TableData, VirtualTable

MAX_BACKOFF = 60.0
BIG_TABLE = 5_000  # rows from which the GC is told to leave the data alone


@dataclass
class Row:
    key: str
    cells: tuple[str, ...]
    record: Record


_gc_depth = 0


@contextlib.contextmanager
def gc_paused(rows: Callable[[], int]):
    """No cyclic GC while a refresh allocates its rows: with 100k live records a full
    pass is a 200-400 ms freeze of the UI. Afterwards a big table's objects are
    frozen (moved out of the collector's scans) *before* collection resumes; they
    hold no reference cycles, so refcounting still frees old rows.

    Before freezing, the young generations are collected: the refresh's own garbage
    cycles (asyncio and httpx frames, tracebacks holding whole bodies) are there, and
    a frozen cycle is never collected (it leaked +3.5 MiB per refresh at 20k rows).
    Young only: what earlier refreshes froze is not scanned again."""
    global _gc_depth
    _gc_depth += 1
    gc.disable()
    try:
        yield
    finally:
        _gc_depth -= 1
        if _gc_depth == 0:
            if rows() >= BIG_TABLE:
                gc.collect(1)
                gc.freeze()
            gc.enable()


def format_rows(resource: Resource, records: list[Record]) -> list[Row]:
    cols = resource.columns
    return [Row(resource.row_key(r), tuple(c.cell(r) for c in cols), r) for r in records]


def compile_filter(text: str) -> Any:
    """None for no filter; a callable on a joined row; ValueError on a bad /regex/."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("/"):  # /regex/ (the closing slash is optional while typing)
        pattern = text[1:-1] if len(text) >= 2 and text.endswith("/") else text[1:]
        if not pattern:
            return None
        try:
            rx = re.compile(pattern, re.I)
        except re.error as exc:
            raise ValueError(f"bad regex: {exc}") from None
        return rx.search
    needle = text.lower()
    return lambda hay: needle in hay.lower()


def _sort_key(value: Any) -> tuple:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, plain(value).lower())


def build_view(resource: Resource, rows: list[Row], match: Any, sort_col: int | None,
               reverse: bool) -> TableData:
    """Filter, sort and measure: pure, runs in a thread."""
    if match is not None:
        rows = [r for r in rows if match("\t".join(r.cells))]
    if sort_col is not None:
        key = resource.columns[sort_col].key
        rows = sorted(rows, key=lambda r: _sort_key(r.record.get(key)), reverse=reverse)
    headings = [c.heading for c in resource.columns]
    return TableData.build(headings, [(r.key, r.cells) for r in rows], [c.width for c in resource.columns])


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Record):
        value = value.raw
    return json.dumps(value, indent=2, sort_keys=False, default=str)


class ScopePicker(Screen[str | None]):
    """Pick the container a scoped resource lives in (a project, say)."""

    BINDINGS = [Binding("escape,q", "cancel", "back")]

    def __init__(self, title: str, options: list[tuple[str, str]]):
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        yield Label(Text(sanitize(self.title_text)), classes="screen-title")
        yield OptionList(*[Option(Text(sanitize(f"{label}  ({oid})")), id=oid) for oid, label in self.options])
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


# keys the generic screen, the table and the app answer to; resource actions must not shadow them
RESERVED_KEYS = {"slash", "enter", "d", "r", "p", "s", "S", "l", "P", "left_square_bracket", "right_square_bracket",
                 "escape", "question_mark", "up", "down", "k", "j", "g", "G", "home", "end", "pageup", "pagedown",
                 "left", "right", "h",
                 "q", "colon", "ctrl+p", "ctrl+t", "1", "2", "3", "4", "5"}


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
        Binding("slash", "filter", "filter"),
        Binding("enter,d", "detail", "details", show=False),
        Binding("r", "refresh", "refresh", show=False),
        Binding("p", "pause", "pause", show=False),
        Binding("s", "sort", "sort", show=False),
        Binding("S", "sort_reverse", "reverse", show=False),
        Binding("l", "log", "log"),
        Binding("P", "pick_scope", "scope"),
        Binding("left_square_bracket", "switch(-1)", "prev", show=False),
        Binding("right_square_bracket", "switch(1)", "next", show=False),
        Binding("escape", "back", "back", show=False),
        Binding("question_mark", "help", "help"),
    ]

    def __init__(self, session: ProfileSession, resource: Resource, scope: str | None = None):
        super().__init__()
        self.session = session
        self.resource = resource
        self.scope = scope or session.views.get(f"scope:{resource.name}") or self._default_scope()
        self.rows: list[Row] = []
        self.records: dict[str, Record] = {}
        self.filter_text = ""
        self.sort_col: int | None = None
        self.sort_reverse = False
        self.paused = False
        self.last_ok: float | None = None
        self.error: ApiError | None = None
        self.retry_in: float | None = None
        self.loaded = asyncio.Event()  # set after each completed refresh attempt (tests wait on it)
        self._wake = asyncio.Event()
        for action in resource.actions:
            self._bindings.bind(action.key, f"act('{action.label}')", action.label)

    def _default_scope(self) -> str | None:
        if self.resource.scope is None:
            return None
        return self.session.profile.fields.get(f"{self.resource.scope.name}_id")

    # --- layout ---------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="titlebar"):
            yield Label(self._title(), id="title")
            yield Label(self._tabs(), id="tabs", shrink=True)
        yield Input(placeholder="filter: text, or /regex/  (enter keep, esc clear)", id="filter")
        yield VirtualTable([c.heading for c in self.resource.columns], empty_text="loading…")
        yield Static("", id="message")
        yield StatusBar()
        yield Footer()

    def _title(self) -> Text:
        title = Text()
        title.append(f"{self.session.service.title}", style="bold")
        title.append(f" · {self.session.profile.name} · ")
        title.append(self.resource.title, style="bold")
        if self.resource.scope is not None:
            # the name chosen in the picker; otherwise the id, shortened to fit 80 columns
            scope = self.session.views.get(f"scope-label:{self.scope}") or self.scope or "(none)"
            scope = sanitize(scope)
            title.append(f" · {self.resource.scope.name} {scope[:8] + '…' if len(scope) > 12 else scope}")
        if self.filter_text:
            title.append(f" · filter {sanitize(self.filter_text)}")
        return title

    def _tabs(self) -> Text:
        """Only the neighbours `[` and `]` lead to: eight names would not fit 80 columns."""
        resources = self.session.service.resources
        if len(resources) < 2:
            return Text("")
        i = resources.index(self.resource)
        prev, nxt = resources[i - 1].name, resources[(i + 1) % len(resources)].name
        return Text(f"[ {prev}  ] {nxt}", style="dim", no_wrap=True, overflow="ellipsis")  # reads as: key [ -> prev, key ] -> next

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # keys a resource cannot use are hidden from the footer, not just inert
        if action == "log":
            return self.resource.log is not None
        if action == "pick_scope":
            return self.resource.scope is not None
        if action == "switch":
            return len(self.session.service.resources) > 1
        return True

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
        self.table.focus()
        self.set_interval(1.0, self._update_status)
        self._update_status()
        if self.resource.scope is not None and not self.scope:
            self.action_pick_scope()
        self._poll()

    # --- refresh loop -----------------------------------------------------------
    def ctx(self, record: Record | None = None) -> Ctx:
        key = self.resource.row_key(record) if record is not None else None
        return Ctx(self.session.client, scope=self.scope, row=record, key=key)

    @work(exit_on_error=False, group="poll")
    async def _poll(self) -> None:
        delay = self.session.interval
        while True:
            self._wake.clear()  # before the refresh: an `r` pressed during it is not lost
            if not self.paused and (self.resource.scope is None or self.scope):
                ok = await self.refresh_now()
                delay = self.session.interval if ok else min(MAX_BACKOFF, max(delay * 2, self.session.interval))
                self.retry_in = None if ok else delay
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def refresh_now(self) -> bool:
        """One refresh: fetch, prepare off-loop, swap in. False (and stale) on failure."""
        with gc_paused(lambda: len(self.rows)):
            try:
                records = await self.resource.list(self.ctx())
                rows = await asyncio.to_thread(format_rows, self.resource, list(records))
            except ApiError as exc:
                self._mark_stale(exc)
                return False
            except Exception as exc:  # a bug must not close the console: show it like a server error
                self._mark_stale(ApiError(self.session.service.name, self.session.profile.name, "GET",
                                          self.resource.name, None, f"{type(exc).__name__}: {exc}"))
                return False
            finally:
                self.loaded.set()
            self.rows = rows
            self.records = {r.key: r.record for r in rows}
            self.error = None
            self.last_ok = clock.now()
            filtered = await self._apply_view()
        self.table.stale = False
        await self._refresh_service_status()
        self.table.empty_text = "no rows match the filter" if self.filter_text else "no rows"
        if filtered:
            self._show_message()
        self._update_status()
        return True

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
            match = compile_filter(self.filter_text)
        except ValueError as exc:
            self._info(f"filter: {exc}")
            return False
        data = await asyncio.to_thread(build_view, self.resource, self.rows, match, self.sort_col,
                                       self.sort_reverse)
        self.table.sort_column, self.table.sort_reverse = self.sort_col, self.sort_reverse
        self.table.set_data(data)
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
        retry = f" · retrying in {self.retry_in:g}s" if self.retry_in else ""
        msg.update(Text(sanitize(f"STALE · {age}{retry} · {self.error.one_line()}")))
        msg.add_class("-stale")

    def _info(self, text: str) -> None:
        msg = self.query_one("#message", Static)
        msg.remove_class("-stale")
        msg.update(Text(sanitize(text)))
        msg.add_class("-info")

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        age = clock.now() - self.last_ok if self.last_ok is not None else None
        health = self.session.client.health.ok if self.error is None else False
        shown, total = self.table.row_count, len(self.rows)
        self.query_one(StatusBar).show(
            profile=self.session.profile.name, ok=health, age=age, interval=self.session.interval,
            paused=self.paused, read_only=self.session.read_only,
            rows=f"{shown}/{total} rows" if shown != total else f"{total} rows", extra=self.session.status_extra)
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
        box = self.query_one("#filter", Input)
        box.add_class("-active")
        box.value = self.filter_text
        box.focus()

    async def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value
            self.query_one("#title", Label).update(self._title())
            self._refilter()

    @work(exclusive=True, group="filter", exit_on_error=False)
    async def _refilter(self) -> None:
        with gc_paused(lambda: len(self.rows)):
            shown = await self._apply_view()
        if shown:
            self._show_message()
        self._update_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.input.remove_class("-active")
            self.table.focus()

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("-active") or self.filter_text:
            box.remove_class("-active")
            box.value = ""  # clearing the filter is the first escape
            self.table.focus()
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_sort(self) -> None:
        n = len(self.resource.columns)
        self.sort_col = 0 if self.sort_col is None else (self.sort_col + 1 if self.sort_col + 1 < n else None)
        self._refilter()

    def action_sort_reverse(self) -> None:
        if self.sort_col is None:
            self.sort_col = 0
        self.sort_reverse = not self.sort_reverse
        self._refilter()

    def action_switch(self, step: int) -> None:
        resources = self.session.service.resources
        i = resources.index(self.resource)
        self.app.open_resource(self.session, resources[(i + step) % len(resources)])

    def selected(self) -> Record | None:
        key = self.table.cursor_key
        return self.records.get(key) if key is not None else None

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
        chosen = await self.app.push_screen_wait(ScopePicker(f"Choose a {scope.name} for {self.resource.title}",
                                                             options))
        if chosen:
            self.scope = chosen
            self.session.views[f"scope:{self.resource.name}"] = chosen
            self.session.views[f"scope-label:{chosen}"] = dict(options).get(chosen, "")
            self.query_one("#title", Label).update(self._title())
            self.rows, self.records, self.last_ok = [], {}, None
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
        await self.app.push_screen(TextScreen(f"{self.resource.title[:-1] if self.resource.title.endswith('s') else self.resource.title} {ctx.key}", as_text(detail)))

    def action_log(self) -> None:
        record = self.selected()
        if self.resource.log is None or record is None:
            self.notify(f"{self.resource.title} have no log", timeout=2)
            return
        from testdeck.screens.log import LogScreen

        ctx = self.ctx(record)
        self.app.push_screen(LogScreen(f"{self.resource.name} {ctx.key}", self.resource.log(ctx),
                                       line_cap=self.app.config.log_line_cap))

    def action_help(self) -> None:
        from testdeck.screens.help import help_text

        self.app.push_screen(TextScreen(f"Keys · {self.resource.title}", help_text(self)))

    # --- resource actions ---------------------------------------------------------
    def action_act(self, label: str) -> None:
        action = self.resource.action(label)
        if action is None:
            return
        record = self.selected()
        if action.row and record is None:
            self.notify(f"{label}: select a row first", severity="warning", timeout=2)
            return
        if action.mutates and self.session.read_only:
            self.notify(f"{label}: refused, testdeck runs read-only (--read-only)", severity="error", markup=False)
            return
        # keys typed from now until the form is ready wait for it (see widgets/typeahead.py); the
        # hold starts here, with the key that opens the form, before any later key is dispatched
        hold = self.app.hold_keys() if action.form is not None and hasattr(self.app, "hold_keys") else None
        opening: list[FormScreen] = []
        worker = self._run_action(action, self.ctx(record if action.row else None), hold, opening)
        if hold is not None:

            def abandon() -> None:  # esc among the held keys: abandon the opening
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
                    hold.release(replay=False)  # the form never got ready: drop, never misroute
            if result is None:
                return
        else:
            if confirm is not None and not await confirm():
                return
            try:
                result = await action.call(ctx)
            except ApiError as exc:
                self.notify(exc.message, title=f"{action.label} failed", severity="error", markup=False,
                            timeout=8)
                return
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
            return await action.call(ctx)

        form = FormScreen(action.form, ctx, initial, submit, upload=action.upload,
                          submit_label=submit_label(action.label), confirm=confirm, on_ready=on_ready)
        opening.append(form)
        return await self.app.push_screen_wait(form)

    def _confirmer(self, action: Action, ctx: Ctx) -> Callable[[], Any]:
        """Ask before a confirmed action runs: straight away, or after its form validates."""

        async def ask() -> bool:
            name = self.resource.row_label(ctx.row) if ctx.row is not None else ctx.key
            what = f"{action.label} {self._noun()} {name}?" if name else f"{action.label}?"
            return bool(await self.app.push_screen_wait(ConfirmScreen(what[:1].upper() + what[1:],
                                                                      submit_label(action.label))))

        return ask

    def _noun(self) -> str:
        title = self.resource.title.lower()
        return title[:-1] if title.endswith("s") else title

    def _done_name(self, ctx: Ctx, result: Any) -> str:
        """The record an action acted on, for the toast: its label (name), else its key."""
        for record in (result, ctx.row):
            if isinstance(record, Record):
                return self.resource.row_label(record)
        return ctx.key or ""

    async def _after(self, action: Action, ctx: Ctx, result: Any) -> None:
        if action.mutates:
            name = self._done_name(ctx, result)
            self.notify(f"{action.label} {self._noun()} {name}: done".replace("  ", " "), timeout=2)
            self.session.status_at = 0.0  # a mutation may change the quota: ask again
            self._wake.set()
        if action.show is not None:
            await self.app.push_screen(TextScreen(f"{action.label} · {ctx.key or ''}".strip(" ·"),
                                                  action.show(result)))
        elif action.follow is not None:
            from testdeck.screens.log import LogScreen

            await self.app.push_screen(LogScreen(f"{action.label} {ctx.key or ''}", action.follow(ctx, result),
                                                 line_cap=self.app.config.log_line_cap))
        elif action.screen is not None:
            await self.app.push_screen(action.screen(ctx, result))

