"""Stopping executions: one id is a DELETE, several one PATCH; the form's ids, the marks, the confirmation's names."""

from __future__ import annotations

import re
from typing import Any

from testdeck.forms import Field
from testdeck.resources import Ctx
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


def _has_ended(row: Any) -> bool:
    status = str(row.get("status") or "")
    return bool(status) and status not in ACTIVE_STATUSES


def _known(cx: Ctx) -> dict[str, Any]:
    """The rows the screen has for the ids (the marks, the selected row)."""
    return {str(r.get("id")): r for r in [*cx.marked, *([cx.row] if cx.row is not None else [])]}


def _sorted_ids(cx: Ctx) -> tuple[list[str], list[Any]]:
    """(the ids to send, the rows left out): a run known here to have ended is not sent (as one row's key
    refuses it: stop is for active and scheduled runs); an id the screen has no row for is sent."""
    known = _known(cx)
    ids = _typed_ids(cx) or marked_ids(cx)
    left = [known[i] for i in ids if i in known and _has_ended(known[i])]
    return [i for i in ids if not (i in known and _has_ended(known[i]))], left


def stop_targets(cx: Ctx) -> list[Execution]:
    """What the confirmation names: the ids the form will send, as their rows where the screen has them."""
    known = _known(cx)
    return [known.get(i) or Execution.from_api({"id": i}) for i in _sorted_ids(cx)[0]]


def ended(cx: Ctx) -> str | None:
    """Stop is for active and scheduled runs (the API document); one that ended cannot be (its
    DELETE was sent and said done). With marks, the marked rows are what the form sends: said at
    the key when every one of them has ended."""
    if cx.marked:
        if all(_has_ended(r) for r in cx.marked):
            statuses = ", ".join(sorted({str(r.get("status")) for r in cx.marked}))
            return f"the marked executions have all ended ({statuses})"
        return None
    if cx.row is None:
        return None
    return f"already ended ({cx.row.get('status')})" if _has_ended(cx.row) else None


def marked_ids(cx: Ctx) -> list[str]:
    """The ids of the marked rows still active when the screen gives them (else the selected row's)."""
    if cx.marked:
        return [str(r.get("id")) for r in cx.marked if not _has_ended(r)]
    return [cx.key] if cx.key else []


async def stop(cx: Ctx) -> str:
    """One id: DELETE (stop or cancel); several: one PATCH with all of them (a 422 names the unknown ones).
    Runs known here to have ended are left out and named in the answer."""
    ids, left = _sorted_ids(cx)
    gone = "; ".join(f"{quoted(r.get('asset') or r.get('id'))} ({r.get('id')}): {r.get('status')}" for r in left)
    if not ids:
        why = f"not sent: already ended: {gone}" if left else "no execution ids given"
        raise cx.client.refuse("PATCH", cx.client._executions(cx.scope, "PATCH"), why)  # the path, not its template
    options = _stop_options(cx.values)
    if len(ids) == 1:
        await cx.client.stop_execution(ids[0], project_id=cx.scope, **options)
        answer = f"Stop requested for {ids[0]}"
    else:
        answer = await cx.client.stop_executions(ids, project_id=cx.scope, **options)
        answer = answer or f"Stop requested for {len(ids)} executions"
    return answer + (f"\nNot sent, already ended: {gone}" if left else "")


async def _stop_initial(cx: Ctx) -> dict[str, Any]:
    return {"ids": "\n".join(marked_ids(cx))}

