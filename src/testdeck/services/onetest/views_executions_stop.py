"""Stopping executions: one id is a DELETE, several one PATCH; the form's ids, the marks, the confirmation's names."""

from __future__ import annotations

import re
from typing import Any

from testdeck.resources import Ctx, Field
from testdeck.services.onetest.models import ACTIVE_STATUSES, UUID, Execution
from testdeck.text import quoted

# ids one per line (the form) or comma-separated (`do ... --set ids=A,B`); not on spaces: a line pasted
# with more than an id on it ("<id> RUNNING") is an error naming it, not two ids sent
ID_SEPARATORS = re.compile(r"[\r\n,]+")
SHOWN_ID = 80  # characters of a malformed id quoted back in the error


def _stop_options(values: dict[str, Any]) -> dict[str, Any]:
    return {"stop_timeout_secs": values.get("stop_timeout"), "execute_finally_block": values.get("finally_block"),
            "capture_results": values.get("capture_results")}


def split_ids(text: Any) -> list[str]:
    """The ids typed, in order, each once, blanks around them dropped."""
    ids = (i.strip() for i in ID_SEPARATORS.split(str(text or "")))
    return list(dict.fromkeys(i for i in ids if i))


def valid_ids(text: Any) -> str | None:
    """The form's check, before anything is sent: every id an execution id as the document shows
    them (a UUID); the error quotes the ones that are not (sanitised, cut)."""
    ids = split_ids(text)
    if not ids:
        return "no execution id: one per line or comma-separated"
    bad = [i for i in ids if not UUID.fullmatch(i)]
    if not bad:
        return None
    named = ", ".join(quoted(i if len(i) <= SHOWN_ID else i[:SHOWN_ID - 1] + "…") for i in bad[:3])
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    return (f"not an execution id: {named}{more} (an id is a UUID like 1cee02cb-9a89-4175-acef-6af120497476; "
            "one per line or comma-separated)")


STOP_FIELDS = [
    Field("ids", "execution ids", type="text", required=True, validate=valid_ids,
          help="one per line (or comma-separated)"),
    Field("stop_timeout", "stop timeout (s)", type="int", min=0, default=30, help="grace before a hard stop"),
    Field("finally_block", "execute finally blocks", type="bool", default=True),
    Field("capture_results", "capture results", type="bool", default=True),
]


def _typed_ids(cx: Ctx) -> list[str]:
    return split_ids((cx.values or {}).get("ids"))


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

