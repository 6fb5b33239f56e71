"""Forms through the generic screen, against a hostile xyOps (and kyaraben) on loopback:
sends that fail in any way, esc during a send, confirmed actions with forms, cleared
fields, bounds, error visibility, checklists, empty choices, and typeahead bursts."""

from __future__ import annotations

import pytest
from conftest import wait_for
from hostile_tui import endless, hostile, nested, ready, table  # noqa: F401 (hostile: a fixture)
from msgspec.structs import replace
from textual import events
from textual.containers import VerticalScroll
from textual.widgets import Button, Input

from testdeck.forms import Field, Form, NoChoices
from testdeck.resources import Action
from testdeck.screens.resource import ResourceScreen
from testdeck.services.xyops.views import alerts
from testdeck.widgets.dialogs import ConfirmScreen
from testdeck.widgets.form import CheckList, FormScreen, validate_values
from testdeck.widgets.table import VirtualTable

UPDATE = "/api/app/update_alert/v1"


async def open_form(pilot, key: str) -> FormScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FormScreen) and pilot.app.screen.is_mounted, what="form")
    return pilot.app.screen


def status(form: FormScreen) -> str:
    return str(form.query_one("#server-error").render())


def error_of(form: FormScreen, name: str) -> str:
    return str(form.query_one(f"#err-{name}").render())


async def edit_as_read_now(pilot, key: str) -> FormScreen:
    """The edit form of row `key`, after a refresh that reads what the test just put on the server."""
    screen = await ready(pilot)
    assert table(pilot.app).move_to_key(key)
    screen.loaded.clear()
    screen._wake.set()
    await wait_for(pilot, screen.loaded.is_set, what="a refresh")
    return await open_form(pilot, "e")


async def burst(pilot, *keys: str) -> None:
    """Keys as a terminal delivers a fast typist's burst or a paste: all queued at once, with no
    pause for the app to act on one before the next arrives (pilot.press waits between keys)."""
    app = pilot.app
    for key in keys:
        char = key if len(key) == 1 else {"space": " "}.get(key)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


async def with_actions(pilot, *actions: Action) -> ResourceScreen:
    """The xyOps alerts resource with extra actions, on the same session."""
    screen = await ready(pilot)
    extra = replace(alerts, actions=[*alerts.actions, *actions])
    custom = ResourceScreen(screen.session, extra)
    await pilot.app.push_screen(custom)
    return await ready(pilot)


# --- sends that fail or hang ---------------------------------------------------------------------------------

async def test_a_nested_reply_ends_the_send_in_the_form_and_keeps_the_input(hostile):
    app, srv = hostile()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#f-title").value = "kept title"
        srv.rules[UPDATE] = nested()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not form.busy and "sending" not in status(form), what="send ended")
        assert app.screen is form and form.query_one("#f-title").value == "kept title"
        assert status(form) and "sending" not in status(form)
        del srv.rules[UPDATE]  # the server recovers: ctrl+s still works
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, FormScreen), what="form closed")
        assert srv.state.alerts["disk_full"]["title"] == "kept title"


async def test_escape_cancels_a_send_in_flight_and_keeps_the_form(hostile):
    app, srv = hostile()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        form = await open_form(pilot, "e")
        form.query_one("#f-title").value = "never arrives"
        srv.rules[UPDATE] = endless()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: form.busy and "sending" in status(form), what=f"sending")
        assert "sending" in status(form), status(form)
        await pilot.press("ctrl+s")  # not dead while busy: it says what is going on
        assert "still sending" in status(form)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "cancelled" in status(form), what="cancelled")
        assert app.screen is form and not form.busy
        assert form.query_one("#f-title").value == "never arrives"
        await pilot.press("escape")  # nothing in flight: esc closes, after asking (a field was changed)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="closed")


# --- confirmation, labels ------------------------------------------------------------------------------------

async def test_a_fixed_field_loses_its_error_and_the_forms_last_word_is_marked_older(hostile):
    app, srv = hostile()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        form = await open_form(pilot, "n")
        await pilot.press("ctrl+s")  # empty: three required fields
        await pilot.pause(0.1)
        assert error_of(form, "title") == "required" and error_of(form, "expression") == "required"
        assert status(form).startswith("3 field(s) need attention")
        await pilot.press(*"Disk")  # the first bad field has focus
        await pilot.pause(0.1)
        assert error_of(form, "title") == "" and error_of(form, "expression") == "required"
        assert status(form).startswith("before your change: 3 field(s) need attention")
        form.query_one("#f-message").value = "set by code, not typed"  # no focus: not the user's change
        await pilot.pause(0.1)
        assert error_of(form, "message") == "required"


