"""Issue #6 item 2, TUI side: server text full of terminal escapes, in every place it is shown.

A hostile server (the real simulator behind tests/hostile_tui.py's wrapper, on loopback)
serves every sequence of the issue (OSC 52, OSC 0/2, CSI 2J, CSI ?1049l, OSC 8, ESC \\
terminators, C1 CSI/OSC, bidi overrides and isolates). Each test renders the screen as
the terminal would receive it and checks nothing of it gets through, and that the
text shows with visible stand-ins (␛, ␇) where the console puts it.
"""

from __future__ import annotations

import pytest
from conftest import wait_for
from hostile_tui import HOSTILE, assert_safe, hostile, ready, reply, table  # noqa: F401 (hostile: a fixture)

from testdeck.screens.log import LogScreen
from testdeck.screens.pickers import ScopePicker
from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.dialogs import ConfirmScreen, TextScreen
from testdeck.widgets.form import FormScreen
from testdeck.widgets.table import VirtualTable


def hostile_alert(state) -> str:
    """An alert whose id, title and monitor are all escape-laden (ids come from servers too)."""
    alert = dict(state.alerts["disk_full"], id=HOSTILE, title=HOSTILE, monitor_id=HOSTILE)
    state.alerts[HOSTILE] = alert
    return HOSTILE


async def test_table_cells_confirmation_toast_and_details(hostile):
    app, srv = hostile("xyops")
    key = hostile_alert(srv.state)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        assert table(app).move_to_key(key)
        await pilot.pause()
        assert_safe(app, where="in table cells")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.pause()
        assert_safe(app, where="in a confirmation")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="back")
        # details fail with the server's (hostile) words: a toast, then the row as JSON
        srv.rules["/api/app/get_alert/v1"] = reply({"code": "alert", "description": HOSTILE})
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="details")
        await pilot.pause()
        assert_safe(app, where="in a toast")  # the JSON escapes ESC itself; the toast shows ␛
        assert "\\u001b]52" in app.screen.body


async def test_form_refusal_and_text_dialog(hostile):
    app, srv = hostile("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="test form")
        form = app.screen
        await wait_for(pilot, lambda: len(form.query_one("#f-server")._options) > 1, what="server choices")
        form.query_one("#f-server").value = "s12345abcde"
        srv.rules["/api/app/test_alert/v1"] = reply({"code": "api", "description": HOSTILE})
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "refused" in str(form.query_one("#server-error").render()), what="refusal")
        assert_safe(app, where="in a form refusal")
        srv.rules["/api/app/test_alert/v1"] = reply({"code": 0, "result": True, "message": HOSTILE})
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="result dialog")
        await pilot.pause()
        assert_safe(app, where="in the test result dialog")


async def test_stale_line(hostile):
    app, srv = hostile("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        srv.rules["/api/app/get_alerts/v1"] = reply({"code": "api", "description": HOSTILE})
        screen.loaded.clear()
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.error is not None, what="stale")
        await pilot.pause()
        assert "STALE" in assert_safe(app, where="in the stale line")


async def test_log_lines_title_and_saved_file(hostile, tmp_path):
    app, _ = hostile("xyops")

    async def feed():
        yield [HOSTILE, f"two\tcolumns {HOSTILE}", f"crlf\r\n{HOSTILE}"]

    async with app.run_test(size=(160, 30)) as pilot:
        await ready(pilot)
        screen = LogScreen(f"job {HOSTILE}", feed())
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.tail.line_count == 4, what="lines")
        await pilot.pause(0.1)
        text = assert_safe(app, where="in log lines and the log title")
        assert "job pwn\u241b]52" in text  # the title
        target = tmp_path / "saved.log"
        screen.tail.save(target)
        await wait_for(pilot, lambda: target.exists() and target.stat().st_size > 0, what="saved")
        saved = target.read_text(encoding="utf-8")
        assert "\x1b" not in saved and "\x9b" not in saved and "\u202e" not in saved and "\x07" not in saved
        assert "pwn\u241b]52;c;aGFja2Vk\u2407" in saved and "two\tcolumns" in saved
        assert target.stat().st_mode & 0o777 == 0o600


async def test_scope_picker_and_title_bar(hostile):
    app, srv = hostile("kyaraben", open_at="apks")
    project = next(p for p in srv.state.projects.values() if p["project_name"] == "demo-app")
    project["project_name"] = HOSTILE
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ScopePicker) and app.screen.query("OptionList"),
                       what="scope picker")
        await pilot.pause()
        assert_safe(app, where="in the scope picker")
        picker = app.screen
        index = next(i for i, (_, label) in enumerate(picker.options) if label == HOSTILE)
        picker.query_one("OptionList").highlighted = index
        await pilot.press("enter")
        screen = await ready(pilot)
        # the title shows the chosen name, shortened: only its first characters fit
        assert "project pwn\u241b]52;" in assert_safe(app, visible=False, where="in the title bar")
        assert screen.scope == project["project_id"]
