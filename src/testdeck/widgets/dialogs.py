"""Small modal screens: confirm a destructive action, show a text (details, results)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TextArea

from testdeck.text import sanitize


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
                yield Button(f"{self.danger}  y", variant="error", id="yes")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TextScreen(ModalScreen[None]):
    """A read-only, scrollable, selectable text: details as JSON, action results."""

    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > Vertical { width: 95%; height: 90%; border: thick $accent; background: $surface; }
    TextScreen .title { text-style: bold; padding: 0 1; }
    TextScreen TextArea { height: 1fr; border: none; }
    TextScreen .hint { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q", "close", "back")]

    def __init__(self, title: str, text: str, language: str | None = None):
        super().__init__()
        # details, action results, help: server text, shown with visible stand-ins for controls
        self.title_text = sanitize(title)
        self.body = sanitize(text, multiline=True)
        self.language = language

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            area = TextArea(self.body, read_only=True, show_line_numbers=False, soft_wrap=True)
            yield area
            yield Label("esc back · arrows scroll · select text to copy", classes="hint")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_close(self) -> None:
        self.dismiss(None)
