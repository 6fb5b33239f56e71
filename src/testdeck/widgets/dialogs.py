"""Small modal screens: confirm a destructive action, show a text (details, results)."""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea
from textual.widgets.text_area import Selection

from testdeck.text import quoted, sanitize


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no; the default (enter, escape) is no.

    The question may be several lines (a bulk action lists its rows, a service adds a note):
    they wrap inside the dialog and scroll when there are more than 80x24 can hold."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 60; max-width: 95%; height: auto; max-height: 100%; border: thick $error;
                               background: $surface; padding: 1 2; }
    ConfirmScreen VerticalScroll { height: auto; max-height: 14; }
    ConfirmScreen #question { width: 100%; }
    ConfirmScreen Horizontal { height: 3; margin-top: 1; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "yes"),
        Binding("n,escape,q", "answer(False)", "no"),
    ]

    def __init__(self, question: str, danger: str = "Delete"):
        super().__init__()
        self.question = sanitize(question, multiline=True)  # names and ids come from servers
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Label(Text(self.question), id="question")
            with Horizontal():
                yield Button("No  n", id="no")
                # without colour the error variant is a light box that outshines the focused default (No)
                yield Button(f"{self.danger}  y", variant="default" if self.app.no_color else "error", id="yes")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TextScreen(ModalScreen[None]):
    """A read-only, scrollable, selectable text: details as JSON, action results.

    `/` searches (any case) and selects the first match after the cursor; `n` / `N` the next
    and the previous one; the hint line says which match of how many, or that there is none."""

    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > Vertical { width: 95%; height: 90%; border: thick $accent; background: $surface; }
    TextScreen .title { text-style: bold; padding: 0 1; }
    TextScreen TextArea { height: 1fr; border: none; }
    TextScreen #text-search { display: none; height: 3; }
    TextScreen #text-search.-active { display: block; }
    TextScreen .hint { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "back"),
        Binding("slash", "search", "search"),
        Binding("n", "find(1)", "next match", show=False),
        Binding("N", "find(-1)", "previous match", show=False),
    ]
    HINT = "esc back · / search · arrows scroll · select text to copy"

    def __init__(self, title: str, text: str, language: str | None = None):
        super().__init__()
        # details, action results, help: server text, shown with visible stand-ins for controls
        self.title_text = sanitize(title)
        self.body = sanitize(text, multiline=True)
        self.language = language
        self.needle = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            area = TextArea(self.body, read_only=True, show_line_numbers=False, soft_wrap=True)
            yield area
            yield Input(placeholder="search (enter find, esc cancel)", id="text-search")
            yield Label(self.HINT, id="text-hint", classes="hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        box = self.query_one("#text-search", Input)
        if box.has_class("-active"):  # esc closes the search box first
            box.remove_class("-active")
            self.query_one(TextArea).focus()
            return
        self.dismiss(None)

    def action_search(self) -> None:
        box = self.query_one("#text-search", Input)
        box.add_class("-active")
        box.value = self.needle
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.needle = event.value
        event.input.remove_class("-active")
        self.query_one(TextArea).focus()
        self.action_find(0)

    def action_find(self, step: int) -> None:
        """Select the match at or after the cursor (step 0), or the next (1) or previous (-1) one."""
        hint = self.query_one("#text-hint", Label)
        if not self.needle:
            return
        area = self.query_one(TextArea)
        starts = [m.start() for m in re.finditer(re.escape(self.needle.lower()), self.body.lower())]
        if not starts:
            hint.update(Text(f"no match for {quoted(self.needle)} · {self.HINT}"))
            return
        here = _offset(self.body, area.selection.start)
        if step < 0:
            before = [s for s in starts if s < here]
            at = before[-1] if before else starts[-1]
        else:
            after = [s for s in starts if s > here or (step == 0 and s == here)]
            at = after[0] if after else starts[0]
        area.selection = Selection(_location(self.body, at), _location(self.body, at + len(self.needle)))
        area.scroll_cursor_visible(center=True)
        hint.update(Text(f"match {starts.index(at) + 1}/{len(starts)} · n next · N previous · {self.HINT}"))


def _offset(text: str, location: tuple[int, int]) -> int:
    row, col = location
    lines = text.split("\n")
    return sum(len(line) + 1 for line in lines[:row]) + col


def _location(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n"), offset - (before.rfind("\n") + 1)
