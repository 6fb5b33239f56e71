"""kyaraben's special screens: the TOTP countdown, searchable lists, the campaign progress view.

They are pushed by the generic ResourceScreen through `Action.screen`
(callable(ctx, result) -> Screen). Every server string is shown as plain
Text, every poll catches its errors (stale data stays on screen, marked),
and every countdown reads `testdeck.clock.now()`, so a frozen clock gives
the same frame every time.
"""

from __future__ import annotations

import asyncio
import datetime as _dt

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Digits, Footer, Label, ProgressBar, Static

from testdeck import clock
from testdeck.errors import ApiError
from testdeck.resources import Ctx, LogFeed
from testdeck.screens.refresh import stale_line
from testdeck.services.kyaraben.client import Campaign, CampaignTest
from testdeck.services.kyaraben.views.campaigns import hw_screen, hw_summary
from testdeck.services.kyaraben.views.vms import TOTP_PERIOD, Totp, get_totp
from testdeck.text import sanitize
from testdeck.widgets.logtail import LogTail

TICK = 1.0  # seconds between countdown redraws
POLL_INTERVAL = 1.0  # seconds between campaign polls
MAX_BACKOFF = 30.0  # a failing campaign poll backs off up to this
FINAL_CAMPAIGN = ("READY", "ERROR")
STATUS_STYLE = {"READY": "green", "ERROR": "bold red", "RUNNING": "yellow", "QUEUED": "dim"}


def _error(ctx: Ctx, exc: BaseException, method: str, path: str) -> ApiError:
    """Any failure as an ApiError (a bug in a poll is shown like a server error, never raised)."""
    if isinstance(exc, ApiError):
        return exc
    profile = getattr(getattr(ctx.client, "profile", None), "name", "?")
    return ApiError("kyaraben", profile, method, path, None, f"{type(exc).__name__}: {exc}")


# --- TOTP ------------------------------------------------------------------------------------------------------

