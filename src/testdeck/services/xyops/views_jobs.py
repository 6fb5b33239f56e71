"""xyOps events and jobs: the live jobs table, job logs followed to the end, run an event now."""

from __future__ import annotations

from typing import Any

import msgspec

from testdeck import clock
from testdeck.columns import ERROR, MUTED, OK, RUNNING, WARNING, Col, age, duration
from testdeck.errors import ApiError
from testdeck.feeds import pause, steady
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, Failing, LogFeed, Opt, Query, Resource, Scope

POLL = 1.0  # seconds between polls of a running job
RECENT = 100  # completed jobs shown by default (search_jobs always gets a limit: the real default is 1)
ANCHOR = 2048  # characters of the log's end kept to find where a new tail continues it
FAILED = "tags:_error"


# --- formatting --------------------------------------------------------------------------------------------

def progress_bar(value: Any, width: int = 10) -> str:
    try:
        fraction = min(1.0, max(0.0, float(value)))
    except (TypeError, ValueError):
        return ""
    full = round(fraction * width)
    return "█" * full + "░" * (width - full) + f" {fraction * 100:3.0f}%"


def result(code: Any) -> str:
    """job.code as the job's result: 0 success, an exit code, or a word such as abort."""
    if code is None or code == "":
        return ""
    if code in (0, "0"):
        return "success"
    if isinstance(code, (int, float)) and not isinstance(code, bool):
        return f"exit {code:g}"
    return str(code)


def result_meaning(code: Any) -> str | None:
    if code is None or code == "":
        return None
    if code in (0, "0"):
        return OK
    return WARNING if code in ("abort", "warning") else ERROR


STATE_MEANING = {"active": RUNNING, "starting": RUNNING, "finishing": RUNNING, "ready": RUNNING,
                 "queued": MUTED, "start_delay": MUTED, "retry_delay": WARNING, "complete": MUTED}


def _elapsed(job) -> float | None:
    if job.get("elapsed"):
        return job.get("elapsed")
    started = job.get("started")
    return clock.now() - started if started and not job.get("complete") else None


# --- listing -----------------------------------------------------------------------------------------------

UNRESOLVED = "(event list unavailable)"  # after an event id the console could not name
UNKNOWN_EVENT = "(unknown event)"  # an id the event list does not hold (a deleted event)


async def decorate(client, rows: list) -> list:
    """Each job gets its event's title (`event_title`, marked when it cannot be named) and a label that
    names the job itself (`job_label`: the event's title, else the job id and its event's id)."""
    try:
        titles: dict | None = await client.event_titles()
    except ApiError:
        titles = None
    for job in rows:
        title = titles.get(job.event) if titles is not None else None
        if title:
            job.raw["event_title"] = job.raw["job_label"] = title
        else:
            why = UNRESOLVED if titles is None else UNKNOWN_EVENT
            job.raw["event_title"] = f"{job.event} {why}" if job.event else why
            job.raw["job_label"] = f"{job.id} (event {job.event or '?'})"
        job.raw["run_time"] = _elapsed(job)
    return rows


def not_abortable(job) -> str | None:
    """A finished job cannot be aborted, though the real server answers {code:0} to it all the same."""
    if job.get("complete") or job.get("state") == "complete":
        outcome = result(job.get("code"))
        return f"already complete ({outcome})" if outcome else "already complete"
    return None


async def abort(cx: Ctx) -> None:
    """Abort a job, read again first: a job that finished since the table was read is refused, not sent
    (the server's "ok" to it would prove nothing)."""
    why = not_abortable(await cx.client.get_job(cx.key))
    if why:
        raise cx.client.refuse("POST", "abort_job", f"not sent: {why}")
    await cx.client.abort_job(cx.key)


async def list_jobs(cx: Ctx, event: str | None = None) -> list:
    """Default: the active jobs, then the last 100 completed. A Query or --query/--event narrows it."""
    event = event or cx.values.get("event")
    query = cx.values.get("query") or cx.query
    if event:
        query = f"event:{event}"
    rows = []
    if query is None or event:
        rows = [j for j in await cx.client.get_active_jobs() if not event or j.event == event]
    rows += await cx.client.search_jobs(query or "*", limit=int(cx.values.get("limit") or RECENT))
    return await decorate(cx.client, rows)


