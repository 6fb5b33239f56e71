"""Starting an execution: the form built from the ExecutionSpecification, its validators, and the
log followed after the start."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from testdeck import clock
from testdeck.forms import Field
from testdeck.resources import Ctx, LogFeed
from testdeck.services.onetest.models import UUID, Execution, parse_duration
from testdeck.services.onetest.views_executions_log import ExecutionLog

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
    test_asset = {"assetId" if UUID.fullmatch(asset) else "name": asset, "revision": values.get("revision") or "master"}
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
    sources = [{"source": {"assetId" if UUID.fullmatch(k) else "assetName": k}, "replacement": {"datasetId": v}}
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


def one_schedule(values: dict[str, Any]) -> dict[str, str]:
    """The start form's rule across fields (the document: "If both are specified an error occurs")."""
    if values.get("schedule_at") and values.get("schedule_in"):
        why = "give 'schedule at' or 'schedule in', not both"
        return {"schedule_at": why, "schedule_in": why}
    return {}


async def start(cx: Ctx) -> Execution:
    return await cx.client.start_execution(specification(cx.values), project_id=cx.scope)


def follow_started(cx: Ctx, ex: Execution) -> LogFeed:
    return ExecutionLog(cx, ex.id)

