"""The request detail screens: a request (header, summary, items) and an item's run or
clean results (scripts and their sections).

Pushed by the requests resource (`o`, and after a submit, which follows the new
request). Both refresh themselves while the request is active and stop when it
ends; a failed refresh keeps the last data on screen, marked stale with the
server's words. Every server string passes through testdeck.text.sanitize
(model.py); tokens stay masked in the JSON view until `v` reveals them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from testdeck import clock, journal
from testdeck.errors import ApiError
from testdeck.forms import Field, Form
from testdeck.resources import Ctx
from testdeck.screens.refresh import stale_line
from testdeck.services.xpresso import model
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import TableData, VirtualTable

POLL = 2.0  # seconds between refreshes while the request is active
MAX_BACKOFF = 30.0


class _Followed(Screen):
    """A screen on one request that refreshes it while it is active."""

    DEFAULT_CSS = """
    _Followed #header { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    _Followed #summary { height: 1; padding: 0 1; background: $panel; }
    _Followed #message { height: auto; max-height: 3; padding: 0 1; display: none; }
    _Followed #message.-stale { display: block; background: $error 30%; color: $text; }
    """
    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("r", "refresh", "refresh", show=False),
        Binding("d", "json", "json"),
        Binding("v", "reveal", "reveal tokens", show=False),
    ]

    def __init__(self, client: Any, request_id: str, *, record: Any = None, read_at: float | None = None,
                 interval: float = POLL):
        super().__init__()
        self.client = client
        self.request_id = request_id
        self.raw: dict = dict(getattr(record, "raw", record) or {})
        self.interval = interval
        self.reveal = False
        self.error: ApiError | None = None
        # the record given (a list's row, the request's own data) is as old as its reading
        self.last_ok: float | None = (read_at if read_at is not None else clock.now()) if self.raw.get("items") \
            else None
        self.loaded = asyncio.Event()  # set after each refresh attempt (tests wait on it)
        self._wake = asyncio.Event()

    @property
    def active(self) -> bool:
        return model.meaning(self.raw.get("state")) in (model.RUNNING, None)

    def on_mount(self) -> None:
        self.show()
        self._poll()

    @work(exit_on_error=False, group="poll")
    async def _poll(self) -> None:
        delay = self.interval
        while True:
            self._wake.clear()
            ok = await self.refresh_now()
            delay = self.interval if ok else min(MAX_BACKOFF, delay * 2)
            if ok and not self.active:  # finished: nothing more will change; `r` still refreshes
                delay = 3600.0
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def refresh_now(self) -> bool:
        try:
            record = await self.client.get_request(self.request_id)
        except ApiError as exc:
            self.error = exc
            return False
        except Exception as exc:  # a bug must not close the console
            self.error = ApiError("xpresso", self.client.profile.name, "GET", self.request_id, None,
                                  f"{type(exc).__name__}: {exc}")
            return False
        else:
            self.raw, self.error, self.last_ok = record.raw, None, clock.now()
            return True
        finally:
            if self.is_mounted:
                self.show()
            self.loaded.set()

    def show(self) -> None:
        """Redraw from self.raw (subclasses); the stale message is common."""
        msg = self.query_one("#message", Static)
        msg.set_class(self.error is not None, "-stale")
        if self.error is not None:
            msg.update(stale_line(self.error, self.last_ok))  # (the server's words through the sanitiser)

    def title_text(self, *parts: str) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"XPRESSO · {model.s(self.client.profile.name)} · ")
        text.append(" · ".join(parts), style="bold")
        if self.reveal:
            text.append(" · TOKENS SHOWN", style="bold reverse")
        elif self.active and self.raw:
            text.append(" · following", style="dim")
        return text

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self._wake.set()

    def action_reveal(self) -> None:
        self.reveal = not self.reveal
        self.notify("tokens shown: v hides them" if self.reveal else "tokens masked", timeout=3)
        self.show()

    def json_value(self) -> dict:
        return self.raw

    def action_json(self) -> None:
        what = "tokens shown" if self.reveal else "tokens masked, v reveals"
        self.app.push_screen(TextScreen(f"{self.request_id} · JSON ({what})",
                                        model.raw_json(self.json_value(), self.reveal)))


class RequestScreen(_Followed):
    """A request: header, pass/fail summary, its items; enter opens an item's results."""

    BINDINGS = [
        Binding("enter", "open_item", "results"),
        Binding("c", "open_clean", "clean results", show=False),
        Binding("x", "stop", "stop"),
    ]


    def compose(self) -> ComposeResult:
        yield Label(self.title_text(f"request {self.request_id}"), classes="screen-title", id="title")
        yield Static("", id="header")
        yield Static("", id="summary")
        yield VirtualTable(model.ITEM_HEADINGS, empty_text="loading…")
        yield Static("", id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VirtualTable).focus()
        super().on_mount()

    def show(self) -> None:
        super().show()
        raw = self.raw
        name = model.s(raw.get("name"))
        self.query_one("#title", Label).update(self.title_text(f"request {model.s(self.request_id)}", name))
        header = Text(no_wrap=True, overflow="ellipsis")  # one line per row, cut at the edge (d shows all)
        for n, (label, value, how) in enumerate(model.header(raw) if raw else []):
            if n:
                header.append("\n" if label in ("job", "created", "description", "request url", "service url",
                                                 "stopped") else "   ")
            header.append(f"{label}: ", style="dim")
            header.append(model.marked(value, how) if how else value, style=model.STYLE.get(how or "", ""))
        self.query_one("#header", Static).update(header)
        summary = Text(no_wrap=True, overflow="ellipsis")
        cons = model.d(raw.get("consolidated_summary"))
        for label, count in model.counts(cons):
            style = ("bold red" if label in ("fail", "error") else "magenta" if label in ("abort", "block")
                     else "green" if label == "pass" else "") if count else "dim"
            summary.append(f"{label} {count}", style=style)
            summary.append("  ")
        rate = model.rate(cons)
        if rate:
            summary.append(f"success {rate}", style="bold")
        self.query_one("#summary", Static).update(summary)
        table = self.query_one(VirtualTable)
        table.empty_text = "no items" if raw else "loading…"
        table.stale = self.error is not None
        table.set_data(TableData.build(model.ITEM_HEADINGS, model.item_rows(raw)))

    def action_open_item(self, which: str = "run") -> None:
        key = self.query_one(VirtualTable).cursor_key
        if key is None or model.find_item(self.raw, key) is None:
            self.notify("no item results yet", timeout=2)
            return
        self.app.push_screen(ItemScreen(self.client, self.request_id, key, which, record=self.raw,
                                        read_at=self.last_ok, interval=self.interval))

    def action_open_clean(self) -> None:
        self.action_open_item("clean")

    @work(exit_on_error=False, group="ui")
    async def action_stop(self) -> None:
        stopped = await stop_request(self.app, self.client, self.raw or {"request_id": self.request_id})
        if stopped:
            self._wake.set()


