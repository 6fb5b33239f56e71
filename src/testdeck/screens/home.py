"""Home: every profile with its service, URL, secret source and health."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from testdeck.errors import ApiError
from testdeck.widgets.table import TableData, VirtualTable

HEADINGS = ["profile", "service", "url", "secret", "health"]


class HomeScreen(Screen):
    DEFAULT_CSS = """
    HomeScreen #titlebar { height: 1; width: 100%; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    HomeScreen #notice { height: auto; padding: 0 1; color: $warning; }
    """
    BINDINGS = [
        Binding("enter", "open", "open"),
        Binding("t", "test", "test all"),
        Binding("question_mark", "help", "help"),
    ]

    def __init__(self):
        super().__init__()
        self.health: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label("testdeck · profiles", id="titlebar")
        yield VirtualTable(HEADINGS, empty_text="no profiles: add one with `testdeck profile add` or run `testdeck --demo`")
        yield Static("", id="notice")
        yield Footer()

    def on_mount(self) -> None:
        self.render_rows()
        notices = self.app.notices
        if notices:
            self.query_one("#notice", Static).update(Text("\n".join(notices)))
        self.query_one(VirtualTable).focus()
        self.action_test()

    def render_rows(self) -> None:
        rows = []
        for name, profile in self.app.config.profiles.items():
            session = self.app.session(name)
            rows.append((name, (name, profile.service, profile.url, session.secret_source.split(" ")[0],
                                self.health.get(name, "…"))))
        self.query_one(VirtualTable).set_data(TableData.build(HEADINGS, rows))

    @work(exit_on_error=False, group="ping")
    async def action_test(self) -> None:
        async def one(name: str) -> None:
            session = self.app.session(name)
            if session.broken:  # could not be opened: say why, once, and leave the others working
                self.health[name] = f"broken · {session.broken}"
                self.render_rows()
                return
            try:
                self.health[name] = "ok · " + await session.ping()
            except ApiError as exc:
                self.health[name] = f"error · {exc.message}"
            except Exception as exc:  # an adapter bug shows here, it does not close the console
                self.health[name] = f"error · {type(exc).__name__}: {exc}"
            self.render_rows()

        await asyncio.gather(*(one(n) for n in self.app.config.profiles))

    def action_open(self) -> None:
        key = self.query_one(VirtualTable).cursor_key
        if key:
            self.app.open_profile(key)

    def action_help(self) -> None:
        from testdeck.screens.help import help_text
        from testdeck.widgets.dialogs import TextScreen

        self.app.push_screen(TextScreen("Keys · profiles", help_text(self)))
