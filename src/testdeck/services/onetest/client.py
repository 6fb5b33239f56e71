"""OneTest Server adapter: the execution API document, one method per operation.

Auth: the profile's secret is the user's offline token. It is exchanged at
`POST /rest/tokens/` (form field `refresh_token`) for a short-lived bearer
access token, renewed once on a 401 (transport.TokenExchangeAuth). Every access
token is remembered for redaction, so neither it nor the offline token can
end up in an error text. Profile fields: `project_id`, `space_id` (defaults
for the calls that take a project or a team space).

The operations are split by resource: api_executions (executions, advanced
settings, logs, results), api_hosts (static agents and docker hosts in their
three scopes), api_virtualization (rules, activity, intercepts).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from testdeck.errors import ApiError
from testdeck.http import ApiClient
from testdeck.transport import TokenExchangeAuth, TokenExchangeError
from testdeck.services.onetest.api_executions import ExecutionsApi
from testdeck.services.onetest.api_hosts import HostsApi
from testdeck.services.onetest.api_virtualization import VirtualizationApi
from testdeck.services.onetest.models import (  # noqa: F401  (re-exported for views and tests)
    ACTIVE_STATUSES,
    FAILED_STATUSES,
    UUID,
    Agent,
    DockerHost,
    Execution,
    Intercept,
    Named,
    Rule,
    rows,
)

TOKEN_PATH = "/rest/tokens/"


def _access_token(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        raise TokenExchangeError(response) from None
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenExchangeError(response)
    return token


def token_problem(status: int | None) -> str | None:
    """What a failed exchange means to the user (the server's words follow)."""
    if status in (400, 401, 402):
        return "the offline token is not valid or has expired: create a new one (User icon > Create Token)"
    if status == 403:
        return "license problem: the server refused a license for this user"
    return None


class OneTest(ExecutionsApi, HostsApi, VirtualizationApi, ApiClient):
    service = "onetest"

    def auth(self) -> httpx.Auth | None:
        if not self._secret:
            return None
        # relative to the profile URL's own path (DevOps Test Hub 11 serves the API under /test)
        token_path = urlsplit(self.profile.url).path.rstrip("/") + TOKEN_PATH
        return TokenExchangeAuth(token_path, {"refresh_token": self._secret}, _access_token,
                                 on_token=self.remember_secret)

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return await super().request(method, path, **kwargs)
        except ApiError as exc:
            meaning = token_problem(exc.status) if exc.path.endswith(TOKEN_PATH) else None
            if meaning is None:
                raise
            words = exc.message.removeprefix("token exchange failed: ")
            raise self.error(exc.method, exc.path, exc.status, f"{meaning} (server: {words})",
                             detail=exc.detail) from None

    # --- defaults from the profile ---------------------------------------------
    def field(self, name: str, value: Any = None, method: str = "GET", what: str = "") -> str:
        """An explicit value, else the profile's field; a clear error before any request if neither."""
        value = value if value not in (None, "") else self.profile.fields.get(name)
        if value in (None, ""):
            raise self.error(method, what or name, None, f"profile {self.profile.name!r} has no {name}: set it "
                             "in the profile or choose one in the console", local=True)
        return str(value)

    def project(self, project_id: Any = None, method: str = "GET") -> str:
        return self.field("project_id", project_id, method, "/rest/projects/{projectId}")

    def space(self, space_id: Any = None, method: str = "GET") -> str:
        return self.field("space_id", space_id, method, "/rest/spaces/{spaceId}")

    # --- spaces and projects (for the picker) -------------------------------------------
    async def get_spaces(self, search: str = "") -> list[Named]:
        """GET /rest/spaces?search=&member=true: [{id, displayName}]."""
        payload = await self.request("GET", "/rest/spaces", params={"search": search, "member": "true"})
        return Named.many(rows(payload))

    async def get_projects(self, space_id: str | None = None) -> list[Named]:
        """GET /rest/projects?archived=false&member=true, in one team space with the `spaceId` header."""
        headers = {"spaceId": space_id} if space_id else None
        payload = await self.request("GET", "/rest/projects", params={"archived": "false", "member": "true"},
                                     headers=headers)
        return Named.many(rows(payload))

    async def project_id_for(self, value: Any) -> str:
        """A project id, or the id of the project with that name (what the console's picker shows)."""
        text = str(value).strip()
        if text.isdigit():
            return text
        projects = await self.get_projects()
        found = [p.id for p in projects if text == p.id or text.lower() == p.label.lower()]
        if len(found) != 1:
            raise self.error("GET", "/rest/projects", None, f"no project {'named' if not found else 'unique'} "
                             f"{text!r} among yours: give its id or its exact name", local=True)
        return found[0]

    async def space_id_for(self, value: Any) -> str:
        """A team space id, or the id of the space with that name."""
        text = str(value).strip()
        if UUID.fullmatch(text):
            return text
        found = [s.id for s in await self.get_spaces() if text == s.id or text.lower() == s.label.lower()]
        if len(found) != 1:
            raise self.error("GET", "/rest/spaces", None, f"no team space {'named' if not found else 'unique'} "
                             f"{text!r} among yours: give its id or its exact name", local=True)
        return found[0]

    async def ping(self) -> str:
        if self.profile.fields.get("project_id") not in (None, ""):
            return f"{len(await self.get_executions())} active executions"
        return f"{len(await self.get_agents())} static agents"
