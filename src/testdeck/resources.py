"""Declarative resource specs: a service says what it has, one screen renders it.

A service's views.py declares Resources (columns, list/detail calls, actions
with forms) and one Service. Every callable takes a Ctx, so the generic
screen, the CLI and tests all drive a resource the same way.

Here: Resource, Action (and how one runs: run, the confirmation's question),
Ctx, Scope, Query, Opt, Failing, Service. A table's columns, the meanings of
states and the cell formatters are in columns.py; a form's fields in forms.py.

These declarations (and the console's other small classes on the start-up path) are msgspec
Structs, not dataclasses: building ~25 dataclasses (exec of generated code) cost ~20 ms of a cold start.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import msgspec

from testdeck import journal
from testdeck.columns import Col
from testdeck.forms import Form
from testdeck.records import Record
from testdeck.text import quoted, sanitize

LogFeed = AsyncIterator[list[str]]  # batches of new lines until the source ends


class Ctx(msgspec.Struct):
    """What a resource callable gets: the client, the scope, the row, form values."""

    client: Any
    scope: str | None = None
    row: Record | None = None
    values: dict[str, Any] = msgspec.field(default_factory=dict)
    changed: dict[str, Any] = msgspec.field(default_factory=dict)  # edit forms: only what the user changed
    progress: Callable[[int, int], None] | None = None  # uploads report (sent, total) here
    key: str | None = None  # the selected row's key (also for `describe ID`)
    query: str | None = None  # the chosen server-side Query's value (None: the resource's default)
    # the marked rows, for an action that takes them all in one call (OneTest stops many with one PATCH)
    marked: list[Record] = msgspec.field(default_factory=list)
    read_at: float | None = None  # when the row was read from the server (a drill-in says how old it is)


class Accepted(msgspec.Struct):
    """An action's result when the server only accepted the change and makes it in the background (a
    kyaraben VM delete leaves the VM DELETING): said `accepted: <state>`, never `done`, by the screen,
    its bulk summary and `testdeck do`. `result` is what the call returned (a new id), shown as before."""

    state: str  # what is true now, in the server's words where it has some: "VM 'x' is DELETING; …"
    result: Any = None


async def run(action: Action, ctx: Ctx) -> Any:
    """An action's call as the screen, a bulk and `do` all make it: journaled under its label, the
    values of its form's secret fields redacted (the journal, errors) whatever the service, and its
    journal line `accepted`, not `done`, when the server only accepted it (Accepted, a followed action)."""
    secrets = [str(ctx.values[f.name]) for f in (action.form.fields if action.form is not None else ())
               if f.type == "secret" and ctx.values.get(f.name) not in (None, "")]
    for value in secrets:
        ctx.client.remember_secret(value)
    with journal.acting(action.label, secrets) as act:
        result = await action.call(ctx)
        act.accepted = action.followed or isinstance(result, Accepted)
    return result


def unwrap(result: Any) -> Any:
    """The call's own result, whether or not it was only accepted."""
    return result.result if isinstance(result, Accepted) else result


def nothing_changed(cx: Ctx, method: str, path: str) -> Exception:
    """Raised by an edit whose form (or `do --set`) changed nothing: not sent, as `nothing changed:
    nothing sent` (each update bumps a revision on a real server, and `done` would say it acted)."""
    return cx.client.refuse(method, path, "nothing changed: nothing sent")


DAY = 86400.0  # Failing.within for runs that ended: failed in the last day is failing now


