"""The CLI verbs that report on every profile at once: `triage` (what is failing; exit 3 when
something is: a pipeline gate) and `journal` (what was done, newest first).

Read-only, and imported only when one of them runs; their parsers are with the others in verbs.py."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from testdeck import journal
from testdeck.config import Config
from testdeck.errors import ApiError, VerbUsageError
from testdeck.text import sanitize

EXIT_FAILING = 3  # `testdeck triage`: something is failing (a pipeline gate)


# --- triage -----------------------------------------------------------------------------

async def run_triage(args: argparse.Namespace, config: Config, open_session) -> int:
    from testdeck.columns import age
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
    if args.n < 0:
        raise VerbUsageError(f"-n takes how many entries: 0 or more, not {args.n}")
    entries = journal.read(args.n) if args.n else []  # (read(0) gave one: it stops after a first line)
    if args.output == "json":
        print(json.dumps(entries, indent=2, ensure_ascii=False))
        return 0
    for e in entries:
        print(sanitize(f"{journal.when(e.get('time'))}  {e.get('profile', '')}  {e.get('action', '')}  "
                       f"{e.get('method', '')} {e.get('path', '')}  {journal.outcome(e)}"))
    return 0
