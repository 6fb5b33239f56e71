"""The status bar: profile, health, last refresh age, refresh state, read-only badge."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from testdeck.resources import duration
from testdeck.text import sanitize


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def show(self, *, profile: str, ok: bool | None, age: float | None, interval: float, paused: bool,
             read_only: bool, rows: str = "", extra: str = "") -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(sanitize(profile), style="bold")
        text.append("  ")
        if ok is None:
            text.append("○ connecting", style="dim")
        elif ok:
            text.append("● ok", style="green")
        else:
            text.append("✖ error", style="bold red")
        if age is not None:
            text.append(f"  {duration(age)} ago")
        text.append("  paused" if paused else f"  every {interval:g}s", style="yellow" if paused else "dim")
        if rows:
            text.append(f"  {rows}")
        if extra:
            text.append(f"  {sanitize(extra)}")  # a service's own status text (a quota)
        if read_only:
            text.append("  ")
            text.append(" READ-ONLY ", style="bold reverse")
        self.update(text)