def jobs_screen(cx: Ctx, event) -> Any:
    """The jobs of one event (the `event_jobs` resource, scoped to it) on the same profile."""
    from textual._context import active_app

    from testdeck.screens.resource import ResourceScreen

    app = active_app.get()
    session = next(s for s in app.sessions.values() if s.client is cx.client)
    session.views[f"scope-label:{event.id}"] = event.title or event.id
    return ResourceScreen(session, event_jobs, scope=event.id)


async def event_options(cx: Ctx) -> list[tuple[str, str]]:
    return [(e.id, f"{e.title} ({e.id})") for e in await cx.client.get_events()]


async def chosen_event(cx: Ctx):
    return await cx.client.get_event(cx.values["event"])


# --- logs ----------------------------------------------------------------------------------------------------

class LogFollower:
    """Turns end-aligned tails of a growing log into only the new complete lines.

    Keeps the count of characters shown and the last ANCHOR of them (bounded
    memory): a tail that holds the whole log continues at that count, a cut
    tail continues after the anchor (or after the part of it the tail starts
    with); if none fits, a gap is reported."""

    def __init__(self) -> None:
        self.seen = 0
        self.anchor = ""
        self.restarted = False  # the last gap: a log shorter than what was shown (it started again), not a cut

    def fresh(self, text: str) -> tuple[str, bool]:
        """(new text, whether something was skipped)."""
        a = self.anchor
        if not a:
            return text, False
        if len(text) >= self.seen and text[self.seen - len(a):self.seen] == a:
            return text[self.seen:], False
        i = text.find(a)
        if i >= 0:
            return text[i + len(a):], False
        # a cut tail that starts inside the anchor: the longest run of its whole lines the anchor ends with
        best, nl = 0, text.find("\n")
        while 0 <= nl < len(a):
            if a.endswith(text[:nl + 1]):
                best = nl + 1
            nl = text.find("\n", nl + 1)
        return (text[best:], False) if best else (text, True)

    def take(self, text: str, final: bool = False) -> tuple[list[str], bool]:
        new, gap = self.fresh(text)
        self.restarted = gap and len(text) < self.seen
        cut = len(new) if final else new.rfind("\n") + 1  # a running log's last line may still grow
        done = new[:cut]
        if gap:
            self.seen = len(text) - len(new) + cut
        else:
            self.seen += cut
        self.anchor = (self.anchor + done)[-ANCHOR:]
        lines = done.splitlines()
        return lines, gap


async def final_log(client, job) -> str:
    """A completed job's log: inline output, else the archive, else (204) view_job_log with its token."""
    if job.output:
        return job.output
    text = await client.get_job_log(job.id)
    if text is None:
        token = job.token or (await client.get_job(job.id)).token
        text = await client.view_job_log(job.id, token)
    return text or ""


def summary(job) -> str:
    words = [f"-- {job.state or 'complete'}", f"result {result(job.code) or '?'}"]
    if job.description:
        words.append(job.description)
    if job.elapsed:
        words.append(f"after {duration(job.elapsed)}")
    return " · ".join(words)


async def follow_job(client, job_id: str) -> LogFeed:
    """Follow a job's log: live tail while active (only new text), then the final log, then its result."""
    job = await steady(lambda: client.get_job(job_id))
    try:
        event = (await client.event_titles()).get(job.event) or job.event
    except ApiError:
        event = job.event
    yield [f"-- job {job_id} · {event} · server {job.server or '?'} · {job.state or '?'}"]
    follower = LogFollower()
    while not job.finished:
        lines, gap = follower.take(await steady(lambda: client.tail_live_job_log(job_id)))
        if gap:
            lines.insert(0, "-- (the log started over: shown again from its start)" if follower.restarted
                         else "-- (log skipped here: it grew faster than it was read)")
        if lines:
            yield lines
        await pause(POLL)
        job = await steady(lambda: client.get_job(job_id))
    lines, gap = follower.take(await steady(lambda: final_log(client, job)), final=True)
    if gap:
        lines.insert(0, "-- (final log follows in full)")
    yield [*lines, summary(job)]


