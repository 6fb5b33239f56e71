"""The status bar: profile, health, last refresh age, countdown, marks, running action, read-only badge."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from testdeck.columns import duration
from testdeck.text import sanitize

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def spinner() -> str:
    return SPINNER[int(time.monotonic() * 8) % len(SPINNER)]


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    StatusBar.-prod { background: $error; color: $text; }
    """

    def show(self, *, profile: str, ok: bool | None, age: float | None, interval: float, paused: bool,
             read_only: bool, rows: str = "", extra: str = "", next_in: int | None = None,
             retrying: bool = False, marks: int = 0, busy: str | None = None,
             environment: str | None = None, label: str | None = None, reading: int | None = None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(sanitize(profile), style="bold")
        if environment:
            text.append(f" [{str(environment).upper()}]", style="bold")
        if label:  # the profile's own words for where it points ("lab EU")
            text.append(f" · {sanitize(label)}", style="bold")
        if read_only:  # early in the line: at 80 columns the end may be cut
            text.append(" ")
            text.append(" READ-ONLY ", style="bold reverse")
        text.append("  ")
        if ok is None:
            text.append("○ connecting", style="dim")
        elif ok:
            text.append("● ok", style="green")
        else:
            text.append("✖ error", style="bold red")
        if extra:  # a service's own status (a full quota, a license about to end): before what is cut first
            text.append(f"  {sanitize(extra)}")
        if age is not None:
            text.append(f"  {duration(age)} ago")
        if reading is not None:  # a refresh under way for a while: the server is slow, the screen is not stuck
            text.append(f"  {spinner()} reading {reading}s", style="bold")
        elif paused:
            text.append("  paused", style="yellow")
        elif next_in is not None:
            text.append(f"  {'retry' if retrying else 'next'} {next_in}s", style="bold" if retrying else "dim")
        else:
            text.append(f"  every {interval:g}s", style="dim")
        if marks:
            text.append(f"  {marks} marked", style="bold")
        if rows:
            text.append(f"  {rows}")
        if busy:
            text.append(f"  {spinner()} {busy}…", style="bold")
        # one line whatever it says: no relayout (with one, every tick re-laid and repainted the whole
        # screen, ~4 ms a second and every line sent again over SSH; now only this line is)
        self.update(text, layout=False)
