"""Form editors the generic form lacks, plugged in through `Field.widget`.

KvEditor: a key/value map (env_vars, job_args, harness_args) as rows of two
inputs; typing a key in the last row adds an empty row below, clearing a key
drops the row. PickInput: one input that completes known names as you type
(right arrow accepts) and still takes any uuid; a list field completes its last
comma-separated part.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Label

from testdeck.errors import ApiError
from testdeck.forms import Field
from testdeck.resources import Ctx
from testdeck.widgets.lineinput import LineInput  # a paste of several lines is refused, and said

Pair = tuple[str, str]


class KvEditor(Vertical):
    DEFAULT_CSS = """
    KvEditor { height: auto; }
    KvEditor > Horizontal { height: 1; }
    KvEditor Input.kv-key { width: 2fr; margin-right: 1; }
    KvEditor Input.kv-value { width: 3fr; }
    """

    def __init__(self, pairs: list[Pair] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._initial = list(pairs or [])

    def compose(self) -> ComposeResult:
        for key, value in [*self._initial, ("", "")]:
            yield self._row(key, value)

    @staticmethod
    def _row(key: str, value: str) -> Horizontal:
        return Horizontal(LineInput(key, placeholder="key", classes="kv-key", compact=True),
                          LineInput(value, placeholder="value", classes="kv-value", compact=True))

    def rows(self) -> list[Pair]:
        """Every row as typed, blank ones included."""
        out = []
        for row in self.query(Horizontal):
            key, value = row.query_one(".kv-key", Input).value, row.query_one(".kv-value", Input).value
            out.append((key, value))
        return out

    @property
    def value(self) -> list[Pair]:
        """The non-blank rows, in order (duplicates kept: validation names them)."""
        return [(k.strip(), v) for k, v in self.rows() if k.strip() or v.strip()]

    def on_input_changed(self, event: Input.Changed) -> None:
        rows = list(self.query(Horizontal))
        if rows and event.input.has_class("kv-key") and event.input.parent is rows[-1] and event.value.strip():
            self.mount(self._row("", ""))


def kv_pairs(value: Any) -> list[Pair]:
    """An initial value (a dict, pairs or None) as editor rows."""
    if isinstance(value, dict):
        return [(str(k), _text(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(p[0]), _text(p[1])) for p in value if isinstance(p, (list, tuple)) and len(p) == 2]
    return []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def kv_editor(field: Field, value: Any, ctx: Ctx) -> KvEditor:
    return KvEditor(kv_pairs(value))


class _Complete(Suggester):
    """Completes the last comma-separated part with a known name (case-insensitive match)."""

    def __init__(self, names: list[str]):
        super().__init__(use_cache=False, case_sensitive=True)
        self.names = names

    async def get_suggestion(self, value: str) -> str | None:
        head, sep, last = value.rpartition(",")
        part = last.lstrip()
        if not part:
            return None
        lead = value[: len(value) - len(part)]
        for name in self.names:
            if name.casefold().startswith(part.casefold()) and name != part:
                return lead + name
        return None


class PickInput(Vertical):
    """An input completing the names `load(ctx)` returns ((value, label) pairs); shows them below."""

    DEFAULT_CSS = """
    PickInput { height: auto; }
    PickInput Input { width: 1fr; }
    PickInput .pick-known { color: $text-muted; height: auto; }
    """

    def __init__(self, value: str, load: Callable[[Ctx], Awaitable[list[tuple[str, str]]]], ctx: Ctx, **kwargs):
        super().__init__(**kwargs)
        self._value = value
        self._load = load
        self._ctx = ctx

    def compose(self) -> ComposeResult:
        yield LineInput(self._value, placeholder="a name (→ completes) or a uuid", compact=True)
        yield Label("", classes="pick-known")

    @property
    def value(self) -> str:
        return self.query_one(Input).value

    def on_mount(self) -> None:
        self._fill()

    @work(exit_on_error=False)
    async def _fill(self) -> None:
        known = self.query_one(".pick-known", Label)
        try:
            options = await self._load(self._ctx)
        except ApiError as exc:
            known.update(Text(f"cannot list known values: {exc.message}"))
            return
        names = [label for _, label in options]
        self.query_one(Input).suggester = _Complete(names)
        known.update(Text("known: " + (", ".join(names) if names else "none seen in this group yet")))


def picker(load: Callable[[Ctx], Awaitable[list[tuple[str, str]]]]) -> Callable[[Field, Any, Ctx], PickInput]:
    def make(field: Field, value: Any, ctx: Ctx) -> PickInput:
        text = ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
        return PickInput(text, load, ctx)
    return make