async def test_a_confirmed_action_with_a_form_asks_after_validation_before_sending(hostile):
    app, srv = hostile()
    retitle = Action("u", "retitle", lambda cx: cx.client.update_alert(cx.key, {"title": cx.values["title"]}),
                     form=Form("Retitle", [Field("title", required=True)]), mutates=True, confirm=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await with_actions(pilot, retitle)
        key = table(app).cursor_key
        before = srv.state.alerts[key]["title"]
        form = await open_form(pilot, "u")
        assert str(form.query_one("#save", Button).label) == "Retitle  ctrl+s"
        assert form.form.title == f"Retitle · alert '{before}'"  # the record it acts on, in its title
        form.query_one("#f-title").value = ""
        await pilot.press("ctrl+s")  # invalid: no question, nothing sent
        await pilot.pause(0.1)
        assert app.screen is form and error_of(form, "title") == "required"
        form.query_one("#f-title").value = "asked first"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        assert srv.state.alerts[key]["title"] == before
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is form and "not sent" in status(form), what="declined")
        assert srv.state.alerts[key]["title"] == before and form.query_one("#f-title").value == "asked first"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation again")
        await pilot.press("y")
        await wait_for(pilot, lambda: srv.state.alerts[key]["title"] == "asked first", what="sent")



async def test_submit_buttons_say_what_the_action_does(hostile):
    app, _ = hostile()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        for key, word in (("n", "Create"), ("e", "Save"), ("t", "Test")):
            form = await open_form(pilot, key)
            assert str(form.query_one("#save", Button).label) == f"{word}  ctrl+s"
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="closed")


# --- B1: clearing a field ------------------------------------------------------------------------------------

async def test_an_edit_form_clears_a_field_and_the_toast_names_the_record(hostile):
    app, srv = hostile()
    alert = srv.state.alerts["disk_full"]
    alert["icon"], alert["samples"] = "alert-circle", 3
    async with app.run_test(size=(120, 40)) as pilot:
        form = await edit_as_read_now(pilot, "disk_full")
        assert form.query_one("#f-icon").value == "alert-circle"
        form.query_one("#f-icon").value = ""
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="closed")
        assert alert["icon"] == ""  # sent, as the empty string the API stores
        assert alert["samples"] == 3  # untouched fields are not sent
        toasts = [str(n.message) for n in app._notifications]
        assert any(t.startswith("edit alert ") and "almost full" in t and t.endswith(": done") for t in toasts), toasts


def test_cleared_values_by_type_and_declared():
    fields = [Field("email"), Field("samples", type="int"), Field("monitor", type="choice"),
              Field("tags", type="multi"), Field("hook", cleared=None), Field("untouched")]
    initial = {"email": "a@b", "samples": 3, "monitor": "m", "tags": ["x"], "hook": "h"}
    raw = {"email": "", "samples": "", "monitor": None, "tags": [], "hook": "", "untouched": ""}
    values, errors = validate_values(fields, raw, initial)
    assert errors == {}
    assert values == {"email": "", "samples": None, "monitor": None, "tags": [], "hook": None}
    assert validate_values(fields, raw)[0] == {}  # a create form sends nothing for empty fields


def test_number_fields_take_digits_0_to_9_only():
    fields = [Field("days", type="int"), Field("ratio", type="float")]
    _, errors = validate_values(fields, {"days": "٣", "ratio": "١.٥"})  # int("٣") is 3
    assert errors == {"days": "digits 0-9 only", "ratio": "digits 0-9 only"}
    assert validate_values(fields, {"days": "3", "ratio": "1.5"}) == ({"days": 3, "ratio": 1.5}, {})


def test_int_fields_have_sane_bounds_unless_declared():
    fields = [Field("n", type="int"), Field("big", type="int", max=10**30), Field("f", type="float")]
    _, errors = validate_values(fields, {"n": "9" * 29, "big": "9" * 29, "f": "inf"})
    assert errors == {"n": "must be at most 2,147,483,647", "f": "must be a finite number"}
    _, errors = validate_values([Field("events", type="int", max=1_000_000)], {"events": "2000000"})
    assert errors == {"events": "must be at most 1,000,000"}


# --- B11: errors below the fold -----------------------------------------------------------------------------

async def test_an_error_below_the_fold_is_scrolled_into_view_and_named(hostile):
    app, srv = hostile()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        form = await open_form(pilot, "n")
        form.query_one("#f-title").value = "t"
        form.query_one("#f-expression").value = "monitors.x > 1"
        form.query_one("#f-message").value = "m"
        form.query_one("#f-samples").value = "0"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "1 field(s) need attention: samples" in status(form), what="the error named")
        scroll = form.query_one(VerticalScroll)
        err = form.query_one("#err-samples")

        def seen() -> bool:
            top, height = scroll.scroll_offset.y, scroll.scrollable_content_region.height
            return top <= err.virtual_region.y and err.virtual_region.bottom <= top + height

        await wait_for(pilot, seen, what="the error scrolled into view")
        assert form.query_one("#f-samples").has_focus
        assert len(srv.state.alerts) == 6


