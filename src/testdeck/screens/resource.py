"""ResourceScreen: the one generic screen that renders any declared Resource.

Live refresh with backoff, stale-on-error (rows stay, marked, with age and
the server's message), k9s filters, sort, marks and bulk actions, details,
actions with forms and confirmation, log tail, drill-down. Everything heavy
(formatting, filtering, sorting, measuring) runs off the event loop; the
table swaps prepared data in. What the user set (filter, sort, marks, cursor,
query) lives in session.views, so it is there again when they come back.

This file is the screen: layout, title, keys, navigation. The refresh loop, stale line and
status bar are in screens/refresh.py, the resource's actions in screens/actions.py, the scope
(`P`) in screens/scope.py, the filter, sort and marks in screens/viewkeys.py (mixins);
the names other modules import from here still are.
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Ctx, Resource
from testdeck.screens.actions import ActionsMixin
from testdeck.screens.scope import ScopeMixin
from testdeck.screens.refresh import AGE_EVERY, Loaded, RefreshMixin
from testdeck.screens.view import Row, ViewState
from testdeck.screens.viewkeys import ViewKeysMixin
from testdeck.session import ProfileSession
from testdeck.text import quoted, sanitize
from testdeck.theming import paint_profile
from testdeck.widgets.keybar import KeyBar
from testdeck.widgets.statusbar import StatusBar
from testdeck.widgets.table import TableData, VirtualTable
from testdeck.widgets.titlebar import TitleBar

NARROW = 100  # below this width the title drops the prev/next hint so the scope always shows


def as_text(value: Any) -> str:
    from testdeck.screens.view import detail_text

    return detail_text(value)


# keys the generic screen, the table and the app answer to; resource actions must not shadow them
RESERVED_KEYS = {"slash", "enter", "d", "r", "p", "s", "S", "l", "P", "left_square_bracket", "right_square_bracket",
                 "escape", "question_mark", "up", "down", "k", "j", "g", "G", "home", "end", "pageup", "pagedown",
                 "left", "right", "h", "space", "ctrl+space", "asterisk", "y", "Y", "ctrl+s", "minus",
                 "q", "colon", "ctrl+p", "ctrl+c", "ctrl+t", "1", "2", "3", "4", "5"}


class FirstResumeStyled:
    """Screen mixin: Textual restyles every node at each resume; at the first, they were styled a
    moment ago as they mounted (~5 ms of a cold start's first frame). Screen's handler runs after."""

    _resumed = False

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False


class ResourceScreen(FirstResumeStyled, RefreshMixin, ActionsMixin, ScopeMixin, ViewKeysMixin, Screen):
    # Its widgets cover it and its background is opaque: its own lines are blank strips, not 24 lines
    # through Textual's styles pipeline (~4.6 M instructions of each full repaint). Textual's own switch.
    BLANK = True
    AUTO_FOCUS = "VirtualTable"  # (the filter box, mounted at the first /, never first: its focus and blur restyled the screen twice)
    DEFAULT_CSS = """
    ResourceScreen #titlebar { background: $primary; color: $text; }
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

    def __init__(self, session: ProfileSession, resource: Resource, scope: str | None = None, *,
                 query: str | None | bool = False):
        """`query`: the view to open in (a Query's key, None: the default view; False: the last one seen)."""
        super().__init__()
        self.session = session
        self.resource = resource
        self.state: ViewState = session.views.setdefault(f"view:{resource.name}", ViewState())
        if query is not False:
            self.state.query = query
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
        self.loaded = Loaded()  # set after each completed refresh attempt (tests wait on it)
        self._wake = asyncio.Event()
        self._view_gen = 0  # bumped by each filter/sort: older threads see it and stop
        self._select: str | None = None  # a row key to put the cursor on once a refresh brings it
        self._jump: tuple[str, str] | None = None  # a jump's row (key, what): checked after the first good refresh
        self.header = resource.header() if resource.header is not None else None
        self._first_read = self.read_early()  # (the request travels while the screen is pushed and composed)
        for action in resource.actions:
            self._bindings.bind(action.key, f"act('{action.label}')", action.label)
        for query in resource.queries:
            self._bindings.bind(query.key, f"query('{query.key}')", query.label)

    # --- the view state (kept per resource; its filter, sort and marks: screens/viewkeys.py) -----
    @property
    def query_value(self) -> str | None:
        query = next((q for q in self.resource.queries if q.key == self.state.query), None)
        return query.value if query else None

    # --- layout ---------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TitleBar(self._title(), self._tabs(), hint_from=NARROW, id="titlebar")
        if self.header is not None:
            yield self.header
        table = VirtualTable([c.heading for c in self.resource.columns], empty_text=self._empty_text())
        table.marked = self.state.marks
        yield table
        yield StatusBar()  # (the message line goes above it when there is one: RefreshMixin._message_line)
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
            if extra:  # may name server things (an Alyvix session): sanitised like the scope
                title.append(f" · {sanitize(extra)}", style="bold")
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
        return Text(f"[ {prev} · {nxt} ]", style="dim")

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
        if self._first_read is not None:  # left before its first refresh took the answer
            self._first_read.cancel()
        # A frozen screen left behind is never collected (widget trees are cycles): let go
        # of its rows so refcounting frees them, and hand frozen objects back to the GC.
        self.rows, self.records = [], {}
        for table in self.query(VirtualTable):
            table.data = TableData([])
        gc.unfreeze()

    def on_mount(self) -> None:
        paint_profile(self, self.session)
        self.table.focus()
        self.set_interval(1.0, self._update_status)
        self.set_interval(0.2, self._spin)
        self.set_interval(AGE_EVERY, self._reage)
        self._update_status()
        if self.resource.scope is not None and not self.scope:
            self.action_pick_scope()
        self._poll()

    def on_screen_resume(self) -> None:
        self.table.marked = self.state.marks

    # --- keys ------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.notify("refreshing…", timeout=1)
        self._wake.set()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._update_status()
        if not self.paused:
            self._wake.set()

    def action_switch(self, step: int) -> None:
        resources = self.session.service.resources
        i = resources.index(self.resource) if self.resource in resources else -1
        self.app.open_resource(self.session, resources[(i + step) % len(resources)])

    def action_query(self, key: str) -> None:
        """A server-side view (failed jobs, history): the same key again returns to the default."""
        self.state.query = None if self.state.query == key else key
        self._reload()

    def _land(self) -> None:
        """After the first good refresh of a jump (from triage): the cursor on its row, or said
        plainly that the row is not here, never left on another row as if it were."""
        key, what = self._jump
        self._jump = None
        if key in self.table.data.index:
            self.table.move_to_key(key)  # (also over a cursor remembered from an earlier visit)
            return
        self._select = None  # it is not there now: a row coming later must not pull the cursor away
        query = next((q for q in self.resource.queries if q.key == self.state.query), None)
        view = self.resource.title.lower() + (f" · {query.label}" if query else "")
        why = (f"hidden by the filter {quoted(self.filter_text)} (esc clears it)" if key in self.records
               else "fixed, or changed since triage read it")
        self.notify(sanitize(f"{what}: not in {view} now ({why}); the cursor is not on it"),
                    severity="warning", timeout=10, markup=False)

    def _reload(self) -> None:
        """Another view of the resource: new title, no rows of the old view, fetch now."""
        self.query_one(TitleBar).update(self._title())
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
                 f"{self._noun()} {quoted(self.resource.row_label(record))} as JSON")

    def action_save(self) -> None:
        from testdeck.screens.export import save_table

        save_table(self)

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
        from testdeck.widgets.dialogs import TextScreen

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