async def stop_request(app: Any, client: Any, raw: dict) -> bool:
    """Ask the reason (esc cancels), confirm showing the request (n/esc cancel), then stop it."""
    rid = model.s(raw.get("request_id"))
    what = " · ".join(x for x in (rid, model.s(raw.get("name")), model.s(raw.get("state"))) if x)
    if client.read_only:
        app.notify("stop: refused, testdeck runs read-only (--read-only)", severity="error", markup=False)
        return False
    form = Form(f"Stop request {what}", [Field("reason", required=True, help="why it is stopped (the team sees it)")])

    async def keep(values: dict, changed: dict) -> dict:
        return values

    values = await app.push_screen_wait(FormScreen(form, Ctx(client, key=rid), {}, keep, submit_label="Stop"))
    if not values:
        return False
    reason = str(values.get("reason") or "").strip()
    question = f"Stop request {what} on profile {client.profile.name}?\nReason: {model.s(reason)}"
    if not await app.push_screen_wait(ConfirmScreen(question, "Stop")):
        return False
    try:
        with journal.acting("stop"):  # the journal names what the user asked for, as the list's stop does
            result = await client.stop_request(rid, reason)
    except ApiError as exc:
        app.notify(exc.message, title="stop failed", severity="error", markup=False, timeout=8)
        return False
    app.notify(f"{rid}: {model.s(result.state) or 'stop requested'}", timeout=3, markup=False)
    return True


