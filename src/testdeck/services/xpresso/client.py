"""XPRESSO adapter: Request(s) and Bundle Requests REST API.

Auth: the API automation token in the Authorization header (sent as
`Jwt <token>` unless the secret already carries a scheme, e.g. a pasted
`Jwt eyJ...`), and the group in a header (`Group` by default; a profile
field `group_header` overrides the name). Errors carry an `Error` key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from testdeck.http import ApiClient
from testdeck.records import Record

GROUP_HEADER = "Group"
FINAL_STATES = {"PASSED", "FAILED", "STOPPED", "ERRORED", "ABORTED", "CANCELLED"}


@dataclass
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
    tags: list = field(default_factory=list)
    items: list = field(default_factory=list)
    consolidated_summary: dict = field(default_factory=dict)
    max_request_runtime_seconds: int = 0
    # derived for the table
    testbed: str = ""
    profile: str = ""
    success_rate: float | None = None

    def __post_init__(self) -> None:
        first = next((i for i in self.items if isinstance(i, dict)), None)
        if first is not None:
            picked = first.get("selected_testbed") or next(
                (t for t in first.get("submitted_testbeds") or [] if isinstance(t, dict)), None)
            if isinstance(picked, dict) and not self.testbed:
                self.testbed = str(picked.get("name") or "")
            prof = first.get("profile")
            if isinstance(prof, dict) and not self.profile:
                self.profile = str(prof.get("name") or "")
        rate = self.consolidated_summary.get("success_rate")
        if self.success_rate is None and isinstance(rate, (int, float)) and self.consolidated_summary.get(
                "total_tasks"):
            self.success_rate = float(rate)

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES


class Xpresso(ApiClient):
    service = "xpresso"

    def default_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._secret:
            token = self._secret.strip()
            headers["Authorization"] = token if " " in token else f"Jwt {token}"
        group = self.profile.fields.get("group")
        if group:
            headers[str(self.profile.fields.get("group_header") or GROUP_HEADER)] = str(group)
        return headers

    async def ping(self) -> str:
        rows = await self.get_requests()
        return f"{len(rows)} requests in group {self.profile.fields.get('group', '?')}"

    async def get_requests(self) -> list[XRequest]:
        """GET /api/v1/requests: the requests of the profile's group."""
        payload = await self.request("GET", "/api/v1/requests")
        if isinstance(payload, dict):  # tolerate a paginated wrapper
            payload = payload.get("results") or payload.get("requests") or []
        return XRequest.many(payload)

    async def get_request(self, request_id: str) -> XRequest:
        return XRequest.from_api(await self.request("GET", f"/api/v1/requests/{request_id}"))

    async def submit_request(self, profile: str, **options: Any) -> XRequest:
        """POST /api/v1/requests with a profile; options: testbeds or topologies, description, tags, ..."""
        body = {"profile": profile, **{k: v for k, v in options.items() if v is not None}}
        return XRequest.from_api(await self.request("POST", "/api/v1/requests", json_body=body))

    async def submit_bundle_request(self, bundle: str, **options: Any) -> XRequest:
        body = {"bundle": bundle, **{k: v for k, v in options.items() if v is not None}}
        return XRequest.from_api(await self.request("POST", "/api/v1/requests", json_body=body))

    async def stop_request(self, request_id: str, reason: str = "") -> XRequest:
        """PATCH /api/v1/requests/<id>/stop (the server only stops RUNNING requests)."""
        return XRequest.from_api(await self.request("PATCH", f"/api/v1/requests/{request_id}/stop",
                                                    json_body={"reason": reason}))
