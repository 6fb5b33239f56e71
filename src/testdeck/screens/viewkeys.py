"""The keys that change what ResourceScreen's table shows and holds: the filter box (`/`, then enter
keeps it, esc clears it), the sort (`s`, `S`), the marks (space, `*`) and esc, which undoes them in
that order before it goes back. What they set lives in the resource's ViewState (screens/view.py),
so it is there again when the user comes back.

A mixin: ResourceScreen (screens/resource.py) is the screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from testdeck.screens.refresh import gc_paused
from testdeck.widgets.table import VirtualTable
from testdeck.widgets.titlebar import TitleBar

if TYPE_CHECKING:
    from textual.widgets import Input

    from testdeck.widgets.filterinput import FilterInput


class ViewKeysMixin:
    """Filter, sort and marks for ResourceScreen."""

    # --- the view state (kept per resource) ------------------------------------------
    @property
    def filter_text(self) -> str:
        return self.state.filter

    @filter_text.setter
    def filter_text(self, value: str) -> None:
        self.state.filter = value

    @property
    def sort_col(self) -> int | None:
        return self.state.sort_col

    @sort_col.setter
    def sort_col(self, value: int | None) -> None:
        self.state.sort_col = value

    @property
    def sort_reverse(self) -> bool:
        return self.state.sort_reverse

    @sort_reverse.setter
    def sort_reverse(self, value: bool) -> None:
        self.state.sort_reverse = value

    @property
    def marks(self) -> set[str]:
        return self.state.marks

    # --- filter, sort, marks --------------------------------------------------------
    def _filter_box(self) -> FilterInput | None:
        return next(iter(self.query("#filter")), None)  # type: ignore[return-value]

    async def action_filter(self) -> None:
        box = self._filter_box()
        if box is None:
            # mounted at the first `/`: hidden, it cost every screen's first frame ~4 ms (an Input's
            # CSS, styles and state); the keys typed after `/` wait for it (typeahead.py)
            hold = self.app.hold_keys(escape_abandons=False) if hasattr(self.app, "hold_keys") else None
            from testdeck.widgets.filterinput import FilterInput  # (made here too: its class cost a start ~3 M)

            box = FilterInput(placeholder="filter: text, !text, /regex/, column:value  (enter keep, esc clear)",
                              id="filter")
            try:
                await self.mount(box, after=self.query_one(TitleBar))
                self._open_filter(box)
            finally:
                if hold is not None:
                    hold.release()
            return
        self._open_filter(box)

    def _open_filter(self, box: FilterInput) -> None:
        box.add_class("-active")
        box.value = self.filter_text
        box.closed = False
        self.set_focus(box)

    async def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value
            self.query_one(TitleBar).update(self._title())
            self._refilter()

    @work(exclusive=True, group="filter", exit_on_error=False)
    async def _refilter(self) -> None:
        with gc_paused(lambda: len(self.rows), collect=False):
            shown = await self._apply_view()
        if shown:
            self._show_message()
        self._update_status()

    def _close_box(self) -> FilterInput | None:
        box = self._filter_box()
        if box is not None:
            box.closed = True
            box.remove_class("-active")
        return box

    def close_filter(self) -> None:
        """enter in the filter box: keep the filter, back to the table now (not after the next idle)."""
        self._close_box()
        self.set_focus(self.table)

    def action_back(self) -> None:
        """esc: close the filter, then clear it, then clear marks, then go back in the history."""
        box = self._filter_box()
        if (box is not None and box.has_class("-active")) or self.filter_text:
            self._close_box()
            if box is not None and box.value:
                box.value = ""  # clearing the filter is the first escape
            else:
                self.filter_text = ""
                self._refilter()
            self.query_one(TitleBar).update(self._title())
            self.set_focus(self.table)
            return
        if self.marks:
            self.marks.clear()
            self.table.refresh()
            self._update_status()
            return
        self.app.go_back()

    def action_sort(self) -> None:
        # pushed here, not from a worker: a digit typed right after `s` must reach the picker
        from testdeck.screens.pickers import SortPicker

        self.app.push_screen(SortPicker(self.resource, self.sort_col, self.sort_reverse), self._sorted)

    def _sorted(self, chosen: tuple[int | None, bool] | None) -> None:
        if chosen is not None:
            self.sort_col, self.sort_reverse = chosen
            self._refilter()

    def action_sort_reverse(self) -> None:
        if self.sort_col is None:
            self.sort_col = 0
        self.sort_reverse = not self.sort_reverse
        self._refilter()

    def action_mark(self) -> None:
        key = self.table.cursor_key
        if key is None:
            return
        self.marks.symmetric_difference_update({key})
        self.table.action_cursor(1)  # the next row is the likely next mark (k9s, mutt)
        self.table.refresh()
        self._update_status()

    def action_mark_all(self) -> None:
        """Mark every row the filter shows; if they all are, unmark them."""
        shown = set(self.table.data.keys)
        if shown and shown <= self.marks:
            self.marks.difference_update(shown)
        else:
            self.marks.update(shown)
        self.table.refresh()
        self._update_status()

    def on_virtual_table_highlighted(self, event: VirtualTable.Highlighted) -> None:
        if event.key is not None:
            self.state.cursor = event.key
