"""`y`/`Y` copy (OSC 52) and ctrl+s save of the shown table (CSV or JSON, a new 0600 file)."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from testdeck.widgets.dialogs import TextScreen
from testdeck.files import chosen, readable, save_dir, write_new

if TYPE_CHECKING:
    from testdeck.screens.resource import ResourceScreen

# terminals known to ignore OSC 52: there the text is shown to select by hand instead
_NO_OSC52 = {"linux", "dumb", "vt100", "vt220"}


def copy(screen, text: str, what: str) -> None:
    """Copy through the terminal (OSC 52: works over SSH and in tmux); show it where that cannot work."""
    app = screen.app
    if os.environ.get("TERM", "") in _NO_OSC52 or not app.is_running:
        app.push_screen(TextScreen(f"copy by hand: {what}", text))
        return
    app.copy_to_clipboard(text)
    app.notify(f"copied {what} (if it did not arrive, your terminal blocks OSC 52: "
               "in tmux set `set-clipboard on`)", timeout=4, markup=False)


def table_text(screen: ResourceScreen, fmt: str) -> str:
    """The rows shown (filtered, sorted): CSV as `testdeck get -o csv` writes it (the API's fields and
    raw values: an age or a progress bar in a saved file would lose the data); JSON: the records."""
    keys = screen.table.data.keys
    records = [screen.records[k] for k in keys if k in screen.records]
    if fmt == "json":
        return json.dumps([r.raw for r in records], ensure_ascii=False, indent=2, default=str) + "\n"
    out = io.StringIO()
    csv.writer(out).writerows(screen.resource.csv_rows(records))
    return out.getvalue()


def rows(n: int) -> str:
    return "1 row" if n == 1 else f"{n} rows"


def default_path(screen: ResourceScreen) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"testdeck-{screen.session.profile.name}-{screen.resource.name}")
    return save_dir() / f"{name}-{stamp}.csv"


class SavePrompt(ModalScreen[Path | None]):
    """Confirm (or change) where to save; the extension picks the format (.json, else CSV)."""

    DEFAULT_CSS = """
    SavePrompt { align: center middle; }
    SavePrompt > Vertical { width: 76; max-width: 98%; height: auto; border: round $accent;
                            background: $surface; padding: 0 1; }
    SavePrompt .hint { color: $text-muted; }
    SavePrompt #save-error { color: $error; width: 100%; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel", id="save.cancel")]

    def __init__(self, title: str, path: Path, write):
        super().__init__()
        self.title_text = title
        self.path = path
        self.write = write  # (path) -> Path written; OSError on failure

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text))
            yield Input(str(self.path), id="save-path")
            yield Label("", id="save-error")
            yield Label("enter save (.json: JSON, else CSV; never overwrites) · esc cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            return
        try:
            written = self.write(chosen(value, self.path))
        except OSError as exc:
            self.query_one("#save-error", Label).update(Text(readable(exc)))
            return
        self.dismiss(written)

    def action_cancel(self) -> None:
        self.dismiss(None)


def save_table(screen: ResourceScreen) -> None:
    def write(path: Path) -> Path:
        fmt = "json" if path.suffix.lower() == ".json" else "csv"
        return write_new(path, table_text(screen, fmt))

    shown = screen.table.row_count

    def done(path: Path | None) -> None:
        if path is not None:
            screen.notify(f"saved {rows(shown)} to {path}", markup=False, timeout=5)

    screen.app.push_screen(SavePrompt(f"save the {rows(shown)} shown of {screen.resource.title.lower()} to",
                                      default_path(screen), write), done)
