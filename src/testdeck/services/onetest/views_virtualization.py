"""Virtualization, read-only: rules (with their activity log) and intercepts of a team space or a project."""

from __future__ import annotations


from testdeck.columns import ERROR, MUTED, OK, RUNNING, Col, age, timestamp
from testdeck.feeds import pause, steady
from testdeck.resources import Ctx, LogFeed, Opt, Resource, Scope
from testdeck.services.onetest.views_hosts import STATE_MEANING, WHERE_OPTIONS, where_of
from testdeck.services.onetest.views_scopes import (
    by_name,
    default_virtualization_scope,
    remember,
    space_and_project_options,
)

ACTIVITY_PAGE = 100  # entries per activity request
ACTIVITY_INTERVAL = 5.0  # seconds between two looks for new activity
RULE_MEANING = {"ACTIVE": OK, "INACTIVE": MUTED, "ERROR": ERROR, "PENDING": RUNNING}


def _scope() -> Scope:
    return Scope("scope", space_and_project_options, default=default_virtualization_scope, remember=remember)


async def list_rules(cx: Ctx):
    values = cx.values or {}
    return await cx.client.get_rules(where_of(cx), execution_id=values.get("execution"),
                                     stubs_runtime_id=values.get("stubs_runtime") or values.get("stubs-runtime"))


def _line(entry) -> str:
    return f"{timestamp(entry.date)}  {entry.message}"


async def activity(cx: Ctx) -> LogFeed:
    """The rule's activity log, oldest first, read page by page; then new entries as they come."""
    where = where_of(cx)
    entries, total = await steady(lambda: cx.client.get_rule_activity(where, cx.key, offset=0, limit=ACTIVITY_PAGE))
    offset = len(entries)
    while offset < total:  # the server pages newest first
        page, total = await steady(lambda: cx.client.get_rule_activity(where, cx.key, offset=offset,
                                                                       limit=ACTIVITY_PAGE))
        if not page:
            break
        entries += page
        offset += len(page)
    yield [f"-- activity of rule {cx.key}: {total} entries", *(_line(e) for e in reversed(entries))]
    seen = total
    while True:
        await pause(ACTIVITY_INTERVAL)
        head, total = await steady(lambda: cx.client.get_rule_activity(
            where, cx.key, offset=0, limit=min(ACTIVITY_PAGE, max(1, total - seen))))
        if total > seen:
            yield [_line(e) for e in reversed(head[: total - seen])]
            seen = total


rules = Resource(
    name="rules",
    title="Virtualization rules",
    key="id",
    label="target",
    columns=[
        Col("target"),
        Col("status", width=8, status=RULE_MEANING),
        Col("mode", width=9),
        Col("recipients", priority=1),
        Col("createdAt", "created", fmt=age, width=8, priority=1),
        Col("createdBy", "by", priority=2),
        Col("id", priority=3),
    ],
    list=by_name(list_rules),
    options=(*WHERE_OPTIONS, Opt("execution"), Opt("stubs_runtime")),
    detail=by_name(lambda cx: cx.client.get_rule(where_of(cx), cx.key)),
    log=activity,
    drill="log",
    scope=_scope(),
    aliases=("rule", "virtualization"),
)

intercepts = Resource(
    name="intercepts",
    title="Intercepts",
    key="id",
    label="hostName",
    columns=[
        Col("hostName", "host"),
        Col("type", width=10),
        Col("state", width=9, status=STATE_MEANING),
        Col("operatingSystem", "os", priority=1),
        Col("ports", width=5, priority=2),
        Col("version", width=8, priority=2),
        Col("id", priority=3),
    ],
    list=by_name(lambda cx: cx.client.get_intercepts(where_of(cx))),
    options=WHERE_OPTIONS,
    detail=by_name(lambda cx: cx.client.get_intercept(where_of(cx), cx.key)),
    scope=_scope(),
    aliases=("intercept",),
)
