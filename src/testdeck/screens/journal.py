"""The action journal, newest first: filter with `/`, copy an entry's curl command with `y`."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Label

from testdeck import journal
from testdeck.text import sanitize
from testdeck.widgets.filterbox import FilterBox
from testdeck.widgets.table import TableData, VirtualTable

HEADINGS = ["time", "profile", "action", "outcome", "method", "path"]  # the outcome within 80 columns
SHOWN = 5000  # the newest entries; older ones stay in the file


class JournalScreen(Screen):
    BLANK = True  # (opaque: its own lines are blank strips; see ResourceScreen)
    DEFAULT_CSS = """
    JournalScreen #titlebar { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    """
    BINDINGS = [
        Binding("slash", "filter", "filter", id="journal.filter"),
        Binding("y", "copy_curl", "copy curl", id="journal.copy_curl"),
        Binding("enter,d", "detail", "details", id="journal.detail"),
        Binding("r", "reload", "reload", id="journal.reload"),
        Binding("question_mark", "help", "help", id="journal.help"),
        Binding("escape", "back", "back", show=False, id="journal.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict] = []
        self.shown: dict[str, dict] = {}

    def compose(self) -> ComposeResult:
        yield Label(Text(f"testdeck · journal · {journal.journal_path()}", no_wrap=True, overflow="ellipsis"),
                    id="titlebar")
        yield FilterBox(id="jfilter")
        yield VirtualTable(HEADINGS, empty_text="no actions journaled yet")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()
        self.query_one(VirtualTable).focus()

    def action_reload(self) -> None:
        try:
            self.entries = journal.read(SHOWN)
        except OSError as exc:
            self.notify(f"journal unreadable: {exc.strerror}", severity="error", markup=False)
            self.entries = []
        self._show_entries()

    def _show_entries(self) -> None:
        box = self.query_one(FilterBox)
        rows = []
        self.shown = {}
        for i, e in enumerate(self.entries):
            cells = tuple(sanitize(c) for c in (journal.when(e.get("time")), str(e.get("profile", "")),
                                                 str(e.get("action", "")), journal.outcome(e), str(e.get("method", "")),
                                                 str(e.get("path", ""))))
            if not box.keeps(cells):
                continue
            self.shown[str(i)] = e
            rows.append((str(i), cells))
        self.query_one(VirtualTable).set_data(TableData.build(HEADINGS, rows, [14, None, None, None, 6, None]))
        self.query_one("#titlebar", Label).update(Text(
            f"testdeck · journal{box.said(len(rows), len(self.entries))} · {journal.journal_path()}",
            no_wrap=True, overflow="ellipsis"))

    def selected(self) -> dict | None:
        key = self.query_one(VirtualTable).cursor_key
        return self.shown.get(key) if key is not None else None

    def action_filter(self) -> None:
        self.query_one(FilterBox).open()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show_entries()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(FilterBox).keep()
        self.query_one(VirtualTable).focus()

    def action_help(self) -> None:
        from testdeck.screens.help import HelpScreen

        self.app.push_screen(HelpScreen("keys · journal", self))

    def action_copy_curl(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        self.app.copy_to_clipboard(entry.get("curl", ""))
        self.notify("curl command copied (OSC 52); the secret stays an environment variable reference",
                    timeout=3, markup=False)

    def action_detail(self) -> None:
        from testdeck.widgets.dialogs import TextScreen

        from testdeck.screens.view import detail_text

        entry = self.selected()
        if entry is not None:  # its time readable, as other details; the curl as it runs (not JSON-escaped)
            text = detail_text({k: v for k, v in entry.items() if k != "curl"})
            if entry.get("curl"):
                text += f"\n\ncurl (y copies it):\n{entry['curl']}"
            self.app.push_screen(TextScreen("journal entry", sanitize(text, multiline=True)))

    def action_back(self) -> None:
        if self.query_one(FilterBox).clear_filter():
            self.query_one(VirtualTable).focus()
            return
        self.app.pop_screen()
