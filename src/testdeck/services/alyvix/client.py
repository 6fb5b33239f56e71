"""Alyvix Service adapter.

API level 0 servers (paths under `/v0/`, put the prefix in the profile URL:
`https://host:port/v0`) take no credentials at all. Newer servers answer at
the root and want `Authorization: Bearer <jwt>`: the profile's secret.

The document lists no single-session or single-test-case GET, so the
detail of one is looked up in the list the server returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from testdeck.http import ApiClient
from testdeck.records import Record


@dataclass
class Session(Record):
    id: int = 0
    domain: str = ""
    username: str = ""
    width: int = 0
    height: int = 0
    scaling_factor: int = 0
    testcase_waiting_period: int = 0
    session_waiting_period: int = 0
    control: str = ""
    state: str = ""
    current_testcase: str = ""
    test_case_list: list = field(default_factory=list)
    # derived for the table (not sent by the server)
    user: str = ""
    resolution: str = ""
    enabled_testcases: int = 0

    def __post_init__(self) -> None:
        self.user = self.user or (f"{self.domain}\\{self.username}" if self.domain else self.username)
        if not self.resolution and self.width and self.height:
            self.resolution = f"{self.width}x{self.height}"
        self.enabled_testcases = sum(1 for tc in self.test_case_list if isinstance(tc, dict) and tc.get("enabled"))


@dataclass
class TestCase(Record):
    __test__ = False  # not a pytest class

    id: int = 0
    name: str = ""
    filename: str = ""
    arguments: str = ""


@dataclass
class License(Record):
    license: str = ""
    status: str = ""
    licensed_to: str = ""
    expiration_date: str = ""
    days_left: int = 0
    max_sessions: int = 0


@dataclass
class LogLine(Record):
    timestamp: str = ""
    log_source: str = ""
    log_level: str = ""
    message: str = ""


def _rows(payload: Any, *keys: str) -> list:
    """A list, whether the server sends it bare or wrapped in an object."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in (*keys, "data", "items", "results"):
            if isinstance(payload.get(key), list):
                return payload[key]
    return []


class Alyvix(ApiClient):
    service = "alyvix"

    def default_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._secret}"} if self._secret else {}

    async def ping(self) -> str:
        status = await self.get_license_status()
        return f"license {status.status or '?'}"

    # --- sessions --------------------------------------------------------------
    async def get_sessions(self) -> list[Session]:
        return Session.many(_rows(await self.request("GET", "/sessions"), "sessions"))

    async def get_session(self, session_id: Any) -> Session:
        for session in await self.get_sessions():
            if str(session.id) == str(session_id):
                return session
        raise self.error("GET", "/sessions", None, f"session {session_id} is not in the server's session list")

    async def update_session(self, session_id: Any, changes: dict[str, Any]) -> Session:
        """PUT /sessions/<id>: password, size, control (play/break/stop), test_case_list, waiting periods."""
        return Session.from_api(await self.request("PUT", f"/sessions/{session_id}", json_body=changes,
                                                   idempotent=True))

    async def control_session(self, session_id: Any, control: str) -> Session:
        return await self.update_session(session_id, {"control": control})

    # --- test cases ------------------------------------------------------------
    async def get_testcases(self) -> list[TestCase]:
        return TestCase.many(_rows(await self.request("GET", "/testcases"), "testcases", "test_cases"))

    async def get_testcase(self, testcase_id: Any) -> TestCase:
        for tc in await self.get_testcases():
            if str(tc.id) == str(testcase_id) or tc.name == str(testcase_id):
                return tc
        raise self.error("GET", "/testcases", None, f"test case {testcase_id} is not in the server's list")

    async def get_testcase_filenames(self) -> list[str]:
        payload = await self.request("GET", "/testcase-filenames")
        return [str(x) for x in _rows(payload, "testcase_filenames", "filenames") if x is not None]

    # --- license and log -------------------------------------------------------
    async def get_license(self) -> License:
        return License.from_api(await self.request("GET", "/license"))

    async def get_license_status(self) -> License:
        return License.from_api(await self.request("GET", "/license_status"))

    async def get_log(self, log_from: str | None = None, log_to: str | None = None, log_source: str | None = None,
                      log_level: str | None = None) -> list[LogLine]:
        """Dates as YYYYMMDDhhmmss; source SERVER/CLIENT/EXTERNAL; level DEBUG/WARNING/CRITICAL."""
        params = {k: v for k, v in (("log_from", log_from), ("log_to", log_to), ("log_source", log_source),
                                    ("log_level", log_level)) if v}
        return LogLine.many(_rows(await self.request("GET", "/log", params=params or None), "log", "logs"))
