"""TitleBar: the title takes what the hint leaves, cut with …; the hint shows from hint_from columns up."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App

from testdeck.widgets.titlebar import TitleBar


class _One(App):
    def compose(self):
        yield TitleBar(Text("alerts · filter disk · xyOps · demo-xyops"), Text("[ files · jobs ]"), hint_from=40)


@pytest.mark.parametrize("width, line", [
    (60, "alerts · filter disk · xyOps · demo-xyops [ files · jobs ]"),  # both whole, the hint flush right
    (45, "alerts · filter disk · xyO…[ files · jobs ]"),  # the title cut to what the hint leaves
    (30, "alerts · filter disk · xyOp…"),  # narrow: no hint, the title alone
])
async def test_the_title_yields_to_the_hint_and_the_hint_to_a_narrow_terminal(width, line):
    app = _One()
    async with app.run_test(size=(width, 3)) as pilot:
        await pilot.pause()
        bar = app.query_one(TitleBar)
        assert "".join(s.text for s in bar.render_line(0)) == line  # (the content: padding is the CSS's)
        bar.update(Text("jobs"))
        await pilot.pause()
        again = "".join(s.text for s in bar.render_line(0))
        assert again.startswith("jobs") and "alerts" not in again
