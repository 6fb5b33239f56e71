"""CLI verbs that act: `do`, `logs`, `triage`, `journal`, and shell completion.

They run the same declarations as the screens (Resource, Action, Form), so a
script gets the same validation, the same read-only refusal and the same
journal as a person at the console.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from testdeck import feeds, journal
from testdeck.config import Config
from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Action, Ctx, Resource
from testdeck.text import sanitize

EXIT_FAILING = 3  # `testdeck triage`: something is failing (a pipeline gate)


class VerbUsageError(Exception):
    """Bad arguments or invalid values: exit 2."""


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    do = sub.add_parser("do", parents=[common], help="run a resource's action headless (same validation as the form)")
    do.add_argument("resource")
    do.add_argument("action", help="the action's name as the footer shows it (delete, stop, new, ...)")
    do.add_argument("ids", nargs="*", metavar="ID", help="the rows to act on (several for a bulk action)")
    do.add_argument("-p", "--profile")
    do.add_argument("--scope", help="the project/space/... a scoped resource lives in")
    do.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a form field (repeatable)")
    do.add_argument("--yes", action="store_true", help="do not ask; required without a terminal for mutations")
    do.add_argument("-o", "--output", choices=["text", "json"], default="text")

    logs = sub.add_parser("logs", parents=[common], help="print a row's log (what `l` shows); -f follows")
    logs.add_argument("resource")
    logs.add_argument("id")
    logs.add_argument("-p", "--profile")
    logs.add_argument("--scope")
    logs.add_argument("-f", "--follow", action="store_true", help="follow until the source ends or ctrl+c")
    logs.add_argument("-k", "--key", action="append", default=[],
                      help="a key of the log screen, as if pressed first (OneTest executions: -k i, the init log)")

    triage = sub.add_parser("triage", parents=[common],
                            help="print what is failing across every profile (exit 3 when something is)")
    triage.add_argument("-o", "--output", choices=["table", "json"], default="table")

    jr = sub.add_parser("journal", parents=[common], help="print the action journal, newest first")
    jr.add_argument("-n", type=int, default=20, help="how many entries (default 20)")
    jr.add_argument("-o", "--output", choices=["table", "json"], default="table")

    comp = sub.add_parser("completion", help="print a shell completion script (bash or zsh)")
    comp.add_argument("shell", choices=["bash", "zsh"])
    hidden = sub.add_parser("__complete")
    hidden.add_argument("words", nargs=argparse.REMAINDER)


# --- do ---------------------------------------------------------------------------------

def _parse_sets(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise VerbUsageError(f"--set {pair!r}: expected FIELD=VALUE")
        out[name.strip()] = value
    return out


async def _find_row(resource: Resource, ctx: Ctx) -> Record | None:
    if resource.detail is not None:
        found = await resource.detail(ctx)
        if isinstance(found, Record):
            return found
        if isinstance(found, dict):
            return Record.from_api(found)
    for record in await resource.list(Ctx(ctx.client, scope=ctx.scope)):
        if resource.row_key(record) == ctx.key:
            return record
    return None


def _form_values(action: Action, sets: dict[str, str], initial: dict[str, Any]) -> tuple[dict, dict]:
    """(values, changed) as the form would send them; VerbUsageError names each bad field."""
    from testdeck.widgets.form import validate_values

    fields = action.form.fields if action.form else []
    names = {f.name for f in fields}
    unknown = sorted(set(sets) - names)
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        raise VerbUsageError(f"{action.label}: no field {', '.join(unknown)} (fields: {known})")
    defaults = {f.name: f.default for f in fields if f.default is not None}
    raw = {**defaults, **{k: v for k, v in initial.items() if k in names}, **sets}
    values, errors = validate_values(fields, raw)
    if errors:
        raise VerbUsageError("; ".join(f"{name}: {why}" for name, why in errors.items()))
    changed = {k: v for k, v in values.items() if k in sets}
    changed.update({k: values.get(k) for k in sets if k not in values})  # a field cleared on purpose
    return values, changed


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise VerbUsageError(f"{question} needs confirmation: pass --yes (no terminal to ask on)")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def _show(result: Any) -> str:
    if isinstance(result, Record):
        result = result.raw
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    return json.dumps(result, indent=2, ensure_ascii=False, default=str)


async def run_do(args: argparse.Namespace, config: Config, resolve, open_session) -> int:
    profile, resource = resolve(config, args.resource, args.profile)
    action = resource.action(args.action)
    if action is None:
        labels = ", ".join(a.label for a in resource.actions) or "none"
        raise VerbUsageError(f"{resource.name} has no action {args.action!r} (it has: {labels})")
    if action.row and not args.ids:
        raise VerbUsageError(f"{action.label} acts on a row: give its ID")
    if len(args.ids) > 1 and not action.bulk:
        raise VerbUsageError(f"{action.label} is not a bulk action: give one ID")
    scope = args.scope or (resource.scope.default_for(profile.fields) if resource.scope else None)
    if resource.scope is not None and not scope:
        raise VerbUsageError(f"{resource.name} lives inside a {resource.scope.name}: pass --scope ID")
    sets = _parse_sets(args.set)
    session = open_session(config, profile, read_only=getattr(args, "read_only", False))
    ids = args.ids if action.row else [None]
    failures = 0
    async with session.client as client:
        # validate every row's values before anything is sent
        plans = []
        refused: list[dict] = []
        for key in ids:
            ctx = Ctx(client, scope=scope, key=key)
            if key is not None:
                ctx.row = await _find_row(resource, ctx)
                if ctx.row is None:
                    raise ApiError(profile.service, profile.name, "GET", resource.name, 404,
                                   f"no {resource.name} with id {key!r}")
                why = action.refusal(ctx.row)
                if why:  # the row's state says no (Action.unavailable): reported, never sent
                    failures += 1
                    print(sanitize(f"testdeck: {action.label} {resource.row_label(ctx.row)}: not sent: {why}"),
                          file=sys.stderr)
                    refused.append({"id": key, "ok": False, "message": f"not sent: {why}"})
                    continue
            if action.form is not None:
                initial = await action.form.initial(ctx) if action.form.initial else (ctx.row.raw if ctx.row else {})
                ctx.values, ctx.changed = _form_values(action, sets, initial or {})
            elif sets:
                raise VerbUsageError(f"{action.label} takes no fields")
            plans.append(ctx)
        if not plans:  # every row refused before sending
            if args.output == "json":
                print(json.dumps(refused if len(refused) > 1 else refused[0], indent=2, ensure_ascii=False))
            return 1
        if action.mutates or action.confirm:
            names = ", ".join(resource.row_label(c.row) if c.row is not None else "" for c in plans).strip(", ")
            question = f"{action.label} {resource.name} {names} on profile {profile.name}?".replace("  ", " ")
            note = action.confirm_note([c.row for c in plans])
            question += f" {note}" if note else ""
            if not _confirm(sanitize(question), args.yes):
                print("cancelled", file=sys.stderr)
                return 1
        results = list(refused)
        for ctx in plans:
            label = resource.row_label(ctx.row) if ctx.row is not None else ""
            try:
                with journal.acting(action.label):
                    result = await action.call(ctx)
            except ApiError as exc:
                failures += 1
                print(sanitize(f"testdeck: {action.label} {label}: {exc}".replace("  ", " ")), file=sys.stderr)
                results.append({"id": ctx.key, "ok": False, "message": exc.message})
                continue
            results.append({"id": ctx.key, "ok": True, "result": result.raw if isinstance(result, Record) else result})
            if args.output == "text":
                shown = action.show(result) if action.show else _show(result)
                head = f"{action.label}: done" + (f" ({label})" if label else "")
                print(sanitize(head))
                if shown:
                    print(sanitize(shown, multiline=True))
    if args.output == "json":
        print(json.dumps(results if len(results) > 1 else results[0], indent=2, ensure_ascii=False, default=str))
    return 1 if failures else 0


# --- logs -------------------------------------------------------------------------------

async def run_logs(args: argparse.Namespace, config: Config, resolve, open_session) -> int:
    profile, resource = resolve(config, args.resource, args.profile)
    if resource.log is None:
        raise VerbUsageError(f"{resource.name} have no log")
    scope = args.scope or (resource.scope.default_for(profile.fields) if resource.scope else None)
    session = open_session(config, profile, read_only=getattr(args, "read_only", False))
    async with session.client as client:
        ctx = Ctx(client, scope=scope, key=args.id)
        ctx.row = await _find_row(resource, ctx)
        feed = resource.log(ctx)
        for key in args.key:  # the log screen's own keys (e.g. `i`: OneTest's init container log)
            method = next((m for k, _label, m in getattr(feed, "keys", ()) if k == key), None)
            if method is None:
                known = ", ".join(f"{k} ({label})" for k, label, _m in getattr(feed, "keys", ())) or "none"
                raise VerbUsageError(f"{resource.name}: the log has no key {key!r} (keys: {known})")
            getattr(feed, method)()

        def write(batch: list[str]) -> None:
            for line in batch:
                sys.stdout.write(sanitize(line, multiline=True).replace("\n", " ") + "\n")
            sys.stdout.flush()

        if args.follow:  # followed: a poll that fails is said and retried (feeds.py)
            feeds.NOTICE.set(write)
        try:
            async for batch in feed:
                write(batch)
                if not args.follow:
                    break
        finally:
            close = getattr(feed, "aclose", None)
            if close is not None:
                await close()
    return 0


# --- triage -----------------------------------------------------------------------------

async def run_triage(args: argparse.Namespace, config: Config, open_session) -> int:
    from testdeck.resources import age
    from testdeck.triage import Board, Item, ProfileState, profile_item

    board = Board()
    sessions = []

    async def one(name: str) -> None:
        profile = config.profiles[name]
        try:
            session = open_session(config, profile, read_only=True)
        except Exception as exc:  # a profile that cannot be opened is itself failing
            err = ApiError(profile.service, name, "-", "-", None, f"cannot open profile: {exc}")
            board.states[name] = ProfileState(items=[profile_item(name, profile.service, err)], error=err)
            return
        sessions.append(session)
        await board.poll(name, session.service, session.client, profile.fields)

    try:
        await asyncio.gather(*(one(n) for n in config.profiles))
    finally:
        for session in sessions:
            await session.client.aclose()
    # a profile read in part, or not at all, cannot be called clear: an item of its own, so the
    # gate fails closed (unreachable and refused profiles are items already)
    unread = [Item("error", name, config.profiles[name].service, state.not_read(), state.error.message)
              for name, state in board.states.items() if state.unclear]
    items = sorted(board.items() + unread, key=Item.sort_key)
    if args.output == "json":
        print(json.dumps([i.as_json() for i in items], indent=2, ensure_ascii=False))
    else:
        from testdeck.cli import print_table

        heads = ["severity", "profile", "service", "what", "since", "message"]
        rows = [(i.severity, i.profile, i.service, sanitize(i.what), age(i.since) if i.since else "",
                 sanitize(i.message)) for i in items]
        print_table(heads, rows, [8, None, 8, None, 7, None])  # the message, last, in full
        if not items:
            print("nothing failing", file=sys.stderr)
    return EXIT_FAILING if items else 0


# --- journal ----------------------------------------------------------------------------

def run_journal(args: argparse.Namespace) -> int:
    entries = journal.read(max(0, args.n))
    if args.output == "json":
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return 0
    from testdeck.screens.journal import _when, outcome

    for e in entries:
        print(sanitize(f"{_when(e.get('time'))}  {e.get('profile', '')}  {e.get('action', '')}  "
                       f"{e.get('method', '')} {e.get('path', '')}  {outcome(e)}"))
    return 0


# --- completion -------------------------------------------------------------------------

BASH = r'''# testdeck completion for bash: eval "$(testdeck completion bash)"
_testdeck() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$(testdeck __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur"))
}
complete -F _testdeck testdeck
'''

ZSH = r'''#compdef testdeck
# testdeck completion for zsh: eval "$(testdeck completion zsh)"
_testdeck() {
    local -a words_before candidates
    words_before=("${(@)words[2,CURRENT-1]}")
    candidates=("${(@f)$(testdeck __complete "${words_before[@]}" 2>/dev/null)}")
    compadd -- "${candidates[@]}"
}
compdef _testdeck testdeck
'''

VERBS = ["get", "describe", "do", "logs", "triage", "journal", "profile", "sim", "completion"]


def complete(words: list[str], config: Config | None) -> list[str]:
    """Candidates for the next word after `words` (the words typed so far, without `testdeck`)."""
    from testdeck.services import all_services

    if words and words[-1] in ("-p", "--profile"):
        return sorted(config.profiles) if config else []
    positional = [w for i, w in enumerate(words) if not w.startswith("-")
                  and (i == 0 or words[i - 1] not in ("-p", "--profile", "--scope", "--set", "-o", "--output"))]
    if not positional:
        return VERBS
    verb = positional[0]
    services = all_services()
    if verb in ("get", "describe", "do", "logs") and len(positional) == 1:
        return sorted({r.name for s in services for r in s.resources})
    if verb == "do" and len(positional) == 2:
        return sorted({a.label for s in services for r in s.resources if r.name == positional[1] for a in r.actions})
    if verb == "profile" and len(positional) == 1:
        return ["add", "list", "remove", "test"]
    if verb == "profile" and len(positional) == 2 and positional[1] in ("remove", "test"):
        return sorted(config.profiles) if config else []
    if verb == "completion":
        return ["bash", "zsh"]
    return []