class Action(msgspec.Struct):
    key: str
    label: str
    call: Callable[[Ctx], Awaitable[Any]]
    form: Form | None = None
    mutates: bool = False
    # ask before running (deletes). True: the screen's question (what, which rows, which profile); a text, or
    # a callable making one from the rows it will touch, adds what else happens ("its files go too"); a
    # callable of two parameters also gets the action's Ctx: the values its form will send ("sets logLevel
    # to DEBUG"), its scope ("from project 3600")
    confirm: bool | str | Callable[[list[Record]], str] | Callable[[list[Record], Ctx], str] = False
    row: bool = True  # needs a selected row
    show: Callable[[Any], str] | None = None  # render the result in a dialog
    follow: Callable[[Ctx, Any], LogFeed] | None = None  # open a log tail on the result
    screen: Callable[[Ctx, Any], Any] | None = None  # push a special screen with the result
    upload: bool = False  # show upload progress
    bulk: bool = False  # may run on every marked row after one confirmation
    select: Callable[[Any], str | None] | None = None  # the row key of the result: the cursor goes there
    refresh: bool = False  # a view change (alyvix: measures of one session): reload the list, though nothing changed
    # why the action cannot run here (this scope, this row), from a rule the service knows without asking the
    # server: said at the key, before any form, question or request; None (or "") when it can run
    unavailable: Callable[[Ctx], str | None] | None = None
    # the records a confirmation names (default: the selected row); an action that takes several in one
    # call (OneTest's stop: the ids in its form) names those; after a form, ctx.values holds what it will send
    targets: Callable[[Ctx], list[Record]] | None = None

    @property
    def followed(self) -> bool:
        """The console follows how it ends (a log, XPRESSO's request screen): the server only accepted it."""
        return self.follow is not None or (self.mutates and self.screen is not None)

    def why_not(self, ctx: Ctx) -> str | None:
        """The declared reason this action cannot run on ctx, or None."""
        if self.unavailable is None:
            return None
        try:
            return self.unavailable(ctx) or None
        except Exception:  # a bad hook must not block the action: the server still has its say
            return None

    def confirm_note(self, rows: list[Any], ctx: Ctx | None = None) -> str:
        """The service's own words for the confirmation, after the generic question ("" if none);
        `ctx`: the action's (after its form: ctx.values holds what it will send)."""
        if isinstance(self.confirm, str):
            return self.confirm
        if callable(self.confirm):
            try:
                rows = [r for r in rows if r is not None]
                if len(inspect.signature(self.confirm).parameters) > 1:
                    return str(self.confirm(rows, ctx if ctx is not None else Ctx(None)) or "")
                return str(self.confirm(rows) or "")
            except Exception:  # a bad hook must not hide the question: the generic one still asks
                return ""
        return ""


class Scope(msgspec.Struct):
    """Resources that live inside something (a project): the screen offers to pick it."""

    name: str  # "project"
    options: Callable[[Ctx], Awaitable[list[tuple[str, str]]]]  # (id, label)
    # the scope when nothing was chosen yet, from the profile's fields; default: fields["<name>_id"]
    default: Callable[[dict[str, Any]], str | None] | None = None
    # persist a choice the user made in the picker: (config, profile, chosen id)
    remember: Callable[[Any, Any, str], None] | None = None

    def default_for(self, fields: dict[str, Any]) -> str | None:
        value = self.default(fields) if self.default is not None else fields.get(f"{self.name}_id")
        return None if value in (None, "") else str(value)


class Query(msgspec.Struct):
    """A server-side view of a resource (failed jobs, execution history): a key switches to it.

    The resource's list call reads `ctx.query`; None means its default view."""

    key: str
    label: str
    value: str | None


class Opt(msgspec.Struct, frozen=True):
    """A `--name VALUE` of the CLI's `get`/`describe` that the resource's list or detail call reads
    from `ctx.values` (alyvix `--from`, OneTest `--status`). Any other option is a usage error."""

    name: str  # as in ctx.values: `--stubs-runtime` is stubs_runtime
    choices: tuple[str, ...] | None = None  # the only values it takes (compared case-insensitively)
    many: bool = False  # a comma-separated list of choices

    def problem(self, value: str) -> str | None:
        """Why `value` is not one this option takes; None when it is."""
        if self.choices is None:
            return None
        given = [v.strip() for v in value.split(",")] if self.many else [value.strip()]
        known = {c.lower() for c in self.choices}
        bad = next((v for v in given if v.lower() not in known), None)
        if bad is None:
            return None
        return (f"--{self.name.replace('_', '-')}: {bad!r} is not one of the choices{did_you_mean(bad, self.choices)}: "
                f"{', '.join(self.choices)}" + (" (several: comma-separated)" if self.many else ""))


