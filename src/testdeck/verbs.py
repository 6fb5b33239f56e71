"""CLI verbs on one resource: `do` (run an action) and `logs` (print or follow a row's log); and the
parsers of `do`, `logs`, `triage`, `journal` and `completion`. `triage` and `journal` run in
report_verbs.py, shell completion in completion.py, the `--NAME VALUE` options are cli_options.py's.

They run the same declarations as the screens (Resource, Action, Form), so a
script gets the same validation, the same read-only refusal and the same
journal as a person at the console.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from typing import Any

from testdeck import feeds
from testdeck.cli_options import article, split_options
from testdeck.config import Config
from testdeck.errors import ApiError, Interrupted, Refused, VerbUsageError, failed_how
from testdeck.records import Record
from testdeck.resources import Accepted, Action, Ctx, Resource, acted_on, confirm_question, did_you_mean, run, unwrap
from testdeck.setfields import form_values, parse_sets
from testdeck.text import sanitize


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    do = sub.add_parser("do", parents=[common], help="run a resource's action headless (same validation as the form)")
    do.add_argument("resource")
    do.add_argument("action", help="the action's name as the footer shows it, words joined by dashes "
                                   "(delete, new, install-apk, ...)")
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
    logs.add_argument("--command", dest="command_id", metavar="COMMAND_ID",
                      help="kyaraben VMs: the output of this command (the id `do` printed); with -f until it ends")
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

def cli_name(label: str) -> str:
    """An action's name on the command line: its label, lower-case, words joined by dashes
    (`install APK` is `install-apk`), so a shell needs no quotes and completion offers it whole."""
    return "-".join(label.lower().split())


def find_action(resource: Resource, name: str) -> Action | None:
    """By its label as the footer shows it (`"install APK"`) or its command-line name (`install-apk`)."""
    wanted = cli_name(name.replace("_", " "))
    return resource.action(name) or next((a for a in resource.actions if cli_name(a.label) == wanted), None)


async def _find_row(resource: Resource, ctx: Ctx) -> Record | None:
    """The row `ctx.key` names: by its id, or else (resources with a name) by that name, as `describe`
    finds it; `ctx.key` becomes the row's id. Two rows with that name are a usage error."""
    wanted = ctx.key
    missing: ApiError | None = None
    if resource.detail is not None:
        try:
            found = await resource.detail(ctx)
        except ApiError as exc:
            if not resource.label or isinstance(exc, Refused) or \
                    (exc.status is not None and exc.status not in (200, 400, 404)):  # (200: answered, not in it)
                raise
            missing = exc
        else:
            if isinstance(found, Record):
                return found
            if isinstance(found, dict):
                return Record.from_api(found)
    hits = await resource.named(Ctx(ctx.client, scope=ctx.scope), wanted)
    if len(hits) > 1:
        raise VerbUsageError(f"{len(hits)} {resource.name} are named {wanted!r}; give the id "
                             f"({', '.join(resource.row_key(r) for r in hits)})")
    if not hits:
        if missing is not None:
            raise missing
        return None
    ctx.key = resource.row_key(hits[0])
    if resource.detail is not None and ctx.key != wanted:
        found = await resource.detail(ctx)  # the whole record, as by its id
        if isinstance(found, Record):
            return found
    return hits[0]


