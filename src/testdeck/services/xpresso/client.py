"""XPRESSO adapter: Request(s) and Bundle Requests REST API (all five calls).

Auth: the user's API token (a JWT) in the Authorization header, sent as
`Jwt <token>`; a profile's `auth_scheme` field changes the scheme word (e.g.
`Bearer`), and a secret pasted with its scheme (`Jwt eyJ...`) is sent as is.
The group goes in a header (`Group`; a profile's `group_header` renames it);
with no `group` field the token's own group is used. Errors carry an `Error` key;
a 404 is a bare `{}`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from testdeck import clock
from testdeck.columns import _epoch
from testdeck.errors import ApiError
from testdeck.http import ApiClient, path
from testdeck.records import Record
from testdeck.services.xpresso import token as jwt

GROUP_HEADER = "Group"
DEFAULT_SCHEME = "Jwt"
ACTIVE_STATES = {"PREPARING", "QUEUED", "RUNNING", "SUBMITTED", "PENDING", "STARTING", "STOPPING"}
FAILED_STATES = {"FAILED", "ERRORED", "ERROR"}
STOPPED_STATES = {"STOPPED", "ABORTED", "CANCELLED", "CANCELED"}
FINAL_STATES = {"PASSED", *FAILED_STATES, *STOPPED_STATES}


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


class XRequest(Record):
    request_id: str = ""
    name: str = ""
    state: str = ""
    verdict: str = ""
    submitter: str = ""
    username: str = ""
    description: str = ""
    branch: str = ""
    source: str = ""
    date_created: str = ""
    date_completed: str = ""
    request_url: str = ""
    service_url: str = ""
    uuid: str = ""
    tags: list = msgspec.field(default_factory=list)
    items: list = msgspec.field(default_factory=list)
    consolidated_summary: dict = msgspec.field(default_factory=dict)
    max_request_runtime_seconds: int = 0
    # derived for the table
    testbed: str = ""
    profile: str = ""
    success_rate: float | None = None
    passed: int = 0
    failed: int = 0
    n_items: int = 0
    results: str = ""  # "passed/failed" from consolidated_summary ("" before any result)
    duration: float | None = None  # seconds from creation to completion (to now while active)

    def __post_init__(self) -> None:
        items = [i for i in self.items if isinstance(i, dict)]
        self.n_items = len(self.items)
        if items:
            first = items[0]
            picked = first.get("selected_testbed") or next(
                (t for t in first.get("submitted_testbeds") or [] if isinstance(t, dict)), None)
            if isinstance(picked, dict) and not self.testbed:
                self.testbed = str(picked.get("name") or "")
            prof = first.get("profile")
            if isinstance(prof, dict) and not self.profile:
                self.profile = str(prof.get("name") or "")
        summary = self.consolidated_summary
        self.passed = _int(summary.get("pass")) + _int(summary.get("passx"))
        self.failed = _int(summary.get("fail")) + _int(summary.get("error"))
        counted = sum(_int(summary.get(k)) for k in ("pass", "passx", "fail", "error", "abort", "block", "skip"))
        # nothing finished yet in an active request: no counts, no rate (not "0/0 0%")
        if counted or (_int(summary.get("total_tasks")) and not self.active):
            self.results = f"{self.passed}/{self.failed}"
            rate = summary.get("success_rate")
            if self.success_rate is None and isinstance(rate, (int, float)) and summary.get("total_tasks"):
                self.success_rate = float(rate)
        start, end = _epoch(self.date_created), _epoch(self.date_completed)
        if start is not None and self.duration is None:
            if end is not None:
                self.duration = max(0.0, end - start)
            elif self.active:
                self.duration = max(0.0, clock.now() - start)

    @property
    def active(self) -> bool:
        return self.state.upper() in ACTIVE_STATES

    @property
    def done(self) -> bool:
        return self.state.upper() in FINAL_STATES


class Xpresso(ApiClient):
    service = "xpresso"

    @property
    def token(self) -> jwt.TokenInfo | None:
        """What the API token says of itself (user, group, expiry); None if it is not a JWT."""
        return jwt.decode(self._secret)

    def default_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        info = jwt.decode(self._secret)
        if self._secret:
            secret = self._secret.strip()
            scheme = str(self.profile.fields.get("auth_scheme") or DEFAULT_SCHEME).strip()
            headers["Authorization"] = secret if " " in secret else f"{scheme} {secret}".strip()
        group = self.profile.fields.get("group") or (info.group if info else None)
        if group:
            headers[str(self.profile.fields.get("group_header") or GROUP_HEADER)] = str(group)
        return headers

    @property
    def group(self) -> str:
        return str(self._http.headers.get(str(self.profile.fields.get("group_header") or GROUP_HEADER)) or "?")

    def error(self, method: str, path: str, status: int | None, message: str, **kw: Any) -> ApiError:
        # a 401 with a token whose exp has passed: say so plainly, the server's words after
        info = jwt.decode(self._secret)
        if status == 401 and info is not None and info.exp is not None and info.exp <= clock.now():
            message = f"token expired on {jwt.date(info.exp)} ({message})"
        return super().error(method, path, status, message, **kw)

    async def ping(self) -> str:
        """`USER@GROUP · exp DATE · 8 requests`, a warning first when the token expires soon.

        Who and until when come first: the profiles screen cuts long health texts."""
        rows = await self.get_requests()
        count = f"{len(rows)} requests"
        info = self.token
        if info is None:
            return f"{count} in {self.group}"
        expiry, warning = info.expiry(clock.now())
        who = f"{info.user or '?'}@{self.group}"
        if info.group and info.group != self.group:
            who += f" (token group {info.group})"
        return " · ".join(x for x in (f"WARNING: {warning}" if warning else "", who, expiry, count) if x)

    async def get_requests(self) -> list[XRequest]:
        """GET /api/v1/requests: the requests of the profile's group."""
        payload = await self.request("GET", "/api/v1/requests")
        if isinstance(payload, dict):  # tolerate a paginated wrapper
            payload = payload.get("results") or payload.get("requests") or []
        return await XRequest.amany(payload)

    async def get_request(self, request_id: str) -> XRequest:
        """GET /api/v1/requests/ID: the request with its items, scripts and sections."""
        return XRequest.from_api(await self._one("GET", "/api/v1/requests/{}", request_id))

    async def submit_request(self, profile: str, **options: Any) -> XRequest:
        """POST /api/v1/requests with a profile; options: testbeds or topologies, parameters, ...

        None values are left out (the server's defaults apply)."""
        body = {"profile": profile, **{k: v for k, v in options.items() if v is not None}}
        return XRequest.from_api(await self.request("POST", "/api/v1/requests", json_body=body))

    async def submit_bundle_request(self, bundle: str, **options: Any) -> XRequest:
        """POST /api/v1/requests with a bundle (its testbeds and arguments are the bundle's own)."""
        body = {"bundle": bundle, **{k: v for k, v in options.items() if v is not None}}
        return XRequest.from_api(await self.request("POST", "/api/v1/requests", json_body=body))

    async def stop_request(self, request_id: str, reason: str = "") -> XRequest:
        """PATCH /api/v1/requests/ID/stop with {"reason"}."""
        return XRequest.from_api(await self._one("PATCH", "/api/v1/requests/{}/stop", request_id,
                                                 json_body={"reason": reason}))

    async def _one(self, method: str, template: str, request_id: str, **kw: Any) -> Any:
        try:
            return await self.request(method, path(template, request_id), **kw)
        except ApiError as exc:
            if exc.status == 404 and exc.detail.strip() in ("", "{}"):
                # the documented 404 says nothing; this is what it means
                exc.message = (f"request {request_id} does not exist or belongs to another group "
                               f"(not {self.group})")
                exc.args = (exc.one_line(),)
            raise
