"""Events and jobs: jobs start, report progress, write log lines over time and finish.

Time is lazy (config.elapsed at request time): a frozen clock freezes every
job, a fast `speed` runs them to the end in a test. A job ends with code 0,
an exit code ("Script exited with code: 3") or "abort". Small logs are inline
in `job.output` and get_job_log answers 204 for them, as on the real server;
view_job_log takes the job's token instead of a key.
"""

from __future__ import annotations

import functools
import hashlib
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from testdeck.services.xyops.sim.core import ID_RULE, Api, Reject, as_int, search_page

INLINE_LOG = 32 * 1024  # logs up to this size are kept inline in job.output
# title, plugin, targets, duration (s), log lines, exit code, enabled, icon
SEED = [
    ("Nightly backup", "shellplug", ["main"], 40, 24, 0, True, "backup-restore"),
    ("Deploy web", "shellplug", ["web"], 25, 30, 0, True, "rocket-launch-outline"),
    ("Integration tests", "testplug", ["main"], 60, 60, 3, True, "test-tube"),
    ("Health check", "httpplug", ["main"], 6, 5, 0, True, "heart-pulse"),
    ("Log rotation", "shellplug", ["main"], 10, 8, 0, False, "rotate-right"),
    ("Monthly report", "shellplug", ["db"], 30, 1500, 0, True, "file-chart-outline"),
]
PRUNED = ("output", "params", "data", "files")  # heavy fields search_jobs leaves out


class Jobs:
    def __init__(self, config, events: dict, jobs: dict, new_id, secret: str):
        self.config, self.events, self.jobs, self.new_id, self.secret = config, events, jobs, new_id, secret

    def token(self, jid: str) -> str:
        return hashlib.sha256(f"{self.secret}:{jid}".encode()).hexdigest()[:32]

    def start(self, event: dict[str, Any], params: dict[str, Any], *, ago: float = 0.0, source: str = "key",
              username: str = "api", abort_at: float | None = None) -> dict[str, Any]:
        plan = {**event.get("params", {}), **params}
        jid = self.new_id("j")
        servers = {"web": "s12345abcde", "db": "s67890fghij"}
        now = self.config.clock()
        job = {"id": jid, "event": event["id"], "category": event.get("category", "general"),
               "plugin": event.get("plugin", ""), "targets": event.get("targets", []),
               "server": servers.get((event.get("targets") or ["main"])[0], "local"), "state": "active",
               "started": int(now - ago), "updated": int(now), "now": int(now - ago), "progress": 0.0,
               "source": source, "username": username, "params": plan, "log_file_size": 0,
               "_t0": now - ago / self.config.speed, "_title": event.get("title", "")}
        if abort_at is not None:
            job["_aborted"], job["_by"] = abort_at, "admin-key"
        self.jobs[jid] = job
        return self.advance(job)

    def plan(self, job: dict[str, Any]) -> tuple[float, int, Any]:
        p = job["params"]
        try:
            return max(0.1, float(p.get("duration", 10))), max(1, int(p.get("lines", 10))), p.get("exit_code", 0)
        except (TypeError, ValueError):
            return 10.0, 10, 0

    def lines(self, job: dict[str, Any], upto: float) -> list[str]:
        duration, count, _ = self.plan(job)
        shown = min(count, int(upto * (count + 1) / duration))
        return [_line(time.strftime("%H:%M:%S", time.gmtime(job["started"] + (i + 1) * duration / (count + 1))),
                      job["_title"], i, count) for i in range(shown)]

    def log(self, job: dict[str, Any]) -> str:
        """The whole log so far."""
        self.advance(job)
        return self.final_log(job) if job.get("complete") else self._live(job)

    def final_log(self, job: dict[str, Any]) -> str:
        """A finished job's log, written when first asked for: 100k seeded jobs hold 27M lines."""
        if "_log" not in job:
            lines = self.lines(job, job["_end"])
            if job["_last"]:
                lines.append(job["_last"])
            job["_log"] = "\n".join(lines) + "\n"
        return job["_log"]

    def _live(self, job: dict[str, Any]) -> str:
        text = "\n".join(self.lines(job, self.config.elapsed(job["_t0"])))
        return text + "\n" if text else ""

    def advance(self, job: dict[str, Any]) -> dict[str, Any]:
        if job.get("complete"):
            return job
        duration, _, code = self.plan(job)
        elapsed = self.config.elapsed(job["_t0"])
        aborted = job.get("_aborted")
        if aborted is None and elapsed < duration:
            job["progress"] = round(elapsed / duration, 3)
            job["updated"] = int(self.config.clock())
            job["log_file_size"] = len(self._live(job))
            return job
        end = aborted if aborted is not None else duration
        if aborted is not None:
            code, description = "abort", f"Manually aborted by API Key: {job.get('_by', 'admin')}"
            last = "Caught SIGTERM, killing child: 4242"
        elif code in (0, "0", None):
            code, description, last = 0, "Job completed successfully.", ""
        else:
            description = f"Script exited with code: {code}"
            last = f"Error: {description}"
        _, count, _ = self.plan(job)
        shown = min(count, int(end * (count + 1) / duration))
        size = max(1, _lines_len(job["_title"], count, shown) + (len(last) + 1 if last else 0))
        job.update(state="complete", complete=True, code=code, description=description, elapsed=round(end, 3),
                   completed=int(job["started"] + end), updated=int(job["started"] + end),
                   progress=round(min(1.0, end / duration), 3),
                   tags=["_success" if code == 0 else "_error"], log_file_size=size, data={}, files=[],
                   _end=end, _last=last, _inline=size <= INLINE_LOG)
        return job

    def public(self, job: dict[str, Any], prune: bool = False) -> dict[str, Any]:
        self.advance(job)
        out = {k: v for k, v in job.items() if not k.startswith("_") and not (prune and k in PRUNED)}
        if job.get("_inline") and not prune:
            out["output"] = self.final_log(job)  # a small log is inline, as on the real server
        return out

    def active(self) -> list[dict[str, Any]]:
        return [j for j in self.jobs.values() if not self.advance(j).get("complete")]


