"""Stopping executions: one id is a DELETE, several one PATCH; the form's ids, the marks, the confirmation's names."""

from __future__ import annotations

import re
from typing import Any

from testdeck.resources import Ctx, Field
from testdeck.services.onetest.models import ACTIVE_STATUSES, Execution


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

