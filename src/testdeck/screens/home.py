"""Home: every profile with its service, URL, mode, secret source and health (re-polled)."""

from __future__ import annotations

import asyncio
import datetime as _dt

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Label, Static

from testdeck import clock
from testdeck.config import looks_secret
from testdeck.errors import ApiError
from testdeck.widgets.keybar import KeyBar
from testdeck.widgets.statusbar import spinner
from testdeck.theming import paint_profile
from testdeck.widgets.table import TableData, VirtualTable

HEADINGS = ["profile", "service", "mode", "failing", "url", "secret", "health"]
PRIORITIES = [0, 0, 0, 0, 2, 1, 0]  # at 80 columns the URL goes before the health is cut
PULSE = (("critical", "‼"), ("error", "✖"), ("warning", "▲"))


def _shown_value(key: str, value: object) -> str:
    """A config value for the screen; one under a secret's name is not shown (it does not belong there)."""
    if looks_secret(key):
        return "*** (not shown: a secret belongs in TESTDECK_SECRET_<NAME> or the keyring, not the config)"
    return repr(value)


class HomeScreen(Screen):
    BLANK = True  # (opaque: its own lines are blank strips; see ResourceScreen)
    DEFAULT_CSS = """
    HomeScreen #titlebar { height: 1; width: 100%; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    HomeScreen #notice { height: auto; padding: 0 1; color: $warning; }
    """
    BINDINGS = [
        Binding("enter", "open", "open", id="home.open"),
        Binding("t", "test", "test all", id="home.test"),
        Binding("d", "detail", "details", id="home.detail"),
        Binding("question_mark", "help", "help", id="home.help"),
    ]

    def __init__(self):
        super().__init__()
        self.health: dict[str, str] = {}
        self.checked_at: float | None = None
        self.checking = False

    def compose(self) -> ComposeResult:
        yield Label(self._title(), id="titlebar")
        yield VirtualTable(HEADINGS, empty_text="no profiles: add one with `testdeck profile add` or run `testdeck --demo`")
        yield Static("", id="notice")
        yield KeyBar()

    def _title(self) -> Text:
        text = Text("testdeck · profiles", no_wrap=True, overflow="ellipsis")
        if self.app.read_only:
            text.append(" · ")
            text.append(" READ-ONLY ", style="reverse")
        if self.checking:
            text.append(f" · {spinner()} checking…")
        elif self.checked_at is not None:
            stamp = _dt.datetime.fromtimestamp(self.checked_at, _dt.timezone.utc).strftime("%H:%M:%SZ")
            text.append(f" · checked at {stamp}")
        return text

    def on_mount(self) -> None:
        self.render_rows()
        self.show_notices()
        self.query_one(VirtualTable).focus()
        self.action_test()
        # health is polled again at the refresh interval, and the spinner turns while checking
        self.set_interval(self.app.config.refresh_interval, self.action_test)
        self.set_interval(0.2, self._tick)

    def _shown(self) -> bool:
        return self.app.screen is self and not self.app.starting

    def show_notices(self) -> None:
        notices = self.app.notices
        if notices:
            self.query_one("#notice", Static).update(Text("\n".join(notices)))

    def _tick(self) -> None:
        if self.checked_at is None and not self.checking and self._shown():
            self.action_test()  # first shown now (home was passed through on the way to a start target)
        if self.checking:
            self.query_one("#titlebar", Label).update(self._title())

    def on_screen_resume(self) -> None:
        for table in self.query(VirtualTable):  # (none while composing, or being taken down at exit)
            table.scroll_to(x=0, animate=False)  # the profile column first again, whatever was scrolled
        self.app.triage_wake()

    def triage_changed(self) -> None:
        """The app's triage poll brought news: the pulse column follows."""
        self.render_rows()

    def pulse(self, name: str) -> str:
        """Per-profile counts of what is failing (k9s' pulse): ‼ critical, ✖ error, ▲ warning."""
        state = self.app.triage_board.states.get(name)
        if state is None:
            return "…"
        if state.unknown:  # its first poll failed: no count can be claimed, not even ✔ 0
            return "? stale"
        counts = self.app.triage_board.counts(name)
        text = " ".join(f"{glyph}{counts[sev]}" for sev, glyph in PULSE if counts.get(sev))
        return (text or "✔ 0") + (" stale" if state.stale else "")

    def render_rows(self) -> None:
        rows = []
        for name, profile in self.app.config.profiles.items():
            # a profile not opened yet shows what its config says; its secret source once it opens
            session = self.app.sessions.get(name)
            secret = session.secret_source.split(" ")[0] if session is not None else "…"
            rows.append((name, (name, profile.service, profile.badges(self.app.read_only), self.pulse(name),
                                profile.url, secret, self.health.get(name, "…"))))
        for table in self.query(VirtualTable):  # (none while composing, or being taken down at exit)
            table.set_data(TableData.build(HEADINGS, rows, priorities=PRIORITIES))

    @work(exit_on_error=False, group="ping", exclusive=True)
    async def action_test(self) -> None:
        async def one(name: str) -> None:
            session = await self.app.open_session(name)  # on a thread: a slow keyring freezes nothing
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

        if not self._shown():  # hidden, or passed through at start: no traffic for it
            return
        self.app.forget_broken()  # `t` and every poll try a broken profile again (a fixed secrets file)
        self.checking = True
        self._tick()
        try:
            await asyncio.gather(*(one(n) for n in self.app.config.profiles))
        finally:
            self.checking = False
            self.checked_at = clock.now()
            self.query_one("#titlebar", Label).update(self._title())

    def action_open(self) -> None:
        key = self.query_one(VirtualTable).cursor_key
        if key:
            self.app.open_profile(key)

    def action_detail(self) -> None:
        """The profile under the cursor whole: the health's full reason (cut at 80 columns: a `chmod 600`
        to run was unreadable), where its secret comes from, its config (which holds no secret)."""
        from testdeck.widgets.dialogs import TextScreen

        name = self.query_one(VirtualTable).cursor_key
        profile = self.app.config.profiles.get(name) if name else None
        if profile is None:
            return
        session = self.app.sessions.get(name)
        lines = [f"profile: {name}", f"service: {profile.service}", f"url: {profile.url}",
                 f"mode: {profile.badges(self.app.read_only) or '-'}",
                 f"secret: {session.secret_source if session is not None else 'not read yet'}",
                 f"health: {self.health.get(name, 'not checked yet')}", f"failing: {self.pulse(name)}", "",
                 "config:", *(f"  {key} = {_shown_value(key, value)}" for key, value in sorted(profile.fields.items()))]
        self.app.push_screen(TextScreen(f"profile {name}", "\n".join(lines)))

    def action_help(self) -> None:
        from testdeck.screens.help import HelpScreen

        self.app.push_screen(HelpScreen("keys · profiles", self))