@functools.cache
def _lines_len(title: str, count: int, shown: int) -> int:
    """len() of the text of `shown` log lines and their newlines, without writing them (the time
    stamps are always 8 characters): a finished job's log_file_size costs nothing at seeding."""
    return sum(len(_line("00:00:00", title, i, count)) + 1 for i in range(shown))


def _line(at: str, title: str, i: int, count: int) -> str:
    return f"[{at}] {title}: {'progress' if i % 7 == 6 else 'step'} {i + 1}/{count} ok"


def seed(jobs: Jobs, start: int, size: int) -> None:
    for i, (title, plugin, targets, duration, lines, code, enabled, icon) in enumerate(SEED):
        eid = jobs.new_id("e")
        jobs.events[eid] = {"id": eid, "title": title, "enabled": enabled, "category": "general",
                            "plugin": plugin, "targets": targets, "algo": "random", "icon": icon, "notes": "",
                            "params": {"duration": duration, "lines": lines, "exit_code": code},
                            "triggers": [{"enabled": True, "type": "schedule", "hours": [2], "minutes": [i * 5]}],
                            "fields": [], "username": "admin", "created": start - 86400 * (40 + i),
                            "modified": start - 86400 * i, "revision": 3}
    events = list(jobs.events.values())
    for n in range(36 + size):  # history: oldest first, so ids and times follow each other
        age = 3600 * (36 + size - n)
        event = events[n % len(events)]
        override: dict[str, Any] = {}
        if n % 5 == 3:
            override["exit_code"] = 1
        jobs.start(event, override, ago=age, source="scheduler", username="admin",
                   abort_at=3.0 if n % 11 == 7 else None)
    # two jobs running now: mid-way, at every clock (frozen or not)
    jobs.start(events[0], {"duration": 600, "lines": 300}, ago=150, source="scheduler", username="admin")
    jobs.start(events[2], {"duration": 240}, ago=60, source="scheduler", username="admin")


