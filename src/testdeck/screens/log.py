"""LogScreen: a title line, a LogTail following a feed, a footer with the keys."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from testdeck.resources import LogFeed
from testdeck.text import sanitize
from testdeck.widgets.logtail import LogTail


class LogScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
    ]

    DEFAULT_CSS = """
    LogScreen > .log-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    """

    def __init__(self, title: str, feed: LogFeed | None, line_cap: int = 50_000) -> None:
        super().__init__()
        self.log_title = title
        self.feed = feed
        self.line_cap = line_cap

    def compose(self) -> ComposeResult:
        yield Static(Text(sanitize(self.log_title), no_wrap=True, overflow="ellipsis"), classes="log-title")
        yield LogTail(self.feed, title=self.log_title, line_cap=self.line_cap, id="log-tail")
        yield Footer()

    def on_mount(self) -> None:
        self.tail.view.focus()

    @property
    def tail(self) -> LogTail:
        return self.query_one("#log-tail", LogTail)

    def action_back(self) -> None:
        self.dismiss()
