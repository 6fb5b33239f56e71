"""Short pickers: the scope a resource lives in, the column to sort by."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from testdeck.text import sanitize
from testdeck.resources import Resource


# j k g G as in every table (Textual's OptionList knows only the arrows, home and end): a `j`
# in a picker did nothing, and enter kept the scope the user thought they had moved off
VIM_MOVES = [Binding("j", "cursor_down", "down", show=False), Binding("k", "cursor_up", "up", show=False),
             Binding("g", "first", "top", show=False), Binding("G", "last", "bottom", show=False)]


class Options(OptionList):
    BINDINGS = VIM_MOVES


class ScopePicker(Screen[str | None]):
    """Pick the container a scoped resource lives in (a project, say)."""

    BINDINGS = [Binding("escape,q", "cancel", "back", id="scope.cancel")]

    def __init__(self, title: str, options: list[tuple[str, str]]):
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        yield Label(Text(sanitize(self.title_text)), classes="screen-title")
        yield Options(*[Option(Text(sanitize(f"{label}  ({oid})")), id=oid) for oid, label in self.options])
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SortPicker(ModalScreen[tuple[int | None, bool] | None]):
    """`s`: the columns, numbered; a digit or enter picks one, the current one again reverses it."""

    DEFAULT_CSS = """
    SortPicker { align: center middle; }
    SortPicker > Vertical { width: 44; max-width: 95%; height: auto; max-height: 90%;
                            border: round $accent; background: $surface; }
    SortPicker OptionList { height: auto; max-height: 16; border: none; }
    SortPicker .hint { color: $text-muted; padding: 0 1; }
    """
    # digits are bindings, not an on_key handler: bindings resolve when the key is handled, so a
    # digit typed in the same burst as `s` reaches this picker even though it was sent before it opened
    BINDINGS = [Binding("escape,q", "cancel", "back", id="sort.cancel"),
                Binding("0", "pick(-1)", "unsorted", show=False),
                *[Binding(str(n), f"pick({n - 1})", f"column {n}", show=False) for n in range(1, 10)]]

    def __init__(self, resource: Resource, current: int | None, reverse: bool):
        super().__init__()
        self.resource = resource
        self.current = current
        self.reverse = reverse

    def compose(self) -> ComposeResult:
        options = []
        for i, col in enumerate(self.resource.columns):
            mark = (" ▼" if self.reverse else " ▲") if i == self.current else ""
            number = str(i + 1) if i < 9 else " "
            options.append(Option(Text(f"{number}  {col.heading}{mark}"), id=str(i)))
        options.append(Option(Text("0  as the server sends them"), id="none"))
        with Vertical():
            yield Label("sort by", classes="hint")
            yield Options(*options, id="sort-columns")
            yield Label("1-9 pick · again: reverse · 0 unsorted", classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.current if self.current is not None else 0
        options.focus()

    def action_pick(self, col: int) -> None:
        if col < 0:
            self._pick(None)
        elif col < len(self.resource.columns):
            self._pick(col)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(None if event.option.id == "none" else int(event.option.id))

    def _pick(self, col: int | None) -> None:
        if col is None:
            self.dismiss((None, False))
        else:
            self.dismiss((col, not self.reverse if col == self.current else False))

    def action_cancel(self) -> None:
        self.dismiss(None)
