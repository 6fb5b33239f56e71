"""Triage: everything failing right now across every profile, in one live table.

Every profile is polled concurrently on its own interval; each keeps its
last items when a poll fails (stale, as everywhere, with their age). `enter`
jumps to the item in its own resource screen, in the view that lists it, with
the cursor on it; `d` shows an item whole, `s` every stale profile whole.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from testdeck import clock, pacing
from testdeck.columns import ERROR, WARNING, duration, timestamp
from testdeck.screens.view import GLYPHS
from testdeck.text import sanitize
from testdeck.triage import Board, Item, ProfileState
from testdeck.widgets.filterbox import FilterBox
from testdeck.widgets.table import GAP, TableData, VirtualTable

# the message last: the last column takes the room left over (it was 7 cells at 80 columns)
HEADINGS = ["severity", "since", "profile", "what", "service", "message"]
PRIORITIES = [0, 0, 0, 0, 2, 0]  # the service hides first at 80 columns: the profile names it
MEANING = {"critical": ERROR, "error": ERROR, "warning": WARNING}


def widths(width: int, items: list[Item]) -> list[int | None]:
    """Fixed widths for the columns before the message, from the terminal's width: `what` gets
    at most 40% of what the others leave, so the message keeps the rest (`d` shows both whole)."""
    longest = max((len(i.profile) for i in items), default=0)
    profile = max(8, min(longest, 16 if width < 100 else 24))
    left = width - 2 - 10 - 6 - profile - 4 * GAP  # severity with its glyph, since, profile, the gaps
    return [8, 6, profile, max(12, min(30, left * 40 // 100)), 8, None]


def _words(state: ProfileState) -> str:
    """The last error, the server's words first (a line cut at 80 columns kept the path and lost
    them), without the `service/profile: ` the line names already."""
    error = state.error
    request, _, words = error.one_line().removeprefix(f"{error.service}/{error.profile}: ").partition(": ")
    return f"{words} ({request})" if words else request


def is_prod(name: str, profiles: dict) -> bool:
    profile = profiles.get(name)
    return profile is not None and str(profile.fields.get("environment", "")).lower() in ("prod", "production")


def item_key(item: Item) -> str:
    return "\x1f".join(str(p) for p in item.ident)


class TriageScreen(Screen):
    BLANK = True  # (opaque: its own lines are blank strips; see ResourceScreen)
    DEFAULT_CSS = """
    TriageScreen #titlebar { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    TriageScreen #stale { height: auto; padding: 0 1; color: $warning; display: none; text-wrap: nowrap;
                          text-overflow: ellipsis; }
    TriageScreen #stale.-shown { display: block; }
    """
    BINDINGS = [
        Binding("enter", "jump", "jump", id="triage.jump"),
        Binding("d", "detail", "details", id="triage.details"),
        Binding("s", "stale", "stale", id="triage.stale"),
        Binding("r", "refresh", "refresh", id="triage.refresh"),
        Binding("slash", "filter", "filter", id="triage.filter"),
        Binding("question_mark", "help", "help", id="triage.help"),
        Binding("escape", "back", "back", show=False, id="triage.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board: Board = Board()
        self.items: dict[str, Item] = {}
        self._cells: dict[Item, tuple[str, str, str]] = {}  # per item: its key, sanitised what and message
        self._texts: tuple[str, str] | None = None  # the stale note and the title as shown
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

    def on_resize(self) -> None:
        self.render_items()  # the columns' widths and the stale lines follow the terminal's size

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
        states = self.board.states
        for item in items:
            key, what, message = cells[item]
            old = states[item.profile].stale_age(item, now) if item.profile in states else None
            if old is not None:  # kept from an earlier poll: the profile could not be read since
                message = f"stale {duration(old)} · {message}"
            row = (item.severity, duration(now - item.since) if item.since else "", item.profile, what,
                   item.service, message)
            if box.keeps(row):
                rows.append((key, row))
                meanings.append((MEANING.get(item.severity),) + (None,) * 5)
        table = self.query_one(VirtualTable)
        # new items are highlighted like rows that changed on a resource screen
        table.changed = {k for k, i in self.items.items() if i.ident in self.board.new}
        table.set_data(TableData.build(HEADINGS, rows, widths(self.size.width, items), meanings, PRIORITIES,
                                       GLYPHS))
        table.empty_text = "nothing failing" if self.board.states else "polling every profile…"
        # (an unreachable profile or a refused key is an item of its own; a poll that failed before
        # anything was read has no item at all, and still says so here)
        # a text update is a layout pass and a repaint of the screen: only when the words change
        note_text = "\n".join(self.stale_lines())
        # a filter on says so, with what it hides: 2 rows of 25 must not read as "2 failing"
        title = (f"testdeck · triage · {len(items)} failing across {len(self.board.states)} profiles"
                 + box.said(len(rows), len(items)))
        if (note_text, title) != self._texts:
            self._texts = (note_text, title)
            note = self.query_one("#stale", Static)
            note.update(Text(note_text))  # (each line cut at the edge: text-wrap in the CSS)
            note.set_class(bool(note_text), "-shown")
            self.query_one("#titlebar", Label).update(Text(title))

    # --- profiles not read whole -----------------------------------------------------
    def _stale(self, every: bool) -> list[tuple[str, ProfileState]]:
        """Stale profiles, prod ones first: those read in part or not at all (the STALE note), or
        `every` one (also those unreachable or refused: their items say so)."""
        profiles = self.app.config.profiles
        found = [(name, state) for name, state in self.board.states.items()
                 if (state.stale if every else state.unclear)]
        return sorted(found, key=lambda e: (not is_prod(e[0], profiles), e[0]))

    def _badge(self, name: str) -> str:
        return " [PROD]" if is_prod(name, self.app.config.profiles) else ""

    def stale_lines(self) -> list[str]:
        """One line per profile read in part or not at all, cut at the edge (`s` shows them whole);
        past the room, `+N more` names the rest. Prod profiles come first and are never hidden
        under `+N more`."""
        entries = self._stale(every=False)
        room = 3 if self.size.height < 30 else 6
        shown = entries
        if len(entries) > room:
            prods = sum(1 for name, _ in entries if is_prod(name, self.app.config.profiles))
            shown = entries[:max(room - 1, prods)]
        lines = [("STALE · " if n == 0 else "      · ")
                 + sanitize(f"{name}{self._badge(name)} ({state.not_read()}): {_words(state)}")
                 for n, (name, state) in enumerate(shown)]
        rest = entries[len(shown):]
        if rest:
            lines.append(f"      · +{len(rest)} more, s shows every one whole: " + ", ".join(n for n, _ in rest))
        return lines

    def action_stale(self) -> None:
        """Every stale profile whole: what was not read, when it last was, the server's words."""
        from testdeck.widgets.dialogs import TextScreen

        now = clock.now()
        blocks = []
        for name, state in self._stale(every=True):
            profile = self.app.config.profiles.get(name)
            down = next((i.what for i in state.items if i.down), None)
            kept = sum(1 for i in state.items if state.stale_age(i, now) is not None)
            last = f"{timestamp(state.last_ok)}, {duration(now - state.last_ok)} ago" if state.last_ok else "never"
            blocks.append("\n".join([
                f"{name}{self._badge(name)} · {profile.service if profile else '?'} · {down or state.not_read()}",
                f"  last read whole: {last}",
                f"  items kept from earlier polls (shown stale): {kept}",
                f"  {state.error.one_line()}"]))
        if not blocks:
            self.notify("no stale profile: every one was read whole at its last poll", markup=False)
            return
        self.app.push_screen(TextScreen(f"triage · {len(blocks)} stale profiles", "\n\n".join(blocks)))

    # --- one item ---------------------------------------------------------------------
    def _cursor_item(self) -> Item | None:
        tables = self.query(VirtualTable)  # (none on a screen being taken down: a key still on its way)
        key = tables.first().cursor_key if tables else None
        return self.items.get(key) if key else None

    def action_detail(self) -> None:
        """The item under the cursor whole (at 80 columns its message is cut)."""
        from testdeck.widgets.dialogs import TextScreen

        item = self._cursor_item()
        if item is None:
            return
        now = clock.now()
        state = self.board.states.get(item.profile)
        old = state.stale_age(item, now) if state is not None else None
        read = (f"stale: last read {duration(old)} ago; the profile could not be read since" if old is not None
                else "at the last poll")
        since = f"{timestamp(item.since)}, {duration(now - item.since)} ago" if item.since else "not known"
        where = item.resource or "the profile's first resource"
        if item.resource:
            session = self.app.sessions.get(item.profile)
            resource = session.service.resource(item.resource) if session is not None else None
            query = next((q for q in resource.queries if q.value == item.query), None) if resource else None
            where += (f" · {query.label}" if query else "") + (f" · scope {item.scope}" if item.scope else "") \
                + (f" · row {item.key}" if item.key else "")
        lines = [f"severity: {item.severity}", f"profile: {item.profile}{self._badge(item.profile)}",
                 f"service: {item.service}", f"what: {item.what}", f"since: {since}", f"read: {read}",
                 f"where: {where} (enter on the item opens it)", "", "message:", item.message or "(none)"]
        self.app.push_screen(TextScreen(f"triage · {item.profile} · {item.what}", "\n".join(lines)))

    def action_refresh(self) -> None:
        self.app.triage_wake()

    def action_jump(self) -> None:
        """The item in its own resource, in the view that lists it (the declaration's query), the
        cursor on it; esc comes back here (also from a profile's item: its first resource)."""
        item = self._cursor_item()
        if item is None:
            return
        session = self.app.session(item.profile)
        resource = session.service.resource(item.resource) if item.resource else None
        if resource is None:
            self.app.open_profile(item.profile, from_triage=True)
            return
        query = next((q.key for q in resource.queries if q.value == item.query), None)
        self.app.open_resource(session, resource, scope=item.scope, select=item.key, from_triage=True, query=query,
                               what=item.what)

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
