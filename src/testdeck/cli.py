"""Entry point: the TUI, --demo, `profile ...`, and headless `get`/`describe`/`sim`.

Exit codes: 0 success, 1 an API, config or credential error (one line on
stderr with the server's own words), an output that cannot be written, or a
crash (a traceback without locals, secrets redacted), 2 usage errors, 130/143
ctrl+c/SIGTERM (`do` says what that left undone), 141 output cut by a closed
pipe (`| head`).
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

# httpx first, and from here: imported at the end of cli -> verbs -> setfields -> resources -> journal ->
# transport, its modules ran at a call depth on the edge of a 16 KiB frame-stack chunk, which CPython 3.11
# mapped and unmapped ~400 times (~800 system calls and ~400 page faults of every start)
import httpx  # noqa: F401

from testdeck import credentials, launch
from testdeck.config import SERVICES, Config, Profile, load_config
from testdeck.errors import ApiError, ConfigError, CredentialError, Interrupted, VerbUsageError
from testdeck.records import Record
from testdeck.resources import Ctx, Resource, did_you_mean
from testdeck.services import all_services, find_resource, get_service
from testdeck.text import sanitize

if TYPE_CHECKING:
    import argparse

BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `cat big | head` under pipefail


class UsageError(Exception):
    pass


# The console's own options, `--name VALUE` (the value's type) or a flag (None), as build_parser
# declares them: console_args reads these without argparse (a test holds the two to each other).
CONSOLE_OPTIONS: dict[str, type | None] = {"--config": Path, "--demo": None, "--seed": int, "--size": int,
                                           "--read-only": None, "--open": str}


def console_args(argv: list[str]) -> SimpleNamespace | None:
    """The usual start, `testdeck [--open TARGET] [--demo] ...` with its options spelt out, read
    without argparse: importing it and building the verbs' thirty-odd parsers cost every console
    start ~26 M instructions (~6 ms). None for anything else (a verb, -h, an abbreviation, a value
    that will not do): build_parser() reads those and says what it always said."""
    args = SimpleNamespace(open=None, command=None)
    words = iter(argv)
    for word in words:
        name, eq, value = word.partition("=")
        if name not in CONSOLE_OPTIONS:
            return None
        kind, attr = CONSOLE_OPTIONS[name], name[2:].replace("-", "_")
        if kind is None:  # a flag takes no value
            if eq:
                return None
            setattr(args, attr, True)
            continue
        if not eq:
            value = next(words, "-")
            if value.startswith("-"):  # none given, or one argparse may read otherwise (-1)
                return None
        try:
            setattr(args, attr, kind(value))
        except ValueError:
            return None
    return args


def build_parser() -> argparse.ArgumentParser:
    import argparse

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="config file (default: $TESTDECK_CONFIG or the user config dir)")
    common.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                        help="start the five built-in simulators and use them")
    common.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="demo data seed")
    common.add_argument("--size", type=int, default=argparse.SUPPRESS, help="extra demo rows")
    common.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                        help="refuse every mutating call (enforced in the adapters)")

    parser = argparse.ArgumentParser(prog="testdeck", parents=[common],
                                     description="Keyboard-first console for test-automation back-ends.")
    parser.add_argument("--open", metavar="TARGET", help="open a profile, service or resource at start")
    sub = parser.add_subparsers(dest="command")

    # Any other `--name value` is the resource's: `--<scope name> ID` is the scope (--project,
    # --testcase), the rest goes to Ctx.values (--from 2026..., --status RUNNING).
    extra = "other --NAME VALUE options: --<scope> ID sets the scope, the rest go to the resource"
    get = sub.add_parser("get", parents=[common], help="print a resource's rows", allow_abbrev=False,
                         epilog=extra)
    get.add_argument("resource")
    get.add_argument("-p", "--profile")
    get.add_argument("-o", "--output", choices=("table", "json", "csv"), default="table")
    get.add_argument("--scope", help="the scope (project, ...) of a scoped resource: its id or name")
    get.add_argument("--query", help="a server-side view of the resource (its Query value)")

    describe = sub.add_parser("describe", parents=[common], help="print one record as JSON",
                              allow_abbrev=False, epilog=extra)
    describe.add_argument("resource")
    describe.add_argument("id", help="the record's id (or its name, for resources that have one)")
    describe.add_argument("-p", "--profile")
    describe.add_argument("--scope")
    describe.add_argument("--query")

    prof = sub.add_parser("profile", parents=[common], help="manage profiles").add_subparsers(dest="action",
                                                                                             required=True)
    add = prof.add_parser("add", parents=[common], help="add a profile, or change one (what is not given is kept); "
                          "asks for its secret without echo")
    add.add_argument("name")
    add.add_argument("--service", required=True, choices=SERVICES)
    add.add_argument("--url", required=True)
    add.add_argument("--timeout", type=float, help="seconds for a whole request (default 10)")
    add.add_argument("--verify-tls", action=argparse.BooleanOptionalAction, default=None,
                     help="verify the server's certificate (default: on)")
    add.add_argument("--ca-bundle", help="a PEM file or folder to verify the server against (stored absolute)")
    add.add_argument("--user-id", help="kyaraben: X-Auth-UserId")
    add.add_argument("--group", help="xpresso: group")
    add.add_argument("--project-id", help="onetest/kyaraben: default project")
    add.add_argument("--space-id", help="onetest: space")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--secret-stdin", action="store_true", help="read the secret from stdin (scripts)")
    how.add_argument("--no-secret", action="store_true",
                     help="this profile has no secret (one stored for it is removed)")
    add.add_argument("--insecure-storage", action="store_true",
                     help="store the secret in a 0600 file instead of the keyring (no keyring on this host)")
    prof.add_parser("list", parents=[common], help="list profiles (never prints a secret)")
    rm = prof.add_parser("remove", parents=[common], help="remove a profile and its stored secret")
    rm.add_argument("name")
    test = prof.add_parser("test", parents=[common], help="call a cheap endpoint and report OK or the server's error")
    test.add_argument("name")

    sim = sub.add_parser("sim", help="serve one simulator on loopback (for development)")
    sim.add_argument("service", choices=SERVICES)
    sim.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one, printed)")
    sim.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="delay before every answer")
    sim.add_argument("--error-rate", type=float, default=0.0, metavar="FRACTION",
                     help="share of requests answered with a 5xx (0.3: about one in three)")
    sim.add_argument("--seed", type=int, default=1, help="seed of the generated data (the same seed, the same data)")
    sim.add_argument("--size", type=int, default=0, metavar="ROWS", help="extra generated rows (100000 for a big table)")
    from testdeck import verbs  # (the headless verbs: not imported for the console's start)

    verbs.add_parsers(sub, common)
    # the verbs a user types: not __complete, the shell completion's own (argparse listed it in usage and errors)
    sub.metavar = "{" + ",".join(name for name in sub.choices if not name.startswith("_")) + "}"
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if sys.stdout is None:  # started with stdout closed (`>&-`): say so rather than act and crash
        print("testdeck: standard output is closed (>&-): nothing done; use >/dev/null to discard it",
              file=sys.stderr)
        return 1
    if argv[:1] == ["__complete"]:  # the words typed so far, options and all: not for argparse to judge
        return run_completion(SimpleNamespace(command="__complete", words=argv[1:]))
    args, extras = console_args(argv), []
    if args is None:
        parser = build_parser()
        args, extras = parser.parse_known_args(argv)
        if extras and args.command not in ("get", "describe", "do", "logs"):  # do, logs: --project ID, as get
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
    args.extras = extras
    if args.command is not None:  # a headless verb: start-up is over (the console's is at its first frame)
        launch.release_gc()
    demo = None
    try:
        if args.command == "sim":
            return run_sim(args)
        if args.command in ("completion", "__complete"):
            return run_completion(args)
        if getattr(args, "config", None) is not None:
            # everything that derives from the config's place (secrets.toml beside it) follows it
            os.environ["TESTDECK_CONFIG"] = str(args.config)
        if getattr(args, "demo", False) and args.command == "profile" and args.action in ("add", "remove"):
            raise UsageError("--demo uses a temporary config, deleted at exit: run `profile` without --demo")
        if getattr(args, "demo", False):
            from testdeck.demo import start_demo

            demo = start_demo(seed=getattr(args, "seed", 1), size=getattr(args, "size", 0))
            guard_demo(demo)
            config = demo.config
            if args.command is None:  # the console: your keys and look on the demo's profiles
                demo_keeps_yours(config, getattr(args, "config", None))
        else:
            config = load_config(getattr(args, "config", None))
        for warning in config.warnings:  # unknown tables and keys: kept, but maybe misspelt
            print(f"testdeck: note: {sanitize(warning)}", file=sys.stderr)
        if args.command == "triage" and not config.profiles:
            # a mistyped config path must not turn a pipeline gate green: nothing was checked
            raise ConfigError(f"no profiles in {config.path}" + ("" if config.path.exists() else " (no such file)")
                              + ": nothing to triage")
        if args.command == "profile":
            from testdeck.profile_verbs import run_profile

            code = run_profile(args, config)
        elif args.command in ("get", "describe"):
            code = asyncio.run(run_get(args, config))
        elif args.command == "do":
            from testdeck import verbs

            code = asyncio.run(verbs.run_do(args, config, resolve, _open_session))
        elif args.command == "logs":
            from testdeck import verbs

            code = asyncio.run(verbs.run_logs(args, config, resolve, _open_session))
        elif args.command == "triage":
            from testdeck.report_verbs import run_triage

            code = asyncio.run(run_triage(args, config, _open_session))
        elif args.command == "journal":
            from testdeck.report_verbs import run_journal

            code = run_journal(args)
        else:
            code = run_tui(args, config)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # `testdeck get ... | head`: the reader has all it wanted; say nothing more
        _quiet_stdout()
        return BROKEN_PIPE
    except (UsageError, VerbUsageError) as exc:  # (lines kept: a question naming several rows)
        print(f"testdeck: {sanitize(exc, multiline=True)}", file=sys.stderr)
        return 2
    except Interrupted as exc:  # ctrl+c at a question, or with a request in flight: said
        print(f"testdeck: {sanitize(exc)}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:  # ctrl+c ends `logs -f` quietly
        return 130
    except (ApiError, ConfigError, CredentialError) as exc:
        print(f"testdeck: {sanitize(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: the traceback, but never a secret and no locals
        if isinstance(exc, OSError) and exc.filename is None and exc.errno in OUTPUT_ERRNOS:
            # stdout itself failed (`> /dev/full`, a disk that filled): one line, nothing more to flush
            print(f"testdeck: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
            _quiet_stdout()
            return 1
        from testdeck.crash import crash_report
        from rich.console import Console

        Console(file=sys.stderr, color_system=None).print(crash_report())
        return 1
    finally:
        if demo is not None:
            demo.stop()


OUTPUT_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT}  # a write that failed (no file named)


def _quiet_stdout() -> None:
    """What is still buffered goes nowhere: the interpreter's last flush must not fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def demo_keeps_yours(config: Config, named: Path | None) -> None:
    """--demo uses your `[keys]` and `theme` (the themes beside your config it finds already): a
    remap tried on the demo works as it will on your servers."""
    try:
        yours = load_config(named)
    except ConfigError as exc:
        config.warnings.append(f"--demo: your [keys] and theme are not used: {exc}")
        return
    if "keys" in yours.extra:
        config.extra["keys"] = yours.extra["keys"]
    if yours.theme:
        config.settings["theme"] = yours.theme


