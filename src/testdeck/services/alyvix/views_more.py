"""Alyvix resources: measures (runs of a test case, with the trend chart), the server log,
the license and the settings; and the status-bar text."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from testdeck import clock
from testdeck.columns import ERROR, MUTED, OK, WARNING, Col, plain
from testdeck.errors import ApiError
from testdeck.files import save_dir, write_new
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, Opt, Query, Resource, Scope, nothing_changed
from testdeck.services.alyvix.client import (LOG_LEVELS, LOG_SOURCES, SETTINGS_LOG_LEVELS, License, LogLine, Run,
                                             Settings,
                                             decode_image, parse_stamp, stamp)
from testdeck.services.alyvix.logfeed import LogFollow, show_time

STATE_NAME = {0: "ok", 1: "warning", 2: "critical", 3: "unknown"}
STATE_MEANING = {"0": OK, "1": WARNING, "2": ERROR, "3": MUTED}
RANGES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400}
LICENSE_WARN_DAYS = 14


def ms(value: Any) -> str:
    if value in (None, ""):
        return ""
    try:
        s = float(value) / 1000
    except (TypeError, ValueError):
        return str(value)
    return f"{s:.0f}s" if s >= 100 else f"{s:.1f}s"


def short_time(value: Any) -> str:
    if value in (None, ""):
        return ""
    return dt.datetime.fromtimestamp(float(value), dt.timezone.utc).strftime("%m-%d %H:%M:%S")


# --- measures -----------------------------------------------------------------------------

def window(cx: Ctx) -> tuple[float, float]:
    """(since, until) in epoch seconds: --from/--to (YYYYMMDDhhmmss) or the quick range (default 24h)."""
    values = cx.values or {}
    until = parse_stamp(values["to"]) if values.get("to") else clock.now()
    span = RANGES.get(cx.query or "24h", RANGES["24h"])
    since = parse_stamp(values["from"]) if values.get("from") else until - span
    return since, until


def chosen_session(client: Any) -> tuple[str, str] | None:
    """The session the measures screen shows (id, label), chosen with `f`; None: every session.
    Kept on the profile's client, so it holds for every test case until changed."""
    return getattr(client, "measures_session", None)


async def list_measures(cx: Ctx) -> list[Run]:
    try:
        since, until = window(cx)
    except ValueError as exc:
        raise cx.client.error("GET", "measures", None, f"refused: {exc}", local=True) from None  # (not the server's)
    chosen = chosen_session(cx.client)
    session = (cx.values or {}).get("session") or (chosen[0] if chosen else None)
    runs = await cx.client.get_measures(cx.scope, session_id=session,
                                        test_case_from=stamp(since), test_case_to=stamp(until))
    return runs[::-1]  # newest first


async def _session_choices(cx: Ctx) -> list[tuple[str, str]]:
    return [(str(s.id), f"{s.user} ({s.id})") for s in await cx.client.get_sessions()]


async def _choose_session(cx: Ctx) -> None:
    value = cx.values.get("session")
    if value in (None, ""):
        cx.client.measures_session = None
        return
    labels = dict(await _session_choices(cx))
    cx.client.measures_session = (str(value), labels.get(str(value), str(value)))


async def _session_initial(cx: Ctx) -> dict[str, Any]:
    chosen = chosen_session(cx.client)
    return {"session": chosen[0]} if chosen else {}


def _session_title(cx: Ctx) -> str:
    chosen = chosen_session(cx.client)
    return f"session {chosen[1]}" if chosen else ""


async def _testcase_options(cx: Ctx) -> list[tuple[str, str]]:
    return [(str(tc.id), tc.name) for tc in await cx.client.get_testcases()]


def _mark(value: Any, warning: Any, critical: Any) -> str:
    if value is None:
        return ""
    if critical is not None and value > critical:
        return "✖ over critical"
    if warning is not None and value > warning:
        return "▲ over warning"
    return "• ok"


