"""Alyvix Service simulator: sessions, test cases, license and server log.

The document gives paths, methods and arguments but no response bodies,
status codes or error shapes. Where it is silent this follows what the
real server most plausibly does (a Python web service): JSON objects keyed
by resource name, FastAPI-style errors `{"detail": ...}` (a string, or a
list of `{"loc", "msg", "type"}` for validation errors, answered 422).

Every endpoint answers twice: under `/v0/` (API level 0, no auth: "insecure,
same private network only") and at the root as newer servers do, where an
`Authorization: Bearer <jwt>` header is required.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from testdeck.sim.base import Ids, SimConfig, faults

# the demo JWT (a fixed, unsigned-looking token: header.payload.signature)
DEMO_JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0ZXN0ZGVjay1kZW1vIiwicm9sZSI6ImFkbWluIn0."
            "c2ltdWxhdGVkLWFseXZpeC1zaWduYXR1cmU")
DEMO_LICENSE = "ALX-DEMO-7Q2M-99KD-41ZT"

SEED_TESTCASES = [
    ("visittrentino", "visittrentino", "--lang it"),
    ("sap_login", "sap_login_v2", None),
    ("outlook_send", "outlook_send", "--mailbox demo"),
    ("citrix_portal", "citrix_portal", None),
    ("erp_invoice [eu/west]", "erp_invoice", "--region eu-west"),
]
SEED_SESSIONS = [
    # domain, username, width, height, scaling, control, enabled test case ids
    ("DM", "AlyvixUser01", 1920, 1080, 100, "play", [1, 2, 3]),
    ("DM", "AlyvixUser02", 1920, 1080, 125, "play", [4]),
    ("DM", "AlyvixUser03", 1366, 768, 100, "break", [1, 5]),
    ("LAB", "AlyvixUser04", 1280, 1024, 100, "stop", [2]),
]
CONTROLS = ("play", "break", "stop")
STATE_OF = {"play": "running", "break": "paused", "stop": "stopped"}
LOG_SOURCES = ("SERVER", "CLIENT", "EXTERNAL")
LOG_LEVELS = ("DEBUG", "WARNING", "CRITICAL")
LOG_EVERY = 30.0  # simulated seconds between two lines of the growing server log


def stamp(epoch: float) -> str:
    """The document's date format for filters and runcodes: YYYYMMDDhhmmss (UTC)."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y%m%d%H%M%S")


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Reject(Exception):
    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None):
        super().__init__(str(detail))
        self.status, self.detail, self.headers = status, detail, headers


def _invalid(loc: list[Any], msg: str, kind: str) -> _Reject:
    return _Reject(422, [{"loc": loc, "msg": msg, "type": kind}])