def guard_demo(demo: Any) -> None:
    """The demo's temporary config goes even when the terminal does (SIGHUP) or on SIGTERM."""
    import atexit
    import shutil
    import signal

    def cleanup(signum: int, frame: Any) -> None:
        shutil.rmtree(demo.folder, ignore_errors=True)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # then die of it, as the sender expects

    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, cleanup)
    atexit.register(shutil.rmtree, demo.folder, True)


def run_tui(args: argparse.Namespace, config: Config) -> int:
    from testdeck import terminal_keys
    from testdeck.app import TestdeckApp

    terminal_keys.install()  # esc then a key, arriving together over SSH, is esc then that key
    app = TestdeckApp(config, read_only=getattr(args, "read_only", False), start=args.open)
    app.run()
    return app.return_code or 0  # 1 after a crash


def _open_session(config: Config, profile: Profile, read_only: bool = False):
    from testdeck.session import ProfileSession

    return ProfileSession.open(config, profile, read_only=read_only)


def run_completion(args: argparse.Namespace) -> int:
    from testdeck import completion

    if args.command == "completion":
        print(completion.BASH if args.shell == "bash" else completion.ZSH, end="")
        return 0
    try:
        named = completion.config_named(args.words)
        config = load_config(Path(named).expanduser() if named else None)
    except (ConfigError, OSError):
        config = None
    print("\n".join(completion.complete(args.words, config)))
    return 0



