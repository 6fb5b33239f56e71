"""xyOps adapter: /api/app/NAME/v1, API key in the X-API-Key header only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from testdeck.http import ApiClient
from testdeck.records import Record


@dataclass
class Alert(Record):
    id: str = ""
    title: str = ""
    expression: str = ""
    message: str = ""
    groups: list = field(default_factory=list)
    email: str = ""
    web_hook: str = ""
    monitor_id: str = ""
    enabled: bool = False
    samples: int = 1
    notes: str = ""
    username: str = ""
    modified: int = 0
    created: int = 0


@dataclass
class AlertTest(Record):
    result: bool = False
    message: str = ""


class XyOps(ApiClient):
    service = "xyops"

    def default_headers(self) -> dict[str, str]:
        # The header, never the query string: URLs end up in proxy logs.
        return {"X-API-Key": self._secret} if self._secret else {}

    def check_payload(self, payload: Any) -> str | None:
        # xyOps answers errors with HTTP 200 and a non-zero `code`.
        if isinstance(payload, dict) and payload.get("code", 0) not in (0, "0"):
            return str(payload.get("description") or f"error code {payload.get('code')!r}")
        return None

    def _path(self, name: str) -> str:
        return f"/api/app/{name}/v1"

    async def call(self, name: str, body: dict | None = None, *, get: bool = False, mutates: bool = True) -> dict:
        if get:
            payload = await self.request("GET", self._path(name), params=body)
        else:
            payload = await self.request("POST", self._path(name), json_body=body or {}, mutates=mutates,
                                         idempotent=not mutates)
        return payload if isinstance(payload, dict) else {}

    async def ping(self) -> str:
        rows = await self.get_alerts()
        return f"{len(rows)} alerts"

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
