"""Triage: everything failing right now across every profile, in one live table.

Every profile is polled concurrently on its own interval; each keeps its
last items when a poll fails (stale, as everywhere). `enter` jumps to the
item in its own resource screen with the cursor on it.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from testdeck import clock, pacing
from testdeck.resources import ERROR, WARNING, duration
from testdeck.screens.view import GLYPHS
from testdeck.text import sanitize
from testdeck.triage import Board, Item
from testdeck.widgets.filterbox import FilterBox
from testdeck.widgets.table import TableData, VirtualTable

HEADINGS = ["severity", "since", "profile", "what", "message", "service"]
WIDTHS = [8, 7, None, 30, None, 8]
PRIORITIES = [0, 0, 0, 0, 0, 2]  # the service hides first at 80 columns: the profile names it
MEANING = {"critical": ERROR, "error": ERROR, "warning": WARNING}


def item_key(item: Item) -> str:
    return "\x1f".join(str(p) for p in item.ident)


class TriageScreen(Screen):
    DEFAULT_CSS = """
    TriageScreen #titlebar { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    TriageScreen #stale { height: auto; max-height: 4; padding: 0 1; color: $warning; display: none; }
    TriageScreen #stale.-shown { display: block; }
    """
    BINDINGS = [
        Binding("enter", "jump", "jump to it", id="triage.jump"),
        Binding("r", "refresh", "refresh", id="triage.refresh"),
        Binding("slash", "filter", "filter", id="triage.filter"),
        Binding("question_mark", "help", "help", id="triage.help"),
        Binding("escape", "back", "back", show=False, id="triage.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board: Board = Board()
        self.items: dict[str, Item] = {}
        self._cells: dict[Item, tuple[str, str, str]] = {}
        self._texts: tuple[str, str] | None = None  # the stale note and the title as shown  # per item: its key, sanitised what and message
        self.loaded = asyncio.Event()  # set after each poll round (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Label("testdeck · triage", id="titlebar")
        yield FilterBox(id="tfilter")
        yield VirtualTable(HEADINGS, empty_text="polling every profile…")
        yield Static("", id="stale")
        yield Footer()

    def on_mount(self) -> None:
        self.board = self.app.triage_board  # the app polls every profile; home shows the same counts
        self.query_one(VirtualTable).focus()
        self.render_items()
        self.set_interval(1.0, self._tick)  # ages move on between polls
        self.app.triage_wake()

    def _tick(self) -> None:
        if not pacing.keys_busy():  # a key on its way goes first; the ages move on at the next tick
            self.render_items()

    def on_screen_resume(self) -> None:
        self.app.triage_wake()

    def triage_changed(self) -> None:
        self.render_items()
        self.loaded.set()

    def render_items(self) -> None:
        if not self.is_mounted:
            return
        items = self.board.items()
        # what does not move between polls is worked out once per item: this runs every second and
        # after every poll, and with 240 items from fifty profiles it took ~13 ms (a key waited on it)
        known, cells = self._cells, {}
        for item in items:
            cells[item] = known.get(item) or (item_key(item), sanitize(item.what), sanitize(item.message))
        self._cells = cells
        self.items = {cells[i][0]: i for i in items}
        now = clock.now()
        rows, meanings = [], []
        box = self.query_one(FilterBox)
        for item in items:
            key, what, message = cells[item]
            row = (item.severity, duration(now - item.since) if item.since else "", item.profile, what, message,
                   item.service)
            if box.keeps(row):
                rows.append((key, row))
                meanings.append((MEANING.get(item.severity),) + (None,) * 5)
        table = self.query_one(VirtualTable)
        # new items are highlighted like rows that changed on a resource screen
        table.changed = {k for k, i in self.items.items() if i.ident in self.board.new}
        table.set_data(TableData.build(HEADINGS, rows, WIDTHS, meanings, PRIORITIES, GLYPHS))
        table.empty_text = "nothing failing" if self.board.states else "polling every profile…"
        # (an unreachable profile or a refused key is an item of its own; a poll that failed before
        # anything was read has no item at all, and still says so here)
        stale = [f"{name} ({state.not_read()}): {state.error.one_line()}" for name, state in self.board.states.items()
                 if state.unclear]
        # a text update is a layout pass and a repaint of the screen: only when the words change
        note_text = sanitize("STALE · " + " · ".join(stale)) if stale else ""
        # a filter on says so, with what it hides: 2 rows of 25 must not read as "2 failing"
        title = (f"testdeck · triage · {len(items)} failing across {len(self.board.states)} profiles"
                 + box.said(len(rows), len(items)))
        if (note_text, title) != self._texts:
            self._texts = (note_text, title)
            note = self.query_one("#stale", Static)
            note.update(Text(note_text))
            note.set_class(bool(stale), "-shown")
            self.query_one("#titlebar", Label).update(Text(title))

    def action_refresh(self) -> None:
        self.app.triage_wake()

    def action_jump(self) -> None:
        key = self.query_one(VirtualTable).cursor_key
        item = self.items.get(key) if key else None
        if item is None:
            return
        session = self.app.session(item.profile)
        resource = session.service.resource(item.resource) if item.resource else None
        if resource is None:
            self.app.open_profile(item.profile)
            return
        self.app.open_resource(session, resource, scope=item.scope, select=item.key, from_triage=True)

    def action_filter(self) -> None:
        self.query_one(FilterBox).open()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.render_items()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(FilterBox).keep()
        self.query_one(VirtualTable).focus()

    def action_help(self) -> None:
        from testdeck.screens.help import HelpScreen

        self.app.push_screen(HelpScreen("keys · triage", self))

    def action_back(self) -> None:
        if self.query_one(FilterBox).clear_filter():
            self.query_one(VirtualTable).focus()
            return
        self.app.pop_screen()