def did_you_mean(given: str, known: Any) -> str:
    """` (did you mean 'delete'?)` for a near miss among `known` (case-insensitive), else ""."""
    import difflib

    names = {str(k).lower(): str(k) for k in known}
    close = difflib.get_close_matches(str(given).lower(), list(names), n=1, cutoff=0.6)
    return f" (did you mean {names[close[0]]!r}?)" if close else ""


class Failing(msgspec.Struct):
    """What "failing" means for a service (the triage view): rows of `resource` matching `when`."""

    resource: str
    when: Callable[[Record], bool]
    severity: str = "error"  # "critical", "error" or "warning"
    what: Callable[[Record], str] | None = None  # default: the row's label or key
    message: Callable[[Record], str] | None = None  # the server's words on why
    since: Callable[[Record], Any] | None = None  # epoch or ISO time it started failing
    query: str | None = None  # list the resource with this Query value (search_jobs tags:_error)
    # a row that failed longer ago than this (seconds, by `since`) is history, not failing now: a run that
    # failed last month kept `testdeck triage` at exit 3 for good
    within: float | None = None


class Resource(msgspec.Struct):
    name: str
    title: str
    key: str
    columns: list[Col]
    list: Callable[[Ctx], Awaitable[list[Record]]]
    detail: Callable[[Ctx], Awaitable[Any]] | None = None
    actions: list[Action] = msgspec.field(default_factory=list)
    log: Callable[[Ctx], LogFeed] | None = None
    scope: Scope | None = None
    aliases: tuple[str, ...] = ()
    label: str | None = None  # the field that names a record for humans (confirmations, titles)
    # `enter` on a row: "log" opens its log, a resource name opens that resource scoped to this row, a
    # callable gets the row's Ctx and returns a screen to push (a service's own screen, imported lazily)
    drill: str | Callable[[Ctx], Any] | None = None
    queries: list[Query] = msgspec.field(default_factory=list)
    # a widget above the table (a chart), built lazily by the screen; after each good
    # refresh it gets `show_records(records, ctx)`
    header: Callable[[], Any] | None = None
    # what else narrows the rows besides scope and query (alyvix: one session), shown in the title
    subtitle: Callable[[Ctx], str] | None = None
    # the rows a name given to describe/logs/do means (default: the list's rows with that label); for a
    # list that shows some rows while the server keeps more (OneTest: the active runs; finished ones too)
    find: Callable[[Ctx, str], Awaitable[list[Record]]] | None = None
    # the CLI's `--name VALUE` options its list/detail calls read (ctx.values); none by default
    options: tuple[Opt, ...] = ()

    def row_label(self, record: Record) -> str:
        name = record.get(self.label) if self.label else None
        return str(name) if name not in (None, "") else self.row_key(record)

    def row_key(self, record: Record) -> str:
        return str(record.get(self.key))

    async def named(self, ctx: Ctx, wanted: str) -> list[Record]:
        """The rows `wanted` (an id or a name) means to describe, logs and do: the service's own
        `find`, else the list's rows with that key, else with that label."""
        if self.find is not None:
            return list(await self.find(ctx, wanted))
        listed = list(await self.list(ctx))
        return [r for r in listed if self.row_key(r) == wanted] or (
            [r for r in listed if str(r.get(self.label)) == wanted] if self.label else [])

    def action(self, label: str) -> Action | None:
        return next((a for a in self.actions if a.label == label), None)

    def csv_rows(self, records: list[Record]) -> Iterator[list[str]]:
        """The records as CSV rows for scripts and incident records (`get -o csv`, the console's
        ctrl+s): the API's field names, then raw values (full ids, times as sent, numbers,
        true/false), not the table's display (ages that go stale in a file, progress bars),
        sanitised like any output. Rows one at a time: a closed pipe shows at the next one."""
        # a nested object several columns show parts of (xyOps servers' `info`) is one column, once
        keys = list(dict.fromkeys(c.csv or c.key for c in self.columns))
        yield keys
        for r in records:
            yield [sanitize(_csv_value(r.get(k)), multiline=True) for k in keys]


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


