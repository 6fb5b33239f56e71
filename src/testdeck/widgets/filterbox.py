"""FilterBox: `/` on the simple screens (triage, journal): a text filter over their rows.

Hidden until opened; enter keeps it (the table gets the keys again), esc clears it. The screen
re-renders its rows on Input.Changed and keeps those whose cells hold the text (any case)."""

from __future__ import annotations

from textual.widgets import Input

from testdeck.text import quoted


class FilterBox(Input):
    DEFAULT_CSS = """
    FilterBox { dock: top; display: none; height: 3; }
    FilterBox.-active { display: block; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(placeholder="filter: text (enter keep, esc clear)", id=id)

    def open(self) -> None:
        self.add_class("-active")
        self.focus()

    def keep(self) -> None:
        self.remove_class("-active")

    def clear_filter(self) -> bool:
        """esc: empty and hidden again; False when there was nothing to clear (esc goes back)."""
        if not self.has_class("-active") and not self.value:
            return False
        self.value = ""
        self.remove_class("-active")
        return True

    def keeps(self, cells: tuple[str, ...]) -> bool:
        needle = self.value.strip().lower()
        return not needle or needle in "\t".join(cells).lower()

    def said(self, shown: int, total: int) -> str:
        """For the screen's title while a filter is on (" · filter 'x': 2 of 25"), else ""."""
        needle = self.value.strip()
        return f" · filter {quoted(needle)}: {shown} of {total}" if needle else ""
