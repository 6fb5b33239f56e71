"""Entry point: the TUI, --demo, `profile ...`, and headless `get`/`describe`/`sim`.

Exit codes: 0 success, 1 an API, config or credential error (one line on
stderr with the server's own words), 2 usage errors.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from testdeck import credentials
from testdeck.config import SERVICES, Config, Profile, load_config, save_config
from testdeck import verbs
from testdeck.errors import ApiError, ConfigError, CredentialError
from testdeck.records import Record
from testdeck.resources import Ctx, Resource
from testdeck.services import find_resource, get_service

PROFILE_FIELDS = {"user_id": "user_id", "group": "group", "project_id": "project_id", "space_id": "space_id"}


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
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

    get = sub.add_parser("get", parents=[common], help="print a resource's rows")
    get.add_argument("resource")
    get.add_argument("-p", "--profile")
    get.add_argument("-o", "--output", choices=("table", "json", "csv"), default="table")
    get.add_argument("--project", "--scope", dest="scope", help="the project (scope) of a scoped resource")

    describe = sub.add_parser("describe", parents=[common], help="print one record as JSON")
    describe.add_argument("resource")
    describe.add_argument("id")
    describe.add_argument("-p", "--profile")
    describe.add_argument("--project", "--scope", dest="scope")

    prof = sub.add_parser("profile", parents=[common], help="manage profiles").add_subparsers(dest="action",
                                                                                             required=True)
    add = prof.add_parser("add", help="add or replace a profile; asks for its secret without echo")
    add.add_argument("name")
    add.add_argument("--service", required=True, choices=SERVICES)
    add.add_argument("--url", required=True)
    add.add_argument("--timeout", type=float, default=10.0)
    add.add_argument("--no-verify-tls", action="store_true")
    add.add_argument("--ca-bundle")
    add.add_argument("--user-id", help="kyaraben: X-Auth-UserId")
    add.add_argument("--group", help="xpresso: group")
    add.add_argument("--project-id", help="onetest/kyaraben: default project")
    add.add_argument("--space-id", help="onetest: space")
    add.add_argument("--secret-stdin", action="store_true", help="read the secret from stdin (scripts)")
    add.add_argument("--no-secret", action="store_true", help="this profile has no secret")
    add.add_argument("--insecure-storage", action="store_true",
                     help="store the secret in a 0600 file instead of the keyring (no keyring on this host)")
    prof.add_parser("list", help="list profiles (never prints a secret)")
    rm = prof.add_parser("remove", help="remove a profile and its stored secret")
    rm.add_argument("name")
    test = prof.add_parser("test", help="call a cheap endpoint and report OK or the server's error")
    test.add_argument("name")

    sim = sub.add_parser("sim", help="serve one simulator on loopback (for development)")
    sim.add_argument("service", choices=SERVICES)
    sim.add_argument("--port", type=int, default=0)
    sim.add_argument("--latency", type=float, default=0.0)
    sim.add_argument("--error-rate", type=float, default=0.0)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--size", type=int, default=0)
    verbs.add_parsers(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    demo = None
    try:
        if args.command == "sim":
            return run_sim(args)
        if args.command in ("completion", "__complete"):
            return run_completion(args)
        if getattr(args, "demo", False):
            from testdeck.demo import start_demo

            demo = start_demo(seed=getattr(args, "seed", 1), size=getattr(args, "size", 0))
            config = demo.config
        else:
            config = load_config(getattr(args, "config", None))
        if args.command == "profile":
            return run_profile(args, config)
        if args.command in ("get", "describe"):
            return asyncio.run(run_get(args, config))
        if args.command == "do":
            return asyncio.run(verbs.run_do(args, config, resolve, _open_session))
        if args.command == "logs":
            return asyncio.run(verbs.run_logs(args, config, resolve, _open_session))
        if args.command == "triage":
            return asyncio.run(verbs.run_triage(args, config, _open_session))
        if args.command == "journal":
            return verbs.run_journal(args)
        return run_tui(args, config)
    except (UsageError, verbs.VerbUsageError) as exc:
        print(f"testdeck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # ctrl+c ends `logs -f` and prompts quietly
        return 130
    except (ApiError, ConfigError, CredentialError) as exc:
        print(f"testdeck: {exc}", file=sys.stderr)
        return 1
    finally:
        if demo is not None:
            demo.stop()


def _open_session(config: Config, profile: Profile, read_only: bool = False):
    from testdeck.session import ProfileSession

    return ProfileSession.open(config, profile, read_only=read_only)


def run_completion(args: argparse.Namespace) -> int:
    if args.command == "completion":
        print(verbs.BASH if args.shell == "bash" else verbs.ZSH, end="")
        return 0
    try:
        config = load_config(None)
    except ConfigError:
        config = None
    print("\n".join(verbs.complete(args.words, config)))
    return 0


def run_tui(args: argparse.Namespace, config: Config) -> int:
    from testdeck.app import TestdeckApp

    TestdeckApp(config, read_only=getattr(args, "read_only", False), start=args.open).run()
    return 0


# --- headless get / describe ------------------------------------------------------------

def resolve(config: Config, resource_name: str, profile_name: str | None) -> tuple[Profile, Resource]:
    if profile_name:
        profile = config.profiles.get(profile_name)
        if profile is None:
            raise UsageError(f"no profile {profile_name!r} (see `testdeck profile list`)")
        res = get_service(profile.service).resource(resource_name)
        if res is None:
            names = ", ".join(r.name for r in get_service(profile.service).resources)
            raise UsageError(f"{profile.service} has no resource {resource_name!r} (it has: {names})")
        return profile, res
    matches = [(p, r) for svc, r in find_resource(resource_name) for p in config.profiles_for(svc.name)]
    if not matches:
        if not find_resource(resource_name):
            raise UsageError(f"unknown resource {resource_name!r}")
        raise UsageError(f"no profile serves {resource_name!r}; add one or use --demo")
    if len(matches) > 1:
        raise UsageError(f"several profiles serve {resource_name!r}: choose one with -p "
                         f"({', '.join(p.name for p, _ in matches)})")
    return matches[0]


async def run_get(args: argparse.Namespace, config: Config) -> int:
    from testdeck.screens.resource import format_rows
    from testdeck.session import ProfileSession

    profile, resource = resolve(config, args.resource, args.profile)
    scope = args.scope or (resource.scope.default_for(profile.fields) if resource.scope else None)
    if resource.scope is not None and not scope:
        raise UsageError(f"{resource.name} lives inside a {resource.scope.name}: pass --{resource.scope.name} ID")
    session = ProfileSession.open(config, profile, read_only=getattr(args, "read_only", False))
    async with session.client as client:
        if args.command == "describe":
            ctx = Ctx(client, scope=scope, key=args.id)
            if resource.detail is not None:
                record = await resource.detail(ctx)
            else:
                found = [r for r in await resource.list(ctx) if resource.row_key(r) == args.id]
                if not found:
                    raise ApiError(profile.service, profile.name, "GET", resource.name, 404,
                                   f"no {resource.name} with id {args.id!r}")
                record = found[0]
            if isinstance(record, str):  # a text document (a kyaraben test source): as is, so it pipes
                print(record, end="" if record.endswith("\n") else "\n")
            else:
                print(json.dumps(_raw(record), indent=2, default=str))
            return 0
        records = await resource.list(Ctx(client, scope=scope))
    if args.output == "json":
        print(json.dumps([_raw(r) for r in records], indent=2, default=str))
        return 0
    rows = format_rows(resource, list(records))
    headings = [c.heading for c in resource.columns]
    if args.output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(headings)
        writer.writerows(r.cells for r in rows)
        return 0
    print_table(headings, [r.cells for r in rows], [c.width for c in resource.columns])
    return 0


def _raw(record: Any) -> Any:
    return record.raw if isinstance(record, Record) else record


def print_table(headings: list[str], rows: list[tuple[str, ...]], fixed: list[int | None]) -> None:
    from rich.cells import set_cell_size

    from testdeck.widgets.table import TableData

    data = TableData.build(headings, [(str(i), r) for i, r in enumerate(rows)], fixed)
    for cells in [tuple(h.upper() for h in headings), *data.rows]:
        print("  ".join(set_cell_size(c, w) for c, w in zip(cells, data.widths)).rstrip())


# --- profiles ---------------------------------------------------------------------------

def run_profile(args: argparse.Namespace, config: Config) -> int:
    if args.action == "list":
        if not config.profiles:
            print(f"no profiles in {config.path}")
            return 0
        headings = ["name", "service", "url", "tls", "secret"]
        rows = []
        for p in config.profiles.values():
            tls = "ca-bundle" if p.ca_bundle else ("on" if p.verify_tls else "OFF")
            rows.append((p.name, p.service, p.url, tls, credentials.get_secret(p.name).source))
        print_table(headings, rows, [None] * len(headings))
        warning = credentials.keyring_warning()
        if warning:
            print(f"note: {warning}", file=sys.stderr)
        return 0
    if args.action == "add":
        return profile_add(args, config)
    if args.name not in config.profiles:
        raise UsageError(f"no profile {args.name!r} in {config.path}")
    if args.action == "remove":
        del config.profiles[args.name]
        save_config(config)
        credentials.delete_secret(args.name)
        print(f"removed {args.name}")
        return 0
    return asyncio.run(profile_test(config, config.profiles[args.name]))


def profile_add(args: argparse.Namespace, config: Config) -> int:
    if not args.url.startswith(("http://", "https://")):
        raise UsageError("--url must start with http:// or https://")
    fields = {key: getattr(args, attr) for attr, key in PROFILE_FIELDS.items() if getattr(args, attr, None)}
    if args.service == "kyaraben" and "user_id" not in fields:
        raise UsageError("kyaraben profiles need --user-id (sent as X-Auth-UserId)")
    profile = Profile(args.name, args.service, args.url.rstrip("/"), verify_tls=not args.no_verify_tls,
                      ca_bundle=args.ca_bundle, timeout=args.timeout, fields=fields)
    secret = None
    if not args.no_secret:
        if args.secret_stdin:
            secret = sys.stdin.readline().rstrip("\n")
        elif sys.stdin.isatty():
            secret = getpass.getpass(f"secret for {args.name} (hidden; empty for none): ")
    config.profiles[args.name] = profile
    save_config(config)
    where = "no secret"
    if secret:
        where = credentials.set_secret(args.name, secret, insecure_storage=args.insecure_storage)
    print(f"saved profile {args.name} ({args.service} at {profile.url}); secret: {where}")
    return 0


async def profile_test(config: Config, profile: Profile) -> int:
    from testdeck.session import ProfileSession

    session = ProfileSession.open(config, profile)
    async with session.client as client:
        try:
            what = await client.ping()
        except ApiError as exc:
            print(f"{profile.name}: FAILED: {exc.one_line()}")
            return 1
    print(f"{profile.name}: OK ({what}; secret from {session.secret_source})")
    return 0


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
