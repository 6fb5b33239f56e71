"""Static agents and remote docker hosts in their three scopes.

A scope is written `global`, `space:<spaceId>` or `project:<projectId>` (a bare
id is a project: what `--project ID` gives). Global and team-space records are
defined (created, updated, deleted) there; a project only sees the ones
associated with it, so in a project the adapter associates and dissociates.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any

from testdeck.errors import ApiError
from testdeck.http import path
from testdeck.services.onetest.models import Agent, ConnectionStatus, DockerHost, rows

KINDS = {"agents": Agent, "dockerhosts": DockerHost}
NOUNS = {"agents": "static agent", "dockerhosts": "docker host"}


@dataclass(frozen=True)
class Where:
    kind: str  # "global", "space" or "project"
    id: str | None = None

    def __str__(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


def parse_where(text: str | None) -> Where:
    text = (text or "").strip()
    if text in ("", "global"):
        return Where("global")
    kind, sep, ident = text.partition(":")
    if sep and kind in ("space", "project") and ident:
        return Where(kind, ident)
    return Where("project", text)


def capability_filter(text: str | None) -> str | None:
    """`os=linux` as the document wants it: base64 encoded."""
    return base64.b64encode(text.encode()).decode() if text else None


def _flags(**on: Any) -> dict[str, str] | None:
    params = {k: ("true" if v is True else v) for k, v in on.items() if v not in (None, False, "")}
    return params or None


class HostsApi:
    """Mixed into OneTest (which gives request, project, space, error)."""

    def _base(self, kind: str, where: Where, method: str = "GET") -> str:
        if where.kind == "space":
            return path("/rest/spaces/{}/", self.space(where.id, method)) + kind  # type: ignore[attr-defined]
        if where.kind == "project":
            return path("/rest/projects/{}/", self.project(where.id, method)) + kind  # type: ignore[attr-defined]
        return f"/rest/{kind}"

    def _defined_only(self, kind: str, where: Where, method: str, verb: str) -> None:
        if where.kind == "project":
            raise self.error(method, self._base(kind, where, method), None,  # type: ignore[attr-defined]
                             f"a project cannot {verb} a {NOUNS[kind]}: do it globally or in a team space "
                             "(in a project, associate or dissociate)", local=True)

    async def list_hosts(self, kind: str, where: Where, *, all: bool = False, filter: str | None = None,  # noqa: A002
                         normalize: bool = False) -> list:
        """GET /rest/<kind>, /rest/spaces/{spaceId}/<kind> or /rest/projects/{projid}/<kind>."""
        if kind == "agents":
            params = _flags(all=all and where.kind != "project", filter=capability_filter(filter),
                            normalize=normalize)
        else:
            params = None
        return await KINDS[kind].amany(rows(await self.request("GET", self._base(kind, where), params=params)))  # type: ignore[attr-defined]

    async def get_host(self, kind: str, where: Where, host_id: Any, *, normalize: bool = False):
        params = _flags(normalize=normalize) if kind == "agents" else None
        payload = await self.request("GET", self._base(kind, where) + path("/{}", host_id), params=params)  # type: ignore[attr-defined]
        return KINDS[kind].from_api(payload)

    async def create_host(self, kind: str, where: Where, body: dict[str, Any]):
        """POST /rest/<kind> or /rest/spaces/{spaceId}/<kind> (201)."""
        self._defined_only(kind, where, "POST", "define")
        return KINDS[kind].from_api(await self.request("POST", self._base(kind, where, "POST"), json_body=body))  # type: ignore[attr-defined]

    async def update_host(self, kind: str, where: Where, host_id: Any, body: dict[str, Any]):
        """PUT /rest/<kind> (the id in the body) or PUT /rest/spaces/{spaceId}/<kind>/{id}."""
        self._defined_only(kind, where, "PUT", "update")
        if where.kind == "global":
            payload = await self.request("PUT", self._base(kind, where, "PUT"), json_body={**body, "id": host_id})  # type: ignore[attr-defined]
        else:
            payload = await self.request("PUT", self._base(kind, where, "PUT") + path("/{}", host_id), json_body=body)  # type: ignore[attr-defined]
        return KINDS[kind].from_api(payload)

    async def delete_host(self, kind: str, where: Where, host_id: Any) -> None:
        self._defined_only(kind, where, "DELETE", "delete")
        await self.request("DELETE", self._base(kind, where, "DELETE") + path("/{}", host_id), expect="none")  # type: ignore[attr-defined]

    async def associate(self, kind: str, host_id: Any, project_id: Any = None):
        """POST /rest/projects/{projid}/<kind>/{id}: the project may use it from now on."""
        where = Where("project", self.project(project_id, "POST"))  # type: ignore[attr-defined]
        payload = await self.request("POST", self._base(kind, where, "POST") + path("/{}", host_id))  # type: ignore[attr-defined]
        return KINDS[kind].from_api(payload if isinstance(payload, dict) else {"id": host_id})

    async def dissociate(self, kind: str, host_id: Any, project_id: Any = None) -> None:
        where = Where("project", self.project(project_id, "DELETE"))  # type: ignore[attr-defined]
        await self.request("DELETE", self._base(kind, where, "DELETE") + path("/{}", host_id), expect="none")  # type: ignore[attr-defined]

    # --- the document's names for the common calls --------------------------------------
    async def get_agents(self, *, all: bool = False, filter: str | None = None,  # noqa: A002
                         normalize: bool = False) -> list[Agent]:
        return await self.list_hosts("agents", Where("global"), all=all, filter=filter, normalize=normalize)

    async def get_space_agents(self, space_id: str | None = None, *, all: bool = False,  # noqa: A002
                               filter: str | None = None, normalize: bool = False) -> list[Agent]:
        return await self.list_hosts("agents", Where("space", space_id), all=all, filter=filter, normalize=normalize)

    async def get_project_agents(self, project_id: str | None = None, *, filter: str | None = None,  # noqa: A002
                                 normalize: bool = False) -> list[Agent]:
        return await self.list_hosts("agents", Where("project", project_id), filter=filter, normalize=normalize)

    async def get_dockerhosts(self) -> list[DockerHost]:
        return await self.list_hosts("dockerhosts", Where("global"))

    # --- docker host status and connection test ---------------------------------------------
    async def get_dockerhost_status(self, host_id: Any, space_id: str | None = None) -> ConnectionStatus:
        """GET /rest/dockerhosts/{id}/status or /rest/spaces/{spaceId}/dockerhosts/{id}/status."""
        where = Where("space", space_id) if space_id else Where("global")
        payload = await self.request("GET", self._base("dockerhosts", where) + path("/{}/status", host_id))  # type: ignore[attr-defined]
        return ConnectionStatus.from_api(payload)

    async def test_dockerhost_connection(self, body: dict[str, Any]) -> ConnectionStatus:
        """POST /rest/dockerhosts/testconnection: try a host's settings before saving them.

        Not a change on the server, so read-only mode allows it."""
        payload = await self.request("POST", "/rest/dockerhosts/testconnection", json_body=body, mutates=False)  # type: ignore[attr-defined]
        return ConnectionStatus.from_api(payload)

    async def with_status(self, hosts: list[DockerHost]) -> list[DockerHost]:
        """Fill each host's last known status (global or team-space endpoint, by where it is defined)."""
        async def one(host: DockerHost) -> None:
            space = (host.teamSpaceList or "").split(",")[0].strip() or None
            try:
                status = await self.get_dockerhost_status(host.id, space)
            except ApiError as exc:  # the list stays good; the row says why
                host.status, host.reason = "UNKNOWN", exc.message
                return
            host.status, host.reason = status.status, status.reason
        await asyncio.gather(*(one(h) for h in hosts))
        return hosts
