"""What a form is made of: a Form and its Fields (types, choices, checks, a rule across fields),
declared by a service's actions; widgets/form.py renders one, `do --set` fills one (setfields.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from testdeck.resources import Ctx

AUTO = object()  # Field.cleared: what the type implies ("" for text types, None otherwise, [] for multi)


class NoChoices(Exception):
    """Raised by a Field's choices callable to say why there is nothing to choose (shown in the form)."""


class Field(msgspec.Struct):
    """One form field. Types: str, text, int, float, bool, choice, multi, secret, file, json."""

    name: str
    label: str | None = None
    type: str = "str"
    required: bool = False
    # values or (value, label); a callable may raise NoChoices("why") when there is nothing to offer
    choices: list[Any] | Callable[[Ctx], Awaitable[list[Any]]] | None = None
    default: Any = None
    help: str = ""
    min: float | None = None
    max: float | None = None
    validate: Callable[[Any], str | None] | None = None  # extra check: an error message or None
    # a service's own input widget: (field, initial value, ctx) -> a widget with a `.value`
    widget: Callable[[Field, Any, Ctx], Any] | None = None
    # what an edit form sends when the user empties a field that had a value (AUTO: by type)
    cleared: Any = AUTO
    # a secret that holds several lines (a PEM key): its masked input keeps a pasted block whole, and
    # `do --set` takes line breaks in it
    multiline: bool = False

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")


class Form(msgspec.Struct):
    title: str
    fields: list[Field]
    # prefill for edit forms; default: the selected row's own fields
    initial: Callable[[Ctx], Awaitable[dict[str, Any]]] | None = None
    # a FormScreen subclass with extra keys (a connection test), returned lazily: resources import no Textual
    screen: Callable[[], type] | None = None
    # a rule across fields (testbeds or topologies, not both): the values as checked -> {field: why};
    # shown under each field it names, and `do` exits 2 naming them, as a rule of one field
    check: Callable[[dict[str, Any]], dict[str, str]] | None = None
