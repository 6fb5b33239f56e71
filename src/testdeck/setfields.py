"""`testdeck do --set FIELD=VALUE`: values typed and checked as the action's form would, before any request.

A checklist takes a comma or JSON list, a switch true/false, a choice its value, its label or a name in
that label; a control character is refused; every bad field is named (exit 2)."""

from __future__ import annotations

import json
import re
from typing import Any

from testdeck.errors import ApiError, VerbUsageError
from testdeck.forms import Field, NoChoices
from testdeck.resources import Action, Ctx


def parse_sets(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise VerbUsageError(f"--set {pair!r}: expected FIELD=VALUE")
        out[name.strip()] = value
    return out


TRUE, FALSE = ("true", "yes", "on", "1", "y"), ("false", "no", "off", "0", "n", "")


def _list_of(text: str) -> list[str]:
    """A multi-value field on the command line: a JSON list, else comma-separated values."""
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not a valid JSON list: {exc.msg}") from None
        if not isinstance(items, list) or any(isinstance(i, (list, dict)) for i in items):
            raise ValueError("a JSON list of values is expected, e.g. '[\"a\", \"b\"]'")
        return [str(i).strip() for i in items if str(i).strip()]
    return [part.strip() for part in text.split(",") if part.strip()]


async def _offered(f: Field, ctx: Ctx) -> list[tuple[Any, str]] | None:
    """The form's fixed list for a choice or multi field, as (value, label); None when it offers none."""
    if f.type not in ("choice", "multi") or f.choices is None or f.widget is not None:
        return None  # (a service's own widget may take any value typed)
    try:
        choices = await f.choices(ctx) if callable(f.choices) else f.choices
    except NoChoices as exc:
        raise ValueError(str(exc)) from None
    options = [(c[0], str(c[1])) if isinstance(c, tuple) else (c, str(c)) for c in choices]
    if not options:
        raise ValueError(f"nothing to choose from for {f.title}")
    return options


def _pick(name: str, given: str, options: list[tuple[Any, str]]) -> Any:
    """A value the form offers: by its value (an id), by the label the form shows, or by a name in
    that label (`NAME (detail)`: an APK's file name or its package) that only one choice has."""
    for value, label in options:
        if given == str(value):
            return value
    for names in (lambda label: [label], _label_names):
        hits = [value for value, label in options if given in names(label)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            named = [(v, label) for v, label in options if v in hits]
            raise ValueError(f"{given!r} names {len(hits)} of the choices: give one by its id ({_listed(named)})")
    raise ValueError(f"{given!r} is not one of the choices ({_listed(options)})")


def _label_names(label: str) -> list[str]:
    match = re.fullmatch(r"(.+?) \((.+)\)", label)
    return [match.group(1), match.group(2)] if match else []


def _listed(options: list[tuple[Any, str]]) -> str:
    """The choices as the form shows them, with the id a script may give instead where it is another
    word (`ApiDemos.apk (com.example.android.apis) [b222…]`): ids alone told no APK from another."""
    shown = [label if label == str(value) or _label_names(label)[:1] == [str(value)] else f"{label} [{value}]"
             for value, label in options[:20]]
    return "; ".join(shown) + ("; ..." if len(options) > 20 else "")


async def _typed(f: Field, text: str, ctx: Ctx) -> Any:
    """A --set value as the form's widget would hold it (a list for a checklist, a bool for a switch,
    one of the offered values for a choice); ValueError says why not."""
    if f.type == "multi":
        items = _list_of(text)
        options = await _offered(f, ctx) if items else None
        return [_pick(f.name, i, options) for i in items] if options is not None else items
    if f.type == "choice":
        options = await _offered(f, ctx) if text.strip() else None
        return _pick(f.name, text.strip(), options) if options is not None else text
    if f.type == "bool":
        word = text.strip().lower()
        if word in TRUE or word in FALSE:
            return word in TRUE
        raise ValueError("must be true or false")
    return text


async def form_values(action: Action, sets: dict[str, str], initial: dict[str, Any],
                       ctx: Ctx) -> tuple[dict, dict]:
    """(values, changed) as the form would send them; VerbUsageError names each bad field."""
    from testdeck.widgets.formvalues import validate_form

    fields = action.form.fields if action.form else []
    names = {f.name for f in fields}
    unknown = sorted(set(sets) - names)
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        raise VerbUsageError(f"{action.label}: no field {', '.join(unknown)} (fields: {known})")
    typed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        if f.name in sets:
            # the form's text areas take line breaks and tabs; so does a multi-line secret (a PEM key)
            multiline = f.type in ("text", "json") or f.multiline
            if re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]" if multiline else r"[\x00-\x1f\x7f-\x9f]",
                         sets[f.name]):
                # an escape sequence or a line break a form's field could not take: not sent
                errors[f.name] = "holds a control character (an escape, a line break): not sent"
                continue
            try:
                typed[f.name] = await _typed(f, sets[f.name], ctx)
            except ValueError as exc:
                errors[f.name] = str(exc)
    defaults = {f.name: f.default for f in fields if f.default is not None}
    raw = {**defaults, **{k: v for k, v in initial.items() if k in names}, **typed}
    values, invalid = validate_form(action.form, raw, initial) if action.form else ({}, {})
    for f in fields:  # a choice left out: what it could have been, as the form would show it
        if invalid.get(f.name) == "required" and f.type in ("choice", "multi"):
            try:
                options = await _offered(f, ctx)
            except (ApiError, ValueError):
                options = None
            if options:
                invalid[f.name] += f" (choices: {_listed(options)})"
    errors = {**invalid, **errors}
    if errors:
        raise VerbUsageError("; ".join(f"{name}: {why}" for name, why in errors.items()))
    # as the form: only what differs from the record as read (a value given again is no change: an edit
    # sending it bumped an xyOps bucket's revision); a field emptied that had a value is sent emptied
    changed = {k: v for k, v in values.items() if k in sets and initial.get(k) != v}
    return values, changed
