"""The help screen: every key the screen answers to, generated from its bindings.

A scrolling two-column grid: arrows and pgup/pgdn scroll (no hidden cursor), and a
description that wraps stays indented under its own column."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

# Textual's own screen keys (focus cycling, copy) are not ours to document
_SKIP = {"app.focus_next", "app.focus_previous", "screen.copy_text", "focus_next", "focus_previous", "copy_text"}

MOVES = [("↑ ↓  j k", "move"), ("pgup pgdn  g G", "page, top, bottom"), ("← →  h", "scroll wide tables sideways")]
GLOBAL = [
    (": ctrl+p", "command palette: jump to a service, resource or profile, run an action by name; :q quits"),
    ("1 … 5", "open alyvix, xyops, xpresso, onetest, kyaraben"),
    ("0", "triage: everything failing across every profile"),
    (":journal", "the actions this console and the CLI sent (the palette)"),
    ("ctrl+t", "change theme (saved to the config)"),
    ("q ctrl+c", "quit"),
]
FILTERS = ("filters: text · !text (rows without it) · /regex/ · column:value (heading or key, "
           "e.g. status:error) · !column:value")


def help_rows(screen: Screen) -> list[tuple[str, str]]:
    by_action: dict[str, tuple[list[str], str]] = {}
    for _key, binding in screen._bindings:
        if binding.action in _SKIP or not binding.description:
            continue
        name, _, params = binding.action.partition("(")
        parameters = (params.rstrip(")").strip("'\""),) if params else ()
        if screen.check_action(name, parameters) is False:
            continue
        keys, _ = by_action.setdefault(binding.action, ([], binding.description))
        shown = screen.app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)
    return [(" ".join(keys), desc) for keys, desc in by_action.values()] + MOVES + GLOBAL


def help_text(screen: Screen) -> str:
    rows = help_rows(screen)
    width = max(len(k) for k, _ in rows) + 3
    return "\n".join(f"{k.ljust(width)}{v}" for k, v in rows)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 100%; max-width: 100; height: 100%; max-height: 40;
                            border: round $accent; background: $surface; }
    HelpScreen .title { text-style: bold; padding: 0 1; }
    HelpScreen VerticalScroll { height: 1fr; padding: 0 1; }
    HelpScreen .hint { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "close", "back", id="help.close")]

    def __init__(self, title: str, screen: Screen):
        super().__init__()
        self.title_text = title
        self.rows = help_rows(screen)
        self.filters = hasattr(screen, "resource")  # the filter syntax matters on resource screens

    def compose(self) -> ComposeResult:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column()  # wraps under itself: a long description keeps its indent
        for keys, desc in self.rows:
            grid.add_row(Text(keys), Text(desc))
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            with VerticalScroll(id="help-body"):
                yield Static(grid)
                if self.filters:
                    yield Static(Text("\n" + FILTERS))
            yield Label("↑ ↓ pgup pgdn scroll · esc back", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
