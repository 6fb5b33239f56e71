"""Bulk actions: one confirmation listing the marked rows, progress, then a summary.

Rows run one after the other (servers rate-limit and a refusal should be read
next to its row); the summary names each row with the server's own words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from msgspec.structs import replace
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from testdeck.errors import ApiError, failed_how
from testdeck.records import Record
from testdeck.resources import Accepted, Action, run
from testdeck.text import quoted, sanitize
from testdeck.widgets.dialogs import ConfirmScreen
from testdeck.widgets.statusbar import spinner

if TYPE_CHECKING:
    from testdeck.screens.resource import ResourceScreen


@dataclass
class Outcome:
    key: str
    label: str
    error: str | None = None  # None: done
    failed: str | None = None  # with an error: how it failed when the server may have acted ("HTTP 500")
    accepted: str | None = None  # no error, but only accepted: what is true now ("it is DELETING; …")


def bar(done: int, total: int, width: int = 30) -> str:
    full = round(width * done / total) if total else width
    return "█" * full + "░" * (width - full) + f" {done}/{total}"


class BulkScreen(ModalScreen[list[Outcome]]):
    DEFAULT_CSS = """
    BulkScreen { align: center middle; }
    BulkScreen > Vertical { width: 76; max-width: 98%; height: auto; max-height: 90%;
                            border: thick $accent; background: $surface; padding: 0 1; }
    BulkScreen #bulk-progress { height: 2; }
    BulkScreen VerticalScroll { height: auto; max-height: 16; }
    BulkScreen .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape,q,enter", "close", "close", id="bulk.close")]

    def __init__(self, screen: ResourceScreen, action: Action, rows: list[Record], values: dict | None = None,
                 refused: dict[str, str] | None = None):
        super().__init__()
        self.owner = screen
        self.action = action
        self.rows = rows
        self.values = values or {}  # an action with a form: the one set of values every row gets
        self.refused = refused or {}  # row key -> why a rule known here refuses it: in the summary, not sent
        self.outcomes: list[Outcome] = []
        self.current = ""
        self.finished = False
        self.stopping = False

    def compose(self) -> ComposeResult:
        res = self.owner.resource
        with Vertical():
            yield Label(Text(f"{self.action.label} · {len(self.rows)} {res.title.lower()} · "
                             f"profile {self.owner.session.profile.name}"))
            yield Static(id="bulk-progress")
            with VerticalScroll():
                yield Static(id="bulk-summary")
            yield Label("esc stops after the current row", id="bulk-hint", classes="hint")

    def on_mount(self) -> None:
        self.set_interval(0.2, self._show)
        self._run()

    @work(exit_on_error=False, group="bulk")
    async def _run(self) -> None:
        res = self.owner.resource
        for record in self.rows:
            if self.stopping:
                break
            outcome = Outcome(sanitize(res.row_key(record)), sanitize(res.row_label(record)))
            why = self.refused.get(res.row_key(record))
            if why:  # a rule known here says no for this row (Action.unavailable): not sent
                outcome.error = sanitize(f"not sent: {why}")
                self.outcomes.append(outcome)
                continue
            self.current = outcome.label
            self._show()
            try:
                ctx = self.owner.ctx(record)
                ctx.values, ctx.changed = dict(self.values), dict(self.values)
                result = await run(self.action, ctx)
                if isinstance(result, Accepted):
                    outcome.accepted = sanitize(result.state)
            except ApiError as exc:
                outcome.error, outcome.failed = sanitize(exc.message), failed_how(exc)
            except Exception as exc:  # an adapter bug refuses this row; the others still run
                outcome.error = sanitize(f"{type(exc).__name__}: {exc}")
            self.outcomes.append(outcome)
        self.finished = True
        self._show()
        self.query_one("#bulk-hint", Label).update("enter or esc close")

    def _show(self) -> None:
        done = len(self.outcomes)
        progress = Text(bar(done, len(self.rows)))
        if not self.finished:
            progress.append(f"\n{spinner()} {self.action.label} {quoted(self.current)}…")
        else:
            ok = sum(o.error is None for o in self.outcomes)
            accepted = sum(o.error is None and o.accepted is not None for o in self.outcomes)
            failed = sum(o.failed is not None for o in self.outcomes)
            unsent = sum(o.key in self.refused for o in self.outcomes)  # refused here, never sent
            skipped = len(self.rows) - done
            progress.append(f"\ndone {ok - accepted}" + (f", accepted {accepted}" if accepted else "")
                            + f", refused {done - ok - failed - unsent}"
                            + (f", failed {failed} (the server may have acted: check)" if failed else "")
                            + (f", not sent {unsent}" if unsent else "")
                            + (f", not run {skipped}" if skipped else ""), style="bold")
        self.query_one("#bulk-progress", Static).update(progress)
        summary = Text()
        for o in self.outcomes:
            if o.error is None:  # ● (running): only accepted, the server still acts on it
                summary.append(f"{'✔' if o.accepted is None else '●'} {o.label}", style="green")
                summary.append(f" ({o.key})" if o.key != o.label else "")
                summary.append(f": accepted: {o.accepted}\n" if o.accepted is not None else "\n")
            else:
                summary.append(f"✖ {o.label}", style="bold red")
                summary.append(f" ({o.key})" if o.key != o.label else "")
                summary.append(f": {o.failed}, it may have acted anyway: " if o.failed else ": ")
                summary.append(f"{o.error}\n")
        self.query_one("#bulk-summary", Static).update(summary)

    def action_close(self) -> None:
        if self.finished:
            self.dismiss(self.outcomes)
        else:
            self.stopping = True


