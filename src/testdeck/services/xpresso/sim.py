"""XPRESSO simulator: Request(s) REST API (retrieve, retrieve one, submit, stop).

Documented: paths, methods, payloads, 200 bodies, `{"Error": ...}` 400
bodies and the bare `{}` 404. Request state goes PREPARING -> RUNNING ->
PASSED/FAILED, computed lazily from the clock at every request (no
background task), so a frozen or hand-driven clock gives exact answers.
STOPPED when stopped while RUNNING (the only state the document allows).

Silent in the document, chosen here: the API token travels as
`Authorization: Jwt <token>` (the form of the document's own postback
tokens), the group in a `Group` header (`GROUP_HEADER`); auth failures are
401/403 and a missing group 400, all with the documented `Error` key.
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

DEMO_TOKEN = ("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ1c2VybmFtZSI6ImRlbW9fdXNlciIsInRva2VuX3R5cGUiOiJhcGktdG9rZW4i"
              "fQ.dGVzdGRlY2stZGVtby1zaWduYXR1cmU")
DEMO_USER = "demo_user"
DEMO_GROUP = "testdeck-demo"
OTHER_GROUP = "lab-ops"  # the demo user is a member of this one too
FOREIGN_GROUP = "core-team"  # ... and not of this one
GROUP_HEADER = "Group"
TOKENS = {DEMO_TOKEN: (DEMO_USER, {DEMO_GROUP, OTHER_GROUP})}

PREPARE_S = 5.0  # simulated seconds in PREPARING
RUN_S = 30.0  # simulated seconds in RUNNING

# profile uuid -> (name, job name, verdict it ends with)
PROFILES = {
    "964c036a-619e-4001-b62e-4f7f028231dc": ("DEFAULT", "Job_VIRL", "PASSED"),
    "b7672128-d6c1-40b3-b30c-80fa50edca03": ("nightly-regression", "Job_Regression", "FAILED"),
    "5f0c2a3e-8d1b-4c6e-9a57-1d2e3f4a5b6c": ("smoke [fast]", "Job_Smoke", "PASSED"),
}
BUNDLES = {
    "0d7c9b1e-2f3a-4b5c-8d6e-7f8091a2b3c4": ("weekly-bundle", "Bundle_Weekly", "PASSED"),
}
TESTBEDS = {
    "07f3a282-ac12-4993-96b0-181912a41bb1": "pyATS_pod12_shared",
    "22a5dd98-63e1-46b1-b0c1-88833b24da14": "pyATS_pod13_shared",
    "dacba4c8-22ff-4b5b-b4a4-4d69376b8b90": "virl-sjc-07",
}
DEMO_PROFILE = next(iter(PROFILES))
FAILING_PROFILE = list(PROFILES)[1]
DEMO_BUNDLE = next(iter(BUNDLES))
DEMO_TESTBED = next(iter(TESTBEDS))


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Reject(Exception):
    def __init__(self, status: int, error: str | None):
        super().__init__(error or "")
        self.status, self.error = status, error


def create_app(config: SimConfig | None = None) -> Any:
    config = config or SimConfig()
    ids = Ids(config.seed)
    start = config.clock()
    requests: dict[str, dict[str, Any]] = {}
    counter = [420]

    def new_request(group: str, user: str, created: float, *, profile: str | None = None, bundle: str | None = None,
                    testbeds: list[str] | None = None, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        counter[0] += 1
        rid = f"REQ{counter[0]:07d}"
        payload = payload or {}
        name, job, verdict = PROFILES[profile] if profile else BUNDLES[bundle]  # type: ignore[index]
        beds = [tb for tb in (testbeds or [DEMO_TESTBED]) if tb in TESTBEDS]
        req = {
            "request_id": rid, "uuid": ids.hex32(), "group": group, "submitter": user,
            "username": str(payload.get("submitted_for") or user), "name": job, "profile_uuid": profile,
            "profile_name": name, "bundle": bundle, "testbeds": beds, "final": verdict,
            "created": created, "stopped_at": None, "stop_reason": None,
            "description": payload.get("description"), "tags": list(payload.get("tags") or []),
            "branch": str(payload.get("branch") or ""),
            "max_request_runtime_seconds": int(payload.get("max_request_runtime_seconds") or 43200),
            "job_uuid": ids.hex32(), "source": "API",
        }
        requests[rid] = req
        return req

    seed = [  # (group, age in simulated seconds, profile) -> a spread of states at start
        (DEMO_GROUP, 7200, DEMO_PROFILE), (DEMO_GROUP, 5400, FAILING_PROFILE), (DEMO_GROUP, 3600, DEMO_PROFILE),
        (OTHER_GROUP, 1800, list(PROFILES)[2]), (DEMO_GROUP, 20, FAILING_PROFILE), (DEMO_GROUP, 2, DEMO_PROFILE),
        (FOREIGN_GROUP, 600, DEMO_PROFILE),
    ]
    for group, ago, profile in seed:
        new_request(group, "alice" if group != DEMO_GROUP else DEMO_USER, start - ago / config.speed,
                    profile=profile, payload={"description": f"seeded run ({PROFILES[profile][0]})",
                                              "tags": ["seed"], "branch": "master"})
    for n in range(config.size):
        new_request(DEMO_GROUP, DEMO_USER, start - (86400 + n) / config.speed, profile=DEMO_PROFILE,
                    payload={"description": f"generated {n}"})

    def state_of(req: dict[str, Any]) -> str:
        if req["stopped_at"] is not None:
            return "STOPPED"
        elapsed = config.elapsed(req["created"])
        if elapsed < PREPARE_S:
            return "PREPARING"
        if elapsed < PREPARE_S + RUN_S:
            return "RUNNING"
        return req["final"]

    def times(req: dict[str, Any]) -> tuple[float | None, float | None]:
        """(run start, completion) in clock time, None while not reached."""
        state = state_of(req)
        begin = req["created"] + PREPARE_S / config.speed
        if state == "PREPARING":
            return None, None
        if state == "RUNNING":
            return begin, None
        if state == "STOPPED":
            return begin, req["stopped_at"]
        return begin, begin + RUN_S / config.speed

    def summary(req: dict[str, Any], state: str) -> dict[str, Any]:
        total = 12 if state in ("PASSED", "FAILED", "STOPPED") else 0
        fail = 3 if state == "FAILED" else 0
        passed = total - fail if state != "STOPPED" else 5
        out = {"applicable_tasks": total, "abort": 1 if state == "STOPPED" else 0, "passx": 0, "fail": fail,
               "block": 0, "total_tasks": total, "skip": 0, "error": 0, "pass": passed, "unknown": 0,
               "success_rate": round(100.0 * passed / total, 1) if total else 0}
        return out

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def short(req: dict[str, Any], request: Request, state: str | None = None) -> dict[str, Any]:
        url = f"{base(request)}/services/request-detail/{req['request_id']}"
        return {"username": req["username"], "request_id": req["request_id"], "state": state or state_of(req),
                "branch": req["branch"] or "N/A", "submitter": req["submitter"], "request_url": url,
                "service_url": f"{url}?share_key={req['uuid']}", "items": [f"{req['request_id']}-1"]}

    def full(req: dict[str, Any], request: Request) -> dict[str, Any]:
        state = state_of(req)
        started, completed = times(req)
        done = state in ("PASSED", "FAILED", "STOPPED")
        summ = summary(req, state)
        rid = req["request_id"]
        beds = [{"name": TESTBEDS[tb], "uuid": tb, "reservations": []} for tb in req["testbeds"]]
        item = {
            "item_id": f"{rid}-1", "state": state, "priority": 4, "max_runtime_seconds": 43200,
            "max_clean_runtime_seconds": 0, "start_time": iso(started), "completion_time": iso(completed),
            "job": {"name": req["name"], "path": f"/path/to/{req['name'].lower()}.py", "uuid": req["job_uuid"]},
            "profile": {"name": req["profile_name"], "uuid": req["profile_uuid"] or req["bundle"]},
            "submitted_testbeds": beds, "selected_testbed": ({k: beds[0][k] for k in ("name", "uuid")}
                                                              if beds and started else None),
            "results": {"run": {"start_time": iso(started), "completion_time": iso(completed),
                                "state": state if started else None, "summary": summ if done else {},
                                "uid": f"{rid}-1-run"},
                        "clean": {"start_time": None, "completion_time": None, "state": None, "summary": {},
                                  "uid": None}},
            "stop_requested": ({"reason": req["stop_reason"], "username": req["submitter"],
                                "date": iso(req["stopped_at"])} if req["stopped_at"] else {}),
            "engine": {"name": "jenkins", "type": "jenkins", "uuid": "75e32472-e6d9-425f-be88-49be550c2ef1"},
            "error_detail": None, "labels": [], "bugs": [], "children": [], "meta": {}, "topology": {},
        }
        url = f"{base(request)}/services/request-detail/{rid}"
        return {
            "source": req["source"], "service_url": f"{url}?share_key={req['uuid']}",
            "instance_url": f"{base(request)}/", "date_created": iso(req["created"]), "name": req["name"],
            "verdict": state if state in ("PASSED", "FAILED") else None, "interest_list": "[]",
            "schedule_id": None, "consolidated_summary": {**summ, "success_rate_rule":
                                                          "('passed' + 'passx' + 'skip')/total_tasks * 100.0"},
            "description": req["description"], "items": [item], "state": state,
            "max_request_runtime_seconds": req["max_request_runtime_seconds"], "request_id": rid,
            "date_completed": iso(completed), "branch": req["branch"], "call_stack": None,
            "submitter": req["submitter"], "requeue": False, "meta": "{}", "rerun_root": rid, "children": [],
            "instance_id": "xpresso-sim", "request_url": url, "parent_request": None,
            "username": req["username"], "uuid": req["uuid"], "tags": req["tags"],
        }

    def authorize(request: Request) -> tuple[str, str]:
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise _Reject(401, "Authentication credentials were not provided.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "jwt" or token.strip() not in TOKENS:
            raise _Reject(401, "Invalid or expired API token.")
        user, groups = TOKENS[token.strip()]
        group = request.headers.get(GROUP_HEADER, "").strip()
        if not group:
            raise _Reject(400, f"Group must be provided in the '{GROUP_HEADER}' request header.")
        if group not in groups:
            raise _Reject(403, f"User {user} is not a member of group {group}.")
        return user, group

    def endpoint(handler):
        async def route(request: Request):
            try:
                user, group = authorize(request)
                return await handler(request, user, group)
            except _Reject as rej:
                return JSONResponse({"Error": rej.error} if rej.error else {}, rej.status)
        return route

    def find(request: Request, group: str) -> dict[str, Any]:
        req = requests.get(request.path_params["request_id"])
        if req is None or req["group"] != group:
            raise _Reject(404, None)  # documented: 404 with a bare {}
        return req

    async def payload_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise _Reject(400, "Malformed JSON payload.") from None
        if not isinstance(data, dict):
            raise _Reject(400, "Payload must be a JSON object.")
        return data

    async def list_requests(request: Request, user: str, group: str):
        rows = [full(r, request) for r in sorted(requests.values(), key=lambda r: -r["created"])
                if r["group"] == group]
        return JSONResponse(rows)

    async def get_request(request: Request, user: str, group: str):
        return JSONResponse(full(find(request, group), request))

    async def submit(request: Request, user: str, group: str):
        data = await payload_of(request)
        profile, bundle = data.get("profile"), data.get("bundle")
        if not profile and not bundle:
            raise _Reject(400, "Either a profile or a bundle must be provided.")
        if profile and bundle:
            raise _Reject(400, "Provide either a profile or a bundle, not both.")
        if bundle:
            if any(k in data for k in ("testbeds", "topologies", "parameters")):
                raise _Reject(400, "Testbeds, topologies and arguments must be pre defined in the bundle.")
            if bundle not in BUNDLES:
                raise _Reject(400, "Provided bundle is not defined.")
        else:
            if profile not in PROFILES:
                raise _Reject(400, "Provided profile is not defined.")
            if data.get("testbeds") is not None and data.get("topologies") is not None:
                raise _Reject(400, "Payload can contain either testbeds or topologies, not both.")
        testbeds = data.get("testbeds")
        if testbeds is not None:
            if not isinstance(testbeds, list) or not all(isinstance(t, str) for t in testbeds):
                raise _Reject(400, "testbeds must be a list of testbed uuids.")
            unknown = [t for t in testbeds if t not in TESTBEDS]
            if unknown:
                raise _Reject(400, f"Provided testbed is not defined: {unknown[0]}")
        runtime = data.get("max_request_runtime_seconds")
        if runtime is not None and (not isinstance(runtime, int) or isinstance(runtime, bool) or runtime <= 0):
            raise _Reject(400, "max_request_runtime_seconds must be a positive integer.")
        if data.get("tags") is not None and not isinstance(data["tags"], list):
            raise _Reject(400, "tags must be a list of strings.")
        req = new_request(group, user, config.clock(), profile=profile, bundle=bundle, testbeds=testbeds,
                          payload=data)
        return JSONResponse(short(req, request))

    async def stop(request: Request, user: str, group: str):
        req = find(request, group)
        data = await payload_of(request)
        state = state_of(req)
        if state != "RUNNING":
            raise _Reject(400, f"Request {req['request_id']} is {state}; only RUNNING requests can be stopped.")
        req["stopped_at"] = config.clock()
        req["stop_reason"] = str(data.get("reason") or "")
        return JSONResponse(short(req, request, "STOPPED"))

    routes = [
        Route("/api/v1/requests", endpoint(list_requests), methods=["GET"]),
        Route("/api/v1/requests", endpoint(submit), methods=["POST"]),
        Route("/api/v1/requests/{request_id}", endpoint(get_request), methods=["GET"]),
        Route("/api/v1/requests/{request_id}/stop", endpoint(stop), methods=["PATCH"]),
    ]
    app = Starlette(routes=routes)
    app.state.requests = requests
    app.state.config = config
    return faults(app, config)
