"""The console's table: status meanings with glyphs, marks and bulk actions, k9s filters, sort, 80 columns."""

from __future__ import annotations

from console_kit import burst, open_test, rows_shown, said, screen_text, table, test_alerts, test_vms
from conftest import wait_for

from textual.widgets import Button

from testdeck.columns import Col
from testdeck.resources import Resource
from testdeck.screens.bulk import BulkScreen
from testdeck.screens.pickers import SortPicker
from testdeck.screens.resource import ResourceScreen
from testdeck.screens.view import GLYPHS, Row, compile_filter
from testdeck.widgets.dialogs import ConfirmScreen
from testdeck.widgets.table import TableData, VirtualTable, fit


def near(color, hex_color: str) -> bool:
    """Theme colours pass through Textual's blending: equal within a few steps per channel."""
    want = [int(hex_color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return all(abs(a - b) <= 4 for a, b in zip(color.triplet, want))


def style_of(app, row: int, text: str):
    """The style of the first segment holding `text` on table row `row` (0: header)."""
    strip = table(app).render_line(row)
    return next(seg.style for seg in strip if text in seg.text)


# --- status meanings -----------------------------------------------------------------------------------

async def test_status_cells_have_a_glyph_and_the_theme_colour_on_xyops(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_test(pilot, test_alerts, 6)
        data = table(app).data
        i = data.keys.index("net_errors")  # disabled
        j = data.keys.index("mem_low")  # enabled
        assert data.rows[i][2] == "off" and data.rows[j][2] == "on"  # the text; the glyph is painted
        assert "○ off" in table(app).render_line(i + 1).text and "✔ on" in table(app).render_line(j + 1).text
        table(app).blur()
        await pilot.pause()
        error_theme = app.current_theme
        ok_style = style_of(app, j + 1, "✔ on")
        assert near(ok_style.color, error_theme.success)
        muted = style_of(app, i + 1, "○ off")
        assert muted.color is not None and muted.color != ok_style.color


async def test_error_reason_is_in_the_table_on_kyaraben(deck):
    app, _, _ = deck("kyaraben")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_test(pilot, test_vms, 3)
        data = table(app).data
        nightly = data.rows[data.keys.index(next(k for k, r in zip(data.keys, data.rows) if r[0] == "nightly"))]
        assert nightly[1].startswith("ERROR: ") and "Quota" in nightly[1]  # the server's words, not only in d
        ready = next(r for r in data.rows if r[0] == "first vm")
        assert ready[1] == "READY"
        table(app).blur()
        await pilot.pause()
        row = data.keys.index(next(k for k, r in zip(data.keys, data.rows) if r[0] == "nightly")) + 1
        assert near(style_of(app, row, "✖ ERROR").color, app.current_theme.error)


async def test_no_color_still_reads_the_meaning(deck, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app, _, _ = deck("kyaraben")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_test(pilot, test_vms, 3)
        text = screen_text(app)
        assert "✖ ERROR" in text and "✔ READY" in text
        assert set(GLYPHS.values()) == {"✔", "▲", "✖", "●", "○"}


# --- marks and bulk ----------------------------------------------------------------------------------------

async def test_marks_fast_typed_count_and_survive_refresh_on_xyops(deck):
    app, sim_app, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_test(pilot, test_alerts, 6)
        burst(app, "space", "space", "down", "space")  # one burst, as a terminal delivers it
        await wait_for(pilot, lambda: len(screen.marks) == 3, what="marks")
        first, second, _skip, fourth = table(app).data.keys[:4]
        assert screen.marks == {first, second, fourth}
        assert "3 marked" in str(screen.query_one("StatusBar").render())
        assert table(app).render_line(1).text.startswith("▌")  # a mark is seen without colour
        sim_app.state.alerts["zzz"] = dict(sim_app.state.alerts[first], id="zzz", title="new one")
        screen._wake.set()
        await wait_for(pilot, lambda: table(app).row_count == 7, what="refresh")
        assert screen.marks == {first, second, fourth}  # by key, across the refresh
        del sim_app.state.alerts[second]
        screen._wake.set()
        await wait_for(pilot, lambda: table(app).row_count == 6, what="refresh after a delete")
        assert screen.marks == {first, fourth}  # a row that went takes its mark


async def test_star_marks_what_the_filter_shows_and_again_unmarks(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_test(pilot, test_alerts, 6)
        await pilot.press("slash", *"state:off", "enter", "asterisk")
        await wait_for(pilot, lambda: len(screen.marks) == 2, what="marks")
        assert screen.marks == {"net_errors", "open_files"}
        await pilot.press("asterisk")
        assert screen.marks == set()
        await pilot.press("ctrl+space")
        assert screen.marks == {"net_errors", "open_files"}
        await pilot.press("escape", "escape")  # the filter first, then the marks
        await wait_for(pilot, lambda: table(app).row_count == 6 and not screen.marks, what="cleared")


async def test_bulk_delete_confirms_by_name_and_profile_then_summarises(deck):
    app, sim_app, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_test(pilot, test_alerts, 6)
        await pilot.press("space", "space", "space")
        marked = set(screen.marks)
        gone = table(app).data.keys[1]
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="one confirmation")
        question = app.screen.question
        assert "these 3 alerts on profile test-xyops" in question
        assert "'Disk [/var] almost full' (disk_full)" in question  # names (Resource.label) and ids
        del sim_app.state.alerts[gone]  # someone else deletes it meanwhile: the server will refuse that one
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.finished, what="summary")
        summary = str(app.screen.query_one("#bulk-summary").render())
        assert summary.count("✔") == 2 and summary.count("✖") == 1
        assert "not found" in summary.lower()  # the server's own words
        assert "done 2, refused 1" in str(app.screen.query_one("#bulk-progress").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="back")
        assert not (marked - {gone}) & set(sim_app.state.alerts)
        assert screen.marks == {gone} or screen.marks == set()  # refused stays marked until the row goes
        assert any("delete: 2 done, 1 refused" in m for m in said(app))


async def test_a_line_that_goes_on_past_the_right_edge_ends_in_an_ellipsis(deck):
    """At 80 columns alerts are wider than the screen: the last visible cell is `…` (the heading
    cut to EXPRESSIO read as a whole word); scrolled to its end, the line ends as it is."""
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_shown(pilot, 6)
        vt = table(app)
        assert vt.virtual_size.width > vt.size.width
        assert vt.render_line(0).text.endswith("…") and vt.render_line(1).text.endswith("…")
        for _ in range(12):
            await pilot.press("right")
        await pilot.pause()
        assert vt.scroll_offset.x > 0 and not vt.render_line(0).text.endswith("…")


async def test_a_bulk_row_the_server_failed_on_is_not_called_refused(deck):
    """A plain 500 (not one of xyOps' coded refusals) may have acted: the summary says so, with the
    status, instead of "refused" (which tells the operator nothing happened)."""
    app, _, config = deck("xyops")
    config.fail_paths.add("POST /api/app/delete_alert/v1")
    config.fail_text = "Internal Server Error (simulated fault)"
    async with app.run_test(size=(120, 40)) as pilot:
        await open_test(pilot, test_alerts, 6)
        await pilot.press("space", "space")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="one confirmation")
        assert str(app.screen.query_one("#yes", Button).label) == "Delete  y"  # as the single delete's reads
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.finished, what="summary")
        progress = str(app.screen.query_one("#bulk-progress").render())
        assert "done 0, refused 0, failed 2 (the server may have acted: check)" in progress
        summary = str(app.screen.query_one("#bulk-summary").render())
        assert summary.count("HTTP 500, it may have acted anyway: Internal Server Error (simulated fault)") == 2
        await pilot.press("enter")
        assert any("delete: 0 done, 2 failed (may have acted)" in m for m in said(app))


async def test_bulk_confirmation_shows_every_name_on_its_own_line_at_80x24(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_test(pilot, test_alerts, 6)
        names = [f"'{r[1]}' ({k})" for k, r in zip(table(app).data.keys, table(app).data.rows)]
        await pilot.press("asterisk", "ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="one confirmation")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert "␊" not in screen_text(app)  # the list is lines, not one line with stand-ins
        for name in names:  # on screen, not only in the question's text
            assert any(name in line for line in lines), (name, lines)


async def test_bulk_on_kyaraben_vms(deck):
    app, sim_app, _ = deck("kyaraben")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_test(pilot, test_vms, 3)
        await pilot.press("asterisk", "ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "'nightly'" in app.screen.question and "test-kyaraben" in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.finished, timeout=10,
                       what="summary")
        assert len(app.screen.outcomes) == 3
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.marks or all(o.error for o in []), what="marks")


# --- filters and sort --------------------------------------------------------------------------------------

def test_filter_syntax():
    res = Resource("r", "R", "id", [Col("id"), Col("state", "status")], list=None)
    rows = [Row("a", ("disk_a", "✖ ERROR: quota"), None), Row("b", ("mem_b", "✔ READY"), None)]

    def keys(text):
        match = compile_filter(text, res)
        return [r.key for r in rows if match is None or match(r)]

    assert keys("disk") == ["a"]
    assert keys("!disk") == ["b"]
    assert keys("/^mem/") == ["b"]
    assert keys("status:error") == ["a"]  # heading
    assert keys("STATE:ready") == ["b"]  # key, any case
    assert keys("!state:ready") == ["a"]
    assert keys("nosuch:x") == []  # not a column: a plain substring
    assert keys("") == ["a", "b"] and keys("!") == ["a", "b"]


async def test_fast_filter_enter_escape_sort_loses_no_key(deck):
    """B9: `/dis`, then `⏎ esc s 2` in one burst clears the filter and sorts."""
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_test(pilot, test_alerts, 6)
        await pilot.press("slash", *"dis")
        await wait_for(pilot, lambda: table(app).row_count == 1, what="filtered")
        burst(app, "enter", "escape", "s", "2")
        await wait_for(pilot, lambda: screen.sort_col == 1 and table(app).row_count == 6, what="cleared and sorted")
        assert screen.filter_text == ""
        titles = [r[1] for r in table(app).data.rows]
        assert titles == sorted(titles, key=str.lower)


async def test_sort_picker_and_arrow_always_visible(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_test(pilot, test_alerts, 6)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SortPicker), what="picker")
        await pilot.press("3")
        await wait_for(pilot, lambda: table(app).sort_column == 2, what="sorted by state")
        header = table(app).render_line(0).text
        assert "STATE▲" in header
        await pilot.press("s", "3")  # the same column again reverses
        await wait_for(pilot, lambda: screen.sort_reverse, what="reversed")
        assert "STATE▼" in table(app).render_line(0).text


def test_heading_width_reserves_the_arrow_and_cells_end_in_ellipsis():
    data = TableData.build(["wait s", "n"], [("k", ("1", "99999999999999999999999999999"))], [6, 3])
    assert data.widths[0] == 7 and data.widths[1] == 3
    assert fit("99999999999999999999999999999", 3) == "99…"  # never reads as 999
    assert fit("日本語", 4) == "日…  "[:3] or fit("日本語", 4).endswith("…")
    assert fit("ok", 4) == "ok  "


async def test_horizontal_scroll_reaches_the_end_of_the_last_column():
    """B7: the margins are part of the scrollable width, so the last cell's end can be seen."""
    from textual.app import App

    class One(App):
        def compose(self):
            yield VirtualTable(["id", "long"])

    app = One()
    async with app.run_test(size=(20, 5)) as pilot:
        t = app.query_one(VirtualTable)
        t.set_data(TableData.build(["id", "long"], [("k", ("k1", "abcdefghijklmnopqrstuvwxyz0123"))]))
        t.focus()
        await pilot.press(*["right"] * 8)
        await pilot.pause()
        assert t.render_line(1).text.rstrip().endswith("xyz0123")


async def test_priority_columns_hide_when_narrow_and_come_back(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_test(pilot, test_alerts, 6)
        header = table(app).render_line(0).text
        assert "EXPRESSION" not in header and "TITLE" in header and "STATE" in header
        await pilot.resize_terminal(160, 40)
        await wait_for(pilot, lambda: "EXPRESSION" in table(app).render_line(0).text, what="wider")
        assert "MONITOR" in table(app).render_line(0).text


async def test_a_filter_typed_in_one_burst_with_its_slash_reaches_the_filter(deck):
    """`/dis` typed faster than the app acts: every letter lands in the filter, none on the table
    (`s` there would open the sort picker, `d` may be bound): the key gate dispatches one key at a time."""
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_test(pilot, test_alerts, 6)
        burst(app, "slash", *"dis")
        # (`di` alone leaves one row: wait for the whole filter, then for its rows)
        await wait_for(pilot, lambda: screen.filter_text == "dis", what="the filter typed")
        await wait_for(pilot, lambda: table(app).row_count == 1, what="filtered")
        assert app.screen is screen


async def test_the_status_bar_counts_one_row_in_the_singular(deck):
    app, sim_app, _ = deck("xyops")
    for key in list(sim_app.state.alerts)[1:]:
        del sim_app.state.alerts[key]
    async with app.run_test(size=(120, 40)) as pilot:
        await rows_shown(pilot, 1)
        await pilot.pause()
        status = screen_text(app).splitlines()[-2]
        assert " 1 row " in f"{status} " and "1 rows" not in status
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SavePrompt", what="the save prompt")
        assert app.screen.title_text == "save the 1 row shown of alerts to"


async def test_the_last_column_takes_the_room_left_over_as_far_as_its_cells_want():
    from textual.app import App

    from testdeck.widgets.table import MAX_COL

    message = "m" * 70  # longer than MAX_COL: it stopped at 48 with the rest of the screen empty
    data = TableData.build(["id", "message"], [("1", ("1", message)), ("2", ("2", "short"))])
    assert data.widths[1] == MAX_COL

    class One(App):
        def compose(self):
            yield VirtualTable(["id", "message"])

    app = One()
    async with app.run_test(size=(120, 10)) as pilot:
        vt = app.query_one(VirtualTable)
        vt.set_data(data)
        await pilot.pause()
        assert vt.widths[1] == 70 and message in vt.render_line(1).text  # whole, with room to spare
        await pilot.resize_terminal(60, 10)
        await pilot.pause()
        assert vt.widths[1] < 70 and vt.render_line(1).text.rstrip().endswith("…")  # narrow: cut, as before
        await pilot.resize_terminal(30, 10)
        await pilot.pause()
        assert vt.render_line(1).text.endswith("…")  # the long message goes on past the edge
        assert not vt.render_line(2).text.rstrip().endswith("…")  # "short", then blanks: nothing more to see


async def test_a_one_row_action_with_rows_marked_does_not_act_on_the_cursor_row(deck):
    from testdeck.services.onetest.views_hosts import agents  # a delete that is not a bulk action

    assert not agents.action("delete").bulk
    app, sim_app, _ = deck("onetest", start="agents")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await rows_shown(pilot, 2)
        before = dict(sim_app.state.agents)
        await pilot.press("space")  # the first row marked; the cursor moves to the second
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: any("delete acts on one row, not the 1 marked" in m for m in said(app)),
                       what="the refusal")
        assert not isinstance(app.screen, ConfirmScreen) and sim_app.state.agents == before
        assert screen.marks


async def test_a_bulk_summary_shows_a_hostile_servers_escapes_as_stand_ins(deck):
    from hostile import ESCAPES, FORBIDDEN

    app, sim_app, config = deck("xyops")
    config.fail_paths.add("POST /api/app/delete_alert/v1")
    config.fail_text = "boom " + "".join(ESCAPES.values())
    key = next(iter(sim_app.state.alerts))
    sim_app.state.alerts[key]["title"] = "t " + ESCAPES["title"]  # a hostile name too
    async with app.run_test(size=(120, 40)) as pilot:
        await open_test(pilot, test_alerts, 6)
        await pilot.press("space", "space", "ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="one confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkScreen) and app.screen.finished, what="summary")
        summary = str(app.screen.query_one("#bulk-summary").render())
        assert "boom ␛]52" in summary and not FORBIDDEN & set(summary)
        await pilot.press("enter")
        assert not any(FORBIDDEN & set(m) for m in said(app))
