"""Form values: typed and checked from what a form's widgets hold (or `do --set` gives), before any request.

Pure: no I/O; the console's form and the CLI's `do` run the same checks."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from textual.widgets import Select

from testdeck.forms import AUTO, Field, Form

# ints a field accepts unless it declares its own bounds: what a server's 32-bit integer holds
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def cleared_value(f: Field) -> Any:
    """What an emptied field sends: its declaration, else "" for text types, [] for multi, None otherwise."""
    if f.cleared is not AUTO:
        return f.cleared
    if f.type in ("str", "text", "secret", "file"):
        return ""
    return [] if f.type == "multi" else None


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def validate_values(fields: list[Field], raw: dict[str, Any],
                    initial: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values and per-field errors from what the widgets hold. Pure: no UI, no I/O.

    An optional field left empty is omitted, unless it had a value in `initial` (an
    edit form): then the user cleared it, and its cleared value is sent."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    initial = initial or {}
    for f in fields:
        value = raw.get(f.name)
        if isinstance(value, str) and f.type not in ("text", "secret"):
            value = value.strip()
        # Select.BLANK is False in Textual 8: only a choice's blank is empty, a switch left off is a value
        empty = value is None or value == "" or value == [] or (f.type == "choice" and value is Select.BLANK)
        if empty:
            if f.required:
                errors[f.name] = "required"
            elif f.type == "bool":
                values[f.name] = False
            elif initial.get(f.name) not in (None, "", []):
                values[f.name] = cleared_value(f)
            continue
        try:
            value = _convert(f, value)
        except ValueError as exc:
            errors[f.name] = str(exc)
            continue
        if f.type in ("int", "float"):
            low = f.min if f.min is not None else (INT_MIN if f.type == "int" else None)
            high = f.max if f.max is not None else (INT_MAX if f.type == "int" else None)
            if low is not None and value < low:
                errors[f.name] = f"must be at least {_number(low)}"
                continue
            if high is not None and value > high:
                errors[f.name] = f"must be at most {_number(high)}"
                continue
        if f.validate is not None:
            problem = f.validate(value)
            if problem:
                errors[f.name] = problem
                continue
        values[f.name] = value
    return values, errors


def validate_form(form: Form, raw: dict[str, Any],
                  initial: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """validate_values, then the form's rule across fields (Form.check) on the fields that passed."""
    values, errors = validate_values(form.fields, raw, initial)
    if form.check is not None:
        for name, why in (form.check(values) or {}).items():
            errors.setdefault(name, why)
    return values, errors


def _convert(f: Field, value: Any) -> Any:
    if f.type in ("int", "float") and isinstance(value, str) and not value.isascii():
        # int() and float() take other scripts' digits ("٣" is 3): a value the user did not see as a number
        raise ValueError("digits 0-9 only")
    if f.type == "int":
        try:
            return int(str(value))
        except ValueError:
            raise ValueError("must be a whole number") from None
    if f.type == "float":
        try:
            number = float(str(value))
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(number):  # "inf" and "nan" parse, but no server wants them
            raise ValueError("must be a finite number")
        return number
    if f.type == "bool":
        return bool(value)
    if f.type == "json":
        try:
            return json.loads(value) if isinstance(value, str) else value
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if f.type == "file":
        path = Path(str(value)).expanduser()
        if path.is_dir():
            raise ValueError(f"{path} is a folder: give a file's path")
        if not path.is_file():
            raise ValueError(f"no such file: {path}")
        return str(path)
    if f.type == "multi":
        return list(value)
    return value
