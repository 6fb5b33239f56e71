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
    BLANK = True  # (opaque: its own lines are blank strips; see ResourceScreen)
    BINDINGS = [
        Binding("escape", "back", "back", id="log.back"),
        Binding("q", "back", "back", show=False, id="log.quit"),
    ]

    DEFAULT_CSS = """
    LogScreen > .log-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    """

    def __init__(self, title: str, feed: LogFeed | None, line_cap: int = 50_000) -> None:
        super().__init__()
        self.log_title = title
        self.feed = feed
        self.line_cap = line_cap
        # a feed with switchable filters (alyvix's server log) lists (key, label, method name)
        for key, label, method in getattr(feed, "keys", ()):
            self._bindings.bind(key, f"feed_key('{method}')", label)

    def _title_text(self) -> Text:
        describe = getattr(self.feed, "describe", None)
        title = getattr(self.feed, "title", None) or self.log_title
        title = f"{title} · {describe()}" if describe is not None else title
        return Text(sanitize(title), no_wrap=True, overflow="ellipsis")

    def action_feed_key(self, method: str) -> None:
        getattr(self.feed, method)()
        self.query_one(".log-title", Static).update(self._title_text())
        if self.tail.feed_state != "running":  # the feed had ended: a switch (onetest's init log) reads again
            self.tail.follow(self.feed)

    def compose(self) -> ComposeResult:
        yield Static(self._title_text(), classes="log-title")
        yield LogTail(self.feed, title=self.log_title, line_cap=self.line_cap, id="log-tail")
        yield Footer()

    def on_mount(self) -> None:
        self.tail.view.focus()

    @property
    def tail(self) -> LogTail:
        return self.query_one("#log-tail", LogTail)

    def action_back(self) -> None:
        self.dismiss()
