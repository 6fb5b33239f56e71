"""The `--NAME VALUE` options after a resource on the command line (`--project ID`, `--from DATE`):
told apart from the bare words, and checked against the options the resource declares
(Resource.options), for `get`, `describe`, `do` and `logs` alike."""

from __future__ import annotations

import re

from testdeck.resources import Resource, did_you_mean
from testdeck.errors import VerbUsageError


def split_options(extras: list[str]) -> tuple[dict[str, str], list[str]]:
    """`--name value` / `--name=value` pairs (names with `-` as `_`) and the bare words among what
    argparse left over: the scope of `do`/`logs` (`--project ID`) and `get`'s options."""
    opts: dict[str, str] = {}
    words: list[str] = []
    items = list(extras)
    while items:
        item = items.pop(0)
        match = re.fullmatch(r"--([A-Za-z][\w-]*)(?:=(.*))?", item, re.S)
        if not match:
            words.append(item)
            continue
        name, value = match.group(1), match.group(2)
        if value is None:
            if not items or items[0].startswith("--"):  # (a value may start with one dash: -1)
                raise VerbUsageError(f"--{name} needs a value")
            value = items.pop(0)
        opts[name.replace("-", "_")] = value
    return opts, words


def article(noun: str) -> str:
    """`an event`, `a project`."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def check_options(resource: Resource, given: dict[str, str], also: tuple[str, ...] = ()) -> None:
    """`get`/`describe`'s leftover `--name VALUE`s: each one the resource declares (Resource.options),
    with a value among its choices, else a usage error (a typo once gave the wrong rows and exit 0).
    `also`: the verb's own options, for the suggestion."""
    declared = {o.name: o for o in resource.options}
    for name, value in given.items():
        opt = declared.get(name)
        if opt is None:
            flag = "--" + name.replace("_", "-")
            known = ["--" + n.replace("_", "-") for n in (*declared, *also)]
            takes = ", ".join(known[:len(declared)]) if declared else "none of its own"
            raise VerbUsageError(f"{resource.name}: no option {flag}{did_you_mean(flag, known)}; "
                                 f"its options: {takes}")
        why = opt.problem(value)
        if why:
            raise VerbUsageError(f"{resource.name}: {why}")
