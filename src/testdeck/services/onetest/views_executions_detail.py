"""One execution: details (with its result's verdict), the result, its advanced configurations."""

from __future__ import annotations

import json
from typing import Any

from testdeck.errors import ApiError
from testdeck.resources import Ctx
from testdeck.services.onetest.models import ACTIVE_STATUSES
from testdeck.text import quoted


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


# the API document on both PATCHes; it says nothing of finished runs, so they stay offered, confirmed
RESTART_NOTE = "The API warns: this can cause the execution to restart/redeploy."
SHOWN_VALUE = 120  # characters of a new value quoted in a confirmation
SHOWN_SETTINGS = 6  # settings named one by one in `C`'s confirmation


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return quoted(text if len(text) <= SHOWN_VALUE else text[:SHOWN_VALUE - 1] + "…") + ("" if text else " (empty)")


def setting_change(rows: list, cx: Ctx) -> str:
    """`o` asks naming the setting and the value it sends, as other confirmations name the record."""
    values = cx.values
    return (f"It sets the advanced configuration {quoted(values.get('name'))} to {_shown(values.get('value') or '')}."
            f" {RESTART_NOTE}")


def settings_change(rows: list, cx: Ctx) -> str:
    """`C` asks naming each setting it sends and its value (the PATCH updates or creates each one)."""
    chosen = cx.values.get("configurations") or {}
    named = [f"{quoted(k)} to {_shown(v)}" for k, v in list(chosen.items())[:SHOWN_SETTINGS]]
    more = f" and {len(chosen) - SHOWN_SETTINGS} more" if len(chosen) > SHOWN_SETTINGS else ""
    what = f"{len(chosen)} advanced configuration{'s' if len(chosen) != 1 else ''}"
    return f"It sets {what}: {', '.join(named)}{more}. {RESTART_NOTE}" if chosen else f"It sets none. {RESTART_NOTE}"