def show_run(run: Run) -> str:
    """A run's transactions with their timings against warning and critical thresholds."""
    head = [f"run       {run.test_case_execution_code}",
            f"time      {short_time(run.time)} UTC    session {run.domain_username}    host {run.hostname}",
            f"result    {STATE_NAME.get(run.test_case_state, 'unknown')} (exit {run.test_case_exit or '?'})"
            f"    took {ms(run.test_case_duration_ms) or '?'}",
            ""]
    rows = [("transaction", "took", "warn", "crit", "state", "exit")]
    for t in run.transactions:
        rows.append((t.transaction_alias or t.transaction_name, ms(t.transaction_performance_ms) or "-",
                     ms(t.transaction_warning_ms), ms(t.transaction_critical_ms),
                     _mark(t.transaction_performance_ms, t.transaction_warning_ms, t.transaction_critical_ms)
                     or STATE_NAME.get(t.transaction_state, ""), t.transaction_exit))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    table = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    if not run.transactions:
        table.append("(the server sent no transactions for this run)")
    return "\n".join(head + table)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "run"


def _free(path: Path) -> Path:
    """`path`, or path-1, path-2...: an existing file is never overwritten."""
    n, candidate = 0, path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def save_screenshots(run: Run, folder: str) -> list[Path]:
    where = Path(folder).expanduser()
    where.mkdir(parents=True, exist_ok=True)
    saved = []
    for n, t in enumerate(run.transactions, 1):
        for kind in ("screenshot", "annotation"):
            data = t.get(f"transaction_{kind}")
            if not data:
                continue
            try:
                image = decode_image(str(data))
            except ValueError:
                continue
            suffix = ".png" if image.startswith(b"\x89PNG") else (".jpg" if image[:2] == b"\xff\xd8" else ".bin")
            name = f"{_safe(run.test_case_execution_code)}_{n:02d}_{_safe(t.transaction_name)}_{kind}{suffix}"
            while True:  # a new file, owner-only (0600), never over one that exists, even one made meanwhile
                target = _free(where / name)
                try:
                    saved.append(write_new(target, image))
                    break
                except FileExistsError:
                    continue
    return saved


async def _save(cx: Ctx) -> list[Path]:
    run = await cx.client.get_measure(cx.scope, cx.key, screenshots=True)
    return save_screenshots(run, cx.values.get("folder") or str(save_dir()))


async def _screenshots_initial(cx: Ctx) -> dict[str, Any]:
    return {"folder": str(save_dir())}  # where saved logs and tables go: never the working directory


def _saved_text(paths: list[Path]) -> str:
    if not paths:
        return "The server sent no screenshots for this run."
    return f"Saved {len(paths)} image(s):\n" + "\n".join(str(p) for p in paths)


def _chart():
    from testdeck.services.alyvix.chart import RunChart  # Textual widget: only when the screen opens

    return RunChart(window)


measures = Resource(
    name="measures",
    title="Measures",
    key="test_case_execution_code",
    label="test_case_execution_code",
    columns=[
        Col("time", fmt=short_time, width=14),
        Col("test_case_duration_ms", "took", fmt=ms, width=6),
        Col("test_case_state", "state", width=8, fmt=lambda v: STATE_NAME.get(v, ""), status=STATE_MEANING),
        Col("test_case_exit", "exit", width=12),
        Col("domain_username", "session", priority=1),
        Col("test_case_execution_code", "runcode", priority=2),
    ],
    list=list_measures,
    options=(Opt("from"), Opt("to"), Opt("session")),
    detail=lambda cx: cx.client.get_measure(cx.scope, cx.key),
    scope=Scope(name="testcase", options=_testcase_options),
    queries=[Query("H", "last hour", "1h"), Query("D", "last 24h", "24h"), Query("W", "last 7 days", "7d")],
    header=_chart,
    subtitle=_session_title,
    actions=[
        Action("f", "session", _choose_session, row=False, refresh=True,
               form=Form("Measures of one session (clear the choice for every session)", [
                   Field("session", type="choice", choices=_session_choices,
                         help="the runs this session made; clear it for all")], initial=_session_initial)),
        Action("t", "transactions", lambda cx: cx.client.get_measure(cx.scope, cx.key), show=show_run),
        Action("i", "save screenshots", _save, show=_saved_text,
               form=Form("Save the run's screenshots", [
                   Field("folder", required=True, help="existing files are never overwritten; files are 0600")],
               initial=_screenshots_initial)),
    ],
    aliases=("runs", "measure"),
)


