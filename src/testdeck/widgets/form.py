"""ResourceForm: a modal form generated from Field specs.

Validation runs before any request; errors sit next to their field. When the
server refuses, or anything else goes wrong while sending, the message is shown
in the form and nothing the user typed is lost; esc cancels a send in flight.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, SelectionList, Static, Switch, TextArea

from testdeck.errors import ApiError, not_done
from testdeck.forms import Field, Form, NoChoices
from testdeck.resources import Ctx
from testdeck.text import sanitize
from testdeck.widgets.checklist import CheckList
from testdeck.widgets.dialogs import ConfirmScreen
# the checks, shared with `do --set` (re-exported: callers import them from here)
from testdeck.widgets.formvalues import INT_MAX, INT_MIN, cleared_value, validate_form, validate_values  # noqa: F401
from testdeck.widgets.lineinput import LineInput

Submit = Callable[[dict[str, Any], dict[str, Any]], Awaitable[Any]]
Confirm = Callable[[], Awaitable[bool]]


def _label(value: Any) -> tuple[Any, str]:
    """(value, label) of a choice; labels come from servers, so they are sanitised here."""
    return (value[0], sanitize(value[1])) if isinstance(value, tuple) else (value, sanitize(value))


def submit_label(action_label: str) -> str:
    """The submit button's word: what the action does (Create, Save, Test, Stop, Install APK...)."""
    # a noun names what the form edits, not what the button does: xyOps' bucket data (J), Alyvix's test cases (t)
    words = {"new": "Create", "edit": "Save", "data": "Save", "test cases": "Save"}
    label = action_label.strip() or "Save"
    return words.get(label.lower(), label[:1].upper() + label[1:])