# --- headless get / describe ------------------------------------------------------------

def find_resources(name: str) -> list[tuple[Any, Resource]]:
    """By name or alias, then case-insensitively, then singular (`alert`, `ALERTS`)."""
    lowered = name.lower()
    for candidate in dict.fromkeys((name, lowered, lowered + "s", lowered + "es")):
        found = find_resource(candidate)
        if found:
            return found
    return []


def _resource_of(service: Any, name: str) -> Resource | None:
    lowered = name.lower()
    return next((r for c in (name, lowered, lowered + "s", lowered + "es") if (r := service.resource(c))), None)


def resolve(config: Config, resource_name: str, profile_name: str | None) -> tuple[Profile, Resource]:
    if profile_name:
        profile = config.profiles.get(profile_name)
        if profile is None:
            raise UsageError(f"no profile {profile_name!r} (see `testdeck profile list`)")
        res = _resource_of(get_service(profile.service), resource_name)
        if res is None:
            names = [r.name for r in get_service(profile.service).resources]
            raise UsageError(f"{profile.service} has no resource {resource_name!r}{did_you_mean(resource_name, names)} "
                             f"(it has: {', '.join(names)})")
        return profile, res
    found = find_resources(resource_name)
    matches = [(p, r) for svc, r in found for p in config.profiles_for(svc.name)]
    if not matches:
        if not found:
            known = sorted({r.name for svc in all_services() for r in svc.resources})
            raise UsageError(f"unknown resource {resource_name!r}{did_you_mean(resource_name, known)} "
                             f"(known: {', '.join(known)})")
        raise UsageError(f"no profile serves {resource_name!r}; add one or use --demo")
    if len(matches) > 1:
        raise UsageError(f"several profiles serve {resource_name!r}: choose one with -p "
                         f"({', '.join(p.name for p, _ in matches)})")
    return matches[0]