# --- B12, B25: checklists and empty choices ------------------------------------------------------------------

async def _reasons(cx):
    raise NoChoices("no instrumentation packages on this VM")


async def _nothing(cx):
    return []


async def test_checklists_toggle_on_first_space_and_read_without_colour(hostile):
    pick = Action("u", "tag", lambda cx: cx.client.update_alert(cx.key, {"groups": cx.values["groups"]}),
                  mutates=True, form=Form("Tag", [Field("groups", type="multi", required=True,
                                                        choices=["main", "db", "web"])]))
    app, srv = hostile()
    async with app.run_test(size=(120, 40)) as pilot:
        await with_actions(pilot, pick)
        key = table(app).cursor_key
        form = await open_form(pilot, "u")
        checklist = form.query_one(CheckList)
        assert checklist.has_focus
        await pilot.press("space")
        assert checklist.selected == ["main"]
        lines = [checklist.render_line(y).text for y in range(3)]
        assert lines[0].startswith("[x] main") and lines[1].startswith("[ ] db"), lines
        await pilot.press("j", "j", "space", "k")  # j k move as in the tables
        assert checklist.selected == ["main", "web"] and checklist.highlighted == 1
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: srv.state.alerts[key]["groups"] == ["main", "web"], what="sent")


async def test_choices_that_load_empty_say_why(hostile):
    run = Action("u", "testrun", lambda cx: cx.client.update_alert(cx.key, {}), mutates=True,
                 form=Form("Run", [Field("package", type="choice", required=True, choices=_reasons),
                                   Field("device", type="choice", choices=_nothing)]))
    app, _ = hostile()
    async with app.run_test(size=(120, 40)) as pilot:
        await with_actions(pilot, run)
        form = await open_form(pilot, "u")
        await wait_for(pilot, lambda: error_of(form, "package") != "", what="reason")
        assert error_of(form, "package") == "no instrumentation packages on this VM"
        await wait_for(pilot, lambda: error_of(form, "device") != "", what="empty")
        assert error_of(form, "device") == "nothing to choose from for device"


# --- typeahead ----------------------------------------------------------------------------------------------

def room_for_a_vm(srv) -> None:
    """The seeded kyaraben user is at its live-VM quota: one VM less, so the new-VM form opens."""
    srv.state.avms.pop(next(iter(srv.state.avms)))


def _values(form: FormScreen, *names: str) -> dict[str, str | None]:
    """What the named inputs hold (None while the form is still being built)."""
    return {n: (w.value if (w := next(iter(form.query(f"#f-{n}")), None)) is not None else None) for n in names}


async def test_a_burst_typed_as_the_form_opens_reaches_the_right_fields(hostile):
    app, srv = hostile("kyaraben", latency=0.15)  # choices take a while to load
    room_for_a_vm(srv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        before = dict(srv.state.avms)
        await burst(pilot, "n", "tab", "tab", "tab", "1", "2", "8", "0", "tab", "7", "2", "0")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="form")
        form = app.screen
        await wait_for(pilot, lambda: _values(form, "width")["width"] == "1280", timeout=15, what="typed width")
        # the last key may be dequeued but still on its way: wait until none is in flight either
        await wait_for(pilot, lambda: not app._queued and app._inflight is None, timeout=15, what="all keys typed")
        assert _values(form, "avm_name", "width", "height", "dpi") == {
            "avm_name": "", "width": "1280", "height": "720", "dpi": "160"}
        assert form.query_one("#f-height").has_focus
        assert screen is not app.screen and srv.state.avms == before


async def test_a_burst_typed_while_choices_load_reaches_the_right_fields(hostile):
    app, srv = hostile("kyaraben", latency=0.15)
    room_for_a_vm(srv)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        form = await open_form(pilot, "n")
        await burst(pilot, "tab", "tab", "tab", "1", "2", "8", "0", "shift+tab", "x")
        await wait_for(pilot, lambda: _values(form, "width")["width"] == "1280", timeout=15, what="typed width")
        await wait_for(pilot, lambda: not app._queued and app._inflight is None, timeout=15, what="all keys typed")
        assert _values(form, "avm_name", "width") == {"avm_name": "x", "width": "1280"}


@pytest.mark.parametrize("gap", [0.01, 0.05, 0.12])
async def test_the_first_key_typed_a_moment_after_n_reaches_the_first_field(hostile, gap):
    """`n`, then a word typed a beat later (not in the same burst): the form released its hold on
    the keyboard as it mounted, before its first field had focus, and the first letter went to the
    form's scroller (`DEFAULT` read `EFAULT`)."""
    import asyncio

    app, _ = hostile("xyops")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await burst(pilot, "n")
        await asyncio.sleep(gap)
        await burst(pilot, *"Disk")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.is_mounted, what="form")
        form = app.screen
        await wait_for(pilot, lambda: not app._holds and not app._queued and app._inflight is None, what="keys")
        await pilot.pause()
        first = form.query(Input).first()
        assert first.has_focus and first.value == "Disk"


