"""XPRESSO resources: requests (list, detail screen, submit, bundle submit, stop)."""

from __future__ import annotations

import asyncio
import json
import re
import time
import weakref
from typing import Any

from testdeck.columns import Col, age, duration
from testdeck.errors import ApiError
from testdeck.forms import Field, Form
from testdeck.records import Record
from testdeck.resources import DAY, Action, Ctx, Failing, FromSim, Opt, Query, Resource, Service
from testdeck.services.xpresso import token as jwt
from testdeck.services.xpresso.client import ACTIVE_STATES, FAILED_STATES, FINAL_STATES, STOPPED_STATES, XRequest, Xpresso
from testdeck.services.xpresso.model import meaning as state_meaning

UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def _rate(value: Any) -> str:
    return "" if value is None else f"{float(value):.0f}%"


# --- list and detail (tokens masked unless the user asks to reveal them) ---------------------

def masked(record: XRequest) -> XRequest:
    """The record with its raw JSON masked (no typed field holds a token)."""
    record.raw = jwt.mask(record.raw)
    return record


QUERIES = {
    "active": lambda r, me: r.state.upper() in ACTIVE_STATES,
    "failed": lambda r, me: r.state.upper() in FAILED_STATES,
    "passed": lambda r, me: r.state.upper() == "PASSED",
    "stopped": lambda r, me: r.state.upper() in STOPPED_STATES,
    "mine": lambda r, me: r.submitter == me,
}


async def list_requests(cx: Ctx) -> list[XRequest]:
    rows = await cx.client.get_requests()
    if cx.query in QUERIES:
        me = None
        if cx.query == "mine":
            info = cx.client.token
            if info is None or not info.user:
                raise cx.client.refuse("GET", "/api/v1/requests", "mine: the API token names no user (not a readable JWT)")
            me = info.user
        rows = [r for r in rows if QUERIES[cx.query](r, me)]
    if cx.values.get("reveal"):
        return rows
    # `get -o json` prints the records: no token may leave unmasked (off the loop for big lists)
    return await asyncio.to_thread(lambda: [masked(r) for r in rows]) if len(rows) > 200 else [masked(r) for r in rows]


async def get_request(cx: Ctx) -> XRequest:
    record = await cx.client.get_request(cx.key)
    return record if cx.values.get("reveal") else masked(record)


# --- what the group has used: the pickers' suggestions -------------------------------------

_catalog: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # client -> (when, future)
CATALOG_TTL = 15.0


async def catalog(cx: Ctx) -> dict[str, dict[str, str]]:
    """{"profile"|"bundle"|"testbed"|"topology": {name: uuid}} seen in the group's requests.

    The API has no call listing them; one list call per form serves every picker."""
    hit = _catalog.get(cx.client)
    if (hit is None or time.monotonic() - hit[0] > CATALOG_TTL or hit[1].get_loop() is not asyncio.get_running_loop()
            or (hit[1].done() and hit[1].exception())):
        hit = (time.monotonic(), asyncio.ensure_future(_harvest(cx.client)))
        _catalog[cx.client] = hit
    return await asyncio.shield(hit[1])


async def _harvest(client: Xpresso) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {"profile": {}, "bundle": {}, "testbed": {}, "topology": {}}

    def add(kind: str, ref: Any) -> None:
        if isinstance(ref, dict) and ref.get("uuid") and ref.get("name"):
            out[kind].setdefault(str(ref["name"]), str(ref["uuid"]))

    for r in await client.get_requests():
        bundle = r.raw.get("bundle")
        add("bundle", bundle)
        for item in (i for i in r.items if isinstance(i, dict)):
            if not bundle:
                add("profile", item.get("profile"))
            for bed in item.get("submitted_testbeds") or []:
                add("testbed", bed)
            add("testbed", item.get("selected_testbed"))
            add("topology", item.get("topology"))
    return out


def _options(kind: str):
    async def load(cx: Ctx) -> list[tuple[str, str]]:
        return [(uuid, name) for name, uuid in sorted((await catalog(cx))[kind].items())]
    return load


def _split(value: Any) -> list[str] | None:
    if value in (None, ""):
        return None
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()] or None
    return [part.strip() for part in str(value).split(",") if part.strip()] or None


async def _resolve(cx: Ctx, kind: str, names: list[str] | None) -> list[str] | None:
    """Names typed in a picker as uuids; a uuid or an unknown name goes as typed (the server judges)."""
    if not names or all(UUID.match(n) for n in names):
        return names
    known = (await catalog(cx))[kind]
    folded = {k.casefold(): v for k, v in known.items()}
    return [n if UUID.match(n) else folded.get(n.casefold(), n) for n in names]


# --- submit ---------------------------------------------------------------------------------