def options(extras: list[str]) -> dict[str, str]:
    """`get`'s `--name value` options (cli_options.split_options); a bare word is a usage error."""
    from testdeck import cli_options

    out, words = cli_options.split_options(extras)
    if words:
        raise UsageError(f"unexpected argument {words[0]!r} (options are --NAME VALUE)")
    return out


async def pick_scope(client: Any, resource: Resource, given: str) -> str:
    """The scope as given: an id, or else the name the TUI shows for it."""
    try:
        choices = await resource.scope.options(Ctx(client))  # type: ignore[union-attr]
    except ApiError:
        return given
    if any(str(sid) == given for sid, _ in choices):
        return given
    named = [str(sid) for sid, label in choices if str(label) == given]
    return named[0] if len(named) == 1 else given


async def run_get(args: argparse.Namespace, config: Config) -> int:
    from testdeck import cli_options
    from testdeck.session import ProfileSession

    profile, resource = resolve(config, args.resource, args.profile)
    values = options(args.extras)
    scope = args.scope
    if resource.scope is not None:
        named = values.pop(resource.scope.name, None)
        scope = scope or named or resource.scope.default_for(profile.fields)
        if not scope:
            raise UsageError(f"{resource.name} lives inside {cli_options.article(resource.scope.name)}: "
                             f"pass --{resource.scope.name} ID")
    own = ("scope", "query", "profile", "output") + ((resource.scope.name,) if resource.scope is not None else ())
    cli_options.check_options(resource, values, own)
    session = ProfileSession.open(config, profile, read_only=getattr(args, "read_only", False))
    async with session.client as client:
        if resource.scope is not None:
            scope = await pick_scope(client, resource, str(scope))
        ctx = Ctx(client, scope=scope, values=values, query=args.query)
        if args.command == "describe":
            record = await describe(profile, resource, ctx, args.id)
            if isinstance(record, str):  # a text document (a kyaraben test source): as is, so it pipes
                print(sanitize(record, multiline=True), end="" if record.endswith("\n") else "\n")
            else:
                print(dumps(_raw(record), indent=2))
            return 0
        records = list(await resource.list(ctx))
    if args.output == "json":
        print(dumps([_raw(r) for r in records], indent=2))
    elif args.output == "csv":
        # LF, not the csv module's CRLF: `cut`/`awk` got `…\r` in the last field (csv readers take both)
        import csv

        csv.writer(sys.stdout, lineterminator="\n").writerows(resource.csv_rows(records))
    else:
        from testdeck.screens.view import format_rows

        # as the screen: an ERROR cell with its reason (`ERROR: Heat stack creation failed…`), measured
        rows = [tuple(sanitize(c) for c in row.cells) for row in format_rows(resource, records, meanings=True)]
        print_table([c.heading for c in resource.columns], rows,
                    [None if c.reason else c.width for c in resource.columns])
    return 0


