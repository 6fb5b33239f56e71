"""What kyaraben's resources share: validators, choices, hwconfig fields, status meanings, the project scope."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from testdeck.columns import ERROR, MUTED, OK, RUNNING
from testdeck.errors import ApiError, Refused
from testdeck.forms import Field
from testdeck.resources import Accepted, Ctx, Scope, nothing_changed
from testdeck.text import quoted
from testdeck.services.kyaraben.client import CAMPAIGN_NAME_MAX, HW_DEFAULTS, HWCONFIG_KEYS, IMAGE_EXT, MOVIE_EXT

REASONS_MAX = 20  # ERROR rows whose reason is fetched per refresh (lists have no status_reason)
FOLLOW_INTERVAL = 1.0  # seconds between polls of a command / compile / campaign (tests shorten it)
HW_MIN = {"width": 240, "height": 240, "dpi": 100}  # the server's schema minimums
HW_MAX = 10_000  # sanity bound for screens, not a server rule

# what a state means, for the table's colours and glyphs (VMs, projects, APKs, camera files, campaigns)
STATUS = {"READY": OK, "QUEUED": RUNNING, "CREATING": RUNNING, "UPLOADING": RUNNING, "RUNNING": RUNNING,
          "COMPILING DSL": RUNNING, "COMPILING JAVA": RUNNING, "ERROR": ERROR, "DELETING": MUTED,
          "DELETED": MUTED}


# states in which the server still works on something after it answered (its workers make VMs and
# projects, take files in, compile, remove): an action that leaves a record there was accepted, not done
UNDER_WAY = {
    "QUEUED": "the server starts it when one of its workers takes it",
    "CREATING": "READY once the server has made it",
    "UPLOADING": "READY once the server has taken the file in",
    "COMPILING DSL": "READY once compiled",
    "COMPILING JAVA": "READY once compiled",
    "RUNNING": "it is running",
    "DELETING": "the server removes it in the background",
}


async def settled(what: str, read: Callable[[], Awaitable[Any]], result: Any = None, *, name: str = "",
                  pending: bool = False, removes: bool = False, note: str = "") -> Any:
    """What an action really did, from the record read again after it: still under way (a project
    QUEUED, a VM DELETING) is `Accepted("VM 'x' is DELETING; …")`, else done (`result`).
    `removes`: a delete, done only once the record is gone (404 or DELETED); `pending`: the server said
    it works in the background (a 202, a create that "has started"), so a state that cannot be read is
    still only accepted; `name`: the record's label field; `note`: added to what the state means."""
    try:
        record = await read()
    except ApiError as exc:
        if exc.status == 404 or not pending:
            return result  # gone at once (a delete), or a server that answered "done" and cannot be read
        return Accepted(f"{what} was accepted; its state could not be read: {exc.message}", result)
    if record is None:  # (no longer listed)
        return result
    status = str(getattr(record, "state", None) or record.get("status") or "")
    if status == "DELETED" or (status not in UNDER_WAY and not removes):
        return result
    label = record.get(name) if name else None
    named = f"{what} {quoted(label)}" if label else what
    means = UNDER_WAY.get(status) or "the server accepted the delete and removes it in the background"
    return Accepted(f"{named} is {status or 'in no state'}; {means}" + (f" {note}" if note else ""), result)