def _scope_of(args: argparse.Namespace, profile: Any, resource: Resource) -> str | None:
    """`--scope ID` or `--<scope name> ID` (`--project`), else the profile's default: as `get` takes it.
    Any other option is a usage error (fields are `--set FIELD=VALUE`)."""
    opts, words = split_options(getattr(args, "extras", None) or [])
    named = opts.pop(resource.scope.name, None) if resource.scope is not None else None
    if opts:
        other = resource.scope.name if resource.scope is not None and resource.scope.name != "scope" else None
        scope_opt = f", --{other}" if other else ""  # (OneTest's scope is named scope: not `--scope, --scope`)
        flag = "--" + next(iter(opts)).replace("_", "-")
        own = ["--follow", "--command", "--key"] if args.command == "logs" else ["--set", "--yes", "--output"]
        known = ["--scope", "--profile", *own, *([f"--{resource.scope.name}"] if resource.scope is not None else [])]
        raise VerbUsageError(f"unexpected option {', '.join('--' + k for k in opts)}{did_you_mean(flag, known)} "
                             f"(fields are --set FIELD=VALUE; the scope is --scope{scope_opt})")
    if words:
        if not isinstance(getattr(args, "ids", None), list):
            raise VerbUsageError(f"unexpected argument {words[0]!r}")
        args.ids += words  # ids after an option (`delete --project P ID`)
    scope = args.scope or named
    if resource.scope is None:
        return scope
    scope = scope or resource.scope.default_for(profile.fields)
    if not scope:
        raise VerbUsageError(f"{resource.name} lives inside {article(resource.scope.name)}: "
                             f"pass --{resource.scope.name} ID (or --scope ID)")
    return scope


def _prompt_stream():
    """Where a question goes: never stdout, which is the data (`do ... -o json | jq`). stderr when it
    is the terminal, else the terminal itself (`2>log`), else stderr still."""
    if sys.stderr.isatty():
        return sys.stderr
    try:
        return open("/dev/tty", "w")  # noqa: SIM115  (closed by the caller)
    except OSError:
        return sys.stderr


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise VerbUsageError(f"{question} needs confirmation: pass --yes (no terminal to ask on)")
    out = _prompt_stream()
    # asyncio's own SIGINT handler only cancels the task, which a blocking read never sees (a first
    # ctrl+c was swallowed): while the question waits, ctrl+c ends the wait at once
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        out.write(f"{question} [y/N] ")
        out.flush()
        answer = sys.stdin.readline()
    except KeyboardInterrupt:
        out.write("\n")
        raise Interrupted(signal.SIGINT, "cancelled: nothing sent") from None
    finally:
        signal.signal(signal.SIGINT, previous)
        if out is not sys.stderr:
            out.close()
    if not answer:  # end of input (ctrl+d): a no
        print(file=sys.stderr)
    return answer.strip().lower() in ("y", "yes")


def _show(result: Any) -> str:
    if isinstance(result, Record):
        result = result.raw
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    return json.dumps(result, indent=2, ensure_ascii=False, default=_plain)


def _follow_hint(resource: Resource, ctx: Ctx, action: Action, result: Any) -> str:
    """How to follow an accepted command from the CLI: `logs ... --command ID -f` (kyaraben VMs)."""
    if action.follow is None or not getattr(resource.log, "command_option", False):
        return ""
    if not isinstance(result, str) or not result or ctx.key is None:
        return ""
    return f"follow it: testdeck logs {resource.name} {ctx.key} --command {result} -f"


