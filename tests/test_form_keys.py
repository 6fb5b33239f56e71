"""Forms and what the keyboard sends them: pastes (of several lines, after keys typed fast), esc on a
changed form, an answer that comes after esc, cross-field rules under their fields."""

from __future__ import annotations

from conftest import wait_for
from hostile_tui import ready  # noqa: F401
from hostile_tui import hostile  # noqa: F401 (a fixture)
from test_forms import burst, error_of, open_form, status
from textual import events

from testdeck.widgets.form import FormScreen


def paste(app, text: str) -> None:
    """A bracketed paste as the terminal delivers it: queued behind whatever was typed before it."""
    event = events.Paste(text)
    event.set_sender(app)
    app._driver.send_message(event)


async def settled(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: not app._holds and not app._queued and app._inflight is None, what="keys")
    await pilot.pause()


async def test_a_paste_right_after_keys_typed_fast_lands_after_them(hostile):
    """`abcdefghijklmnop` then a paste, at once: the paste overtook the held keys (`abcdPASTEefgh…`)."""
    app, _ = hostile("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        form = await open_form(pilot, "n")
        await pilot.press("tab")
        await burst(pilot, *"abcdefghijklmnop")
        paste(app, "PASTE")
        await burst(pilot, *"xyz")
        await settled(pilot)
        assert form.query_one("#f-title").value == "abcdefghijklmnopPASTExyz"


async def test_a_paste_of_several_lines_into_a_one_line_field_is_refused_and_said(hostile):
    """Only `line one` was kept, silently; the CLI refuses a line break in such a field."""
    app, _ = hostile("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        form = await open_form(pilot, "n")
        await pilot.press("tab", *"T")
        paste(app, "line one\nline two\nline three\n")
        await settled(pilot)
        assert form.query_one("#f-title").value == "T"
        assert error_of(form, "title") == ("the pasted text has 3 lines and this field takes one: nothing pasted "
                                           "(paste one line)")
        paste(app, "one line\n")  # a line copied with its line break is one line
        await settled(pilot)
        assert form.query_one("#f-title").value == "Tone line" and error_of(form, "title") == ""
        assert isinstance(app.screen, FormScreen)