def job_log(cx: Ctx) -> LogFeed:
    return follow_job(cx.client, cx.key)


def follow_new_job(cx: Ctx, job_id: Any) -> LogFeed:
    return follow_job(cx.client, str(job_id))


# --- declarations ---------------------------------------------------------------------------------------

jobs = Resource(
    name="jobs",
    title="Jobs",
    key="id",
    label="job_label",
    aliases=("job",),
    drill="log",
    columns=[
        Col("event_title", "event", csv="event"),  # CSV: the event's id, never the decorated title
        Col("state", width=8, status=STATE_MEANING),
        Col("progress", fmt=progress_bar, width=15),
        Col("code", "result", fmt=result, width=8, status=result_meaning),
        Col("server", priority=1),
        Col("started", fmt=age, width=7),
        Col("run_time", "elapsed", fmt=duration, width=7),
        Col("id", width=16, priority=2),
    ],
    list=list_jobs,
    options=(Opt("event"), Opt("limit")),
    detail=lambda cx: cx.client.get_job(cx.key),
    log=job_log,
    queries=[Query("f", "failed", FAILED), Query("c", "completed", "*")],
    actions=[
        Action("x", "abort", abort, mutates=True, confirm=True, bulk=True, unavailable=lambda cx: not_abortable(cx.row) if cx.row is not None else None),
        Action("v", "event jobs", chosen_event, row=False, screen=jobs_screen,
               form=Form("Jobs of one event", [Field("event", type="choice", required=True, choices=event_options)])),
    ],
)

# The same table for one event: a resource scoped to the event (`P` picks another; CLI: --scope EVENT_ID).
event_jobs = msgspec.structs.replace(
    jobs, name="event_jobs", title="Event jobs", aliases=("jobs_of_event",), queries=[],
    scope=Scope("event", event_options), list=lambda cx: list_jobs(cx, event=cx.scope),
    actions=[a for a in jobs.actions if a.label == "abort"])

events = Resource(
    name="events",
    title="Events",
    key="id",
    label="title",
    aliases=("event",),
    drill="event_jobs",
    columns=[
        Col("title"),
        Col("enabled", "on", fmt=lambda v: "yes" if v else "no", width=3, status=lambda v: OK if v else MUTED),
        Col("plugin", width=10),
        Col("category", priority=2),
        Col("targets", fmt=lambda v: ",".join(map(str, v or [])), priority=1),
        Col("id", width=16, priority=3),
        Col("modified", fmt=age, width=8),
    ],
    list=lambda cx: cx.client.get_events(),
    detail=lambda cx: cx.client.get_event(cx.key),  # with its active jobs
    actions=[
        Action("x", "run now", lambda cx: cx.client.run_event(cx.key, cx.values.get("params") or None),
               mutates=True, follow=follow_new_job, form=Form("Run the event now", [
                   Field("params", "parameter overrides", type="json", default={},
                         validate=lambda v: None if isinstance(v, dict) else "must be a JSON object: { ... }",
                         help="JSON object merged over the event's params; {} for none"),
               ])),  # prefilled with the event's own params
        Action("o", "jobs", lambda cx: cx.client.get_event(cx.key), screen=jobs_screen),
    ],
)


RECENTLY = 86400  # triage shows jobs that failed in the last day


def _ended_with(codes_ok: tuple, job) -> bool:
    recent = clock.now() - float(job.get("completed") or 0) < RECENTLY
    return bool(job.get("complete")) and recent and job.get("code") not in (0, "0", None, "", *codes_ok)


def _failed(job) -> bool:
    return _ended_with(("abort", "warning"), job)


def _warned(job) -> bool:
    return _ended_with((), job) and not _failed(job)


def _what(job) -> str:
    return f"{job.get('event_title')} ({job.get('id')})"


def _why(job) -> str:
    return job.get("description") or result(job.get("code"))


FAILING = [Failing("jobs", when, severity=severity, what=_what, message=_why, since=lambda j: j.get("completed"),
                   query=FAILED) for when, severity in ((_failed, "error"), (_warned, "warning"))]
