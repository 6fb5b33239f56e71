"""ResourceForm: a modal form generated from Field specs.

Validation runs before any request; errors sit next to their field. When the
server refuses, its message is shown in the form and nothing the user typed
is lost.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ProgressBar, Select, SelectionList, Static, Switch, TextArea

from testdeck.errors import ApiError
from testdeck.resources import Ctx, Field, Form
from testdeck.widgets.checklist import CheckList

Submit = Callable[[dict[str, Any], dict[str, Any]], Awaitable[Any]]


def validate_values(fields: list[Field], raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values and per-field errors from what the widgets hold. Pure: no UI, no I/O."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        value = raw.get(f.name)
        if isinstance(value, str) and f.type not in ("text", "secret"):
            value = value.strip()
        empty = value is None or value == "" or value == [] or value is Select.BLANK
        if empty:
            if f.required:
                errors[f.name] = "required"
            elif f.type == "bool":
                values[f.name] = False
            continue
        try:
            value = _convert(f, value)
        except ValueError as exc:
            errors[f.name] = str(exc)
            continue
        if f.type in ("int", "float"):
            if f.min is not None and value < f.min:
                errors[f.name] = f"must be at least {f.min:g}"
                continue
            if f.max is not None and value > f.max:
                errors[f.name] = f"must be at most {f.max:g}"
                continue
        if f.validate is not None:
            problem = f.validate(value)
            if problem:
                errors[f.name] = problem
                continue
        values[f.name] = value
    return values, errors


def _convert(f: Field, value: Any) -> Any:
    if f.type == "int":
        try:
            return int(str(value))
        except ValueError:
            raise ValueError("must be a whole number") from None
    if f.type == "float":
        try:
            return float(str(value))
        except ValueError:
            raise ValueError("must be a number") from None
    if f.type == "bool":
        return bool(value)
    if f.type == "json":
        try:
            return json.loads(value) if isinstance(value, str) else value
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if f.type == "file":
        path = Path(str(value)).expanduser()
        if not path.is_file():
            raise ValueError(f"no such file: {path}")
        return str(path)
    if f.type == "multi":
        return list(value)
    return value


def _label(value: Any) -> tuple[Any, str]:
    return (value[0], str(value[1])) if isinstance(value, tuple) else (value, str(value))


class FormScreen(ModalScreen[Any]):
    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > Vertical { width: 96%; max-width: 100; height: 96%; border: round $accent; background: $surface; padding: 0 1; }
    FormScreen .title { text-style: bold; width: 1fr; background: $primary; padding: 0 1; }
    FormScreen .field-label { margin-top: 1; }
    FormScreen .error { color: $error; display: none; }
    FormScreen .error.-shown { display: block; }
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

    def __init__(self, form: Form, ctx: Ctx, initial: dict[str, Any], submit: Submit, *, upload: bool = False):
        super().__init__()
        self.form = form
        self.ctx = ctx
        self.initial = {k: v for k, v in initial.items() if v is not None}
        self.submit_fn = submit
        self.upload = upload
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.form.title), classes="title")
            with VerticalScroll():
                for f in self.form.fields:
                    label = Text(f.title + (" *" if f.required else ""), style="bold")
                    if f.help:
                        label.append(f"  {f.help}", style="dim")
                    yield Label(label, classes="field-label")
                    widget = self._widget(f)
                    if hasattr(widget, "compact"):
                        widget.compact = True  # one line per input: forms must fit 80x24
                    yield widget
                    yield Static("", classes="error", id=f"err-{f.name}")
            yield Static("", id="server-error")
            yield ProgressBar(total=100, show_eta=False, id="progress")
            with Horizontal(id="buttons"):
                yield Button("Save  ctrl+s", variant="primary", id="save", compact=True)
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
            return TextArea(str(text), id=wid)
        if f.type == "choice":
            options = [_label(c) for c in f.choices] if isinstance(f.choices, list) else []
            select = Select([(Text(lbl), v) for v, lbl in options], allow_blank=True, id=wid,
                            prompt=f"choose {f.title}")
            if value is not None and any(v == value for v, _ in options):
                select.value = value
            return select
        if f.type == "multi":
            options = [_label(c) for c in f.choices] if isinstance(f.choices, list) else []
            chosen = set(value or [])
            return CheckList(*[(Text(lbl), v, v in chosen) for v, lbl in options], id=wid)  # NO_COLOR-readable
        kind = {"int": "integer", "float": "number"}.get(f.type, "text")
        placeholder = "path to a local file" if f.type == "file" else ""
        return Input("" if value is None else str(value), type=kind, password=f.type == "secret", id=wid,
                     placeholder=placeholder)

    def on_mount(self) -> None:
        for f in self.form.fields:
            if f.type in ("choice", "multi") and callable(f.choices):
                self._load_choices(f)
        first = next(iter(self.query("Input, Select, Switch, TextArea, SelectionList")), None)
        if first is not None:
            first.focus()

    @work(exit_on_error=False)
    async def _load_choices(self, f: Field) -> None:
        try:
            options = [_label(c) for c in await f.choices(self.ctx)]  # type: ignore[misc]
        except ApiError as exc:
            self._error(f.name, f"cannot load choices: {exc.message}")
            return
        widget = self.query_one(f"#f-{f.name}")
        current = self.initial.get(f.name, f.default)
        if isinstance(widget, Select):
            widget.set_options([(Text(lbl), v) for v, lbl in options])
            if current is not None and any(v == current for v, _ in options):
                widget.value = current
            elif f.required and len(options) == 1:
                widget.value = options[0][0]
        elif isinstance(widget, SelectionList):
            widget.clear_options()
            chosen = set(current or [])
            widget.add_options([(Text(lbl), v, v in chosen) for v, lbl in options])

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
        return raw

    def _error(self, name: str, message: str) -> None:
        box = self.query_one(f"#err-{name}", Static)
        box.update(Text(message))
        box.set_class(bool(message), "-shown")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def action_submit(self) -> None:
        if self.busy:
            return
        values, errors = validate_values(self.form.fields, self.raw_values())
        for f in self.form.fields:
            self._error(f.name, errors.get(f.name, ""))
        self.query_one("#server-error", Static).update("")
        if errors:
            first = next(f for f in self.form.fields if f.name in errors)
            self.query_one(f"#f-{first.name}").focus()
            self.query_one("#server-error", Static).update(Text(f"{len(errors)} field(s) need attention"))
            return
        changed = {k: v for k, v in values.items() if self.initial.get(k) != v}
        self._send(values, changed)

    def report_progress(self, sent: int, total: int) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.add_class("-active")
        bar.update(total=max(total, 1), progress=sent)

    @work(exit_on_error=False, exclusive=True)
    async def _send(self, values: dict[str, Any], changed: dict[str, Any]) -> None:
        self.busy = True
        status = self.query_one("#server-error", Static)
        status.update(Text("sending…"))
        try:
            result = await self.submit_fn(values, changed)
        except ApiError as exc:
            # the server's own words (or the console's, for checks made before sending);
            # the form keeps everything typed
            who = "server refused" if exc.status is not None else "refused"
            status.update(Text(f"{who}: {exc.message}"))
            self.busy = False
            return
        self.busy = False
        self.dismiss(result if result is not None else True)