class FormScreen(ModalScreen[Any]):
    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > Vertical { width: 96%; max-width: 100; height: 96%; border: round $accent; background: $surface; padding: 0 1; }
    FormScreen .title { text-style: bold; width: 1fr; background: $primary; padding: 0 1; }
    FormScreen .field-label { margin-top: 1; width: 1fr; }  /* a long help wraps, never cut */
    FormScreen .error { color: $error; display: none; }
    FormScreen .error.-shown { display: block; }
    FormScreen .error.-note { color: $text-muted; }
    FormScreen #server-error { color: $error; text-style: bold; height: auto; }
    FormScreen Input, FormScreen Select { width: 1fr; }
    FormScreen Input.-textual-compact { background: $panel; }
    FormScreen Input.-textual-compact:focus { background: $boost; }
    FormScreen TextArea { height: 5; }
    FormScreen SelectionList { height: auto; max-height: 8; }
    FormScreen #buttons { height: 1; align-horizontal: right; }
    FormScreen Button { margin-left: 2; }
    FormScreen ProgressBar { display: none; }
    FormScreen ProgressBar.-active { display: block; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("ctrl+s", "submit", "save", priority=True),
    ]

    def __init__(self, form: Form, ctx: Ctx, initial: dict[str, Any], submit: Submit, *, upload: bool = False,
                 submit_label: str = "Save", confirm: Confirm | None = None,
                 on_ready: Callable[[], None] | None = None):
        super().__init__()
        self.form = form
        self.ctx = ctx
        self.initial = {k: v for k, v in initial.items() if v is not None}
        self.submit_fn = submit
        self.upload = upload
        self.submit_label = submit_label
        self.confirm = confirm  # asked after validation, before anything is sent
        self.on_ready = on_ready  # called once the first field has focus and choices are loaded
        self.busy = False
        self._dismissing = False
        self._loading = 0
        self._said = ""  # the status line as shown
        self._checked: dict[str, Any] = {}  # the values as the last ctrl+s checked them
        self._abandon = asyncio.Event()
        self._opened: dict[str, Any] | None = None  # the values once the form was ready: esc asks if they changed
        self._asking = False
        # a send esc stopped waiting for, until its answer comes; then, if it succeeded, the form is spent:
        # sending it again would act twice (a second create)
        self._late: asyncio.Future | None = None
        self._spent = False
        # field -> the text shown for a value that holds control characters (stand-ins such as ␛):
        # while the field still shows exactly that, the original value is what it holds
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(sanitize(self.form.title)), classes="title")
            with VerticalScroll():
                for f in self.form.fields:
                    label = Text(sanitize(f.title) + (" *" if f.required else ""), style="bold")
                    if f.help:
                        label.append(f"  {sanitize(f.help)}", style="dim")
                    yield Label(label, classes="field-label", id=f"label-{f.name}")
                    widget = self._widget(f)
                    if hasattr(widget, "compact"):
                        widget.compact = True  # one line per input: forms must fit 80x24
                    yield widget
                    yield Static("", classes="error", id=f"err-{f.name}")
            yield Static("", id="server-error")
            yield ProgressBar(total=100, show_eta=False, id="progress")
            with Horizontal(id="buttons"):
                yield Button(f"{self.submit_label}  ctrl+s", variant="primary", id="save", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)

    def _widget(self, f: Field):
        wid = f"f-{f.name}"
        value = self.initial.get(f.name, f.default)
        if f.widget is not None:  # a service's own editor (key/value maps, pickers)
            widget = f.widget(f, value, self.ctx)
            widget.id = wid
            return widget
        if f.type == "bool":
            return Switch(value=bool(value), id=wid)
        if f.type in ("text", "json"):
            text = json.dumps(value, indent=2) if f.type == "json" and not isinstance(value, str) and value is not None else (value or "")
            return TextArea(self._stand_ins(f, str(text), multiline=True), id=wid)
        if f.type == "choice":
            options = [_label(c) for c in f.choices] if isinstance(f.choices, list) else []
            select = Select([(Text(lbl), v) for v, lbl in options], allow_blank=True, id=wid,
                            prompt=f"choose {sanitize(f.title)}")
            if value is not None and any(v == value for v, _ in options):
                select.value = value
            return select
        if f.type == "multi":
            options = [_label(c) for c in f.choices] if isinstance(f.choices, list) else []
            chosen = set(value or [])
            return CheckList(*[(Text(lbl), v, v in chosen) for v, lbl in options], id=wid)  # NO_COLOR-readable
        kind = {"int": "integer", "float": "number"}.get(f.type, "text")
        placeholder = "path to a local file" if f.type == "file" else ""
        text = "" if value is None else str(value)
        return LineInput(text if f.type == "secret" else self._stand_ins(f, text), type=kind,
                         password=f.type == "secret", id=wid, placeholder=placeholder, keeps_lines=f.multiline)

    def _stand_ins(self, f: Field, text: str, multiline: bool = False) -> str:
        """A value from the server with control characters: shown with stand-ins (an Input dropped them
        silently, and showed a value other than the one it held), and kept as it was unless edited."""
        shown = sanitize(text, multiline=multiline)
        if shown != text:
            self._shown[f.name] = shown
        return shown

    def on_mount(self) -> None:
        for f in self.form.fields:
            if f.type in ("choice", "multi") and callable(f.choices):
                self._loading += 1
                self._load_choices(f)
        for checklist in self.query(CheckList):
            checklist.highlight_first()
        for name in self._shown:
            self._error(name, "holds control characters, shown as stand-ins (␛ …): kept as they are "
                              "unless you change this field")
        first = next(iter(self.query("Input, Select, Switch, TextArea, SelectionList")), None)
        if first is not None:
            self._focus_unselected(first)
        if not self._loading:
            self._ready()

    def _ready(self) -> None:
        if self._opened is None:
            self._opened = self.raw_values()
        if self.on_ready is not None:
            ready, self.on_ready = self.on_ready, None
            # after the first field's focus has landed (Widget.focus is itself a call_later): keys
            # released before it went to the scroller the screen focused first, and were lost
            self.app.call_later(ready)

    @work(exit_on_error=False)
    async def _load_choices(self, f: Field) -> None:
        try:
            await self._fill_choices(f)
        finally:
            self._loading -= 1
            if not self._loading:
                self._ready()

    async def _fill_choices(self, f: Field) -> None:
        try:
            options = [_label(c) for c in await f.choices(self.ctx)]  # type: ignore[misc]
        except NoChoices as exc:
            self._error(f.name, str(exc))
            return
        except ApiError as exc:
            self._error(f.name, f"cannot load choices: {exc.message}")
            return
        except Exception as exc:  # a failing choices call must not leave the form half-built
            self._error(f.name, f"cannot load choices: {type(exc).__name__}: {exc}")
            return
        if not options:
            self._error(f.name, f"nothing to choose from for {f.title}")
        widget = self.query_one(f"#f-{f.name}")
        current = self.initial.get(f.name, f.default)
        if isinstance(widget, Select):
            widget.set_options([(Text(lbl), v) for v, lbl in options])
            if current is not None and any(v == current for v, _ in options):
                widget.value = current
            elif f.required and len(options) == 1:
                widget.value = options[0][0]
        elif isinstance(widget, CheckList):
            widget.clear_options()
            chosen = set(current or [])
            widget.add_options([(Text(lbl), v, v in chosen) for v, lbl in options])
            widget.highlight_first()

    def raw_values(self) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        for f in self.form.fields:
            widget = self.query_one(f"#f-{f.name}")
            if isinstance(widget, TextArea):
                raw[f.name] = widget.text
            elif isinstance(widget, SelectionList):
                raw[f.name] = list(widget.selected)
            elif isinstance(widget, Select):
                raw[f.name] = None if widget.is_blank() else widget.value
            else:
                raw[f.name] = widget.value
            if f.name in self._shown and raw[f.name] == self._shown[f.name]:
                raw[f.name] = self.initial.get(f.name, f.default)  # not edited: the value as it was
        return raw

    def _error(self, name: str, message: str, note: bool = False) -> None:
        box = self.query_one(f"#err-{name}", Static)
        box.update(Text(sanitize(message, multiline=True)))
        box.set_class(bool(message), "-shown")
        box.set_class(note, "-note")

    def on_line_input_pasted(self, event: LineInput.Pasted) -> None:
        """A paste of several lines: said under its field, kept whole or refused (never cut silently)."""
        name = self._field_of(event.input)
        if name is None:
            return
        if event.kept:
            self._error(name, f"pasted {event.lines} lines: kept whole", note=True)
        else:
            self._error(name, f"the pasted text has {event.lines} lines and this field takes one: "
                              "nothing pasted (paste one line)")

    def _status(self, message: str) -> None:
        self._said = message
        self.query_one("#server-error", Static).update(Text(sanitize(message, multiline=True)))

    # A field the user changes loses its error, and the form's last word is marked as older than the
    # change: a refusal ("give testbeds or topologies, not both", "required") stayed on screen after
    # it was fixed, until the next ctrl+s. Only changes made by the user (its field has focus):
    # choices being loaded must not wipe the reason they could not be.
    def on_input_changed(self, event: Input.Changed) -> None:
        self._edited(event.input)

    def on_select_changed(self, event: Select.Changed) -> None:
        self._edited(event.select)

    def on_switch_changed(self, event: Switch.Changed) -> None:
        self._edited(event.switch)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self._edited(event.selection_list)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._edited(event.text_area)

    def _field_of(self, widget: Any) -> str | None:
        """The field a widget belongs to: a service's own editor (key/value rows) is the field, not its parts."""
        node = widget
        while node is not None and node is not self and not str(node.id or "").startswith("f-"):
            node = node.parent
        return None if node is None or node is self else str(node.id)[2:]

    def _edited(self, widget: Any) -> None:
        name = self._field_of(widget)
        if name is None:
            return
        node = self.query_one(f"#f-{name}")
        if not (node.has_focus or node.has_focus_within):
            return
        if self.raw_values().get(name) == self._checked.get(name, self):  # (a change posted before the check)
            return
        self._error(name, "")
        if self._said and not self.busy and not self._said.startswith(("before your change", "sending", "waiting")):
            self._status(f"before your change: {self._said}")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        """esc: cancel the send in flight (the form stays, with everything typed); else close, after
        asking when something was typed (esc is a reflex: one stray press lost a long form)."""
        if self.busy:
            self._abandon.set()  # the send stops waiting at once; the form stays, input kept
            return
        if self._asking:
            return
        if self._opened is not None and not self._spent and self.raw_values() != self._opened:
            self._asking = True

            def answered(discard: bool | None) -> None:
                self._asking = False
                if discard:
                    self._close()

            self.app.push_screen(ConfirmScreen("Close the form and discard what you typed? Nothing of it "
                                               "is kept.\n(n or esc: back to the form)", danger="Discard"),
                                 answered)
            return
        self._close()

    def _close(self) -> None:
        self._dismissing = True
        self.dismiss(None)

    def action_submit(self) -> None:
        if self._dismissing:  # a ctrl+s typed right after esc must not send the form being closed
            return
        if self.busy:
            self._status("still sending… (esc cancels)")
            return
        if self._late is not None:
            self._status("no answer yet to the request esc stopped waiting for: not sent again (it could act "
                         "twice); its answer is said here when it comes")
            return
        if self._spent:
            self._status("already done: the server acted on the request esc stopped waiting for; not sent "
                         "again (it would act twice): esc closes")
            return
        self._checked = self.raw_values()
        values, errors = validate_form(self.form, self._checked, self.initial)
        for f in self.form.fields:
            self._error(f.name, errors.get(f.name, ""))
        self._status("")
        if errors:
            bad = [f for f in self.form.fields if f.name in errors]
            self._status(f"{len(bad)} field(s) need attention: {', '.join(f.title for f in bad)}")
            self._show_field(bad[0])
            return
        changed = {k: v for k, v in values.items() if self.initial.get(k) != v}
        self._send(values, changed)

    def _focus_unselected(self, widget: Any, scroll_visible: bool = True) -> None:
        """Focus a field the form chose (the first, the first refused) without selecting its value:
        the first key typed replaced the whole value of an edit form's field. That field no longer
        selects on focus at all; the others still do when tab brings the user into them."""
        if isinstance(widget, Input):
            widget.select_on_focus = False
        widget.focus(scroll_visible=scroll_visible)

    def _show_field(self, f: Field) -> None:
        """Focus the field and scroll so its label, input and message are all visible (80x24)."""
        widget = self.query_one(f"#f-{f.name}")
        self._focus_unselected(widget, scroll_visible=False)
        scroll = self.query_one(VerticalScroll)

        def reveal() -> None:
            scroll.scroll_to_widget(self.query_one(f"#err-{f.name}"), animate=False, immediate=True)
            scroll.scroll_to_widget(self.query_one(f"#label-{f.name}"), animate=False, immediate=True)

        self.call_after_refresh(reveal)

    def report_progress(self, sent: int, total: int) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.add_class("-active")
        bar.update(total=max(total, 1), progress=sent)

    @work(exit_on_error=False, exclusive=True, group="form-send")
    async def _send(self, values: dict[str, Any], changed: dict[str, Any]) -> None:
        self.busy = True
        try:
            if self.confirm is not None:
                self.ctx.values, self.ctx.changed = values, changed  # the question may name what goes out
                self._status("waiting for confirmation…")
                if not await self.confirm():
                    self._status("not sent: not confirmed")
                    return
            self._status("sending… (esc cancels)")
            self._abandon.clear()
            # The request runs beside the worker and is abandoned, not cancelled, on esc: cancelling
            # httpx mid-body left the screen unable to close. The HTTP layer's deadline ends it.
            request = asyncio.ensure_future(self.submit_fn(values, changed))
            abandon = asyncio.ensure_future(self._abandon.wait())
            await asyncio.wait({request, abandon}, return_when=asyncio.FIRST_COMPLETED)
            abandon.cancel()
            if not request.done():
                self._late = request
                request.add_done_callback(self._late_answer)
                self._status("cancelled: no longer waiting for the server (it may still act on the request; "
                             "its answer is said here when it comes)")
                return
            result = request.result()
        except ApiError as exc:
            # the server's own words (or the console's, for checks made before sending);
            # the form keeps everything typed
            self._status(not_done(exc))
            return
        except Exception as exc:  # anything else (a malformed reply, a bug) ends the send, in words
            self._status(f"failed: {type(exc).__name__}: {exc}")
            return
        finally:
            self.busy = False
        self.dismiss(result if result is not None else True)


    def _late_answer(self, request: asyncio.Future) -> None:
        """The answer to a send esc stopped waiting for: said in the form (or, once it is closed, in a
        toast); a success leaves the form spent, so ctrl+s cannot make a second one."""
        self._late = None
        error = None if request.cancelled() else request.exception()
        if request.cancelled():
            said = "cancelled before an answer came: the server may have acted: check before sending again"
        elif error is None:
            self._spent = True
            said = "done after all: the server acted on the request esc stopped waiting for; not sent again"
        elif isinstance(error, ApiError):
            said = not_done(error)
        else:
            said = f"failed: {type(error).__name__}: {error}"
        if self in self.app.screen_stack:  # (a dismissed screen stays attached)
            self._status(f"the answer came after esc: {said}")
        else:
            # (a form's title can name a server's record, the answer carry the server's words)
            self.app.notify(sanitize(said, multiline=True), markup=False, timeout=10,
                            title=sanitize(f"{self.form.title}: the answer came after esc"),
                            severity="information" if error is None and not request.cancelled() else "error")
