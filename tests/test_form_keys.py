"""Forms and what the keyboard sends them: pastes (of several lines, after keys typed fast), esc on a
changed form, an answer that comes after esc, cross-field rules under their fields."""

from __future__ import annotations

from conftest import wait_for
from hostile_tui import ready  # noqa: F401
from hostile_tui import hostile  # noqa: F401 (a fixture)
from test_forms import burst, error_of, open_form, status
from textual import events
from textual.widgets import Input

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


CREATE = "/api/app/create_alert/v1"


def held(srv, gate):
    """The simulator's own answer, once the test sets `gate` (a threading.Event: the server has its own loop)."""
    import asyncio

    async def rule(scope, receive, send):
        for _ in range(1000):  # (10 s at most: a test that failed leaves no server task behind)
            if gate.is_set():
                break
            await asyncio.sleep(0.01)
        await srv.app(scope, receive, send)
    return rule


async def sent_then_esc(pilot, srv, title: str):
    """A new alert sent to a server that holds its answer until the test says, and esc while it waits:
    (the form, the gate that lets the answer go; within the profile's 2 s deadline)."""
    import threading

    form = await open_form(pilot, "n")
    form.query_one("#f-title").value = title
    form.query_one("#f-expression").value = "1 > 0"
    form.query_one("#f-message").value = "m"
    gate = threading.Event()
    srv.rules[CREATE] = held(srv, gate)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: form.busy and "sending" in status(form), what="sending")
    await pilot.press("escape")
    await wait_for(pilot, lambda: status(form).startswith("cancelled"), what="stopped waiting")
    return form, gate


async def test_an_answer_after_esc_is_said_in_the_form_and_a_done_create_is_not_sent_again(hostile):
    """esc during a send said `cancelled` and offered ctrl+s while the server went on to create the alert:
    a second ctrl+s made a second one."""
    from testdeck.widgets.dialogs import ConfirmScreen

    app, srv = hostile("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        form, gate = await sent_then_esc(pilot, srv, "late one")
        assert "its answer is said here when it comes" in status(form)
        await pilot.press("ctrl+s")  # while the answer may still come: not sent again
        assert status(form).startswith("no answer yet to the request esc stopped waiting for: not sent again")
        gate.set()
        await wait_for(pilot, lambda: "answer came after esc" in status(form), timeout=15, what="the late answer")
        assert status(form).startswith("the answer came after esc: done after all")
        made = [a for a in srv.state.alerts.values() if a["title"] == "late one"]
        assert len(made) == 1
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert status(form).startswith("already done") and \
            len([a for a in srv.state.alerts.values() if a["title"] == "late one"]) == 1
        await pilot.press("escape")  # done: nothing typed is lost by closing, so it does not ask
        await wait_for(pilot, lambda: app.screen is screen, what="closed")
        assert not any(isinstance(s, ConfirmScreen) for s in app.screen_stack)


async def test_an_answer_after_the_form_closed_is_said_in_a_toast(hostile):
    app, srv = hostile("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        form, gate = await sent_then_esc(pilot, srv, "late two")
        await pilot.press("escape", "y")  # typed: it asks; y discards
        await wait_for(pilot, lambda: app.screen is screen, what="closed")
        gate.set()
        await wait_for(pilot, lambda: any("after esc" in str(n.title) for n in app._notifications), timeout=15,
                       what="toast")
        [note] = [n for n in app._notifications if "after esc" in str(n.title)]
        assert str(note.message).startswith("done after all")


async def test_esc_on_a_form_with_typed_values_asks_before_discarding_them(hostile):
    """One stray esc threw a long form away; untouched, esc still closes at once."""
    from testdeck.widgets.dialogs import ConfirmScreen

    app, srv = hostile("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await open_form(pilot, "n")
        await settled(pilot)
        await pilot.press("escape")  # nothing typed: closes
        await wait_for(pilot, lambda: app.screen is screen, what="closed untouched")
        form = await open_form(pilot, "n")
        await settled(pilot)
        await pilot.press(*"Disk")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        assert "discard what you typed" in app.screen.question
        await pilot.press("escape")  # the reflex again: back to the form, nothing lost
        await wait_for(pilot, lambda: app.screen is form, what="kept")
        assert form.query(Input).first().value == "Disk"
        await pilot.press("escape", "y")
        await wait_for(pilot, lambda: app.screen is screen, what="discarded")
