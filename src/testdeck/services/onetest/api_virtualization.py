"""Virtualization, read-only: intercept rules, a rule's activity log (paged), intercepts; per space or project."""

from __future__ import annotations

from typing import Any

from testdeck.http import path
from testdeck.services.onetest.api_hosts import Where
from testdeck.services.onetest.models import ActivityEntry, Intercept, Rule, rows


class VirtualizationApi:
    """Mixed into OneTest (which gives request, project, space)."""

    def _virtualization(self, where: Where) -> str:
        if where.kind == "space":
            return path("/rest/spaces/{}/virtualization", self.space(where.id))  # type: ignore[attr-defined]
        return path("/rest/projects/{}/virtualization", self.project(where.id))  # type: ignore[attr-defined]

    async def get_rules(self, where: Where, *, execution_id: str | None = None,
                        stubs_runtime_id: str | None = None) -> list[Rule]:
        """GET .../virtualization/rules (`stubsRuntimeId` exists for projects only)."""
        params = {"executionId": execution_id}
        if where.kind == "project":
            params["stubsRuntimeId"] = stubs_runtime_id
        params = {k: v for k, v in params.items() if v}
        payload = await self.request("GET", self._virtualization(where) + "/rules", params=params or None)  # type: ignore[attr-defined]
        return await Rule.amany(rows(payload))

    async def get_rule(self, where: Where, rule_id: str) -> Rule:
        return Rule.from_api(await self.request("GET", self._virtualization(where) + path("/rules/{}", rule_id)))  # type: ignore[attr-defined]

    async def get_rule_activity(self, where: Where, rule_id: str, *, offset: int = 0,
                                limit: int = 100) -> tuple[list[ActivityEntry], int]:
        """One page of a rule's activity log and the total number of entries."""
        payload: Any = await self.request("GET", self._virtualization(where) + path("/rules/{}/activity", rule_id),  # type: ignore[attr-defined]
                                          params={"offset": offset, "limit": limit})
        entries = ActivityEntry.many(rows(payload))
        total = payload.get("totalEntries") if isinstance(payload, dict) else None
        return entries, total if isinstance(total, int) else offset + len(entries)

    async def get_intercepts(self, where: Where) -> list[Intercept]:
        return await Intercept.amany(rows(await self.request("GET", self._virtualization(where) + "/intercepts")))  # type: ignore[attr-defined]

    async def get_intercept(self, where: Where, intercept_id: str) -> Intercept:
        return Intercept.from_api(await self.request("GET", self._virtualization(where)  # type: ignore[attr-defined]
                                                     + path("/intercepts/{}", intercept_id)))