class ItemScreen(_Followed):
    """An item's run (or clean) results: every script and its sections; enter shows a section."""

    BINDINGS = [
        Binding("enter", "section", "section"),
        Binding("c", "toggle", "run/clean"),
    ]

    def __init__(self, client: Any, request_id: str, item_id: str, which: str = "run", *, record: Any = None,
                 read_at: float | None = None, interval: float = POLL):
        super().__init__(client, request_id, record=record, read_at=read_at, interval=interval)
        self.item_id = item_id
        self.which = which
        self.sections: dict[str, dict] = {}

    def compose(self) -> ComposeResult:
        yield Label(self._title(), classes="screen-title", id="title")
        yield Static("", id="header")
        yield Static("", id="summary")
        yield VirtualTable(model.SECTION_HEADINGS, empty_text="loading…")
        yield Static("", id="message")
        yield Footer()

    def _title(self) -> Text:
        return self.title_text(f"item {model.s(self.item_id)}", f"{self.which} results")

    def on_mount(self) -> None:
        self.query_one(VirtualTable).focus()
        super().on_mount()

    def item(self) -> dict:
        return model.find_item(self.raw, self.item_id) or {}

    def results(self) -> dict:
        return model.d(model.d(self.item().get("results")).get(self.which))

    def show(self) -> None:
        super().show()
        self.query_one("#title", Label).update(self._title())
        item, results = self.item(), self.results()
        header = Text(no_wrap=True, overflow="ellipsis")
        state = results.get("state")
        header.append("state: ", style="dim")
        how = model.result_meaning(str(state).lower()) if state else None
        header.append(model.marked(state, model.meaning(state)) if state else "not started",
                      style=model.STYLE.get(model.meaning(state) or "", "") if how else "dim")
        for label, value in (("item", model.s(item.get("state"))),
                             ("testbed", model.s(model.d(item.get("selected_testbed")).get("name"))),
                             ("started", model.timestamp(results.get("start_time"))),
                             ("ended", model.timestamp(results.get("completion_time")))):
            if value:
                header.append(f"   {label}: ", style="dim")
                header.append(value)
        if item.get("error_detail"):
            header.append("\nerror: ", style="dim")
            header.append(model.s(item["error_detail"]), style="bold red")
        self.query_one("#header", Static).update(header)
        summary = Text(no_wrap=True, overflow="ellipsis")
        for label, count in model.counts(results.get("summary")):
            summary.append(f"{label} {count}  ", style="" if count else "dim")
        rate = model.rate(results.get("summary"))
        if rate:
            summary.append(f"success {rate}", style="bold")
        self.query_one("#summary", Static).update(summary)
        rows = model.section_rows(results)
        self.sections = {key: sec for key, _, sec in rows}
        table = self.query_one(VirtualTable)
        table.empty_text = (f"no {self.which} results" + ("" if not self.active else " yet")) if self.raw else "loading…"
        table.stale = self.error is not None
        table.set_data(TableData.build(model.SECTION_HEADINGS, [(k, cells) for k, cells, _ in rows]))

    def json_value(self) -> dict:
        return self.item()

    def action_toggle(self) -> None:
        self.which = "clean" if self.which == "run" else "run"
        self.show()

    def action_section(self) -> None:
        key = self.query_one(VirtualTable).cursor_key
        section = self.sections.get(key or "")
        if section is None:
            return
        title = f"{model.s(self.item_id)} · {model.s(section.get('section_name') or key)}"
        self.app.push_screen(TextScreen(title, model.raw_json(section, self.reveal)))
