"""Executions: live active set (history on demand), detail, container logs, start, stop one and many, settings."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import json
import re
from typing import Any

from testdeck import clock
from testdeck.errors import ApiError
from testdeck.feeds import pause, steady
from testdeck.resources import (
    ERROR,
    MUTED,
    OK,
    RUNNING,
    WARNING,
    Action,
    Col,
    Ctx,
    Field,
    Form,
    LogFeed,
    Opt,
    Query,
    Resource,
    Scope,
    age,
    duration,
    timestamp,
)
from testdeck.services.onetest.models import ACTIVE_STATUSES, FAILED_STATUSES, STATUSES, Execution, parse_duration
from testdeck.services.onetest.views_scopes import by_name, project_options, remember

FOLLOW_INTERVAL = 1.0  # seconds between two reads of a followed log
HISTORY_VIEWS = 8  # history views (query + filters) kept per profile session
STATUS_MEANING = {"COMPLETE": OK, "COMPLETE_WITH_ERROR": ERROR, "LAUNCH_FAILED": ERROR, "INCOMPLETE": WARNING,
                  "STOPPED_BY_USER": WARNING, "STOPPED_AUTOMATICALLY": WARNING, "RUNNING": RUNNING,
                  "IN_TRANSITION": RUNNING, "STOPPING": RUNNING, "SCHEDULED": MUTED, "CANCELED": MUTED}
VERDICT_MEANING = {"PASS": OK, "FAIL": ERROR, "ERROR": ERROR, "INCONCLUSIVE": WARNING}
FAILED = ",".join(FAILED_STATUSES)
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# filter names a list call accepts (CLI --name value, or the filter form) -> adapter keyword
FILTER_KEYS = {"tag": "tag", "tags": "tag", "environment": "environment", "env": "environment",
               "asset_type": "asset_type", "type": "asset_type", "asset_id": "asset_id", "asset_path": "asset_path",
               "completed_after": "completion_after", "completed_before": "completion_before",
               "scheduled_after": "scheduled_after", "scheduled_before": "scheduled_before"}


# --- validators --------------------------------------------------------------------------------

def utc_instant(value: Any) -> str | None:
    """What java.time.Instant.parse accepts: a full date and time in UTC (…Z)."""
    text = str(value).strip()
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z$", text):
        return "an ISO-8601 UTC time with date, like 2026-12-01T15:00:00Z"
    try:
        _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return "not a real date and time"
    return None


def future_instant(value: Any) -> str | None:
    """A schedule time: a UTC instant still to come (the server would start a past one at once, or refuse it)."""
    problem = utc_instant(value)
    if problem:
        return problem
    at = _dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if at.timestamp() <= clock.now():
        now = _dt.datetime.fromtimestamp(clock.now(), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"in the past (now is {now}): give a time to come, or leave it empty to start now"
    return None


def iso_duration(value: Any) -> str | None:
    return None if parse_duration(str(value)) is not None else "an ISO-8601 duration, like PT15M or P2DT3H4M"


def pairs(value: Any) -> str | None:
    for n, line in enumerate(str(value).splitlines(), 1):
        if line.strip() and "=" not in line:
            return f"line {n}: write NAME=VALUE"
        if line.strip() and not line.partition("=")[0].strip():  # `=x` was sent as a variable named ""
            return f"line {n}: a NAME before the ="
    return None


def as_pairs(text: str | None) -> dict[str, str]:
    out = {}
    for line in (text or "").splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def as_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def as_list(text: Any) -> list[str]:
    if isinstance(text, (list, tuple)):
        return [str(t) for t in text]
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


# --- list, filters, logs -------------------------------------------------------------------------

def _filters(cx: Ctx) -> dict[str, Any]:
    """The server-side filters: the filter form's (kept per profile session) and the CLI's --name value."""
    chosen = dict(getattr(cx.client, "execution_filter", {}) or {})
    chosen.pop("status", None)  # the status is the list call's own argument
    for name, value in (cx.values or {}).items():
        key = FILTER_KEYS.get(str(name).replace("-", "_"))
        if key and value not in (None, ""):
            chosen[key] = value
    return chosen


async def list_executions(cx: Ctx) -> list[Execution]:
    """Default: the active ones only (the server's default, polled live). A history view (all, failed, a
    status filter) reads the finished runs once, then on each refresh only the active ones and the runs
    finished since the newest completion it has seen (a finished run never changes)."""
    status = (cx.values or {}).get("status") or getattr(cx.client, "execution_filter", {}).get("status") or cx.query
    filters = _filters(cx)
    if not status:
        return await cx.client.get_executions(None, project_id=cx.scope, verdicts=True, **filters)
    wanted = [s.strip().upper() for s in str(status).split(",") if s.strip()]
    every = "ALL" in wanted
    finished = [s for s in STATUSES if s not in ACTIVE_STATUSES and (every or s in wanted)]
    active = [s for s in ACTIVE_STATUSES if every or s in wanted]
    histories = cx.client.__dict__.setdefault("execution_history", {})
    key = (cx.scope, ",".join(wanted), tuple(sorted(filters.items())))
    history = histories.get(key)
    if history is None or not finished:
        rows = await cx.client.get_executions(wanted, project_id=cx.scope, verdicts=True, **filters)
        if len(histories) >= HISTORY_VIEWS:
            histories.pop(next(iter(histories)))
        histories[key] = {r.id: r for r in rows if r.status in finished}
        return rows
    since = max((r.completionDate for r in history.values() if r.completionDate), default="")
    live = await cx.client.get_executions(active, project_id=cx.scope, **filters) if active else []
    newer = {**filters, "completion_after": max(since, filters.get("completion_after") or "")} if since else filters
    for row in await cx.client.get_executions(finished, project_id=cx.scope, verdicts=True, **newer):
        history[row.id] = row
    done = sorted(history.values(), key=lambda r: r.completionDate or "", reverse=True)
    return live + [r for r in done if r.id not in {x.id for x in live}]


async def follow_log(cx: Ctx, execution_id: str | None = None, *, init: bool = False,
                     switched: asyncio.Event | None = None, shown: dict[bool, int] | None = None) -> LogFeed:
    """The container log (or the init container's), followed while the execution is active; it
    returns early when `switched` is set (the log screen switched to the other container's log).

    `shown` counts the lines of each log already written to the screen (key: init): a pass after a
    switch goes on from there, so switching back and forth never writes a log twice."""
    eid = execution_id or cx.key
    which = "init container log" if init else "container log"
    shown = {} if shown is None else shown
    seen = shown.get(init, 0)
    # sent with the first lines: `logs` without -f reads one batch
    header = [f"-- {which} of execution {eid}" + (f", after line {seen} (the lines before are above)" if seen else "")]
    while switched is None or not switched.is_set():
        ex = await steady(lambda: cx.client.get_execution(eid, project_id=cx.scope))
        try:
            text = await steady(lambda: cx.client.get_execution_log(eid, init_container=init, project_id=cx.scope))
        except ApiError as exc:
            if exc.status == 410:
                yield [*header, f"-- the {which} is no longer available (HTTP 410: {exc.message})"]
                return
            raise
        lines = text.splitlines()
        if len(lines) < seen:  # the log restarted (a redeploy)
            seen = 0
        batch, header = [*header, *lines[seen:]], []
        seen = shown[init] = len(lines)
        still = ("SCHEDULED", "IN_TRANSITION") if init else ACTIVE_STATUSES
        if ex.status not in still:
            done = "-- init container done · execution " if init and ex.status in ACTIVE_STATUSES else "-- execution "
            yield [*batch, done + ex.status + (f": {ex.message}" if ex.message else "")]
            return
        if batch:
            yield batch
        if switched is None:
            await pause(FOLLOW_INTERVAL)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(switched.wait(), FOLLOW_INTERVAL)


class ExecutionLog:
    """An execution's container log in the log screen, with `i` switching to the init container's log
    and back (a header line, then that log from its start, followed while it can still grow).

    A feed object, like alyvix's server log: the log screen binds its `keys` and starts it again
    when a switch comes after it ended. It ends when the followed log ends, so `testdeck logs -f` ends."""

    keys = [("i", "init log", "toggle_init")]

    def __init__(self, cx: Ctx, execution_id: str | None = None, *, init: bool = False):
        self.cx, self.execution_id, self.init = cx, execution_id, init
        self._switched = asyncio.Event()
        self._gen = None
        self._done = False
        self._shown: dict[bool, int] = {}  # lines of each log already written (key: init)

    def describe(self) -> str:
        return "init container log (i: container log)" if self.init else "container log (i: init log)"

    def toggle_init(self) -> str:
        self.init = not self.init
        self._switched.set()
        return self.describe()

    def __aiter__(self):
        if self._gen is None or self._done:  # a switch after the end starts a new pass
            self._done = False
            self._gen = self._run()
        return self._gen

    async def __anext__(self) -> list[str]:
        return await self.__aiter__().__anext__()

    async def aclose(self) -> None:
        if self._gen is not None:
            await self._gen.aclose()

    async def _run(self):
        try:
            while True:
                self._switched.clear()
                async for batch in follow_log(self.cx, self.execution_id, init=self.init, switched=self._switched,
                                              shown=self._shown):
                    yield batch
                if not self._switched.is_set():
                    return
        finally:
            self._done = True


def log(cx: Ctx) -> LogFeed:
    return ExecutionLog(cx)


# --- start ---------------------------------------------------------------------------------------

START_FIELDS = [
    Field("asset", "test asset", required=True, help="repository path (name) or assetId"),
    Field("revision", required=True, default="master", help="branch"),
    Field("requested_version", "version", help="commit id (default: latest in branch)"),
    Field("tags", help="comma-separated"),
    Field("environment"),
    Field("secrets", "secrets collection", help="name or id"),
    Field("schedule_at", "schedule at", validate=future_instant, help="ISO-8601 UTC, e.g. 2026-12-01T15:00:00Z"),
    Field("schedule_in", "schedule in", validate=iso_duration, help="ISO-8601 duration, e.g. PT15M"),
    Field("variables", type="text", validate=pairs, help="NAME=VALUE per line"),
    Field("data_sources", "data source overrides", type="text", validate=pairs,
          help="SOURCE=DATASET_ID per line (source: assetId or path)"),
    Field("jvm_args", "JVM arguments", type="text", help="one per line"),
    Field("program_args", "program arguments", type="text", help="one per line"),
    Field("env_vars", "environment variables", type="text", validate=pairs, help="NAME=VALUE per line"),
]


def specification(values: dict[str, Any]) -> dict[str, Any]:
    """An ExecutionSpecification from the start form (the offline token is added by the adapter)."""
    asset = str(values["asset"]).strip()
    test_asset = {"assetId" if UUID.match(asset) else "name": asset, "revision": values.get("revision") or "master"}
    if values.get("requested_version"):
        test_asset["requestedVersion"] = values["requested_version"]
    spec: dict[str, Any] = {"testAsset": test_asset, "tags": as_list(values.get("tags")),
                            "environment": values.get("environment"),
                            "secretsCollection": values.get("secrets"),
                            "variables": as_pairs(values.get("variables"))}
    if values.get("schedule_at"):
        spec["scheduled"] = {"at": values["schedule_at"]}
    elif values.get("schedule_in"):
        spec["scheduled"] = {"in": values["schedule_in"]}
    sources = [{"source": {"assetId" if UUID.match(k) else "assetName": k}, "replacement": {"datasetId": v}}
               for k, v in as_pairs(values.get("data_sources")).items()]
    if sources:
        spec["dataSources"] = sources
    advanced = {"jvmArguments": as_lines(values.get("jvm_args")),
                "programArguments": as_lines(values.get("program_args")),
                "environmentVariables": as_pairs(values.get("env_vars"))}
    advanced = {k: v for k, v in advanced.items() if v}
    if advanced:
        spec["advancedSettings"] = advanced
    return spec


async def start(cx: Ctx) -> Execution:
    if cx.values.get("schedule_at") and cx.values.get("schedule_in"):
        # the document: "If both are specified an error occurs"; refused before anything is sent
        raise cx.client.error("POST", "/rest/projects/{projectId}/executions/", None,
                              "schedule: give either 'at' or 'in', not both", local=True)
    return await cx.client.start_execution(specification(cx.values), project_id=cx.scope)


def follow_started(cx: Ctx, ex: Execution) -> LogFeed:
    return ExecutionLog(cx, ex.id)


# --- stop ----------------------------------------------------------------------------------------

STOP_FIELDS = [
    Field("stop_timeout", "stop timeout (s)", type="int", min=0, default=30, help="grace before a hard stop"),
    Field("finally_block", "execute finally blocks", type="bool", default=True),
    Field("capture_results", "capture results", type="bool", default=True),
]


def _stop_options(values: dict[str, Any]) -> dict[str, Any]:
    return {"stop_timeout_secs": values.get("stop_timeout"), "execute_finally_block": values.get("finally_block"),
            "capture_results": values.get("capture_results")}


def _typed_ids(cx: Ctx) -> list[str]:
    return [i for i in re.split(r"[\s,]+", str((cx.values or {}).get("ids") or "")) if i]


def stop_targets(cx: Ctx) -> list[Execution]:
    """What the confirmation names: the ids the form will send, as their rows where the screen has them."""
    known = {str(r.get("id")): r for r in [*cx.marked, *([cx.row] if cx.row is not None else [])]}
    return [known.get(i) or Execution.from_api({"id": i}) for i in _typed_ids(cx) or marked_ids(cx)]


def ended(cx: Ctx) -> str | None:
    """Stop is for active and scheduled runs (the API document); one that ended cannot be (its
    DELETE was sent and said done). With marks, the marked rows are what the form sends."""
    if cx.marked or cx.row is None:
        return None
    status = str(cx.row.get("status") or "")
    return f"already ended ({status})" if status and status not in ACTIVE_STATUSES else None


def marked_ids(cx: Ctx) -> list[str]:
    """The marked rows' ids when the screen gives them (else the selected row's)."""
    if cx.marked:
        return [str(r.get("id")) for r in cx.marked]
    return [cx.key] if cx.key else []


async def stop(cx: Ctx) -> str:
    """One id: DELETE (stop or cancel); several: one PATCH with all of them (a 422 names the unknown ones)."""
    ids = _typed_ids(cx) or marked_ids(cx)
    if not ids:
        raise cx.client.error("PATCH", "/rest/projects/{projectId}/executions/", None, "no execution ids given",
                              local=True)
    options = _stop_options(cx.values)
    if len(ids) == 1:
        await cx.client.stop_execution(ids[0], project_id=cx.scope, **options)
        return f"Stop requested for {ids[0]}"
    answer = await cx.client.stop_executions(ids, project_id=cx.scope, **options)
    return answer or f"Stop requested for {len(ids)} executions"


async def _stop_initial(cx: Ctx) -> dict[str, Any]:
    return {"ids": "\n".join(marked_ids(cx))}


# --- details, result, advanced settings, filter ---------------------------------------------------

async def detail(cx: Ctx, include: str | None = None) -> dict[str, Any]:
    """The execution as the server sent it, with its result (verdict, message, reports) once it has one."""
    ex = await cx.client.get_execution(cx.key, include=include, project_id=cx.scope)
    out = dict(ex.raw)
    if ex.result_id and ex.status not in ACTIVE_STATUSES:
        try:
            res = await cx.client.get_result(ex.result_id, project_id=cx.scope)
        except ApiError as exc:
            out["verdict"] = f"(result not readable: {exc.message})"
        else:
            out["verdict"] = res.verdict
            out["resultDetail"] = res.raw
    return out


async def detail_with_data(cx: Ctx) -> dict[str, Any]:
    return await detail(cx, include="data")


def show_json(value: Any) -> str:
    raw = getattr(value, "raw", value)
    return json.dumps(raw, indent=2, default=str)


async def result(cx: Ctx):
    ex = await cx.client.get_execution(cx.key, project_id=cx.scope)
    if not ex.result_id:
        raise cx.client.error("GET", "/rest/projects/{projectId}/results/{resultId}", None,
                              "this execution has no result yet", local=True)
    return await cx.client.get_result(ex.result_id, project_id=cx.scope)


def show_result(res: Any) -> str:
    lines = [f"Verdict: {res.verdict or '(none yet)'}", f"Message: {res.message}", "", "Reports:"]
    lines += [f"  {r.get('name')}: {r.get('href')}" for r in res.reports if isinstance(r, dict)] or ["  (none)"]
    return "\n".join(lines)


async def configurations(cx: Ctx) -> dict[str, Any]:
    return await cx.client.get_advanced_configurations(cx.key, project_id=cx.scope)


async def _configurations_initial(cx: Ctx) -> dict[str, Any]:
    return {"configurations": await configurations(cx)}


def _json_object(value: Any) -> str | None:
    return None if isinstance(value, dict) else "a JSON object of name: value"


async def replace_configurations(cx: Ctx) -> None:
    await cx.client.update_advanced_configurations(cx.key, cx.values["configurations"], project_id=cx.scope)


async def set_configuration(cx: Ctx) -> None:
    await cx.client.set_advanced_configuration(cx.key, cx.values["name"], cx.values.get("value") or "",
                                               project_id=cx.scope)


FILTER_FIELDS = [
    Field("status", type="multi", choices=["ALL", *STATUSES], help="none: the active ones"),
    Field("asset_type", "asset type", help="comma-separated, e.g. APISUITE,APISTUB"),
    Field("tag", "tags", help="comma-separated; all must match"),
    Field("environment", help="comma-separated"),
    Field("completed_after", "completed after", validate=utc_instant),
    Field("completed_before", "completed before", validate=utc_instant),
    Field("scheduled_after", "scheduled after", validate=utc_instant),
    Field("scheduled_before", "scheduled before", validate=utc_instant),
]


async def set_filter(cx: Ctx) -> str:
    chosen = {k: v for k, v in cx.values.items() if v not in (None, "", [])}
    if "status" in chosen:
        chosen["status"] = ",".join(chosen["status"])
    cx.client.execution_filter = {FILTER_KEYS.get(k, k): v for k, v in chosen.items()}
    if not chosen:
        return "Server-side filter cleared: the table shows the chosen view (active by default)."
    text = ", ".join(f"{k}={v}" for k, v in chosen.items())
    return f"Server-side filter: {text}\n\nThe table shows it now; the title names it while it holds."


def filter_title(cx: Ctx) -> str:
    """The server-side filter in force, in the screen's title (else it is easy to forget)."""
    chosen = getattr(cx.client, "execution_filter", {}) or {}
    return "filter " + ", ".join(f"{k}={v}" for k, v in chosen.items()) if chosen else ""


async def _filter_initial(cx: Ctx) -> dict[str, Any]:
    current = dict(getattr(cx.client, "execution_filter", {}) or {})
    back = {v: k for k, v in FILTER_KEYS.items()}
    out = {back.get(k, k): v for k, v in current.items()}
    if out.get("status"):
        out["status"] = out["status"].split(",")
    return out


# the API document on both PATCHes; it says nothing of finished runs, so they stay offered, confirmed
RESTART_NOTE = "The API warns: this can cause the execution to restart/redeploy."


executions = Resource(
    name="executions",
    title="Executions",
    key="id",
    label="asset",
    drill="log",
    columns=[
        Col("status", width=19, status=STATUS_MEANING),
        # fixed widths: at 80 columns status, asset (cut with …), verdict and started all show
        Col("asset", width=30),
        Col("verdict", width=12, status=VERDICT_MEANING),
        Col("startDate", "started", fmt=age, width=8),
        Col("duration", fmt=duration, width=8, priority=1),
        Col("completionDate", "completed", fmt=timestamp, width=20, priority=3),
        Col("message", priority=2),
        Col("id", priority=4),  # whole: what `get` prints must work with `describe`
    ],
    list=by_name(list_executions),
    options=(Opt("status", (*STATUSES, "ALL"), many=True), *(Opt(k) for k in FILTER_KEYS)),
    detail=by_name(detail),
    log=log,
    scope=Scope("project", project_options, remember=remember),
    queries=[Query("a", "active", None), Query("A", "all", "ALL"), Query("F", "failed", FAILED)],
    subtitle=filter_title,
    actions=[
        Action("n", "start", start, form=Form("Start an execution", START_FIELDS), mutates=True, row=False,
               follow=follow_started, select=lambda ex: ex.id),
        # not `bulk`: the generic runner calls an action once per marked row; this one sends one PATCH
        # with every id, listed in its form (prefilled from the marks when the screen gives them)
        Action("x", "stop", stop, mutates=True, show=str, confirm=True, targets=stop_targets, unavailable=ended,
               form=Form("Stop executions (one: DELETE; several: one PATCH)", [
                   Field("ids", "execution ids", type="text", required=True, help="one per line"), *STOP_FIELDS],
                   initial=_stop_initial)),
        Action("D", "data", detail_with_data, show=show_json),
        Action("v", "result", result, show=show_result),
        Action("c", "settings", configurations, show=show_json),
        Action("C", "replace settings", replace_configurations, mutates=True, confirm=RESTART_NOTE,
               form=Form("Advanced configurations (updates or creates each one)", [
                   Field("configurations", type="json", required=True, validate=_json_object)],
                   initial=_configurations_initial)),
        Action("o", "set setting", set_configuration, mutates=True, confirm=RESTART_NOTE,
               form=Form("Set one advanced configuration", [Field("name", required=True), Field("value")])),
        Action("f", "server filter", set_filter, row=False, show=str, refresh=True,
               form=Form("Server-side filter (empty: none)", FILTER_FIELDS, initial=_filter_initial)),
    ],
    aliases=("execution", "exec", "runs"),
)