class TotpScreen(ModalScreen[None]):
    """The VM's one-time password, big, with a live countdown to the end of its 30-second period."""

    DEFAULT_CSS = """
    TotpScreen { align: center middle; }
    TotpScreen > Vertical { width: 56; max-width: 95%; height: auto; border: thick $accent;
                            background: $surface; padding: 0 2; }
    TotpScreen #totp-title { text-style: bold; width: 1fr; }
    TotpScreen #totp-vm { color: $text-muted; width: 1fr; }
    TotpScreen #totp-code { width: auto; margin: 1 0 0 0; text-style: bold; color: $accent; }
    TotpScreen #totp-code.-expired { color: $text-disabled; text-style: strike; }
    TotpScreen #totp-bar { margin: 1 0 0 0; }
    TotpScreen #totp-bar Bar { width: 1fr; }
    TotpScreen #totp-bar Bar > .bar--bar { color: $accent; background: $panel; }
    TotpScreen #totp-plain { width: 1fr; text-style: bold; }
    TotpScreen #totp-left { width: 1fr; }
    TotpScreen #totp-left.-expired { color: $error; text-style: bold; }
    TotpScreen #totp-error { color: $error; height: auto; display: none; }
    TotpScreen #totp-error.-shown { display: block; }
    TotpScreen #totp-hint { color: $text-muted; margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "back"),
        Binding("r", "renew", "new code"),
        Binding("c", "copy", "copy"),
    ]

    def __init__(self, ctx: Ctx, totp: Totp):
        super().__init__()
        self.ctx = ctx
        self.totp = totp
        self.expired = False
        self.fetching = False

    @property
    def period(self) -> int:
        return TOTP_PERIOD

    def compose(self) -> ComposeResult:
        name = self.ctx.row.get("avm_name") if self.ctx.row is not None else ""
        with Vertical():
            yield Label(Text(f"TOTP · VM {name or self.totp.avm_id}", no_wrap=True, overflow="ellipsis"),
                        id="totp-title")
            yield Label(Text(f"id {self.totp.avm_id}", no_wrap=True, overflow="ellipsis"), id="totp-vm")
            yield Digits(self.totp.totp, id="totp-code")
            yield Label(self._plain(), id="totp-plain")
            yield ProgressBar(total=self.period, show_eta=False, show_percentage=False, id="totp-bar")
            yield Static("", id="totp-left")
            yield Static("", id="totp-error")
            yield Label("r new code · c copy · esc/q close", id="totp-hint")

    def _plain(self) -> Text:
        code = self.totp.totp
        return Text(f"{code[:3]} {code[3:]}" if len(code) == 6 else code)

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(TICK, self._tick)

    @property
    def seconds_left(self) -> int:
        return self.totp.seconds_left()

    def _tick(self) -> None:
        left = self.seconds_left
        self.expired = left <= 0
        self.query_one("#totp-bar", ProgressBar).update(total=self.period, progress=left)
        label = self.query_one("#totp-left", Static)
        code = self.query_one("#totp-code", Digits)
        if self.expired:
            label.update(Text("expired: press r for a new code"))
        else:
            until = _dt.datetime.fromtimestamp(self.totp.valid_until, _dt.timezone.utc).strftime("%H:%M:%SZ")
            label.update(Text(f"valid {left} s more (until {until})"))
        label.set_class(self.expired, "-expired")
        code.set_class(self.expired, "-expired")

    @property
    def left_text(self) -> str:
        """The countdown line as plain text (tests)."""
        content = self.query_one("#totp-left", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.totp.totp)
        self.notify("TOTP copied (OSC 52)", timeout=2)

    @work(exit_on_error=False, exclusive=True, group="totp")
    async def action_renew(self) -> None:
        self.fetching = True
        box = self.query_one("#totp-error", Static)
        try:
            fresh = await get_totp(self.ctx)
        except Exception as exc:  # noqa: BLE001 - shown, the old code stays
            err = _error(self.ctx, exc, "GET", f"/android/{self.ctx.key}/totp")
            box.update(Text(sanitize(f"no new code: {err.one_line()}")))
            box.add_class("-shown")
            return
        finally:
            self.fetching = False
        box.remove_class("-shown")
        self.totp = fresh
        self.query_one("#totp-code", Digits).update(fresh.totp)
        self.query_one("#totp-plain", Label).update(self._plain())
        self._tick()


# --- searchable lines (properties, packages) -------------------------------------------------------------

async def one_shot(lines: list[str]) -> LogFeed:
    yield lines


class LinesScreen(Screen[None]):
    """A fixed list of lines in a LogTail (so `/` searches, `n`/`N` jump, `s` saves), shown from the top."""

    DEFAULT_CSS = """
    LinesScreen > .lines-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    """
    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("q", "back", "back", show=False),
    ]

    def __init__(self, title: str, lines: list[str], line_cap: int = 50_000):
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.line_cap = max(line_cap, len(lines), 1)

    def compose(self) -> ComposeResult:
        yield Static(Text(self.title_text, no_wrap=True, overflow="ellipsis"), classes="lines-title")
        yield LogTail(one_shot(self.lines), title=self.title_text, line_cap=self.line_cap, follow=False,
                      id="lines-tail")
        yield Footer()

    @property
    def tail(self) -> LogTail:
        return self.query_one("#lines-tail", LogTail)

    def on_mount(self) -> None:
        self.tail.view.focus()

    def action_back(self) -> None:
        self.dismiss(None)


# --- campaign progress ------------------------------------------------------------------------------------------

def _status(value: str) -> Text:
    return Text(value or "?", style=STATUS_STYLE.get(value, ""))


class CampaignScreen(Screen[None]):
    """Live progress of one campaign: polls get_campaign until READY or ERROR."""

    DEFAULT_CSS = """
    CampaignScreen #camp-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    CampaignScreen #camp-head { height: 1; padding: 0 1; }
    CampaignScreen #camp-state { width: auto; margin-right: 2; }
    CampaignScreen #camp-bar { width: 1fr; }
    CampaignScreen #camp-bar Bar { width: 1fr; }
    CampaignScreen #camp-counts { height: 1; padding: 0 1; color: $text-muted; }
    CampaignScreen #camp-tests { height: auto; max-height: 9; }
    CampaignScreen #camp-out-title { height: 1; background: $panel; padding: 0 1; }
    CampaignScreen #camp-out { height: 1fr; background: $surface; padding: 0 1; }
    CampaignScreen #camp-message { height: auto; max-height: 3; padding: 0 1; display: none; }
    CampaignScreen #camp-message.-stale { display: block; background: $error 30%; color: $text; }
    CampaignScreen #camp-message.-info { display: block; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("q", "back", "back", show=False),
        Binding("r", "refresh", "refresh"),
    ]

    def __init__(self, ctx: Ctx, campaign: Campaign | None = None):
        super().__init__()
        self.ctx = ctx
        self.campaign = campaign
        self.error: ApiError | None = None
        self.last_ok: float | None = clock.now() if campaign is not None else None
        self.polls = 0  # completed fetches (ok or not): tests wait on it
        self._wake = asyncio.Event()
        self._selected = 0
        self._keys: list[str] = []

    # --- layout ---------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="camp-title")
        with Horizontal(id="camp-head"):
            yield Static("", id="camp-state")
            yield ProgressBar(total=100, show_eta=False, id="camp-bar")
        yield Static("", id="camp-counts")
        table: DataTable = DataTable(id="camp-tests", cursor_type="row")
        table.add_columns("#", "status", "image", "hwconfig", "package")
        yield table
        yield Static("", id="camp-out-title")
        with VerticalScroll(id="camp-out"):
            yield Static("", id="camp-stdout")
        yield Static("", id="camp-message")
        yield Footer()

    def _title(self) -> Text:
        c = self.campaign
        name = (c.campaign_name if c is not None else "") or self.ctx.key or ""
        return Text(f"campaign {name} · {self.ctx.key}", no_wrap=True, overflow="ellipsis")

    @property
    def table(self) -> DataTable:
        return self.query_one("#camp-tests", DataTable)

    @property
    def state(self) -> str:
        return self.campaign.state if self.campaign is not None else ""

    @property
    def finished(self) -> bool:
        return self.state in FINAL_CAMPAIGN

    def on_mount(self) -> None:
        self.table.focus()
        self._redraw()
        self._poll()

    # --- polling --------------------------------------------------------------------------------------
    @work(exit_on_error=False, exclusive=True, group="campaign-poll")
    async def _poll(self) -> None:
        delay = POLL_INTERVAL
        if self.campaign is None:
            await self.fetch()
        while not (self.finished and self.error is None):
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
            ok = await self.fetch()
            delay = POLL_INTERVAL if ok else min(MAX_BACKOFF, max(delay * 2, POLL_INTERVAL))

    async def fetch(self) -> bool:
        """One poll; False (the last data kept, marked stale) on any failure."""
        try:
            campaign = await self.ctx.client.get_campaign(self.ctx.scope, self.ctx.key)
        except Exception as exc:  # noqa: BLE001 - a poll never takes the console down
            self.error = _error(self.ctx, exc, "GET", f"/projects/{self.ctx.scope}/campaigns/{self.ctx.key}")
            self.polls += 1
            self._show_message()
            return False
        self.campaign = campaign
        self.error = None
        self.last_ok = clock.now()
        self.polls += 1
        self._redraw()
        return True

    def action_refresh(self) -> None:
        self.notify("refreshing…", timeout=1)
        if self.finished and self.error is None:
            self._fetch_once()
        else:
            self._wake.set()

    @work(exit_on_error=False, exclusive=True, group="campaign-once")
    async def _fetch_once(self) -> None:
        await self.fetch()

    def action_back(self) -> None:
        self.dismiss(None)

    # --- rendering ---------------------------------------------------------------------------------
    def _redraw(self) -> None:
        c = self.campaign
        self.query_one("#camp-title", Static).update(self._title())
        if c is None:
            self.query_one("#camp-state", Static).update(Text("loading…"))
            self._show_message()
            return
        state = Text()
        state.append(c.state or "?", style=STATUS_STYLE.get(c.state, "bold"))
        self.query_one("#camp-state", Static).update(state)
        progress = min(1.0, max(0.0, c.progress or 0.0))
        self.query_one("#camp-bar", ProgressBar).update(total=100, progress=round(progress * 100, 1))
        tests = c.test_records
        counts: dict[str, int] = {}
        for t in tests:
            counts[t.status or "?"] = counts.get(t.status or "?", 0) + 1
        summary = " · ".join(f"{n} {s}" for s, n in counts.items()) or "no tests"
        tail = "" if not self.finished else " · finished"
        self.query_one("#camp-counts", Static).update(
            Text(f"progress {progress:.2f} · {len(tests)} test(s): {summary}{tail}", no_wrap=True,
                 overflow="ellipsis"))
        self._fill_table(tests)
        self._show_stdout()
        self._show_message()

    def _fill_table(self, tests: list[CampaignTest]) -> None:
        table = self.table
        rows = [(Text(str(n)), _status(t.status), Text(t.image), Text(hw_screen(t.hwconfig)),
                 Text(t.package or "(no package)")) for n, t in enumerate(tests, 1)]
        keys = [str(n) for n in range(len(rows))]
        columns = list(table.columns)
        if keys == self._keys:  # same tests: update cells in place, the cursor stays
            for key, row in zip(keys, rows):
                for col, value in zip(columns, row):
                    if str(table.get_cell(key, col)) != str(value):
                        table.update_cell(key, col, value)
            return
        cursor = table.cursor_row
        table.clear()
        for key, row in zip(keys, rows):
            table.add_row(*row, key=key)
        self._keys = keys
        if rows:
            table.move_cursor(row=min(max(cursor, 0), len(rows) - 1), animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self._selected = int(event.row_key.value)
            self._show_stdout()

    @property
    def selected_test(self) -> CampaignTest | None:
        tests = self.campaign.test_records if self.campaign is not None else []
        return tests[self._selected] if 0 <= self._selected < len(tests) else None

    def _show_stdout(self) -> None:
        t = self.selected_test
        title = self.query_one("#camp-out-title", Static)
        out = self.query_one("#camp-stdout", Static)
        if t is None:
            title.update(Text("stdout"))
            out.update(Text(""))
            return
        title.update(Text(f"#{self._selected + 1} {t.package or '(no package)'} on {t.image} · "
                          f"{hw_summary(t.hwconfig)}", no_wrap=True, overflow="ellipsis"))
        body = t.stdout or {"QUEUED": "(not started)", "RUNNING": "(no output yet)"}.get(t.status, "(no output)")
        before = str(out.content) if out.content is not None else ""
        out.update(Text(body))
        if body != before:
            box = self.query_one("#camp-out", VerticalScroll)
            if t.status == "RUNNING":
                box.scroll_end(animate=False, immediate=True)

    @property
    def stdout_text(self) -> str:
        content = self.query_one("#camp-stdout", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    @property
    def message_text(self) -> str:
        content = self.query_one("#camp-message", Static).content
        return content.plain if isinstance(content, Text) else str(content)

    def _show_message(self) -> None:
        msg = self.query_one("#camp-message", Static)
        msg.remove_class("-stale", "-info")
        if self.error is None:
            msg.update("")
            return
        msg.update(stale_line(self.error, self.last_ok))
        msg.add_class("-stale")
