"""Executions: the resource, its live list (the active set; history on demand) and server-side filter.

Its concerns live beside it: views_executions_log (container logs), _start (the start form),
_stop (stop one or many), _detail (detail, result, advanced settings)."""

from __future__ import annotations

from typing import Any

from testdeck.columns import (
    ERROR,
    MUTED,
    OK,
    RUNNING,
    WARNING,
    Col,
    _epoch,
    age,
    duration,
    timestamp,
)
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, Opt, Query, Resource, Scope
from testdeck.services.onetest.models import ACTIVE_STATUSES, FAILED_STATUSES, STATUSES, UUID, Execution
from testdeck.services.onetest.views_executions_detail import (
    _configurations_initial,
    _json_object,
    configurations,
    detail,
    detail_with_data,
    replace_configurations,
    result,
    set_configuration,
    setting_change,
    settings_change,
    show_json,
    show_result,
)
from testdeck.services.onetest.views_executions_log import log
from testdeck.services.onetest.views_executions_start import START_FIELDS, follow_started, one_schedule, start, utc_instant
from testdeck.services.onetest.views_executions_stop import STOP_FIELDS, _stop_initial, ended, stop, stop_targets
from testdeck.services.onetest.views_scopes import by_name, project_options, remember

HISTORY_VIEWS = 8  # history views (query + filters) kept per profile session
STATUS_MEANING = {"COMPLETE": OK, "COMPLETE_WITH_ERROR": ERROR, "LAUNCH_FAILED": ERROR, "INCOMPLETE": WARNING,
                  "STOPPED_BY_USER": WARNING, "STOPPED_AUTOMATICALLY": WARNING, "RUNNING": RUNNING,
                  "IN_TRANSITION": RUNNING, "STOPPING": RUNNING, "SCHEDULED": MUTED, "CANCELED": MUTED}
VERDICT_MEANING = {"PASS": OK, "FAIL": ERROR, "ERROR": ERROR, "INCONCLUSIVE": WARNING}
FAILED = ",".join(FAILED_STATUSES)
# filter names a list call accepts (CLI --name value, or the filter form) -> adapter keyword
FILTER_KEYS = {"tag": "tag", "tags": "tag", "environment": "environment", "env": "environment",
               "asset_type": "asset_type", "type": "asset_type", "asset_id": "asset_id", "asset_path": "asset_path",
               "completed_after": "completion_after", "completed_before": "completion_before",
               "scheduled_after": "scheduled_after", "scheduled_before": "scheduled_before"}


# --- list and server-side filter -------------------------------------------------------------------------

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
    finished since the newest completion it has seen (a finished run never changes). Either way the rows
    come in one order: the active ones as the server sent them, then the ended ones, the latest first."""
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
        return _in_order([r for r in rows if r.status not in finished], histories[key].values())
    since = max((r.completionDate for r in history.values() if r.completionDate), default="")
    live = await cx.client.get_executions(active, project_id=cx.scope, **filters) if active else []
    newer = {**filters, "completion_after": max(since, filters.get("completion_after") or "")} if since else filters
    for row in await cx.client.get_executions(finished, project_id=cx.scope, verdicts=True, **newer):
        history[row.id] = row
    return _in_order(live, history.values())


def _in_order(live: list[Execution], ended: Any) -> list[Execution]:
    """The active runs, then the ended ones by completion, the latest first (the first read of a history
    came in the server's order, and its rows moved on the next refresh)."""
    seen = {x.id for x in live}
    return live + sorted((r for r in ended if r.id not in seen), key=lambda r: r.completionDate or "", reverse=True)


async def find_executions(cx: Ctx, wanted: str) -> list[Execution]:
    """The runs `describe`, `logs` and `do` mean by a test asset (its path or asset id; an execution id
    is found by the detail call first): the active ones so named, else the one that ended last. The
    table lists the active set only; the server keeps the finished runs in the same list, by status."""
    # narrowed by the server where it can be (it splits a filter's value on commas: such a name is matched here)
    narrowed = {} if "," in wanted else {"asset_id" if UUID.fullmatch(wanted) else "asset_path": wanted}
    listed = await cx.client.get_executions("ALL", project_id=cx.scope, **narrowed)
    named = [r for r in listed if wanted in (r.asset, r.testAsset.get("name"), r.testAsset.get("assetId"))]
    active = [r for r in named if r.active]
    ended = sorted(named, key=lambda r: _epoch(r.completionDate) or _epoch(r.startDate) or 0, reverse=True)
    return active or ended[:1]


FILTER_FIELDS = [
    Field("status", type="multi", choices=["ALL", *STATUSES], help="none: the view a/A/F chose (default active)"),
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
    find=by_name(find_executions),
    log=log,
    scope=Scope("project", project_options, remember=remember),
    queries=[Query("a", "active", None), Query("A", "all", "ALL"), Query("F", "failed", FAILED)],
    subtitle=filter_title,
    actions=[
        Action("n", "start", start, form=Form("Start an execution", START_FIELDS, check=one_schedule), mutates=True, row=False,
               follow=follow_started, select=lambda ex: ex.id),
        # not `bulk`: the generic runner calls an action once per marked row; this one sends one PATCH
        # with every id, listed in its form (prefilled from the marks when the screen gives them)
        Action("x", "stop", stop, mutates=True, show=str, confirm=True, targets=stop_targets, unavailable=ended,
               form=Form("Stop executions (one: DELETE; several: one PATCH)", STOP_FIELDS, initial=_stop_initial)),
        Action("D", "data", detail_with_data, show=show_json),
        Action("v", "result", result, show=show_result),
        Action("c", "settings", configurations, show=show_json),
        Action("C", "replace settings", replace_configurations, mutates=True, confirm=settings_change,
               form=Form("Advanced configurations (updates or creates each one)", [
                   Field("configurations", type="json", required=True, validate=_json_object)],
                   initial=_configurations_initial)),
        Action("o", "set setting", set_configuration, mutates=True, confirm=setting_change,
               form=Form("Set one advanced configuration", [Field("name", required=True), Field("value")])),
        Action("f", "server filter", set_filter, row=False, show=str, refresh=True,
               form=Form("Server-side filter (empty: none)", FILTER_FIELDS, initial=_filter_initial)),
    ],
    aliases=("execution", "exec", "runs"),
)
