"""xyOps adapter: /api/app/NAME/v1, API key in the X-API-Key header only.

Tolerant of both the document and the real server (1.0.88): errors arrive as
HTTP 200 with a non-zero `code` (document, and URLs without /vN) or with the
status following the code (real /v1 URLs: api 400, session/access 403,
notfound 404, rate 429, anything else 500). A 500 that carries a code is the
server refusing, not a crash: it is never retried.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from testdeck.errors import ApiError
from testdeck.http import ApiClient, path as url_path, seg
from testdeck.records import Record

KEY_HINT = ("check the profile's API key (xyOps keys are 43 characters: letters, digits, - and _; "
            "`testdeck profile add NAME ...` stores a new one)")
LIVE_LOG_BYTES = 256 * 1024  # end-aligned chunk asked of tail_live_job_log per poll


class Alert(Record):
    id: str = ""
    title: str = ""
    enabled: bool = False
    icon: str = ""
    expression: str = ""
    message: str = ""
    groups: list = msgspec.field(default_factory=list)
    actions: list = msgspec.field(default_factory=list)  # the notifications: [{enabled, condition, type, ...}]
    monitor_id: str = ""
    samples: int = 1
    limit_jobs: bool = False
    abort_jobs: bool = False
    exclusive_actions: bool = False
    notes: str = ""
    username: str = ""
    modified: int = 0
    created: int = 0
    revision: int = 0


class AlertTest(Record):
    result: bool = False
    message: str = ""


class AlertInvocation(Record):
    id: str = ""
    alert: str = ""  # the alert's id
    server: str = ""
    active: bool = False
    date: int = 0  # when it started firing
    modified: int = 0
    count: int = 0
    message: str = ""


class BucketFile(Record):
    id: str = ""
    filename: str = ""  # the name as uploaded (case and spaces kept)
    path: str = ""  # storage path, lowercased: the download URL
    size: int = 0
    date: int = 0
    username: str = ""


class Bucket(Record):
    id: str = ""
    title: str = ""
    enabled: bool = False
    icon: str = ""
    notes: str = ""
    username: str = ""
    modified: int = 0
    created: int = 0
    revision: int = 0
    data: dict = msgspec.field(default_factory=dict)  # only from get_bucket
    files: list = msgspec.field(default_factory=list)  # BucketFile records, only from get_bucket


class Event(Record):
    id: str = ""
    title: str = ""
    enabled: bool = False
    category: str = ""
    plugin: str = ""
    targets: list = msgspec.field(default_factory=list)
    algo: str = ""
    params: dict = msgspec.field(default_factory=dict)
    modified: int = 0
    jobs: list = msgspec.field(default_factory=list)  # active jobs, only from get_event
    queued: int = 0


class Job(Record):
    id: str = ""
    event: str = ""
    state: str = ""
    progress: float = 0.0
    server: str = ""
    started: float = 0.0
    completed: float = 0.0
    elapsed: float = 0.0
    complete: bool = False
    code: Any = None  # 0, an exit code, or a string such as "abort", "warning", "critical"
    description: str = ""
    tags: list = msgspec.field(default_factory=list)
    output: str = ""  # the inline log of a completed job with a small log
    log_file_size: int = 0
    source: str = ""
    username: str = ""
    token: str = ""  # from get_job: lets view_job_log read the log without a key

    @property
    def finished(self) -> bool:
        return self.complete or self.state == "complete"


class Server(Record):
    id: str = ""
    hostname: str = ""
    ip: str = ""
    groups: list = msgspec.field(default_factory=list)
    enabled: bool = False
    info: dict = msgspec.field(default_factory=dict)
    offline: bool = False
    online: bool = True  # get_server says it; active rows say `offline` when gone


def merged(payload: dict, key: str, *beside: str) -> dict:
    """A single-item answer ({key: {...}, other: ...}) as one object: the item plus the parts beside it."""
    item = payload.get(key)
    return {**(item if isinstance(item, dict) else {}), **{k: payload[k] for k in beside if k in payload}}


def error_code(exc: ApiError) -> Any:
    """The xyOps error code of a failure (from the body kept in `detail`), or None."""
    try:
        body = json.loads(exc.detail)
    except (TypeError, ValueError):
        return None
    return body.get("code") if isinstance(body, dict) else None


class XyOps(ApiClient):
    service = "xyops"
    _titles: tuple[float, dict[str, str]] | None = None

    def default_headers(self) -> dict[str, str]:
        # The header, never the query string: URLs end up in proxy logs.
        return {"X-API-Key": self._secret} if self._secret else {}

    def check_payload(self, payload: Any) -> str | None:
        # Document style (and URLs without /vN): HTTP 200 with a non-zero `code`.
        if isinstance(payload, dict) and payload.get("code", 0) not in (0, "0"):
            return str(payload.get("description") or f"error code {payload.get('code')!r}")
        return None

    async def call(self, name: str, body: dict | None = None, *, get: bool = False, mutates: bool = True,
                   expect: str = "json") -> Any:
        where = url_path("/api/app/{}/v1", name)
        if get:
            payload = await self.request("GET", where, params=body, expect=expect)
        else:
            payload = await self.request("POST", where, json_body=body or {}, mutates=mutates,
                                         idempotent=not mutates, expect=expect)
        return payload if isinstance(payload, dict) or expect != "json" else {}

    def explain(self, exc: ApiError) -> None:
        code = error_code(exc)
        if code is None:
            return
        exc.retryable = code == "rate"  # a coded 500 is a refusal: retrying will not change the answer
        if code == "session" and KEY_HINT not in exc.message:
            exc.message = f"{exc.message}: {KEY_HINT}"
        exc.args = (exc.one_line(),)

    async def ping(self) -> str:
        rows = await self.get_alerts()
        what = f"{len(rows)} alerts"
        # Reads need no privilege; test_alert needs "Edit Alerts" and changes nothing.
        try:
            await self.call("test_alert", {"server": "local", "expression": "1 == 1", "message": "testdeck ping"},
                            mutates=False)
        except ApiError as exc:
            if error_code(exc) == "access":
                what += f"; the key can read but lacks privileges: {exc.message}"
        return what

    # --- alerts ------------------------------------------------------------------
    async def get_alerts(self) -> list[Alert]:
        return await Alert.amany((await self.call("get_alerts", get=True)).get("rows"))

    async def get_alert(self, alert_id: str) -> Alert:
        return Alert.from_api((await self.call("get_alert", {"id": alert_id}, get=True)).get("alert"))

    async def create_alert(self, alert: dict[str, Any]) -> Alert:
        return Alert.from_api((await self.call("create_alert", alert)).get("alert"))

    async def update_alert(self, alert_id: str, changes: dict[str, Any]) -> None:
        """Sparse: the server shallow-merges `changes` into the stored alert."""
        await self.call("update_alert", {**changes, "id": alert_id})

    async def test_alert(self, server: str, expression: str, message: str) -> AlertTest:
        body = {"server": server, "expression": expression, "message": message}
        return AlertTest.from_api(await self.call("test_alert", body, mutates=False))

    async def delete_alert(self, alert_id: str) -> None:
        await self.call("delete_alert", {"id": alert_id})

    # --- buckets -----------------------------------------------------------------
    async def get_buckets(self) -> list[Bucket]:
        return await Bucket.amany((await self.call("get_buckets", get=True)).get("rows"))

    async def get_bucket(self, bucket_id: str) -> Bucket:
        """The definition with its JSON `data` and its `files` (records)."""
        record = Bucket.from_api(merged(await self.call("get_bucket", {"id": bucket_id}, get=True), "bucket",
                                        "data", "files"))
        record.files = BucketFile.many(record.files)
        return record

    async def create_bucket(self, bucket: dict[str, Any]) -> Bucket:
        """The server does not echo `data`; the record gets what was sent."""
        created = (await self.call("create_bucket", bucket)).get("bucket")
        if isinstance(created, dict) and "data" in bucket:
            created = {**created, "data": bucket["data"]}
        return Bucket.from_api(created)

    async def update_bucket(self, bucket_id: str, changes: dict[str, Any]) -> None:
        """Shallow merge of the definition; a `data` given here REPLACES the whole data object."""
        await self.call("update_bucket", {**changes, "id": bucket_id})

    async def write_bucket_data(self, bucket_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Shallow-merges `data` into the bucket's data; returns the merged data."""
        payload = await self.call("write_bucket_data", {"id": bucket_id, "data": data, "fetch": True})
        return payload.get("data") if isinstance(payload.get("data"), dict) else {}

    async def delete_bucket(self, bucket_id: str) -> None:
        await self.call("delete_bucket", {"id": bucket_id})

    async def upload_bucket_files(self, bucket_id: str, paths: list[str | Path],
                                  progress: Callable[[int, int], None] | None = None) -> list[BucketFile]:
        """One multipart request per file (bounded memory), the bucket id in the `id` field.

        `progress` sees (bytes sent, total bytes) over all the files."""
        paths = [Path(p) for p in paths]
        sizes = [p.stat().st_size if p.is_file() else 0 for p in paths]
        total, done = sum(sizes), 0
        files: Any = []
        where = url_path("/api/app/{}/v1", "upload_bucket_files")
        for p, size in zip(paths, sizes):
            def report(sent: int, _total: int, base: int = done) -> None:
                if progress:
                    progress(min(base + sent, total), total)
            payload = await self.upload("POST", where, p, field="file1", data={"id": bucket_id}, progress=report)
            done += size
            files = payload.get("files") if isinstance(payload, dict) else files
        return BucketFile.many(files)

    async def delete_bucket_file(self, bucket_id: str, filename: str) -> None:
        await self.call("delete_bucket_file", {"id": bucket_id, "filename": filename})

    def file_url_path(self, file_path: str) -> str:
        """A file's storage path as a URL path, each segment escaped (data never climbs out)."""
        return "/" + "/".join(seg(part) for part in file_path.lstrip("/").split("/"))

    async def download_bucket_file(self, file_path: str, dest: str | Path,
                                   progress: Callable[[int, int], None] | None = None) -> int:
        """Stream a bucket file to `dest` (never whole in memory); returns the bytes written.

        The file URL needs no key on real servers (the random path segment is its
        protection), so the key is not sent with it, in the URL or a header."""
        return await self.download(self.file_url_path(file_path), dest, progress, auth=False)

    # --- events ------------------------------------------------------------------
    async def get_events(self) -> list[Event]:
        events = await Event.amany((await self.call("get_events", get=True)).get("rows"))
        self._titles = (time.monotonic(), {e.id: e.title for e in events})
        return events

    async def event_titles(self, ttl: float = 30.0) -> dict[str, str]:
        """Event id -> title, reused a little while (a job names only its event's id)."""
        if self._titles is None or time.monotonic() - self._titles[0] > ttl:
            await self.get_events()
        return self._titles[1] if self._titles else {}

    async def get_event(self, event_id: str) -> Event:
        """The event with its active `jobs` and the `queued` count."""
        return Event.from_api(merged(await self.call("get_event", {"id": event_id}, get=True), "event",
                                     "jobs", "queued"))

    async def run_event(self, event_id: str, params: dict[str, Any] | None = None) -> str:
        """Start a job now; returns its id. `params` override the event's parameters."""
        body: dict[str, Any] = {"id": event_id}
        if params:
            body["params"] = params
        payload = await self.call("run_event", body)
        return str(payload.get("id") or (payload.get("job") or {}).get("id") or "")

    # --- jobs --------------------------------------------------------------------
    async def get_active_jobs(self, **filters: Any) -> list[Job]:
        return await Job.amany((await self.call("get_active_jobs", filters or None, get=True)).get("rows"))

    async def search_jobs(self, query: str = "*", limit: int = 100, offset: int = 0) -> list[Job]:
        """Completed jobs, newest first. Always sends a limit: the real server's default is 1."""
        body = {"query": query or "*", "limit": limit, "offset": offset}
        return await Job.amany((await self.call("search_jobs", body, get=True)).get("rows"))

    async def get_job(self, job_id: str) -> Job:
        payload = await self.call("get_job", {"id": job_id}, get=True)
        record = Job.from_api(merged(payload, "job"))
        record.token = str(payload.get("token") or "")  # beside the job, not part of it
        return record

    async def tail_live_job_log(self, job_id: str, size: int = LIVE_LOG_BYTES) -> str:
        """The end of a running job's log (whole lines); "" for an unknown or completed job."""
        payload = await self.call("tail_live_job_log", {"id": job_id, "bytes": size}, get=True)
        return str(payload.get("text") or "")

    async def get_job_log(self, job_id: str) -> str | None:
        """A completed job's archived log; None when the server answers 204 (the log is inline in job.output)."""
        where = url_path("/api/app/{}/v1", "get_job_log")
        text = await self.request("GET", where, params={"id": job_id}, expect="text")
        return text or None

    async def view_job_log(self, job_id: str, token: str) -> str:
        """The whole log by the job's token (active or completed; the token stands in for the key)."""
        where = url_path("/api/app/{}/v1", "view_job_log")
        return await self.request("GET", where, params={"id": job_id, "t": token}, expect="text")

    async def abort_job(self, job_id: str) -> None:
        await self.call("abort_job", {"id": job_id})

    # --- servers -----------------------------------------------------------------
    async def get_active_servers(self) -> list[Server]:
        return await Server.amany((await self.call("get_active_servers", get=True)).get("rows"))

    async def get_server(self, server_id: str) -> Server:
        """The server with its latest host `data` and whether it is `online`."""
        return Server.from_api(merged(await self.call("get_server", {"id": server_id}, get=True), "server",
                                      "data", "online"))

    # --- alerts firing now ---------------------------------------------------------
    async def search_alerts(self, query: str = "active:true", limit: int = 100, offset: int = 0) -> list[AlertInvocation]:
        """Alert invocations (what fired, where, since when); always sends a limit."""
        body = {"query": query or "*", "limit": limit, "offset": offset}
        return await AlertInvocation.amany((await self.call("search_alerts", body, get=True)).get("rows"))