# --- server log ---------------------------------------------------------------------------

async def list_log(cx: Ctx) -> list[LogLine]:
    values = cx.values or {}
    lines = await cx.client.get_log(log_from=values.get("from"), log_to=values.get("to"),
                                    log_source=values.get("source"), log_level=values.get("level"))
    return lines[::-1]  # newest first


async def log_line(cx: Ctx) -> LogLine:
    """A line by its id (time-checksum, as `get log` prints it); a bare time finds that second's only line."""
    key = str(cx.key)
    when = key.split("-", 1)[0]
    second = when if len(when) == 14 and when.isdigit() else None  # only that second's lines
    lines = await cx.client.get_log(log_from=second, log_to=second)
    for line in lines:
        if line.id == key:
            return line
    at_that_time = [line for line in lines if line.timestamp == key] if second == key else []
    if len(at_that_time) == 1:
        return at_that_time[0]
    if at_that_time:
        why = (f"{len(at_that_time)} lines at {key}: give one's id "
               f"({', '.join(line.id for line in at_that_time[:10])})")
    else:
        why = f"no line {key} in the server's log (ids are as `get log` prints them: time-checksum)"
    # the server answered (200): "error", never "no response"
    raise ApiError("alyvix", cx.client.profile.name, "GET", "/log", 200, why)


log = Resource(
    name="log",
    title="Server log",
    key="id",
    columns=[
        Col("timestamp", "time", fmt=show_time, width=19),
        Col("id", width=23, priority=3),  # what `describe log` and `logs log` take
        Col("log_source", "source", width=8, priority=1),
        Col("log_level", "level", width=8, status={"DEBUG": MUTED, "WARNING": WARNING, "CRITICAL": ERROR}),
        Col("message"),
    ],
    list=list_log,
    options=(Opt("from"), Opt("to"), Opt("source", LOG_SOURCES), Opt("level", LOG_LEVELS)),
    detail=log_line,
    log=lambda cx: LogFollow(cx.client),
    drill="log",
    actions=[
        Action("m", "post message", lambda cx: cx.client.post_log(cx.values["message"], cx.values["log_level"]),
               form=Form("Post a message to the server log", [
                   Field("message", required=True),
                   Field("log_level", "level", type="choice", required=True, choices=list(LOG_LEVELS),
                         default="DEBUG"),
               ]), mutates=True, row=False),
    ],
    aliases=("logs",),
)


# --- license and settings -------------------------------------------------------------------

async def list_license(cx: Ctx) -> list[License]:
    lic = await cx.client.get_license()
    try:
        status = await cx.client.get_license_status()
    except ApiError:
        status = None
    if status is not None:
        merged = {**lic.raw, **{k: v for k, v in status.raw.items() if v not in (None, "")}}
        lic = License.from_api(merged)
    return [lic]


def _license_ok(value: Any) -> str:
    return OK if str(value).upper() == "ACTIVE" else ERROR


def _days_meaning(value: Any) -> str | None:
    if value is None:
        return None
    return ERROR if value < 0 else (WARNING if value < LICENSE_WARN_DAYS else OK)


def _confirmed(value: bool) -> str | None:
    return None if value else "turn this on: the new key replaces the current license"


async def _set_key(cx: Ctx) -> Any:
    # checked here too: a switch left off may reach the call as "no value"
    problem = _confirmed(bool(cx.values.get("confirm")))
    if problem:  # the form shows it under the switch; `testdeck do` gets here: said once, not sent
        raise cx.client.refuse("POST", "/license", f"not sent: {problem}")
    return await cx.client.set_license(cx.values["license"])