def create_app(config: SimConfig | None = None) -> Any:
    config = config or SimConfig()
    ids = Ids(config.seed)
    start = config.clock()

    testcases: dict[int, dict[str, Any]] = {}
    for n, (name, filename, args) in enumerate(SEED_TESTCASES, 1):
        testcases[n] = {"id": n, "name": name, "filename": filename, "arguments": args}
    for n in range(config.size):
        tid = len(testcases) + 1
        testcases[tid] = {"id": tid, "name": f"generated_{n}_{ids.alnum(4)}", "filename": f"generated_{n}",
                          "arguments": None}

    sessions: dict[int, dict[str, Any]] = {}
    for n, (domain, user, w, h, scale, control, enabled) in enumerate(SEED_SESSIONS, 1):
        sessions[n] = {"id": n, "domain": domain, "username": user, "width": w, "height": h,
                       "scaling_factor": scale, "testcase_waiting_period": 1, "session_waiting_period": 5,
                       "control": control,
                       "test_case_list": [{"id": tid, "enabled": tid in enabled} for tid in testcases
                                          if tid <= len(SEED_TESTCASES)],
                       "_password": f"secret-{n}", "_since": start - 3600 * n}
    for n in range(config.size):
        sid = len(sessions) + 1
        sessions[sid] = {"id": sid, "domain": "GEN", "username": f"GenUser{n:05d}", "width": 1920, "height": 1080,
                         "scaling_factor": 100, "testcase_waiting_period": 0, "session_waiting_period": 0,
                         "control": CONTROLS[n % 3], "test_case_list": [{"id": 1 + n % len(testcases),
                                                                          "enabled": True}],
                         "_password": "x", "_since": start - n}

    base_log = [
        (start - 7200, "SERVER", "DEBUG", "Alyvix Service started, listening on :443"),
        (start - 7100, "SERVER", "WARNING", "License expires in 42 days"),
        (start - 5400, "CLIENT", "DEBUG", "Session DM\\AlyvixUser01 connected (1920x1080 @100%)"),
        (start - 3600, "EXTERNAL", "CRITICAL", "Test case sap_login: transaction [login] timed out after 30000 ms"),
        (start - 1800, "CLIENT", "DEBUG", "Session DM\\AlyvixUser03 put on break by admin"),
    ]

    def view(session: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in session.items() if not k.startswith("_")}
        out["state"] = STATE_OF.get(session["control"], "unknown")
        enabled = [tc["id"] for tc in session["test_case_list"] if tc.get("enabled")]
        current = None
        if session["control"] == "play" and enabled:
            # one test case per minute, round robin, advanced lazily from the clock
            step = int(max(0.0, config.elapsed(session["_since"])) // 60)
            current = testcases.get(enabled[step % len(enabled)], {}).get("name")
        out["current_testcase"] = current
        out["last_update"] = iso(session["_since"])
        return out

    def log_lines() -> list[dict[str, Any]]:
        lines = [{"timestamp": stamp(t), "log_source": s, "log_level": lv, "message": m} for t, s, lv, m in base_log]
        grown = int(max(0.0, config.elapsed(start)) // LOG_EVERY)
        for i in range(min(grown, 10_000)):
            at = start + (i + 1) * LOG_EVERY / max(config.speed, 1e-9)
            user = SEED_SESSIONS[i % len(SEED_SESSIONS)][1]
            lines.append({"timestamp": stamp(at), "log_source": "CLIENT", "log_level": "DEBUG",
                          "message": f"Session DM\\{user} heartbeat #{i + 1}"})
        return lines

    def authorize(request: Request) -> None:
        if request.url.path.startswith("/v0/"):
            return  # API level 0: no authentication at all
        header = request.headers.get("authorization", "")
        if not header:
            raise _Reject(401, "Not authenticated", {"WWW-Authenticate": "Bearer"})
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != DEMO_JWT:
            raise _Reject(401, "Could not validate credentials", {"WWW-Authenticate": "Bearer"})

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise _invalid(["body"], "Expecting value: the body is not valid JSON", "value_error.jsondecode") from None
        if not isinstance(data, dict):
            raise _invalid(["body"], "value is not a valid dict", "type_error.dict")
        return data

    def endpoint(handler):
        async def route(request: Request):
            try:
                authorize(request)
                return await handler(request)
            except _Reject as rej:
                return JSONResponse({"detail": rej.detail}, rej.status, headers=rej.headers)
        return route

    def find_session(request: Request) -> dict[str, Any]:
        raw = request.path_params["id"]
        try:
            session = sessions.get(int(raw))
        except ValueError:
            raise _invalid(["path", "id"], "value is not a valid integer", "type_error.integer") from None
        if session is None:
            raise _Reject(404, f"Session {raw} not found")
        return session

    async def get_sessions(request: Request):
        return JSONResponse({"sessions": [view(s) for s in sessions.values()]})

    async def put_session(request: Request):
        session = find_session(request)
        data = await body(request)
        changes: dict[str, Any] = {}
        for key in ("width", "height", "scaling_factor", "testcase_waiting_period", "session_waiting_period"):
            if data.get(key) is not None:
                if not isinstance(data[key], int) or isinstance(data[key], bool) or data[key] < 0:
                    raise _invalid(["body", key], "value is not a valid integer", "type_error.integer")
                changes[key] = data[key]
        if data.get("password") is not None:
            changes["_password"] = str(data["password"])
        if data.get("control") is not None:
            if data["control"] not in CONTROLS:
                raise _invalid(["body", "control"], "value is not a valid enumeration member; permitted: "
                               "'play', 'break', 'stop'", "type_error.enum")
            changes["control"] = data["control"]
            changes["_since"] = config.clock()
        if data.get("test_case_list") is not None:
            items = data["test_case_list"]
            if not isinstance(items, list) or not all(isinstance(x, dict) and "id" in x for x in items):
                raise _invalid(["body", "test_case_list"], "value is not a valid list of {id, enabled}",
                               "type_error.list")
            for item in items:
                if item["id"] not in testcases:
                    raise _Reject(404, f"Test case {item['id']} not found")
            changes["test_case_list"] = [{"id": x["id"], "enabled": bool(x.get("enabled", True))} for x in items]
        session.update(changes)
        return JSONResponse(view(session))

    async def get_testcases(request: Request):
        return JSONResponse({"testcases": list(testcases.values())})

    async def get_testcase_filenames(request: Request):
        return JSONResponse({"testcase_filenames": sorted({f"{tc['filename']}.alyvix"
                                                           for tc in testcases.values()})})

    async def get_license(request: Request):
        return JSONResponse({"license": DEMO_LICENSE, "licensed_to": "Demo Company S.r.l.",
                             "max_sessions": 10, "expiration_date": iso(start + 42 * 86400)})

    async def get_license_status(request: Request):
        left = (start + 42 * 86400 - config.clock()) / 86400
        return JSONResponse({"status": "valid" if left > 0 else "expired", "days_left": max(0, int(left)),
                             "expiration_date": iso(start + 42 * 86400), "sessions_in_use": len(sessions),
                             "max_sessions": 10})

    async def get_log(request: Request):
        q = request.query_params
        source, level = q.get("log_source"), q.get("log_level")
        if source and source not in LOG_SOURCES:
            raise _invalid(["query", "log_source"], "value is not a valid enumeration member; permitted: "
                           "'SERVER', 'CLIENT', 'EXTERNAL'", "type_error.enum")
        if level and level not in LOG_LEVELS:
            raise _invalid(["query", "log_level"], "value is not a valid enumeration member; permitted: "
                           "'DEBUG', 'WARNING', 'CRITICAL'", "type_error.enum")
        for key in ("log_from", "log_to"):
            if q.get(key) and not (q[key].isdigit() and len(q[key]) == 14):
                raise _invalid(["query", key], "expected a date as YYYYMMDDhhmmss", "value_error.datetime")
        lines = [ln for ln in log_lines()
                 if (not source or ln["log_source"] == source) and (not level or ln["log_level"] == level)
                 and (not q.get("log_from") or ln["timestamp"] >= q["log_from"])
                 and (not q.get("log_to") or ln["timestamp"] <= q["log_to"])]
        return JSONResponse({"log": lines})

    routes = []
    for prefix in ("", "/v0"):
        routes += [
            Route(f"{prefix}/sessions", endpoint(get_sessions), methods=["GET"]),
            Route(f"{prefix}/sessions/{{id}}", endpoint(put_session), methods=["PUT"]),
            Route(f"{prefix}/testcases", endpoint(get_testcases), methods=["GET"]),
            Route(f"{prefix}/testcase-filenames", endpoint(get_testcase_filenames), methods=["GET"]),
            Route(f"{prefix}/license", endpoint(get_license), methods=["GET"]),
            Route(f"{prefix}/license_status", endpoint(get_license_status), methods=["GET"]),
            Route(f"{prefix}/log", endpoint(get_log), methods=["GET"]),
        ]
    app = Starlette(routes=routes)
    app.state.sessions = sessions
    app.state.testcases = testcases
    app.state.config = config
    return faults(app, config)