async def _form_values(screen: ResourceScreen, action: Action, count: int) -> dict | None:
    """The action's form once for all the marked rows (the stop reason): checked, then kept, not sent."""
    from testdeck.widgets.form import FormScreen, submit_label

    async def keep(values: dict, changed: dict) -> dict:
        return values

    form = replace(action.form, title=f"{action.form.title} · {count} marked {screen.resource.title.lower()}")
    chosen = await screen.app.push_screen_wait(FormScreen(form, screen.ctx(None), {}, keep,
                                                          submit_label=submit_label(action.label)))
    return chosen if isinstance(chosen, dict) else None


def run_bulk(screen: ResourceScreen, action: Action) -> None:
    screen.run_worker(_bulk_flow(screen, action), group="ui", exit_on_error=False)


async def _bulk_flow(screen: ResourceScreen, action: Action) -> None:
    """Values once (an action with a form: validated, nothing sent yet), confirm once (names and profile),
    run with progress, summarise; the done rows lose their marks."""
    keys = [k for k in screen.table.data.keys if k in screen.marks]
    keys += [k for k in screen.marks if k not in set(keys)]  # marked rows the filter now hides
    rows = [screen.records[k] for k in keys if k in screen.records]
    if not rows:
        return
    from testdeck.widgets.form import submit_label

    values = None
    if action.form is not None:
        values = await _form_values(screen, action, len(rows))
        if values is None:
            return
    # rows a rule known here refuses (Action.unavailable) are named in the question and the summary, unsent
    base = screen.ctx()  # (once: each ctx() walks the table's keys for the marks)
    refused: dict[str, str] = {}
    for r in rows:
        key = screen.resource.row_key(r)
        why = action.why_not(replace(base, row=r, key=key))
        if why:
            refused[key] = why
    runnable = [r for r in rows if screen.resource.row_key(r) not in refused]
    if not runnable:
        res = screen.resource
        screen.notify(sanitize(f"{action.label}: not sent: " + "; ".join(
            f"{res.row_label(r)}: {refused[res.row_key(r)]}" for r in rows[:5])), severity="warning",
            markup=False, timeout=5)
        return
    question = screen.confirm_question(action, runnable, replace(base, values=dict(values or {})))
    if refused:
        question += f"\n({len(refused)} marked not sent: " + "; ".join(
            f"{screen.resource.row_label(r)}: {refused[screen.resource.row_key(r)]}" for r in rows
            if screen.resource.row_key(r) in refused)[:300] + ")"
    if not await screen.app.push_screen_wait(ConfirmScreen(question, submit_label(action.label))):
        return
    outcomes = await screen.app.push_screen_wait(BulkScreen(screen, action, rows, values, refused))
    done = [o for o in outcomes if o.error is None]
    screen.marks.difference_update(o.key for o in done)  # the refused stay marked, to retry or inspect
    failed = sum(o.failed is not None for o in outcomes)
    unsent = sum(o.key in refused for o in outcomes)
    refusals = len(outcomes) - len(done) - failed - unsent
    accepted = sum(o.accepted is not None for o in done)  # the server still acts on those (DELETING)
    screen.notify(f"{action.label}: {len(done) - accepted} done" + (f", {accepted} accepted" if accepted else "")
                  + (f", {refusals} refused" if refusals else "")
                  + (f", {failed} failed (may have acted)" if failed else "")
                  + (f", {unsent} not sent" if unsent else ""),
                  severity="error" if refusals or failed else "information", markup=False, timeout=5)
    if action.mutates:
        screen.session.status_at = 0.0
        screen._wake.set()
    screen.table.refresh()
    screen._update_status()