def install(api: Api, jobs: Jobs) -> list[Route]:
    events = jobs.events

    def event(eid: str, code: str, message: str) -> dict[str, Any]:
        found = events.get(eid)
        if found is None:
            raise Reject(code, f"{message}: {eid}")
        return found

    @api("get_events")
    def get_events(p):
        rows = [e for e in events.values()
                if all(str(e.get(k)) == str(v) for k, v in p.items() if k in e)]
        return {"rows": rows, "list": {"length": len(rows)}}

    @api("get_event", {"id": ID_RULE})
    def get_event(p):
        found = event(p["id"], "notfound", "Failed to locate event")
        active = [jobs.public(j) for j in jobs.active() if j["event"] == found["id"]]
        return {"event": found, "jobs": active, "queued": 0}

    @api("run_event", privilege="run_jobs")
    def run_event(p, request, who):
        if not p.get("id"):
            raise Reject("event", "Failed to locate event: No criteria specified")
        found = event(str(p["id"]), "event", "Event not found")
        params = p.get("params") if isinstance(p.get("params"), dict) else {}
        job = jobs.start(found, params, username=who.key_title)
        return {"id": job["id"]}

    @api("get_active_jobs")
    def get_active_jobs(p):
        rows = [jobs.public(j) for j in jobs.active()]
        filters = {k: v for k, v in p.items() if k not in ("limit", "offset", "sort_by", "sort_dir")}
        rows = [j for j in rows if all(str(j.get(k)) == str(v) for k, v in filters.items())]
        rows.sort(key=lambda j: j.get(p.get("sort_by", "started"), 0) or 0,
                  reverse=str(p.get("sort_dir", "-1")) == "-1")
        total = len(rows)
        limit = as_int(p.get("limit"), total or 1)
        return {"rows": rows[:limit], "list": {"length": total}}

    @api("search_jobs")
    def search_jobs(p):
        query = str(p.get("query") or "*")
        done = [j for j in jobs.jobs.values() if jobs.advance(j).get("complete")]
        rows, total = search_page(done, query, p, key=lambda j: (j.get("completed", 0), j["id"]))
        return {"rows": [jobs.public(j, prune=True) for j in rows], "list": {"length": total}}

    def find(jid: str) -> dict[str, Any]:
        job = jobs.jobs.get(jid)
        if job is None:
            raise Reject("notfound", f"Failed to load job details: {jid}: Error: Failed to fetch key: "
                                     f"unbase/records/jobs/{jid}: Not found")
        return job

    @api("get_job", {"id": ID_RULE})
    def get_job(p):
        job = find(p["id"])
        return {"job": jobs.public(job), "token": jobs.token(job["id"])}

    @api("tail_live_job_log", {"id": ID_RULE})
    def tail_live_job_log(p):
        size = as_int(p.get("bytes"), 32768) if "bytes" in p else 32768
        if size < 1 or size > 1024 * 1024:
            raise Reject("api", "Requested byte count out of range (1 - 1048576)")
        job = jobs.jobs.get(p["id"])
        if job is None or jobs.advance(job).get("complete"):
            return {"text": ""}  # unknown or completed: not an error
        raw = jobs.log(job).encode()
        chunk = raw[-size:]
        lines = chunk.decode(errors="replace").split("\n")
        if len(chunk) == size:
            lines.pop(0)  # likely partial
        return {"text": "\n".join(lines)}

    @api("get_job_log", {"id": ID_RULE})
    def get_job_log(p):
        job = find(p["id"])
        if not jobs.advance(job).get("complete"):
            raise Reject("notfound", "Failed to load job details")
        if job.get("_inline"):
            return Response(status_code=204)  # the log is inline in job.output
        return PlainTextResponse(jobs.final_log(job))

    @api("abort_job", {"id": ID_RULE}, "abort_jobs")
    def abort_job(p, request, who):
        job = jobs.jobs.get(p["id"])
        if job is None:
            raise Reject("job", f"Job not found or is no longer active: {p['id']}")
        if not jobs.advance(job).get("complete"):
            job["_aborted"] = jobs.config.elapsed(job["_t0"])
            job["_by"] = who.key_title
            jobs.advance(job)
        return {}  # a second abort on the finished job is fine too

    def log_route(attachment: bool):
        async def view(request: Request) -> Response:
            jid, token = request.query_params.get("id", ""), request.query_params.get("t", "")
            job = jobs.jobs.get(jid)
            if job is None or token != jobs.token(jid):
                return PlainTextResponse("(Authentication failed.)\n", status_code=403)
            headers = {"Content-Disposition": f"attachment; filename=xyOps-Job-Log-{jid}.txt"} if attachment else {}
            return PlainTextResponse(jobs.log(job), headers=headers)
        return view

    return [Route("/api/app/view_job_log/v1", log_route(False), methods=["GET"]),
            Route("/api/app/download_job_log/v1", log_route(True), methods=["GET"])]