async def run_do(args: argparse.Namespace, config: Config, resolve, open_session) -> int:
    profile, resource = resolve(config, args.resource, args.profile)
    action = find_action(resource, args.action)
    if action is None:
        names = [cli_name(a.label) for a in resource.actions]
        raise VerbUsageError(f"{resource.name} has no action {args.action!r}{did_you_mean(args.action, names)} "
                             f"(it has: {', '.join(names) or 'none'})")
    scope = _scope_of(args, profile, resource)
    args.ids = list(dict.fromkeys(args.ids))  # an id given twice is acted on once (a delete sent twice failed)
    if action.row and not args.ids:
        raise VerbUsageError(f"{action.label} acts on a row: give its ID")
    if len(args.ids) > 1 and not action.bulk:
        raise VerbUsageError(f"{action.label} is not a bulk action: give one ID")
    sets = parse_sets(args.set)
    session = open_session(config, profile, read_only=getattr(args, "read_only", False))
    ids = args.ids if action.row else [None]
    failures = 0
    async with session.client as client:
        if resource.scope is not None:
            from testdeck.cli import pick_scope

            scope = await pick_scope(client, resource, str(scope))  # an id, or the name the screen shows
        # validate every row's values before anything is sent
        plans = []
        refused: list[dict] = []
        for key in ids:
            ctx = Ctx(client, scope=scope, key=key)
            if key is not None:
                try:
                    ctx.row = await _find_row(resource, ctx)
                except ApiError as exc:
                    if exc.status != 404:  # the read failed: the whole command stops before sending any
                        exc.hint = "; ".join(h for h in (exc.hint, "nothing sent") if h)
                        raise
                    why = f"not sent: not found (HTTP 404: {exc.message})"
                else:
                    why = f"not sent: not found: no {resource.name} with id {key!r}" if ctx.row is None else ""
                if why:  # an unknown id (a typo, one deleted meanwhile) is not sent, as `rm a b c`; the others go
                    failures += 1
                    print(sanitize(f"testdeck: {action.label} {key}: {why}"), file=sys.stderr)
                    refused.append({"id": key, "ok": False, "message": why})
                    continue
            if action.form is not None:
                initial = await action.form.initial(ctx) if action.form.initial else (ctx.row.raw if ctx.row else {})
                ctx.values, ctx.changed = await form_values(action, sets, initial or {}, ctx)
            elif sets:
                raise VerbUsageError(f"{action.label} takes no fields")
            why = action.why_not(ctx)
            if why:  # a rule known here (Action.unavailable): this one is reported and not sent, the others are
                failures += 1
                named = f" {resource.row_label(ctx.row)}" if ctx.row is not None else ""
                print(sanitize(f"testdeck: {action.label}{named}: not sent: {why}"), file=sys.stderr)
                refused.append({"id": key, "ok": False, "message": f"not sent: {why}"})
                continue
            plans.append(ctx)
        if not plans:  # every row refused before sending
            if args.output == "json":
                print(json.dumps(refused, indent=2, ensure_ascii=False))
            return 1
        if action.mutates or action.confirm:
            # as the screen asks it: `delete bucket 'Release artefacts' (ID) on profile xy?`; an action taking
            # several in one call (Action.targets: OneTest's stop, the ids of its form) names those
            touched = [r for c in plans for r in (action.targets(c) if action.targets is not None else [c.row])]
            question = confirm_question(resource, action, touched, profile, plans[0])  # one --set, one scope
            if not _confirm(sanitize(question, multiline=True), args.yes):
                print("cancelled", file=sys.stderr)
                return 1
        results = list(refused)
        with _signals_cancel() as caught:
            for done, ctx in enumerate(plans):
                label = acted_on(resource, action, ctx)
                try:
                    result = await run(action, ctx)
                except asyncio.CancelledError:
                    if not caught:
                        raise
                    what = " ".join(w for w in (action.label, label) if w)
                    rest = len(plans) - done - 1
                    raise Interrupted(caught[0], f"{what}: interrupted with the request sent and no answer yet: "
                                      "the server may have acted: check before sending again"
                                      + (f" ({rest} more not sent)" if rest else "")) from None
                except ApiError as exc:
                    failures += 1
                    what = " ".join(w for w in (action.label, label) if w)
                    print(sanitize(f"testdeck: {what}: {exc}"), file=sys.stderr)
                    how = failed_how(exc)
                    if how is not None:  # as a form says it: a script that sends again could act twice
                        print(sanitize(f"testdeck: {what}: {how}: the server may have acted anyway: check before "
                                       "sending again"), file=sys.stderr)
                    results.append({"id": ctx.key, "ok": False, "message": exc.message,
                                    **({"may_have_acted": True} if how is not None else {})})
                    continue
                # only accepted: the server makes the change in the background (a VM left DELETING)
                accepted = result.state if isinstance(result, Accepted) else None
                result = unwrap(result)
                results.append({"id": ctx.key if ctx.key is not None else _made(resource, action, result), "ok": True,
                                "result": result.raw if isinstance(result, Record) else result,
                                **({"accepted": accepted} if accepted is not None else {})})
                if args.output == "text":
                    _say_done(resource, action, ctx, label, result, accepted)
    if args.output == "json":  # always a list, one entry per row, whatever their number (one shape)
        print(json.dumps(results, indent=2, ensure_ascii=False, default=_plain))
    return 1 if failures else 0