license_ = Resource(
    name="license",
    title="License",
    key="expiration_date",
    columns=[
        Col("status", width=8, status=_license_ok),
        Col("plan"),
        Col("expiration_date", "expires", width=10),
        Col("days", "days left", width=9, status=_days_meaning),
        Col("licensed_sessions", "sessions", width=8),
        Col("service_status", "service", width=8, priority=1),
        Col("customer", priority=2),
    ],
    list=list_license,
    actions=[
        Action("a", "set key", _set_key,
               form=Form("Set a new license key", [
                   Field("license", "license key", type="secret", required=True),
                   Field("confirm", "replace the current license", type="bool", validate=_confirmed),
               ]), mutates=True, row=False),
    ],
    aliases=("licence",),
)


SETTINGS_NAME = "server settings"  # the one settings record's key and name (toasts, describe)


async def list_settings(cx: Ctx) -> list[Settings]:
    current = await cx.client.get_settings()
    # the private key never reaches the table, the details or `get -o json`
    shown = {**current.raw, "private_key": "(set)" if current.private_key else None}
    record = Settings.from_api({**shown, "name": SETTINGS_NAME})
    record.__dict__["_api"] = shown  # `get -o json`: the server's fields only
    return [record]


async def _one_settings(cx: Ctx) -> Settings:
    return (await list_settings(cx))[0]


async def _settings_initial(cx: Ctx) -> dict[str, Any]:
    """The server's current values (read again: the form edits what is there now), the private key left out."""
    current = await cx.client.get_settings()
    return {k: v for k, v in current.raw.items() if k not in ("private_key", "name")}


async def _update_settings(cx: Ctx) -> Any:
    if not cx.changed:
        raise nothing_changed(cx, "PUT", "/settings")
    return await cx.client.update_settings(cx.changed)


async def _settings_levels(cx: Ctx) -> list[str]:
    # loaded like the server's choices, so the current level is selected once the options are in
    return list(SETTINGS_LOG_LEVELS)


settings = Resource(
    name="settings",
    title="Settings",
    key="name",
    columns=[
        Col("log_level", "log level", width=9),
        Col("successful_retention_period", "keep ok (d)", width=11),
        Col("failed_retention_period", "keep failed (d)", width=15),
        Col("log_retention_period", "keep log (d)", width=12),
        Col("private_key", "private key", fmt=lambda v: "set" if v else "not set", width=11),
    ],
    list=list_settings,
    detail=lambda cx: _one_settings(cx),  # there is one: any key (`describe settings "server settings"`)
    actions=[
        Action("e", "edit", _update_settings, form=Form("Settings", [
            Field("private_key", "private key", type="secret", help="leave empty to keep it"),
            Field("successful_retention_period", "keep successful runs (days)", type="int", required=True,
                  min=1),
            Field("failed_retention_period", "keep failed runs (days)", type="int", required=True, min=1),
            Field("log_retention_period", "keep the log (days)", type="int", required=True, min=1),
            Field("log_level", "log level", type="choice", required=True, choices=_settings_levels),
        ], initial=_settings_initial), mutates=True),
    ],
)


# --- status bar ---------------------------------------------------------------------------------

async def status_text(client: Any) -> str:
    """"insecure API" for http or /v0 profiles; the license when it needs attention."""
    parts = ["⚠ insecure API"] if client.insecure else []
    try:
        lic = await client.get_license_status()
    except ApiError as exc:
        parts.append(f"license ? ({exc.message[:40]})")
        return " ".join(parts)
    days = lic.days_left()
    if lic.status.upper() != "ACTIVE":
        parts.append(f"✖ license {plain(lic.status) or 'unknown'}")
    elif days is not None and days < LICENSE_WARN_DAYS:
        parts.append(f"⚠ license: {max(0, int(days))}d left")
    else:
        parts.append("license ok")
    return " ".join(parts)
