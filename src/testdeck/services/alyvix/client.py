"""Alyvix Service adapter: one method per endpoint of the API document (18).

API level 0 servers (paths under `/v0/`, put the prefix in the profile URL:
`https://host:port/v0`) take no credentials at all. Newer servers answer at
the root and want `Authorization: Bearer <jwt>` (issued by NetEye): the
profile's secret, sent only when there is one.

The document gives requests but no response bodies, so every list is read
bare or wrapped (`{"sessions": [...]}`, `{"data": [...]}`), and measures are
read both as the flat rows a real capture has (one row per transaction, each
carrying the test case fields) and as runs with a nested `transactions` list.
The document lists no single-session or single-test-case GET: the detail of
one is looked up in the list the server returns.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import urllib.parse
import zlib
from typing import Any

import msgspec

from testdeck import clock
from testdeck.http import ApiClient, path
from testdeck.records import Record

CONTROLS = ("play", "break", "stop")
LOG_SOURCES = ("SERVER", "CLIENT", "EXTERNAL")
LOG_LEVELS = ("DEBUG", "WARNING", "CRITICAL")
SETTINGS_LOG_LEVELS = ("disabled", "error", "debug")
STAMP = "%Y%m%d%H%M%S"  # the document's date form for measure and log filters


def stamp(epoch: float) -> str:
    """YYYYMMDDhhmmss (UTC), the form test_case_from/_to and log_from/_to take."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime(STAMP)


def parse_stamp(text: str) -> float:
    """Epoch seconds of a YYYYMMDDhhmmss stamp (UTC); ValueError when it is not one."""
    text = str(text).strip()
    if len(text) != 14 or not text.isdigit():
        raise ValueError(f"{text!r} is not a date as YYYYMMDDhhmmss")
    return dt.datetime.strptime(text, STAMP).replace(tzinfo=dt.timezone.utc).timestamp()


class Session(Record):
    id: int = 0
    domain: str = ""
    username: str = ""
    width: int = 0
    height: int = 0
    scaling_factor: int = 0
    testcase_waiting_period: int = 0
    session_waiting_period: int = 0
    state: str = ""
    test_case_list: list = msgspec.field(default_factory=list)
    # derived for the table (not sent by the server)
    user: str = ""
    resolution: str = ""
    enabled_testcases: int = 0

    def __post_init__(self) -> None:
        self.user = self.user or (f"{self.domain}\\{self.username}" if self.domain else self.username)
        if not self.resolution and self.width and self.height:
            self.resolution = f"{self.width}x{self.height}"
        self.enabled_testcases = sum(1 for tc in self.test_case_list if isinstance(tc, dict) and tc.get("enabled"))

    def enabled_ids(self) -> list[Any]:
        return [tc.get("id") for tc in self.test_case_list if isinstance(tc, dict) and tc.get("enabled")]


class TestCase(Record):
    __test__ = False  # not a pytest class

    id: int = 0
    name: str = ""
    filename: str = ""
    arguments: str = ""
    # derived by the view from the test case's last run (not sent with the test case)
    last_time: float | None = None
    last_state: int | None = None
    last_duration_ms: int | None = None
    last_runcode: str = ""


class Transaction(Record):
    transaction_name: str = ""
    transaction_alias: str = ""
    transaction_group: str = ""
    transaction_detection_type: str = ""
    transaction_timeout_ms: int | None = None
    transaction_warning_ms: int | None = None
    transaction_critical_ms: int | None = None
    transaction_performance_ms: int | None = None  # null when the step did not run
    transaction_accuracy_ms: int | None = None
    transaction_exit: str = ""
    transaction_state: int | None = None
    transaction_record_text: str = ""
    transaction_screenshot: str = ""  # base64, only when asked for
    transaction_annotation: str = ""