async def describe(profile: Profile, resource: Resource, ctx: Ctx, wanted: str) -> Any:
    """One record by its key, or else by its name (resources that declare `label`)."""

    async def by_label() -> Any:
        hits = await resource.named(ctx, wanted)
        if len(hits) > 1:
            raise UsageError(f"{len(hits)} {resource.name} are named {wanted!r}; give the id "
                             f"({', '.join(resource.row_key(r) for r in hits)})")
        return hits[0] if hits else None

    if resource.detail is not None:
        ctx.key = wanted
        try:
            return await resource.detail(ctx)
        except ApiError as exc:
            if not resource.label or (exc.status is not None and exc.status not in (200, 400, 404)):
                raise
            found = await by_label()
            if found is None:
                raise
            ctx.key, ctx.row = resource.row_key(found), found
            return await resource.detail(ctx)
    found = await by_label()
    if found is None:
        raise ApiError(profile.service, profile.name, "GET", resource.name, 404,
                       f"no {resource.name} with id {wanted!r}")
    return found


# DEL, C1 controls, bidi controls and line/paragraph separators: valid JSON when raw, but a
# terminal may act on them, so they are printed as \u escapes (still valid JSON)
_JSON_UNSAFE = "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"  # (compiled at first use)


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON safe for a terminal: controls escaped (json does C0), non-ASCII text kept readable."""
    text = json.dumps(value, indent=indent, default=str, ensure_ascii=False)
    return re.sub(_JSON_UNSAFE, lambda m: f"\\u{ord(m.group()):04x}", text)


def _raw(record: Any) -> Any:
    return record.api() if isinstance(record, Record) else record


def print_table(headings: list[str], rows: list[tuple[str, ...]], fixed: list[int | None]) -> None:
    """Columns as the console measures them; a cut cell ends in … (as in the console), and the last
    column, with nothing after it, is printed in full (a secrets file's path, a long title)."""
    from testdeck.widgets.table import TableData, fit

    data = TableData.build(headings, [(str(i), r) for i, r in enumerate(rows)], fixed)
    for cells in [tuple(h.upper() for h in headings), *data.rows]:
        *first, last = cells
        print("  ".join([*(fit(c, w) for c, w in zip(first, data.widths)), last]).rstrip())


def run_sim(args: argparse.Namespace) -> int:
    import time

    from testdeck.sim import SimConfig, serve

    service = get_service(args.service)
    app = service.create_sim(SimConfig(seed=args.seed, size=args.size, latency=args.latency,
                                       error_rate=args.error_rate))
    server = serve(app, port=args.port)
    print(f"{args.service} simulator on {server.url} (ctrl+c to stop)", flush=True)
    if service.demo_secret:
        # the simulator's built-in demo credential (public, in its sim.py), not a user secret
        print(f"demo credential: {service.demo_secret}  (give it to your profile, e.g. via "
              f"{credentials.env_var('NAME')})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0