def kv_rows(value: Any) -> list[tuple[str, Any]]:
    """Editor rows from what a field holds: the editor's pairs, a map, or text from the CLI
    (`do requests submit --set job_args='{"--turbo": true}'` or `--set env_vars=A=1,B=2`)."""
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return kv_rows(parsed)
        pairs = [part.partition("=") for part in re.split(r"[\n,]", text) if part.strip()]
        return [(k.strip(), v.strip()) for k, _, v in pairs]
    if isinstance(value, (list, tuple)):
        return [(str(p[0]).strip(), p[1]) for p in value if isinstance(p, (list, tuple)) and len(p) == 2]
    return []


def _kv_problem(value: Any) -> str | None:
    seen = set()
    for n, (key, _value) in enumerate(kv_rows(value), 1):
        if not key:
            return f"row {n}: a value without a key"
        if key in seen:
            return f"key {key!r} given twice"
        seen.add(key)
    return None


def _kv(pairs: Any, typed: bool) -> dict[str, Any] | None:
    """Editor rows as a map; job and harness arguments read true/false as booleans (`--turbo: true`)."""
    out: dict[str, Any] = {}
    for key, value in kv_rows(pairs):
        if isinstance(value, bool):
            out[key] = value
            continue
        text = str(value).strip()
        out[key] = {"true": True, "false": False}.get(text.lower(), text) if typed else str(value)
    return out or None


def _kv_widget(field: Field, value: Any, ctx: Ctx):
    from testdeck.services.xpresso.inputs import kv_editor  # Textual only when a form opens

    return kv_editor(field, value, ctx)


def _kv_field(name: str, help: str) -> Field:
    return Field(name, type="kv", help=help, validate=_kv_problem, widget=_kv_widget)


def _pick_field(name: str, kind: str, help: str, required: bool = False) -> Field:
    def widget(field: Field, value: Any, ctx: Ctx):
        from testdeck.services.xpresso.inputs import picker

        return picker(_options(kind))(field, value, ctx)

    return Field(name, required=required, help=help, widget=widget)


def refused(cx: Ctx, message: str) -> ApiError:
    """A refusal made before sending (the form shows it as "refused: ...")."""
    return cx.client.refuse("POST", "/api/v1/requests", message)


def _common(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "submitted_for": values.get("submitted_for") or None,
        "description": values.get("description") or None,
        "tags": _split(values.get("tags")),
        "branch": values.get("branch") or None,
        # unchecked: left out, so the server's default applies
        "compare_baseline": True if values.get("compare_baseline") else None,
        "is_baseline": True if values.get("is_baseline") else None,
        "clean": True if values.get("clean") else None,
        "max_request_runtime_seconds": values.get("max_request_runtime_seconds") or None,
    }


def submit_payload(values: dict[str, Any]) -> dict[str, Any]:
    """The options of a profile request from form values (before names are resolved)."""
    params = {"env_vars": _kv(values.get("env_vars"), typed=False),
              "job_args": _kv(values.get("job_args"), typed=True),
              "harness_args": _kv(values.get("harness_args"), typed=True)}
    params = {k: v for k, v in params.items() if v}
    return {**_common(values), "testbeds": _split(values.get("testbeds")),
            "topologies": _split(values.get("topologies")), "parameters": params or None}


async def submit(cx: Ctx) -> XRequest:
    values = cx.values
    profile = str(values.get("profile") or "").strip()
    if not profile:
        raise refused(cx, "a request needs a profile (for a bundle, use b: submit bundle)")
    options = submit_payload(values)
    both = _testbeds_or_topologies(values)  # the form's rule, also for a call made without the form
    if both:
        raise refused(cx, both["testbeds"])
    options["testbeds"] = await _resolve(cx, "testbed", options["testbeds"])
    options["topologies"] = await _resolve(cx, "topology", options["topologies"])
    [uuid] = await _resolve(cx, "profile", [profile]) or [profile]
    return await cx.client.submit_request(uuid, **options)


async def submit_bundle(cx: Ctx) -> XRequest:
    bundle = str(cx.values.get("bundle") or "").strip()
    if not bundle:
        raise refused(cx, "a bundle request needs a bundle")
    [uuid] = await _resolve(cx, "bundle", [bundle]) or [bundle]
    return await cx.client.submit_bundle_request(uuid, **_common(cx.values))


COMMON_FIELDS = [
    Field("submitted_for", "submitted for", help="user the request runs for"),
    Field("description", type="text"),
    Field("tags", help="comma-separated"),
    Field("branch"),
    Field("compare_baseline", "compare baseline", type="bool"),
    Field("is_baseline", "is baseline", type="bool"),
    Field("clean", type="bool", help="clean the testbed first"),
    Field("max_request_runtime_seconds", "max runtime (s)", type="int", min=1, help="a positive whole number"),
]
def _testbeds_or_topologies(values: dict[str, Any]) -> dict[str, str]:
    """The submit form's rule across fields: the server answers 400 to both."""
    if _split(values.get("testbeds")) and _split(values.get("topologies")):
        why = "give testbeds or topologies, not both (the server answers 400)"
        return {"testbeds": why, "topologies": why}
    return {}