async def test_escape_in_a_burst_before_the_form_is_ready_drops_the_rest(hostile):
    app, srv = hostile("kyaraben", latency=0.3)
    room_for_a_vm(srv)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        before = dict(srv.state.avms)
        await burst(pilot, "n", "escape", "ctrl+s")
        # esc abandons the opening and drops the rest of the burst: no form opens later, and the
        # ctrl+s meant for the form does not reach the table (where it would save the table)
        await wait_for(pilot, lambda: not app._holds and not app._queued and app._inflight is None, what="burst")
        await pilot.pause(1.0)  # longer than the quota check takes
        assert app.screen is screen and srv.state.avms == before
        await pilot.press("s")  # the keyboard is not left held
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SortPicker", what="sort picker")


def test_why_a_send_did_not_happen_reads_once_and_says_when_the_server_may_have_acted():
    from testdeck.errors import ApiError, not_done

    def err(status, message, retryable=False):
        return ApiError("alyvix", "p", "POST", "/license", status, message, retryable)

    # a refusal made here that says so already: once, not "refused: refused: …"
    assert not_done(err(None, "refused: turn this on")) == "refused: turn this on"
    assert not_done(err(None, "quota reached")) == "refused: quota reached"
    assert not_done(err(None, "nothing changed: nothing sent")) == "nothing changed: nothing sent"  # no refusal
    assert not_done(err(422, "bad key")) == "server refused: bad key"
    assert not_done(err(500, "boom", True)) == ("server failed (HTTP 500); it may have acted anyway: "
                                                "check before sending again: boom")
    assert not_done(err(None, "timed out", True)).startswith("no answer; the server may have acted anyway")
    # a success whose reply could not be read: the server acted (a create read as refused was sent again)
    assert not_done(err(201, "malformed JSON from server", True)).startswith(
        "server failed (HTTP 201, a reply that could not be read); it may have acted anyway")


async def test_a_long_field_help_wraps_at_80_columns_instead_of_being_cut(hostile):
    helptext = "optional, at most 50 characters; the server picks a three-word name when it is left empty"
    named = Action("u", "rename", lambda cx: cx.client.update_alert(cx.key, {}), mutates=True,
                   form=Form("Rename", [Field("name", help=helptext)]))
    app, _ = hostile()
    async with app.run_test(size=(80, 24)) as pilot:
        await with_actions(pilot, named)
        form = await open_form(pilot, "u")
        await pilot.pause()
        label = form.query_one("#label-name")
        assert label.size.height >= 2 and label.size.width < 80  # wrapped inside the form
        shown = " ".join(line.text.strip() for line in label.render_lines(label.region.reset_offset))
        assert "left empty" in shown


async def test_typing_into_an_edit_form_adds_to_the_value_it_does_not_replace_it(hostile):
    app, srv = hostile()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        key = table(app).cursor_key
        title = srv.state.alerts[key]["title"]
        form = await open_form(pilot, "e")
        await pilot.pause()
        await pilot.press("Z")
        # the whole value was selected as the field took focus: the first key typed replaced it
        assert form.query_one("#f-title").value in (title + "Z", "Z" + title)


async def test_a_value_with_control_characters_shows_stand_ins_and_is_kept_unless_edited(hostile):
    """An alert's title holding ESC and BEL (a hostile server): the edit form shows ␛ and ␇, not nothing
    (an Input dropped them silently); saved untouched, the title is not sent back as stand-ins."""
    app, srv = hostile()
    alert = srv.state.alerts["disk_full"]
    alert["title"] = "Disk \x1b[31mred\x07 full"
    alert["samples"] = 3
    async with app.run_test(size=(120, 40)) as pilot:
        form = await edit_as_read_now(pilot, "disk_full")
        assert form.query_one("#f-title").value == "Disk ␛[31mred␇ full"
        assert "stand-ins" in error_of(form, "title")
        form.query_one("#f-samples").value = "4"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen), what="closed")
        assert alert["samples"] == 4
        assert alert["title"] == "Disk \x1b[31mred\x07 full"  # not replaced by what was shown


def test_a_form_named_by_a_noun_saves():
    """Alyvix's `t` (test cases) edits a session's enabled test cases: its button said `Test cases`."""
    from testdeck.widgets.form import submit_label

    assert [submit_label(w) for w in ("test cases", "data", "new", "install apk")] == \
        ["Save", "Save", "Create", "Install apk"]
