"""OneTest Server (execution API) simulator: token exchange, executions, static agents.

Documented: `POST /rest/tokens/` takes the offline token as form field
`refresh_token` and answers `{"access_token": ...}`; every other call wants
`Authorization: Bearer <access_token>` and answers 401 "Unauthorized user..."
otherwise. Executions go SCHEDULED -> RUNNING -> COMPLETE (or
COMPLETE_WITH_ERROR), computed lazily from the clock at request time; a stop
turns an active one STOPPING -> STOPPED_BY_USER and a scheduled one CANCELED.

Silent in the document, chosen here: token errors are OAuth2-shaped
(`{"error": "invalid_grant", "error_description": ...}`, HTTP 400, as the
server's oauth2 provider answers); other errors are `{"message": ...}`;
access tokens live `token_ttl` clock seconds (default 300), and
`app.state.auth["ttl"]` can be changed at run time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from testdeck.sim.base import Ids, SimConfig, faults

DEMO_OFFLINE_TOKEN = ("eyJhbGciOiJIUzI1NiIsInR5cCIgOiAiSldUIiwia2lkIiA6ICJkZW1vIn0.eyJ0eXAiOiJPZmZsaW5lIiwic3ViIjoi"
                      "dGVzdGRlY2stZGVtbyJ9.b2ZmbGluZS1kZW1vLXNpZ25hdHVyZQ")
DEMO_PROJECT_ID = "3600"
DEMO_SPACE_ID = "9f1c6a52-7d3e-4b8a-a0c4-5e2f7b9d1c30"
TOKEN_TTL = 300.0  # clock seconds an access token stays valid
UNAUTHORIZED = "Unauthorized user. Ensure user is member of project and authorization headers are correct."
ACTIVE = ("RUNNING", "IN_TRANSITION", "SCHEDULED", "STOPPING")
STOP_GRACE = 3.0  # simulated seconds in STOPPING
LOG_EVERY = 2.0  # simulated seconds per container log line while running
LOG_RETENTION = 3600.0  # simulated seconds after completion the container log is kept

ASSETS = [
    ("SettingsFVTProject/Compound Tests/VerifyCloudCompoundTest.testsuite", "APISUITE"),
    ("Payments/Stubs/AccountStub.stub", "APISTUB"),
    ("WebUI/Login [smoke].testsuite", "WEBUI"),
    ("Performance/Checkout 500 users.schedule", "SCHEDULE"),
]
# (asset index, age, scheduled delay, run time, final status, tags, environment) in simulated seconds
SEED = [
    (0, 9000, 0, 600, "COMPLETE", ["nightly"], "staging"),
    (3, 7000, 0, 1800, "COMPLETE_WITH_ERROR", ["perf"], "perf-lab"),
    (1, 3000, 0, 240, "COMPLETE", [], "staging"),
    (0, 120, 0, 900, "COMPLETE", ["ci", "smoke"], "staging"),
    (2, 30, 0, 60, "COMPLETE_WITH_ERROR", ["ci"], "qa"),
    (3, 10, 1200, 1800, "COMPLETE", ["perf", "release-4.1"], "perf-lab"),
]


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _Reject(Exception):
    def __init__(self, status: int, body: dict[str, Any] | str):
        super().__init__(str(body))
        self.status, self.body = status, body


def create_app(config: SimConfig | None = None, *, token_ttl: float = TOKEN_TTL) -> Any:
    config = config or SimConfig()
    ids = Ids(config.seed)
    start = config.clock()
    auth: dict[str, Any] = {"ttl": token_ttl, "issued": 0, "leaky": False}
    tokens: dict[str, float] = {}  # access token -> issued at (clock)
    executions: dict[str, dict[str, Any]] = {}
    result_ids = [2450]

    def hid() -> str:
        h = ids.hex32()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    asset_ids = [hid() for _ in ASSETS]

    def add(project: str, asset: int, ago: float, delay: float, run: float, final: str, tags: list[str],
            env: str) -> None:
        result_ids[0] += 1
        eid = hid()
        executions[eid] = {"id": eid, "project": project, "asset": asset, "created": start - ago / config.speed,
                           "delay": delay, "run": run, "final": final, "tags": tags, "environment": env,
                           "result_id": str(result_ids[0]), "stopped_at": None, "stopped_from": None}

    for row in SEED:
        add(DEMO_PROJECT_ID, *row)
    for n in range(config.size):
        add(DEMO_PROJECT_ID, n % len(ASSETS), 20000 + n, 0, 60 + n % 600,
            "COMPLETE" if n % 5 else "COMPLETE_WITH_ERROR", ["generated"], "staging")

    agents = [
        {"id": 101, "hostName": "agent-win01.demo.lan", "ipAddress": "10.0.4.21", "owner": "demo", "type": "STATIC",
         "version": "11.0.2", "operatingSystem": "Windows Server 2022", "architecture": "x86_64",
         "ram": "17179869184", "licenseType": "FLOATING", "pollInterval": 5000, "engineListSize": 2,
         "capabilities": [{"name": "os", "value": "windows"}], "state": "AVAILABLE", "rtbState": "AVAILABLE",
         "space": DEMO_SPACE_ID},
        {"id": 102, "hostName": "agent-lnx07.demo.lan", "ipAddress": "10.0.4.37", "owner": "demo", "type": "STATIC",
         "version": "11.0.2", "operatingSystem": "Linux", "architecture": "aarch64", "ram": "8589934592",
         "licenseType": "FLOATING", "pollInterval": 5000, "engineListSize": 0,
         "capabilities": [{"name": "os", "value": "linux"}], "state": "BUSY", "rtbState": "AVAILABLE",
         "space": DEMO_SPACE_ID},
        {"id": 103, "hostName": "Perf-Agent-03.demo.lan", "ipAddress": None, "owner": "alice", "type": "STATIC",
         "version": "10.5.0", "operatingSystem": "Linux", "architecture": "x86_64", "ram": None,
         "licenseType": None, "pollInterval": 10000, "engineListSize": 0, "capabilities": [], "state": "LOST",
         "rtbState": "LOST", "space": None},
    ]

    def status_of(ex: dict[str, Any]) -> str:
        if ex["stopped_at"] is not None:
            if ex["stopped_from"] == "SCHEDULED":
                return "CANCELED"
            return "STOPPING" if config.elapsed(ex["stopped_at"]) < STOP_GRACE else "STOPPED_BY_USER"
        elapsed = config.elapsed(ex["created"])
        if elapsed < ex["delay"]:
            return "SCHEDULED"
        if elapsed < ex["delay"] + ex["run"]:
            return "RUNNING"
        return ex["final"]

    def times(ex: dict[str, Any], status: str) -> tuple[float | None, float | None]:
        begin = ex["created"] + ex["delay"] / config.speed
        if status in ("SCHEDULED", "CANCELED"):
            return None, (ex["stopped_at"] if status == "CANCELED" else None)
        if status in ("RUNNING", "STOPPING"):
            return begin, None
        if status == "STOPPED_BY_USER":
            return begin, ex["stopped_at"] + STOP_GRACE / config.speed
        return begin, begin + ex["run"] / config.speed

    def view(ex: dict[str, Any], request: Request, include: str | None) -> dict[str, Any]:
        status = status_of(ex)
        started, completed = times(ex, status)
        name, kind = ASSETS[ex["asset"]]
        base = str(request.base_url).rstrip("/")
        out: dict[str, Any] = {
            "id": ex["id"],
            "result": {"ref": f"{base}/rest/projects/{ex['project']}/results/{ex['result_id']}",
                       "id": ex["result_id"]},
            "status": status,
            "message": ("2 of 14 tests failed" if status == "COMPLETE_WITH_ERROR" else
                        "Stopped by user demo" if status in ("STOPPING", "STOPPED_BY_USER") else None),
            "startDate": iso(started),
            "completionDate": iso(completed),
            "testAsset": {"assetId": asset_ids[ex["asset"]], "name": name, "revision": "master",
                          "externalType": kind},
            "tags": ex["tags"],
            "environment": ex["environment"],
            "scheduled": {"at": iso(ex["created"] + ex["delay"] / config.speed)} if ex["delay"] else None,
            "internal": {},
        }
        if include == "data":
            out["data"] = {"submitter": "demo", "created": iso(ex["created"])}
        return out

    def log_text(ex: dict[str, Any]) -> str:
        status = status_of(ex)
        name = ASSETS[ex["asset"]][0]
        if status in ("SCHEDULED", "CANCELED"):
            return ""
        until = ex["stopped_at"] if ex["stopped_at"] is not None else config.clock()
        ran = min(ex["run"], max(0.0, (until - ex["created"]) * config.speed - ex["delay"]))
        lines = [f"[0.000] Starting execution {ex['id']} of {name}"]
        for i in range(1, int(ran // LOG_EVERY) + 1):
            lines.append(f"[{i * LOG_EVERY:.3f}] step {i}: {'OK' if (i % 17) else 'WARN slow response'}")
        if status in ("COMPLETE", "COMPLETE_WITH_ERROR"):
            lines.append(f"[{ex['run']:.3f}] Execution finished: {status}")
        elif status in ("STOPPING", "STOPPED_BY_USER"):
            lines.append("Stop requested by user, stopping engines")
        return "\n".join(lines) + "\n"

    def err(status: int, message: str) -> _Reject:
        return _Reject(status, {"code": status, "message": message})

    def authorize(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise err(401, UNAUTHORIZED)
        issued = tokens.get(token)
        if issued is None:
            raise err(401, UNAUTHORIZED + (f" (received: {header})" if auth["leaky"] else ""))
        if config.clock() - issued >= auth["ttl"]:
            raise err(401, "Access token has expired" + (f" (received: {header})" if auth["leaky"] else ""))

    def project_of(request: Request) -> str:
        pid = request.path_params["projectId"]
        if pid != DEMO_PROJECT_ID:
            raise err(401, UNAUTHORIZED)  # the document: not a member of the project
        return pid

    def find(request: Request) -> dict[str, Any]:
        pid = project_of(request)
        ex = executions.get(request.path_params["executionId"])
        if ex is None or ex["project"] != pid:
            raise err(404, f"The execution {request.path_params['executionId']} does not exist or was "
                           "previously deleted")
        return ex

    def endpoint(handler):
        async def route(request: Request):
            try:
                authorize(request)
                return await handler(request)
            except _Reject as rej:
                if isinstance(rej.body, str):
                    return PlainTextResponse(rej.body, rej.status)
                return JSONResponse(rej.body, rej.status)
        return route

    async def tokens_endpoint(request: Request):
        form = await request.form()
        offline = str(form.get("refresh_token") or "")
        if not offline:
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "Missing form parameter: refresh_token"}, 400)
        if offline != DEMO_OFFLINE_TOKEN:
            extra = f" ({offline})" if auth["leaky"] else ""
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": f"Offline token is not valid or was revoked{extra}"}, 400)
        access = "ots-" + ids.hex32() + ids.hex32()
        tokens[access] = config.clock()
        auth["issued"] += 1
        return JSONResponse({"access_token": access, "expires_in": int(auth["ttl"]), "token_type": "Bearer",
                             "scope": "openid offline_access", "not-before-policy": 0})

    async def list_executions(request: Request):
        pid = project_of(request)
        q = request.query_params
        wanted = [s.strip().upper() for s in (q.get("execution.status") or "").split(",") if s.strip()]
        kinds = [s.strip() for s in (q.get("asset.externalType") or "").split(",") if s.strip()]
        tags = [s.strip() for s in (q.get("tag") or "").split(",") if s.strip()]
        rows = []
        for ex in sorted(executions.values(), key=lambda e: -e["created"]):
            if ex["project"] != pid:
                continue
            status = status_of(ex)
            if "ALL" not in wanted and status not in (wanted or ACTIVE):
                continue
            if kinds and ASSETS[ex["asset"]][1] not in kinds:
                continue
            if tags and not all(t in ex["tags"] for t in tags):
                continue
            rows.append(view(ex, request, q.get("include")))
        return JSONResponse(rows)

    async def get_execution(request: Request):
        return JSONResponse(view(find(request), request, request.query_params.get("include")))

    async def stop_execution(request: Request):
        ex = find(request)
        status = status_of(ex)
        if status not in ACTIVE:
            raise _Reject(409, f"The execution {ex['id']} is {status} and cannot be stopped")
        if status != "STOPPING":
            ex["stopped_from"] = status
            ex["stopped_at"] = config.clock()
        return Response(status_code=202)

    async def execution_log(request: Request):
        ex = find(request)
        status = status_of(ex)
        _, completed = times(ex, status)
        if completed is not None and config.elapsed(completed) > LOG_RETENTION:
            raise _Reject(410, "The container log for the execution is no longer available")
        return PlainTextResponse(log_text(ex))

    def agent_view(agent: dict[str, Any]) -> dict[str, Any]:
        now_ms = int(config.clock() * 1000)
        lag = agent["pollInterval"] if agent["state"] != "LOST" else 3 * 86400 * 1000
        out = {k: v for k, v in agent.items() if k != "space"}
        out["contactTime"] = now_ms - lag
        out["rtbContactTime"] = now_ms - lag
        return out

    async def list_agents(request: Request):
        everyone = request.query_params.get("all", "").lower() == "true"
        rows = [agent_view(a) for a in agents if everyone or a["owner"] == "demo"]
        if request.query_params.get("normalize", "").lower() == "true":
            for row in rows:
                row["hostName"] = str(row["hostName"]).lower()
        return JSONResponse(rows)

    async def list_space_agents(request: Request):
        if request.path_params["spaceId"] != DEMO_SPACE_ID:
            raise err(404, f"Team space {request.path_params['spaceId']} not found")
        return JSONResponse([agent_view(a) for a in agents if a["space"] == DEMO_SPACE_ID])

    routes = [
        Route("/rest/tokens/", tokens_endpoint, methods=["POST"]),
        Route("/rest/projects/{projectId}/executions/", endpoint(list_executions), methods=["GET"]),
        Route("/rest/projects/{projectId}/executions/{executionId}", endpoint(get_execution), methods=["GET"]),
        Route("/rest/projects/{projectId}/executions/{executionId}", endpoint(stop_execution), methods=["DELETE"]),
        Route("/rest/projects/{projectId}/executions/{executionId}/log", endpoint(execution_log), methods=["GET"]),
        Route("/rest/agents", endpoint(list_agents), methods=["GET"]),
        Route("/rest/spaces/{spaceId}/agents", endpoint(list_space_agents), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.executions = executions
    app.state.tokens = tokens
    app.state.auth = auth
    app.state.config = config
    return faults(app, config)