def _plain(value: Any) -> Any:
    """JSON for what an action returned: records as the API's fields (a list of uploaded files printed
    `BucketFile(id=…)` reprs), anything else as text."""
    return value.raw if isinstance(value, Record) else str(value)


def _made(resource: Resource, action: Action, result: Any) -> Any:
    """The id of what a create made (its result's key), for `do -o json`: `"id": null` said nothing."""
    try:
        if action.select is not None:
            return action.select(result)
        record = result.raw if isinstance(result, Record) else result
        return record.get(resource.key) if isinstance(record, dict) else None
    except Exception:  # a result of another shape: the id stays unknown, the result is printed whole
        return None


def _say_done(resource: Resource, action: Action, ctx: Ctx, label: str, result: Any, accepted: str | None) -> None:
    hint = _follow_hint(resource, ctx, action, result)
    if hint and not action.mutates:
        print(sanitize(hint))  # nothing was sent (kyaraben's follow command): not `accepted`
        return
    shown = action.show(result) if action.show else _show(result)
    # a followed action (a kyaraben command, a job run) was only accepted: how it ends is in its log, as
    # on the screen ("accepted, following it"); so was one the server makes in the background (DELETING)
    outcome = "accepted" if action.followed or accepted is not None else "done"
    print(sanitize(f"{action.label}: {outcome}" + (f" ({label})" if label else "")
                   + (f": {accepted}" if accepted is not None else "")))
    if shown:
        print(sanitize(shown, multiline=True))
    if hint:
        print(sanitize(hint))


@contextlib.contextmanager
def _signals_cancel():
    """While `do` sends: ctrl+c or SIGTERM cancels the request in flight (its journal line is written
    as interrupted) and the verb then says so; SIGTERM used to kill it with no journal line at all.
    Yields the list that receives the signal's number."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    caught: list[int] = []

    def on(signum: int) -> None:
        if not caught and task is not None:
            caught.append(signum)
            task.cancel()

    signals = (signal.SIGINT, signal.SIGTERM)
    before = {signum: signal.getsignal(signum) for signum in signals}
    try:
        for signum in signals:
            loop.add_signal_handler(signum, on, signum)
    except (ValueError, RuntimeError):  # not the main thread: the default handling stays
        signals = ()
    try:
        yield caught
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
            signal.signal(signum, before[signum])  # (--demo's SIGTERM clean-up, asyncio's SIGINT)


# --- logs -------------------------------------------------------------------------------

async def run_logs(args: argparse.Namespace, config: Config, resolve, open_session) -> int:
    profile, resource = resolve(config, args.resource, args.profile)
    if resource.log is None:
        raise VerbUsageError(f"{resource.name} have no log")
    scope = _scope_of(args, profile, resource)
    if args.command_id and not getattr(resource.log, "command_option", False):
        raise VerbUsageError(f"{resource.name}: the log takes no --command")
    session = open_session(config, profile, read_only=getattr(args, "read_only", False))
    async with session.client as client:
        if resource.scope is not None:
            from testdeck.cli import pick_scope

            scope = await pick_scope(client, resource, str(scope))
        ctx = Ctx(client, scope=scope, key=args.id)
        ctx.row = await _find_row(resource, ctx)
        if args.command_id:
            ctx.values["command_id"] = args.command_id
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

        def notice(batch: list[str]) -> None:  # diagnostics, not the log: stderr (`-f > out.log`)
            for line in batch:
                print(sanitize(line, multiline=True).replace("\n", " "), file=sys.stderr, flush=True)

        if args.follow:  # followed: a poll that fails is said and retried (feeds.py)
            feeds.NOTICE.set(notice)
        else:  # one read: every line there is now, up to the feed's first wait for more
            feeds.ONE_READ.set(True)
        try:
            async for batch in feed:
                write(batch)
        except feeds.CaughtUp:
            pass
        finally:
            close = getattr(feed, "aclose", None)
            if close is not None:
                await close()
    return 0
