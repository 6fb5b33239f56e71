"""Alyvix Service simulator: the whole API document (18 endpoints).

The document gives paths, methods and arguments but no response bodies,
status codes or error shapes. Where it is silent this follows what a Flask
service (Alyvix Service is one) most plausibly answers: resource errors as
flask-restful `{"message": "..."}` (argument errors `{"message": {field:
text}}`, 400), JWT errors as flask-jwt-extended `{"msg": "..."}` (401, 422 for
a bad signature), and Flask's HTML page for unknown paths.

Every endpoint answers twice: under `/v0/` (API level 0: no auth, "insecure,
same private network only", bare JSON arrays as the old servers send) and at
the root as newer servers do (a Bearer JWT required, lists wrapped in an
object). Sessions follow play/break/stop; measures come from measures.py;
the log grows with the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from testdeck.services.alyvix.sim import measures as M
from testdeck.services.alyvix.sim.common import (FLASK_PAGE, FLASK_TEXT, bad_arg, refuse, Reject, body, integer,
                                                 parse_stamp, stamp, wrap)
from testdeck.sim.base import Ids, SimConfig, faults

# the demo JWT (a fixed, unsigned-looking token: header.payload.signature)
DEMO_JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0ZXN0ZGVjay1kZW1vIiwicm9sZSI6ImFkbWluIn0."
            "c2ltdWxhdGVkLWFseXZpeC1zaWduYXR1cmU")
LICENSE_RX = re.compile(r"^ALX(-[A-Z0-9]{4}){4}$")
LICENSE_DAYS = 12  # the demo license runs out soon: the status bar warns

SEED_TESTCASES = [
    ("visittrentino", "visittrentino", "--lang it"),
    ("sap_login", "sap_login_v2", None),
    ("outlook_send", "outlook_send", "--mailbox demo"),
    ("citrix_portal", "citrix_portal", None),
    ("erp_invoice [eu/west]", "erp_invoice", "--region eu-west"),
]
EXTRA_FILES = ["teams_call", "sharepoint_search"]  # files no test case uses yet
SEED_SESSIONS = [
    # domain, username, width, height, scaling, control, enabled test case ids, can log on
    ("DM", "AlyvixUser01", 1920, 1080, 100, "play", [1, 2, 3], True),
    ("DM", "AlyvixUser02", 1920, 1080, 125, "play", [4], True),
    ("DM", "AlyvixUser03", 1366, 768, 100, "break", [1, 5], True),
    ("LAB", "AlyvixUser04", 1280, 1024, 100, "play", [2], False),
    ("LAB", "AlyvixUser05", 1920, 1080, 100, "stop", [], True),
]
CONTROLS = ("play", "break", "stop")
LOG_SOURCES = ("SERVER", "CLIENT", "EXTERNAL")
LOG_LEVELS = ("DEBUG", "WARNING", "CRITICAL")
SETTINGS_LOG_LEVELS = ("disabled", "error", "debug")
LOG_EVERY = 30.0  # simulated seconds between two lines of the growing server log
SESSION_FIELDS = ("width", "height", "scaling_factor", "testcase_waiting_period", "session_waiting_period")


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
    files = {tc["filename"] for tc in testcases.values()} | set(EXTRA_FILES)

    sessions: dict[int, dict[str, Any]] = {}

    def add_session(domain: str, user: str, w: int, h: int, scale: int, control: str, enabled: list[int],
                    ok: bool, waits: tuple[int, int], password: str, since: float) -> dict[str, Any]:
        sid = max(sessions, default=0) + 1
        sessions[sid] = {"id": sid, "domain": domain, "username": user, "width": w, "height": h,
                         "scaling_factor": scale, "testcase_waiting_period": waits[0],
                         "session_waiting_period": waits[1], "control": control,
                         "test_case_list": [{"id": tid, "enabled": tid in enabled} for tid in testcases
                                            if tid <= len(SEED_TESTCASES) or tid in enabled],
                         "_password": password, "_since": since, "_logs_on": ok}
        return sessions[sid]

    for n, (domain, user, w, h, scale, control, enabled, ok) in enumerate(SEED_SESSIONS, 1):
        add_session(domain, user, w, h, scale, control, enabled, ok, (1, 5), f"secret-{n}", start - 3600 * n)
    for n in range(config.size):
        add_session("GEN", f"GenUser{n:05d}", 1920, 1080, 100, CONTROLS[n % 3],
                    [len(SEED_TESTCASES) + 1 + n % max(1, config.size)], True, (0, 0), "x", start - n)

    settings: dict[str, Any] = {"private_key": None, "successful_retention_period": 1,
                                "failed_retention_period": 3, "log_retention_period": 7, "log_level": "error"}
    license_: dict[str, Any] = {"customer": "Demo Company S.r.l.", "plan": "Enterprise", "licensed_sessions": 10,
                                "expires": start + LICENSE_DAYS * 86400}

    base_log = [
        (start - 7200, "SERVER", "DEBUG", "Alyvix Service started, listening on :443"),
        (start - 7100, "SERVER", "WARNING", f"License expires in {LICENSE_DAYS} days"),
        (start - 5400, "CLIENT", "DEBUG", "Session DM\\AlyvixUser01 connected (1920x1080 @100%)"),
        (start - 4000, "CLIENT", "CRITICAL", "Session LAB\\AlyvixUser04 cannot log on: wrong password or "
                                             "account locked"),
        (start - 3600, "EXTERNAL", "CRITICAL", "Test case sap_login: transaction [login] timed out after 30000 ms"),
        (start - 1800, "CLIENT", "DEBUG", "Session DM\\AlyvixUser03 put on break by admin"),
    ]
    posted: list[tuple[float, str, str, str]] = []

    def user_of(session: dict[str, Any]) -> str:
        return f"{session['domain']}\\{session['username']}"

    def state_of(session: dict[str, Any]) -> tuple[str, str | None]:
        """(state, current test case) from control, log-on and the clock."""
        control = session["control"]
        if control == "stop":
            return "stopped", None
        if not session["_logs_on"]:
            return "disconnected", None
        if control == "break":
            return "connected", None
        enabled = [tc["id"] for tc in session["test_case_list"] if tc.get("enabled") and tc["id"] in testcases]
        if not enabled:
            return "waiting", None
        # one test case a minute, round robin: 45 s running, then waiting; advanced lazily
        seconds = max(0.0, config.elapsed(session["_since"]))
        step = int(seconds // 60)
        if seconds % 60 >= 45:
            return "waiting", None
        return "running", testcases[enabled[step % len(enabled)]]["name"]

    def view(session: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in session.items() if not k.startswith("_") and k != "control"}
        out["state"], out["current_testcase"] = state_of(session)
        return out

    def log_lines() -> list[dict[str, Any]]:
        lines = list(base_log)
        grown = int(max(0.0, config.elapsed(start)) // LOG_EVERY)
        for i in range(min(grown, 10_000)):
            at = start + (i + 1) * LOG_EVERY / max(config.speed, 1e-9)
            user = SEED_SESSIONS[i % 3][1]
            if i % 7 == 6:
                lines.append((at, "EXTERNAL", "WARNING", f"Test case visittrentino: transaction [booking_form] "
                                                         f"above warning threshold (run #{i + 1})"))
            else:
                lines.append((at, "CLIENT", "DEBUG", f"Session DM\\{user} heartbeat #{i + 1}"))
        lines += posted
        lines.sort(key=lambda x: x[0])
        return [{"timestamp": stamp(t), "log_source": s, "log_level": lv, "message": m} for t, s, lv, m in lines]

    def authorize(request: Request) -> None:
        if request.url.path.startswith("/v0/"):
            return  # API level 0: no authentication at all
        header = request.headers.get("authorization", "")
        if not header:
            raise Reject(401, {"msg": "Missing Authorization Header"}, {"WWW-Authenticate": "Bearer"})
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            raise Reject(401, {"msg": "Missing 'Bearer' type in 'Authorization' header. Expected "
                                       "'Authorization: Bearer <JWT>'"})
        if token.strip() != DEMO_JWT:
            raise Reject(422, {"msg": "Signature verification failed"})

    def endpoint(handler):
        async def route(request: Request):
            try:
                authorize(request)
                return await handler(request)
            except Reject as rej:
                return JSONResponse(rej.body, rej.status, headers=rej.headers)
        return route

    def by_id(table: dict[int, dict[str, Any]], raw: str, what: str) -> dict[str, Any]:
        item = table.get(int(raw)) if raw.isdigit() else None
        if item is None:
            raise refuse(404, f"{what} {raw} not found")
        return item

    # --- license ---------------------------------------------------------------------
    def license_view() -> dict[str, Any]:
        left = license_["expires"] - config.clock()
        return {"status": "ACTIVE" if left > 0 else "EXPIRED", "customer": license_["customer"],
                "plan": license_["plan"], "licensed_sessions": license_["licensed_sessions"],
                "expiration_date": dt.datetime.fromtimestamp(license_["expires"], dt.timezone.utc)
                .strftime("%Y-%m-%d")}

    async def get_license(request: Request):
        return JSONResponse(license_view())

    async def post_license(request: Request):
        key = (await body(request)).get("license")
        if not isinstance(key, str) or not key.strip():
            raise bad_arg("license", "Missing required parameter in the JSON body")
        if not LICENSE_RX.match(key.strip()):
            raise refuse(400, "Invalid license key")
        license_["expires"] = config.clock() + 365 * 86400
        license_["plan"] = "Enterprise" if key.strip().endswith("E") else "Professional"
        return JSONResponse({"message": "License activated", **license_view()})

    async def get_license_status(request: Request):
        view_ = license_view()
        return JSONResponse({"status": view_["status"], "service_status": "RUNNING",
                             "expiration_date": view_["expiration_date"]})

    # --- settings --------------------------------------------------------------------
    async def get_settings(request: Request):
        return JSONResponse(settings)

    async def put_settings(request: Request):
        data = await body(request)
        changes: dict[str, Any] = {}
        for key in ("successful_retention_period", "failed_retention_period", "log_retention_period"):
            value = integer(data, key, required=False, low=1)
            if value is not None:
                changes[key] = value
        if data.get("log_level") is not None:
            if data["log_level"] not in SETTINGS_LOG_LEVELS:
                raise bad_arg("log_level", f"{data['log_level']!r} is not a valid choice")
            changes["log_level"] = data["log_level"]
        if data.get("private_key") is not None:
            changes["private_key"] = str(data["private_key"])
        settings.update(changes)
        return JSONResponse(settings)

    # --- sessions --------------------------------------------------------------------
    async def get_sessions(request: Request):
        return wrap(request, "sessions", [view(s) for s in sessions.values()])

    async def post_session(request: Request):
        data = await body(request)
        for key in ("domain", "username", "password"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise bad_arg(key, "Missing required parameter in the JSON body")
        w = integer(data, "width", required=True, low=1)
        h = integer(data, "height", required=True, low=1)
        scale = integer(data, "scaling_factor", required=True, low=1, high=500)
        waits = (integer(data, "testcase_waiting_period", required=False) or 0,
                 integer(data, "session_waiting_period", required=False) or 0)
        user = f"{data['domain']}\\{data['username']}"
        if any(user_of(s).lower() == user.lower() for s in sessions.values()):
            raise refuse(409, f"Session {user} already exists")
        if len(sessions) >= license_["licensed_sessions"] + config.size:
            raise refuse(403, f"The license allows {license_['licensed_sessions']} sessions")
        session = add_session(data["domain"], data["username"], w, h, scale, "stop", [], True, waits,
                              data["password"], config.clock())
        return JSONResponse(view(session), 201)

    async def put_session(request: Request):
        session = by_id(sessions, request.path_params["id"], "Session")
        data = await body(request)
        changes: dict[str, Any] = {}
        for key in SESSION_FIELDS:
            value = integer(data, key, required=False, low=0 if "waiting" in key else 1,
                            high=500 if key == "scaling_factor" else None)
            if value is not None:
                changes[key] = value
        if data.get("password") is not None:
            changes["_password"] = str(data["password"])
            changes["_logs_on"] = True  # a new password lets a locked-out session log on again
        if data.get("control") is not None:
            if data["control"] not in CONTROLS:
                raise bad_arg("control", f"{data['control']!r} is not a valid choice")
            changes["control"] = data["control"]
            changes["_since"] = config.clock()
        if data.get("test_case_list") is not None:
            items = data["test_case_list"]
            if not isinstance(items, list) or not all(isinstance(x, dict) and "id" in x for x in items):
                raise bad_arg("test_case_list", "expected a list of {id, enabled}")
            for item in items:
                if item["id"] not in testcases:
                    raise refuse(404, f"Test case {item['id']} not found")
            merged = {tc["id"]: tc["enabled"] for tc in session["test_case_list"]}
            merged.update({x["id"]: bool(x.get("enabled", True)) for x in items})
            changes["test_case_list"] = [{"id": k, "enabled": v} for k, v in merged.items()]
        session.update(changes)
        return JSONResponse(view(session))

    async def delete_session(request: Request):
        session = by_id(sessions, request.path_params["id"], "Session")
        del sessions[session["id"]]
        return JSONResponse({"message": f"Session {session['id']} deleted"})

    # --- test cases --------------------------------------------------------------------
    async def get_testcase_filenames(request: Request):
        return wrap(request, "testcase_filenames", sorted(files))

    async def get_testcases(request: Request):
        return wrap(request, "testcases", list(testcases.values()))

    def check_file(data: dict[str, Any], required: bool) -> str | None:
        filename = data.get("filename")
        if filename is None and not required:
            return None
        if not isinstance(filename, str) or not filename.strip():
            raise bad_arg("filename", "Missing required parameter in the JSON body")
        if filename not in files:
            raise refuse(400, f"Test case file {filename!r} does not exist")
        return filename

    async def post_testcase(request: Request):
        data = await body(request)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_arg("name", "Missing required parameter in the JSON body")
        filename = check_file(data, True)
        if any(tc["name"] == name for tc in testcases.values()):
            raise refuse(409, f"Test case {name} already exists")
        tid = max(testcases, default=0) + 1
        testcases[tid] = {"id": tid, "name": name, "filename": filename, "arguments": data.get("arguments")}
        for session in sessions.values():
            session["test_case_list"].append({"id": tid, "enabled": False})
        return JSONResponse(testcases[tid], 201)

    async def put_testcase(request: Request):
        tc = by_id(testcases, request.path_params["id"], "Test case")
        data = await body(request)
        filename = check_file(data, False)
        if filename is not None:
            tc["filename"] = filename
        if "arguments" in data:
            tc["arguments"] = data["arguments"] if data["arguments"] not in ("",) else None
        return JSONResponse(tc)

    async def delete_testcase(request: Request):
        tc = by_id(testcases, request.path_params["id"], "Test case")
        del testcases[tc["id"]]
        for session in sessions.values():
            session["test_case_list"] = [x for x in session["test_case_list"] if x["id"] != tc["id"]]
        return JSONResponse({"message": f"Test case {tc['id']} deleted"})

    # --- measures ------------------------------------------------------------------------
    def runners(tc: dict[str, Any]) -> list[dict[str, Any]]:
        """The sessions that run a test case (any session, when none enables it: it ran before)."""
        found = [s for s in sessions.values()
                 if any(x["id"] == tc["id"] and x.get("enabled") for x in s["test_case_list"])]
        return found or list(sessions.values())[:1]

    def rows_of(tc: dict[str, Any], k: int, at: float, screenshots: bool) -> list[dict[str, Any]]:
        who = runners(tc)
        user = user_of(who[k % len(who)]) if who else "DM\\AlyvixUser01"
        return M.run_rows(config.seed, tc, k, at, user, start, screenshots)

    def flag(request: Request, key: str) -> bool:
        value = request.query_params.get(key, "false").lower()
        if value not in ("true", "false", "1", "0"):
            raise bad_arg(key, f"{value!r} is not a valid boolean")
        return value in ("true", "1")

    async def get_measures(request: Request):
        tc = by_id(testcases, request.path_params["id"], "Test case")
        q = request.query_params
        bounds = []
        for key in ("test_case_from", "test_case_to"):
            value = q.get(key)
            if value and parse_stamp(value) is None:
                raise bad_arg(key, f"time data {value!r} does not match format '%Y%m%d%H%M%S'")
            bounds.append(parse_stamp(value) if value else None)
        shots = flag(request, "test_case_screenshot")
        now = config.clock()
        if bounds == [None, None]:  # the document: default is the last runcode
            times = M.last_run(tc["id"], start, now)
        else:
            times = M.run_times(tc["id"], bounds[0] or 0.0, bounds[1] or now, start, now)
        rows = [row for k, at in times for row in rows_of(tc, k, at, shots)]
        session_id = q.get("session_id")
        if session_id:
            session = by_id(sessions, session_id, "Session")
            rows = [r for r in rows if r["domain_username"] == user_of(session)]
        return wrap(request, "measures", rows)

    async def get_measure(request: Request):
        tc = by_id(testcases, request.path_params["id"], "Test case")
        code = request.path_params["runcode"]
        digits = re.search(r"(\d{9,11})$", code)
        if digits:
            at = float(digits.group(1))
            for k, when in M.run_times(tc["id"], at, at, start, config.clock()):
                rows = rows_of(tc, k, when, flag(request, "test_case_screenshot"))
                if rows and rows[0]["test_case_execution_code"] == code:
                    return wrap(request, "measures", rows)
        raise refuse(404, f"Run {code} not found for test case {tc['id']}")

    # --- log -----------------------------------------------------------------------------
    async def get_log(request: Request):
        q = request.query_params
        source, level = q.get("log_source"), q.get("log_level")
        if source and source not in LOG_SOURCES:
            raise bad_arg("log_source", f"{source!r} is not a valid choice")
        if level and level not in LOG_LEVELS:
            raise bad_arg("log_level", f"{level!r} is not a valid choice")
        for key in ("log_from", "log_to"):
            if q.get(key) and parse_stamp(q[key]) is None:
                raise bad_arg(key, f"time data {q[key]!r} does not match format '%Y%m%d%H%M%S'")
        lines = [ln for ln in log_lines()
                 if (not source or ln["log_source"] == source) and (not level or ln["log_level"] == level)
                 and (not q.get("log_from") or ln["timestamp"] >= q["log_from"])
                 and (not q.get("log_to") or ln["timestamp"] <= q["log_to"])]
        return wrap(request, "log", lines)

    async def post_log(request: Request):
        data = await body(request)
        message, level = data.get("message"), data.get("log_level")
        if not isinstance(message, str) or not message.strip():
            raise bad_arg("message", "Missing required parameter in the JSON body")
        if level not in LOG_LEVELS:
            raise bad_arg("log_level", f"{level!r} is not a valid choice")
        posted.append((config.clock(), "EXTERNAL", level, message))
        return JSONResponse({"message": "Log message added"}, 201)

    async def flask_error(request: Request, exc: HTTPException):
        name, text = FLASK_TEXT.get(exc.status_code, (exc.detail, exc.detail))
        return HTMLResponse(FLASK_PAGE.format(code=exc.status_code, name=name, text=text), exc.status_code)

    routes = []
    for prefix in ("", "/v0"):
        routes += [
            Route(f"{prefix}/license", endpoint(get_license), methods=["GET"]),
            Route(f"{prefix}/license", endpoint(post_license), methods=["POST"]),
            Route(f"{prefix}/license_status", endpoint(get_license_status), methods=["GET"]),
            Route(f"{prefix}/settings", endpoint(get_settings), methods=["GET"]),
            Route(f"{prefix}/settings", endpoint(put_settings), methods=["PUT"]),
            Route(f"{prefix}/sessions", endpoint(get_sessions), methods=["GET"]),
            Route(f"{prefix}/sessions", endpoint(post_session), methods=["POST"]),
            Route(f"{prefix}/sessions/{{id}}", endpoint(put_session), methods=["PUT"]),
            Route(f"{prefix}/sessions/{{id}}", endpoint(delete_session), methods=["DELETE"]),
            Route(f"{prefix}/testcase-filenames", endpoint(get_testcase_filenames), methods=["GET"]),
            Route(f"{prefix}/testcases", endpoint(get_testcases), methods=["GET"]),
            Route(f"{prefix}/testcases", endpoint(post_testcase), methods=["POST"]),
            Route(f"{prefix}/testcases/{{id}}", endpoint(put_testcase), methods=["PUT"]),
            Route(f"{prefix}/testcases/{{id}}", endpoint(delete_testcase), methods=["DELETE"]),
            Route(f"{prefix}/testcases/{{id}}/measures", endpoint(get_measures), methods=["GET"]),
            Route(f"{prefix}/testcases/{{id}}/measures/{{runcode:path}}", endpoint(get_measure), methods=["GET"]),
            Route(f"{prefix}/log", endpoint(get_log), methods=["GET"]),
            Route(f"{prefix}/log", endpoint(post_log), methods=["POST"]),
        ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: flask_error})
    app.state.sessions = sessions
    app.state.testcases = testcases
    app.state.settings = settings
    app.state.license = license_
    app.state.posted = posted
    app.state.config = config
    return faults(app, config)