class FromSim:
    """A service's simulator attribute, imported when first read.

    A simulator (starlette, its seeded data) cost the console's cold start ~100 ms per
    service whose views imported it, and only --demo, `testdeck sim` and tests use one.
    `FromSim("testdeck.services.x.sim", lambda sim: sim.create_app)`."""

    def __init__(self, module: str, pick: Callable[[Any], Any]):
        self.module, self.pick = module, pick

    def resolve(self) -> Any:
        import importlib

        return self.pick(importlib.import_module(self.module))


class Service(msgspec.Struct):
    name: str
    title: str
    client: type  # the ApiClient subclass
    resources: list[Resource]
    create_sim: Callable[..., Any] | None = None  # (SimConfig) -> ASGI app
    demo_fields: dict[str, Any] = msgspec.field(default_factory=dict)  # profile fields for --demo
    demo_secret: str | None = None
    status: Callable[[Any], Awaitable[Any]] | None = None  # extra status-bar text (str() when painted), e.g. a quota
    failing: list[Failing] = msgspec.field(default_factory=list)  # what the triage view shows for this service

    def resource(self, name: str) -> Resource | None:
        return next((r for r in self.resources if r.name == name or name in r.aliases), None)

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if type(value) is FromSim:  # create_sim, demo_fields, demo_secret: resolved once, on first use
            value = value.resolve()
            setattr(self, name, value)  # (a Struct refuses object.__setattr__)
        return value


def acted_on(resource: Resource, action: Action, ctx: Ctx) -> str:
    """The names of what an action acted on, for `stop: done (A, B)`: its targets (OneTest's stop: the
    ids of its form) where it declares them, else the row; `A, B, C and 2 more`."""
    try:
        rows = action.targets(ctx) if action.targets is not None else [ctx.row]
    except Exception:  # a bad hook must not hide the outcome: the row still names it
        rows = [ctx.row]
    names = [resource.row_label(r) for r in rows if r is not None]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def confirm_question(resource: Resource, action: Action, rows: list[Record | None], profile: Any,
                     ctx: Ctx | None = None) -> str:
    """The question before a mutation, on the screen and in `testdeck do`: names (Resource.label) and
    ids of what the action touches, and on which profile; `ctx`: the action's, with what its form will
    send (a service's note may name them)."""
    where = f"on profile {profile.name}"
    env = profile.fields.get("environment")
    if env:
        where += f" ({str(env).upper()})"
    title = resource.title.lower()
    noun = title[:-1] if title.endswith("s") else title
    names = [f"{quoted(resource.row_label(r))} ({sanitize(resource.row_key(r))})"
             if resource.row_label(r) != resource.row_key(r)
             else quoted(resource.row_key(r)) for r in rows if r is not None]
    note = action.confirm_note(rows, ctx)
    note = f"\n{note}" if note else ""
    if len(names) == 1:
        return f"{action.label} {noun} {names[0]} {where}?{note}"
    if not names:  # an action on the resource itself (alyvix `post message` to the server log)
        return f"{action.label} ({title}) {where}?{note}"
    shown = "\n".join(f"  {n}" for n in names[:12])
    more = f"\n  … and {len(names) - 12} more" if len(names) > 12 else ""
    return f"{action.label} these {len(names)} {title} {where}?\n{shown}{more}{note}"
