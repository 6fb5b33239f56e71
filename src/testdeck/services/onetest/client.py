"""OneTest Server adapter: execution API and static agents.

Auth: the profile's secret is the user's offline token. It is exchanged at
`POST /rest/tokens/` (form field `refresh_token`) for a short-lived bearer
access token, renewed once on a 401 (http.TokenExchangeAuth). Every access
token is remembered for redaction, so neither it nor the offline token can
end up in an error text. Profile fields: `project_id`, `space_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from testdeck.http import ApiClient, TokenExchangeAuth, TokenExchangeError
from testdeck.records import Record

ACTIVE_STATUSES = ("RUNNING", "IN_TRANSITION", "SCHEDULED", "STOPPING")


@dataclass
class Execution(Record):
    id: str = ""
    status: str = ""
    message: str = ""
    startDate: str = ""
    completionDate: str = ""
    result: dict = field(default_factory=dict)
    testAsset: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    environment: str = ""
    # derived for the table
    asset: str = ""
    result_id: str = ""

    def __post_init__(self) -> None:
        if not self.asset:
            self.asset = str(self.testAsset.get("name") or self.testAsset.get("assetId") or "")
        if not self.result_id and self.result.get("id") is not None:
            self.result_id = str(self.result.get("id"))

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass
class Agent(Record):
    id: int = 0
    hostName: str = ""
    ipAddress: str = ""
    owner: str = ""
    type: str = ""
    version: str = ""
    operatingSystem: str = ""
    architecture: str = ""
    ram: str = ""
    licenseType: str = ""
    pollInterval: int = 0
    engineListSize: int = 0
    contactTime: int = 0
    capabilities: list = field(default_factory=list)
    state: str = ""
    rtbState: str = ""


def _access_token(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        raise TokenExchangeError(response) from None
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenExchangeError(response)
    return token


def _rows(payload: Any) -> list:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):  # tolerate paged wrappers
        for key in ("content", "data", "items", "executions", "agents"):
            if isinstance(payload.get(key), list):
                return payload[key]
    return []


class OneTest(ApiClient):
    service = "onetest"

    def auth(self) -> httpx.Auth | None:
        if not self._secret:
            return None
        # relative to the profile URL's own path (a server behind /ots/ has its tokens at /ots/rest/tokens/)
        token_path = urlsplit(self.profile.url).path.rstrip("/") + "/rest/tokens/"
        return TokenExchangeAuth(token_path, {"refresh_token": self._secret}, _access_token,
                                 on_token=self.remember_secret)

    # --- scope -----------------------------------------------------------------
    def _field(self, name: str, method: str, path: str) -> str:
        value = self.profile.fields.get(name)
        if value in (None, ""):
            raise self.error(method, path, None, f"profile {self.profile.name!r} has no {name}: set it in the "
                             "profile to use this resource")
        return str(value)

    def _project(self, method: str = "GET") -> str:
        return self._field("project_id", method, "/rest/projects/{projectId}/executions/")

    async def ping(self) -> str:
        if self.profile.fields.get("project_id") not in (None, ""):
            rows = await self.get_executions()
            return f"{len(rows)} active executions"
        return f"{len(await self.get_agents())} static agents"

    # --- executions --------------------------------------------------------------
    async def get_executions(self, status: str | list[str] | None = None, *, tag: str | list[str] | None = None,
                             asset_type: str | list[str] | None = None, include: str | None = None,
                             **filters: str) -> list[Execution]:
        """GET /rest/projects/{projectId}/executions/ (server default: active only; status "ALL" for every one).

        Other documented filters go in `filters` by their query name, e.g. {"asset.id": "..."}."""
        def join(v):
            return ",".join(v) if isinstance(v, (list, tuple)) else v
        params = {"execution.status": join(status), "tag": join(tag), "asset.externalType": join(asset_type),
                  "include": include, **filters}
        params = {k: v for k, v in params.items() if v not in (None, "")}
        path = f"/rest/projects/{self._project()}/executions/"
        return Execution.many(_rows(await self.request("GET", path, params=params or None)))

    async def get_execution(self, execution_id: str, *, include: str | None = None) -> Execution:
        path = f"/rest/projects/{self._project()}/executions/{execution_id}"
        params = {"include": include} if include else None
        return Execution.from_api(await self.request("GET", path, params=params))

    async def get_execution_log(self, execution_id: str, *, init_container: bool = False) -> str:
        """The container log (text/plain); 410 once the server dropped it."""
        path = f"/rest/projects/{self._project()}/executions/{execution_id}/log"
        params = {"initContainer": "true"} if init_container else None
        return await self.request("GET", path, params=params, expect="text")

    async def stop_execution(self, execution_id: str, *, stop_timeout_secs: int | None = None,
                             execute_finally_block: bool | None = None, capture_results: bool | None = None) -> None:
        """DELETE /rest/projects/{projectId}/executions/{executionId}: stop an active one, cancel a scheduled one."""
        path = f"/rest/projects/{self._project('DELETE')}/executions/{execution_id}"
        params: dict[str, Any] = {}
        if stop_timeout_secs is not None:
            params["stopTimeoutSecs"] = stop_timeout_secs
        if execute_finally_block is not None:
            params["executeFinallyBlock"] = str(execute_finally_block).lower()
        if capture_results is not None:
            params["captureResults"] = str(capture_results).lower()
        await self.request("DELETE", path, params=params or None, expect="none")

    # --- static agents -------------------------------------------------------------
    async def get_agents(self, *, all: bool = False, normalize: bool = False) -> list[Agent]:  # noqa: A002
        params = {k: "true" for k, on in (("all", all), ("normalize", normalize)) if on}
        return Agent.many(_rows(await self.request("GET", "/rest/agents", params=params or None)))

    async def get_space_agents(self, space_id: str | None = None, *, all: bool = False) -> list[Agent]:  # noqa: A002
        space = space_id or self._field("space_id", "GET", "/rest/spaces/{spaceId}/agents")
        params = {"all": "true"} if all else None
        return Agent.many(_rows(await self.request("GET", f"/rest/spaces/{space}/agents", params=params)))