class Run(Record):
    """One execution of a test case (a runcode) and its transactions."""

    test_case_execution_code: str = ""  # the runcode
    timestamp_epoch: int | None = None  # nanoseconds
    hostname: str = ""
    domain_username: str = ""
    test_case_name: str = ""
    test_case_alias: str = ""
    test_case_arguments: str = ""
    test_case_duration_ms: int | None = None
    test_case_exit: str = ""  # "true", "false", "fail", "not_executed"
    test_case_state: int | None = None  # 0 ok, 1 warning, 2 critical, 3 unknown
    transactions: list = msgspec.field(default_factory=list)  # of Transaction
    # derived for the table and the chart
    time: float | None = None  # epoch seconds

    def __post_init__(self) -> None:
        if self.time is None and self.timestamp_epoch is not None:
            self.time = self.timestamp_epoch / 1e9 if self.timestamp_epoch > 1e14 else float(self.timestamp_epoch)


class License(Record):
    status: str = ""  # ACTIVE when usable
    service_status: str = ""
    plan: str = ""
    expiration_date: str = ""
    licensed_sessions: int | None = None
    customer: str = ""
    days: int | None = None  # derived: whole days left until expiration_date

    def __post_init__(self) -> None:
        raw = self.raw
        # other spellings a server may use for the same facts
        self.status = self.status or str(raw.get("license_status") or "")
        if self.licensed_sessions is None:
            for key in ("max_sessions", "sessions"):
                if isinstance(raw.get(key), int) and not isinstance(raw.get(key), bool):
                    self.licensed_sessions = raw[key]
                    break
        left = self.days_left()
        self.days = None if left is None else int(left // 1)

    def days_left(self) -> float | None:
        """Days until expiration_date against the (freezable) clock; None when unknown."""
        text = self.expiration_date.strip().replace("Z", "+00:00")
        if not text:
            return None
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        if len(text) == 10:  # a bare date: the license is valid through that day
            when += dt.timedelta(days=1)
        return (when.timestamp() - clock.now()) / 86400


class Settings(Record):
    private_key: str | None = None
    successful_retention_period: int | None = None
    failed_retention_period: int | None = None
    log_retention_period: int | None = None
    log_level: str = ""


class LogLine(Record):
    timestamp: str = ""
    log_source: str = ""
    log_level: str = ""
    message: str = ""
    id: str = ""  # derived: lines have no id; time + a checksum of the line, the same under any filter

    def __post_init__(self) -> None:
        raw = self.raw
        if not self.timestamp:
            self.timestamp = str(next((raw[k] for k in ("time", "date", "log_time") if raw.get(k)), ""))
        if not self.message:
            self.message = str(raw.get("log_message") or raw.get("text") or raw.get("value") or "")
        self.log_source = self.log_source or str(raw.get("source") or "")
        self.log_level = self.log_level or str(raw.get("level") or "")
        if not self.id:
            whole = "\x1f".join((self.log_source, self.log_level, self.message))
            self.id = f"{self.timestamp}-{zlib.crc32(whole.encode()):08x}"
        if "id" not in raw:  # `get log -o json` prints the id that `describe log` and `logs log` take
            raw["id"] = self.id

    def text(self) -> str:
        return " ".join(p for p in (self.timestamp, self.log_source, self.log_level, self.message) if p)


def _rows(payload: Any, *keys: str) -> list:
    """A list, whether the server sends it bare or wrapped in an object."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in (*keys, "data", "items", "results"):
            if isinstance(payload.get(key), list):
                return payload[key]
    return []


def _one(payload: Any, *keys: str) -> Any:
    """An object, whether bare or wrapped (`{"session": {...}}`)."""
    if isinstance(payload, dict):
        for key in (*keys, "data"):
            if isinstance(payload.get(key), dict):
                return payload[key]
    return payload


RUN_FIELDS = {f for f in Run.__struct_fields__ if f not in ("raw", "transactions", "time")}


def runs_from(rows: list) -> list[Run]:
    """Group measure rows into runs by runcode, oldest first.

    Flat rows (one per transaction, the test case fields repeated) and runs
    with a nested `transactions` list both come out as Runs."""
    runs: dict[str, Run] = {}
    order: list[str] = []
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        code = str(row.get("test_case_execution_code") or row.get("runcode") or f"#{n}")
        run = runs.get(code)
        if run is None:
            head = {k: v for k, v in row.items() if not k.startswith("transaction")}
            head.setdefault("test_case_execution_code", code)
            run = runs[code] = Run.from_api(head)
            order.append(code)
        nested = row.get("transactions")
        if isinstance(nested, list):
            run.transactions += Transaction.many(nested)
        elif any(k.startswith("transaction_") for k in row):
            run.transactions.append(Transaction.from_api({k: v for k, v in row.items()
                                                          if k.startswith("transaction_")}))
    for run in runs.values():
        run.raw["transactions"] = [t.raw for t in run.transactions]
    return sorted((runs[c] for c in order), key=lambda r: (r.time is None, r.time or 0))


def decode_image(data: str) -> bytes:
    """Bytes of a base64 screenshot (a `data:` URL prefix tolerated); ValueError when not base64."""
    text = data.split(",", 1)[1] if data.startswith("data:") else data
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None


class Alyvix(ApiClient):
    service = "alyvix"

    def default_headers(self) -> dict[str, str]:
        # API level 0 servers take no credentials: a JWT sent there (often over plain http) is only exposed
        v0 = "v0" in urllib.parse.urlsplit(self.profile.url).path.lower().split("/")
        return {"Authorization": f"Bearer {self._secret}"} if self._secret and not v0 else {}

    async def ping(self) -> str:
        status = await self.get_license_status()
        return f"license {status.status or '?'}"

    @property
    def insecure(self) -> bool:
        """Plain http, or an API level 0 path (the document warns: insecure)."""
        url = urllib.parse.urlsplit(self.profile.url)
        return url.scheme.lower() == "http" or "v0" in url.path.lower().split("/")

    # --- license (3) -------------------------------------------------------------
    async def get_license(self) -> License:
        return License.from_api(_one(await self.request("GET", "/license"), "license"))

    async def set_license(self, key: str) -> Any:
        self.remember_secret(key)
        return await self.request("POST", "/license", json_body={"license": key})

    async def get_license_status(self) -> License:
        payload = await self.request("GET", "/license_status")
        if isinstance(payload, str):  # a bare status word
            payload = {"status": payload}
        return License.from_api(_one(payload, "license_status"))

    # --- settings (2) --------------------------------------------------------------
    async def get_settings(self) -> Settings:
        settings = Settings.from_api(_one(await self.request("GET", "/settings"), "settings"))
        if settings.private_key:
            self.remember_secret(settings.private_key)  # redacted from every error from now on
        return settings

    async def update_settings(self, changes: dict[str, Any]) -> Any:
        if changes.get("private_key"):
            self.remember_secret(str(changes["private_key"]))
        return await self.request("PUT", "/settings", json_body=changes, idempotent=True)

    # --- sessions (4) --------------------------------------------------------------
    async def get_sessions(self) -> list[Session]:
        return Session.many(_rows(await self.request("GET", "/sessions"), "sessions"))

    async def get_session(self, session_id: Any) -> Session:
        for session in await self.get_sessions():
            if str(session.id) == str(session_id):
                return session
        # the server answered (200) without it: "error", never "no response"; a lookup says nothing of its health
        raise self.error("GET", "/sessions", 200, f"session {session_id} is not in the server's session list",
                         local=True)

    async def create_session(self, values: dict[str, Any]) -> Any:
        """POST /sessions: domain, username, password, width, height, scaling_factor, waiting periods."""
        if values.get("password"):
            self.remember_secret(str(values["password"]))
        return await self.request("POST", "/sessions", json_body=values)

    async def update_session(self, session_id: Any, changes: dict[str, Any]) -> Any:
        """PUT /sessions/<id>: password, size, control (play/break/stop), test_case_list, waiting periods."""
        if changes.get("password"):
            self.remember_secret(str(changes["password"]))
        return await self.request("PUT", path("/sessions/{}", session_id), json_body=changes, idempotent=True)

    async def control_session(self, session_id: Any, control: str) -> Any:
        if control not in CONTROLS:
            raise self.error("PUT", path("/sessions/{}", session_id), None,
                             f"refused: control must be one of {', '.join(CONTROLS)}", local=True)
        return await self.update_session(session_id, {"control": control})

    async def set_session_testcases(self, session_id: Any, enabled: dict[Any, bool]) -> Any:
        items = [{"id": tid, "enabled": bool(on)} for tid, on in enabled.items()]
        return await self.update_session(session_id, {"test_case_list": items})

    async def delete_session(self, session_id: Any) -> Any:
        return await self.request("DELETE", path("/sessions/{}", session_id))

    # --- test cases (5) ------------------------------------------------------------
    async def get_testcase_filenames(self) -> list[str]:
        payload = await self.request("GET", "/testcase-filenames")
        return [str(x) for x in _rows(payload, "testcase_filenames", "filenames") if x is not None]

    async def get_testcases(self) -> list[TestCase]:
        return TestCase.many(_rows(await self.request("GET", "/testcases"), "testcases", "test_cases"))

    async def get_testcase(self, testcase_id: Any) -> TestCase:
        for tc in await self.get_testcases():
            if str(tc.id) == str(testcase_id) or tc.name == str(testcase_id):
                return tc
        raise self.error("GET", "/testcases", 200, f"test case {testcase_id} is not in the server's list", local=True)

    async def create_testcase(self, name: str, filename: str, arguments: str | None = None) -> Any:
        body = {"name": name, "filename": filename}
        if arguments:
            body["arguments"] = arguments
        return await self.request("POST", "/testcases", json_body=body)

    async def update_testcase(self, testcase_id: Any, changes: dict[str, Any]) -> Any:
        return await self.request("PUT", path("/testcases/{}", testcase_id), json_body=changes, idempotent=True)

    async def delete_testcase(self, testcase_id: Any) -> Any:
        return await self.request("DELETE", path("/testcases/{}", testcase_id))

    # --- measures (2) --------------------------------------------------------------
    async def get_measures(self, testcase_id: Any, *, session_id: Any = None, test_case_from: str | None = None,
                           test_case_to: str | None = None, screenshots: bool = False) -> list[Run]:
        """The runs of a test case; from/to as YYYYMMDDhhmmss (the server's default: the last run)."""
        params: dict[str, Any] = {}
        if session_id not in (None, ""):
            params["session_id"] = session_id
        if test_case_from:
            params["test_case_from"] = test_case_from
        if test_case_to:
            params["test_case_to"] = test_case_to
        params["test_case_screenshot"] = "true" if screenshots else "false"
        payload = await self.request("GET", path("/testcases/{}/measures", testcase_id), params=params)
        return runs_from(_rows(payload, "measures", "runs"))

    async def get_measure(self, testcase_id: Any, runcode: Any, *, screenshots: bool = False) -> Run:
        where = path("/testcases/{}/measures/{}", testcase_id, runcode)
        payload = await self.request("GET", where,
                                     params={"test_case_screenshot": "true" if screenshots else "false"})
        rows = _rows(payload, "measures", "runs") or ([_one(payload, "measure", "run")]
                                                      if isinstance(payload, dict) else [])
        runs = runs_from(rows)
        if not runs:
            raise self.error("GET", where, None, f"the server sent no measures for run {runcode}")
        return runs[0]

    # --- log (2) -------------------------------------------------------------------
    async def get_log(self, log_from: str | None = None, log_to: str | None = None, log_source: str | None = None,
                      log_level: str | None = None) -> list[LogLine]:
        """Dates as YYYYMMDDhhmmss; source SERVER/CLIENT/EXTERNAL; level DEBUG/WARNING/CRITICAL."""
        params = {k: v for k, v in (("log_from", log_from), ("log_to", log_to), ("log_source", log_source),
                                    ("log_level", log_level)) if v}
        payload = await self.request("GET", "/log", params=params or None)
        if isinstance(payload, str):  # a plain-text log
            payload = [{"message": line} for line in payload.splitlines() if line.strip()]
        return LogLine.many(_rows(payload, "log", "logs", "lines"))

    async def post_log(self, message: str, log_level: str) -> Any:
        return await self.request("POST", "/log", json_body={"message": message, "log_level": log_level})
