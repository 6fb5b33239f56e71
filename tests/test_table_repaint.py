"""A table whose rows are swapped in repaints what changed, and only that, yet never shows a stale row."""

from __future__ import annotations

from textual.app import App

from testdeck.widgets.table import TableData, VirtualTable

HEADINGS = ["name", "state"]


def data(rows: list[tuple[str, str]]) -> TableData:
    return TableData.build(HEADINGS, [(name, (name, state)) for name, state in rows], (12, 10))


class One(App):
    def compose(self):
        yield VirtualTable(HEADINGS)


def shown(app) -> list[str]:
    """The screen as the compositor has it (lines not repainted come from the widget's cache)."""
    return [line.text.rstrip() for line in app.screen._compositor.render_strips()[1:7]]


async def test_swapped_rows_show_their_new_cells_marks_and_order_and_only_they_repaint(monkeypatch):
    app = One()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.set_data(data([("a", "ok"), ("b", "ok"), ("c", "ok"), ("d", "ok")]))
        await pilot.pause()
        assert [line.split() for line in shown(app)[:4]] == [["a", "ok"], ["b", "ok"], ["c", "ok"], ["d", "ok"]]
        repainted: list[int] = []
        render_line = VirtualTable.render_line
        monkeypatch.setattr(VirtualTable, "render_line", lambda self, y: repainted.append(y) or render_line(self, y))
        table.marked = {"d"}
        table.set_data(data([("a", "ok"), ("b", "FAILED"), ("c", "ok"), ("d", "ok")]))
        await pilot.pause()
        lines = shown(app)
        assert set(repainted) == {1, 2, 4}  # b changed, d got its mark, a holds the cursor; c untouched
        assert lines[3].startswith("▌d")  # the mark shows
        assert [line.lstrip("▌").split() for line in lines[:4]] == [["a", "ok"], ["b", "FAILED"], ["c", "ok"],
                                                                     ["d", "ok"]]
        table.set_data(data([("c", "ok"), ("a", "ok"), ("b", "FAILED"), ("d", "ok"), ("e", "new")]))
        await pilot.pause()
        assert [line.lstrip("▌").split() for line in shown(app)[:5]] == [["c", "ok"], ["a", "ok"], ["b", "FAILED"],
                                                                        ["d", "ok"], ["e", "new"]]


async def test_a_row_goes_out_as_one_segment_per_run_of_one_style():
    """Every segment costs its own escape codes on the wire (~640 bytes a row of seven cells, against
    ~200 merged): neighbours of one style are one segment, a cell with its own meaning stands apart."""
    app = One()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(VirtualTable)
        rows = [("a", ("a", "running", "x")), ("b", ("b", "FAILED", "y"))]
        table.set_data(TableData.build(["name", "state", "note"], rows, (6, 10, 6),
                                       meanings=[None, (None, "error", None)]))
        await pilot.pause()
        table._styles = {}  # (render_lines keeps its styles for one repaint: as it does)
        plain, failed = table.render_line(1), table.render_line(2)
        table._styles = None
        # (a segment more may pad the line to the table's width)
        assert plain.text.split() == ["a", "running", "x"] and len(list(plain)) <= 2  # was 8
        segments = list(failed)
        assert failed.text.split() == ["b", "FAILED", "y"] and len(segments) <= 4
        error = [segment for segment in segments if "FAILED" in segment.text]
        assert len(error) == 1 and error[0].text.strip() == "FAILED" and error[0].style != segments[0].style


async def test_focus_paints_the_cursor_in_its_focused_style_without_restyling_the_table(monkeypatch):
    """The focused cursor is a component class of its own, chosen as the row paints: a focus change
    repaints the table. Textual restyled it and its dozen component classes for :focus rules."""
    from textual.css.stylesheet import Stylesheet
    from textual.widgets import Input

    class Two(App):
        def compose(self):
            yield VirtualTable(HEADINGS)
            yield Input()

    app = Two()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.set_data(data([("a", "ok"), ("b", "ok")]))
        table.focus()
        await pilot.pause()
        restyled: list[object] = []
        update_nodes = Stylesheet.update_nodes

        def spy(self, nodes, animate=False):
            nodes = list(nodes)
            restyled.extend(nodes)
            return update_nodes(self, nodes, animate)

        monkeypatch.setattr(Stylesheet, "update_nodes", spy)

        def cursor_style():
            table._styles = {}
            try:
                return table.render_line(1)._segments[0].style  # (row 0, the cursor's)
            finally:
                table._styles = None

        focused = cursor_style()
        app.query_one(Input).focus()
        await pilot.pause()
        blurred = cursor_style()
        assert focused.bold and not blurred.bold and focused.bgcolor != blurred.bgcolor
        table.focus()
        await pilot.pause()
        assert cursor_style() == focused
        assert table not in restyled