SUBMIT_FORM = Form("Submit request", [
    _pick_field("profile", "profile", "name or uuid", required=True),
    _pick_field("testbeds", "testbed", "comma-separated; or topologies, not both"),
    _pick_field("topologies", "topology", "comma-separated; or testbeds, not both"),
    *COMMON_FIELDS,
    _kv_field("env_vars", "environment variables"),
    _kv_field("job_args", "job arguments (true/false become booleans)"),
    _kv_field("harness_args", "harness arguments"),
], check=_testbeds_or_topologies)
BUNDLE_FORM = Form("Submit bundle request", [
    _pick_field("bundle", "bundle", "name or uuid; testbeds and arguments come from the bundle", required=True),
    *COMMON_FIELDS,
])


def follow(ctx: Ctx, result: XRequest):
    """After a submit: the new request's detail screen, refreshed live until it ends."""
    from testdeck.services.xpresso.screens import RequestScreen

    return RequestScreen(ctx.client, result.request_id)


def open_request(ctx: Ctx):
    """enter on a request (or a bundle request): its detail screen, on the row's data until it refreshes."""
    from testdeck.services.xpresso.screens import RequestScreen

    return RequestScreen(ctx.client, ctx.key, record=ctx.row, read_at=ctx.read_at)


def has_ended(cx: Ctx) -> str | None:
    """A request that has ended (PASSED, FAILED, STOPPED…) cannot be stopped (the server answers 400):
    said at the key, and left out of a bulk stop (its question and what is sent)."""
    state = str(cx.row.get("state") or "").upper() if cx.row is not None else ""
    return f"already ended ({state})" if state in FINAL_STATES else None


async def stop(cx: Ctx) -> XRequest:
    reason = str(cx.values.get("reason") or "").strip()
    if not reason:
        raise cx.client.refuse("PATCH", "stop", "a stop needs a reason")
    return await cx.client.stop_request(cx.key, reason)


STOP_FORM = Form("Stop request", [Field("reason", required=True, help="why it is stopped (the team sees it)")])


def _failing_message(r: Record) -> str:
    for item in r.get("items") or []:
        if isinstance(item, dict) and item.get("error_detail"):
            return str(item["error_detail"])
    summary = r.get("consolidated_summary") or {}
    return f"{r.get('failed')} of {summary.get('total_tasks', '?')} tasks failed or errored"


requests = Resource(
    name="requests",
    title="Requests",
    key="request_id",
    label="name",
    columns=[
        Col("request_id", "id", width=10),
        Col("state", width=9, status=state_meaning),
        Col("name", "job"),
        Col("results", "pass/fail", priority=1),
        Col("success_rate", "rate", fmt=_rate, width=4, priority=1),
        Col("date_created", "created", fmt=age, width=7, priority=1),
        Col("duration", "took", fmt=duration, width=6, priority=2),
        Col("submitter", priority=2),
        Col("n_items", "items", width=5, priority=3),
        Col("verdict", width=7, status=state_meaning, priority=4),
        Col("date_completed", "completed", fmt=age, width=9, priority=4),
    ],
    list=list_requests,
    options=(Opt("reveal"),),  # tokens unmasked (get -o json --reveal 1)
    detail=get_request,
    drill=open_request,
    actions=[
        Action("n", "submit", submit, form=SUBMIT_FORM, mutates=True, row=False, screen=follow,
               select=lambda r: r.request_id),
        Action("b", "bundle", submit_bundle, form=BUNDLE_FORM, mutates=True, row=False, screen=follow,
               select=lambda r: r.request_id),
        Action("x", "stop", stop, form=STOP_FORM, mutates=True, confirm=True, bulk=True, unavailable=has_ended),
    ],
    queries=[
        Query("A", "all", None),
        Query("R", "active", "active"),
        Query("F", "failed", "failed"),
        Query("O", "passed", "passed"),
        Query("X", "stopped", "stopped"),
        Query("M", "mine", "mine"),
    ],
    aliases=("request", "req"),
)

SIM = "testdeck.services.xpresso.sim"  # imported only when a simulator is wanted

SERVICE = Service(
    name="xpresso",
    title="XPRESSO",
    client=Xpresso,
    resources=[requests],
    create_sim=FromSim(SIM, lambda sim: sim.create_app),
    demo_fields=FromSim(SIM, lambda sim: {"group": sim.DEMO_GROUP}),
    demo_secret=FromSim(SIM, lambda sim: sim.DEMO_TOKEN),
    failing=[Failing("requests", when=lambda r: str(r.get("state") or "").upper() in FAILED_STATES,
                     severity="error", what=lambda r: f"{r.get('request_id')} {r.get('name')}",
                     message=_failing_message, since=lambda r: r.get("date_completed") or r.get("date_created"),
                     query="failed", within=DAY)],
)