async def with_reasons(client: Any, rows: list[Any], detail: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """Rows in ERROR with their reason in `status_reason` (VMs and APKs: only the detail call has it), for
    the status cell and triage; a reason that could not be read is kept as `_reason_unread` (not "no
    reason given": the server may have one), and leaves the profile's health to the table's own read."""
    failed = [r for r in rows if r.status == "ERROR" and not r.status_reason][:REASONS_MAX]
    before = client.health.before()
    details = await asyncio.gather(*(detail(r) for r in failed), return_exceptions=True)
    client.health.forget([d for d in details if isinstance(d, BaseException)], before)
    for row, found in zip(failed, details):
        if isinstance(found, BaseException):
            row.__dict__["_reason_unread"] = found.message if isinstance(found, ApiError) else str(found)
        else:
            row.status_reason = found.status_reason
            row.raw["status_reason"] = found.status_reason
    return rows


# --- validators (each returns an error message or None) --------------------------------------------

def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = value.strip() if isinstance(value, str) else ""
    digits = text[1:] if text[:1] in ("+", "-") else text
    return int(text) if digits.isdigit() else None


def dimension(name: str):
    """width/height/dpi: a positive integer, at least the server's minimum."""
    low = HW_MIN[name]

    def check(value: Any) -> str | None:
        if value in (None, ""):
            return None  # optional: the server default applies
        n = as_int(value)
        if n is None:
            return f"{name} must be a whole number"
        if n <= 0:
            return f"{name} must be a positive integer"
        if n < low:
            return f"{name} must be at least {low} (the server's minimum)"
        if n > HW_MAX:
            return f"{name} must be at most {HW_MAX}"
        return None

    return check


def positive_int(value: Any) -> str | None:
    n = as_int(value)
    if n is None:
        return "must be a whole number"
    return None if n > 0 else "must be a positive integer"


def not_blank(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must not be blank"


def campaign_name(value: Any) -> str | None:
    text = (value or "").strip() if isinstance(value, str) else ""
    if len(text) > CAMPAIGN_NAME_MAX:
        return f"at most {CAMPAIGN_NAME_MAX} characters (the server refuses longer names; this one has {len(text)})"
    return None


def _local_file(value: Any, suffixes: tuple[str, ...] | None, what: str) -> str | None:
    if value in (None, ""):
        return "choose a file"
    path = Path(str(value)).expanduser()
    if path.is_dir():
        return f"{path} is a folder: give a file's path"
    if not path.is_file():
        return f"no such file: {path}"
    if suffixes and not path.name.lower().endswith(suffixes):
        return f"{what} must end with {', '.join(suffixes)}"
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    return None


def apk_file(value: Any) -> str | None:
    return _local_file(value, (".apk",), "an APK file")


def camera_file(value: Any) -> str | None:
    return _local_file(value, IMAGE_EXT + MOVIE_EXT, "a camera file (image or movie)")


def dsl_file(value: Any) -> str | None:
    return _local_file(value, None, "a test source")


def at_least_one(value: Any) -> str | None:
    return None if value else "choose at least one"


# --- choices, values ---------------------------------------------------------------------------------------

async def project_options(cx: Ctx) -> list[tuple[str, str]]:
    return [(p.project_id, p.project_name or p.project_id) for p in await cx.client.get_projects()
            if p.status not in ("DELETING", "DELETED")]


async def image_choices(cx: Ctx) -> list[tuple[str, str]]:
    return [(i.image, f"{i.image} (Android {i.android_version})") for i in await cx.client.get_images()]


def apk_choices(apks: list[Any]) -> list[tuple[str, str]]:
    """READY APKs as the forms offer them: `file.apk (its.package)` (no brackets when the package is
    unknown, as a compiled APK's is at first); `testdeck do` takes the id, that label, the file name or
    the package."""
    return [(a.apk_id, f"{a.filename} ({a.package})" if a.package else a.filename or a.apk_id)
            for a in apks if a.status == "READY"]


def choice(value: Any) -> Any:
    return value[0] if isinstance(value, tuple) else value


def as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(choice(v)) for v in value]


def refuse(cx: Ctx, method: str, path: str, message: str) -> ApiError:
    """A refusal decided here, before sending: `refused before sending: …` (the form: `refused: …`)."""
    return Refused("kyaraben", cx.client.profile.name, method, path, None, message)


# --- hwconfig ------------------------------------------------------------------------------------------------

def hwconfig_fields() -> list[Field]:
    d = HW_DEFAULTS
    fields = [Field(k, type="int", default=d[k], min=HW_MIN[k], max=HW_MAX, validate=dimension(k),
                    help=f"{'pixels' if k != 'dpi' else 'dots per inch'}, {HW_MIN[k]} to {HW_MAX:,}")
              for k in ("width", "height", "dpi")]
    fields += [Field(k, k.removeprefix("enable_"), type="bool", default=bool(d[k]), help="sent as 0/1")
               for k in HWCONFIG_KEYS if k.startswith("enable_")]
    return fields


def hwconfig_from(values: dict[str, Any]) -> dict[str, int]:
    """The form's values as the server's hwconfig: ints, switches as 0/1; unset keys left to the server."""
    out: dict[str, int] = {}
    for key in HWCONFIG_KEYS:
        value = values.get(key)
        if value in (None, ""):
            continue
        if key.startswith("enable_"):
            out[key] = 1 if value in (True, 1, "1", "true", "yes", "on") else 0
        else:
            n = as_int(value)
            if n is not None:
                out[key] = n
    return out


# one scope, one name ("project"), shared by every kyaraben resource inside a project. A project picked
# with P holds for the session (every resource of the profile with this scope), and nothing more: it is
# a view choice, so it neither writes the config file nor narrows what triage reads (every project,
# unless the user configured the profile's project_id)
PROJECT_SCOPE = Scope(name="project", options=project_options)


def rename(call: Any, field: str, path: str) -> Any:
    """A rename's call: the new name, or `nothing changed: nothing sent` when it is the name already
    (a rename saved unchanged sent a PUT and said `done`)."""
    async def run(cx: Ctx) -> Any:
        name = str(cx.values.get(field) or "").strip()
        if cx.row is not None and name == str(cx.row.get(field) or ""):
            raise nothing_changed(cx, "PUT", path.format(cx.key))
        return await call(cx.client, cx.key, name)
    return run
