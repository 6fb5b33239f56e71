"""XPRESSO simulator: Request(s) and Bundle Requests REST API, all five calls.

Documented: paths, methods, payloads, 200 bodies, `{"Error": ...}` 400 bodies
(unknown profile or bundle, testbeds and topologies together) and the bare `{}`
404. State is computed lazily from the clock at every request (no background
task), so a frozen or hand-driven clock gives exact answers (see render.py).

Silent in the document, chosen here: the API token travels as
`Authorization: Jwt <token>` (the form of the document's own postback tokens),
the group in a `Group` header; an unknown or expired token is a 401, a missing
group a 400, a group the user is not in a 403, a missing permission
(run_request, stop_request) a 403, all with the `Error` key. A request can be
stopped while it is active (PREPARING, QUEUED, RUNNING); a finished one answers
400. Another group's request is a 404 `{}`, as the document says.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from testdeck.services.xpresso.sim.catalog import (  # noqa: F401  (re-exported for tests and views)
    BUNDLES, DEMO_BUNDLE, DEMO_EXP, DEMO_GROUP, DEMO_PROFILE, DEMO_TESTBED, DEMO_TOKEN, DEMO_TOPOLOGY, DEMO_USER,
    ERRORED_PROFILE, FAILING_PROFILE, FOREIGN_GROUP, GROUP_HEADER, OTHER_GROUP, PROFILES, SMOKE_PROFILE, TESTBEDS,
    TOPOLOGIES, VIEWER_TOKEN, User, default_users, make_jwt)
from testdeck.services.xpresso.sim.render import (  # noqa: F401
    ACTIVE, PREPARE_S, QUEUE_S, RUN_S, render, state_at)
from testdeck.sim.base import Ids, SimConfig, faults

STARTED = PREPARE_S + QUEUE_S  # simulated seconds from submit to RUNNING
DONE = STARTED + RUN_S  # ... to the verdict


class _Reject(Exception):
    def __init__(self, status: int, error: str | None):
        super().__init__(error or "")
        self.status, self.error = status, error


def create_app(config: SimConfig | None = None) -> Any:
    config = config or SimConfig()
    ids = Ids(config.seed)
    start = config.clock()
    requests: dict[str, dict[str, Any]] = {}
    users = default_users()
    counter = [420]

    def new_request(group: str, user: str, created: float, data: dict[str, Any]) -> dict[str, Any]:
        counter[0] += 1
        rid = f"REQ{counter[0]:07d}"
        profile, bundle = data.get("profile"), data.get("bundle")
        job = PROFILES[profile] if profile else BUNDLES[bundle]
        testbeds = list(data.get("testbeds") or ([] if data.get("topologies") else [DEMO_TESTBED]))
        req = {
            "request_id": rid, "uuid": ids.hex32(), "job_uuid": ids.hex32(), "group": group, "submitter": user,
            "username": str(data.get("submitted_for") or user), "job": job, "profile": profile, "bundle": bundle,
            "testbeds": testbeds, "testbed_names": [TESTBEDS[t] for t in testbeds],
            "topologies": list(data.get("topologies") or []), "created": created, "speed": config.speed,
            "stopped_after": None, "stop_reason": None, "stop_user": None,
            "description": data.get("description"), "tags": list(data.get("tags") or []),
            "branch": str(data.get("branch") or ""), "clean": bool(data.get("clean")),
            "max_request_runtime_seconds": int(data.get("max_request_runtime_seconds") or 43200),
            "parameters": dict(data.get("parameters") or {}), "source": "API",
            "compare_baseline": bool(data.get("compare_baseline")), "is_baseline": bool(data.get("is_baseline")),
        }
        requests[rid] = req
        return req

    # (group, age in simulated seconds, profile, stopped after) -> every state at start
    seed = [
        (DEMO_GROUP, 7200, DEMO_PROFILE, None), (DEMO_GROUP, 5400, FAILING_PROFILE, None),
        (DEMO_GROUP, 4000, ERRORED_PROFILE, None), (DEMO_GROUP, 3600, SMOKE_PROFILE, STARTED + 12),
        (OTHER_GROUP, 1800, SMOKE_PROFILE, None), (DEMO_GROUP, STARTED + 14, FAILING_PROFILE, None),
        (DEMO_GROUP, PREPARE_S + 1, DEMO_PROFILE, None), (DEMO_GROUP, 1, DEMO_PROFILE, None),
        (FOREIGN_GROUP, 600, DEMO_PROFILE, None), (DEMO_GROUP, 9000, DEMO_BUNDLE, None),
    ]
    for n, (group, ago, job, stop_after) in enumerate(seed):
        kind = "bundle" if job in BUNDLES else "profile"
        req = new_request(group, "alice" if n in (1, 4, 8) else DEMO_USER, start - ago / config.speed,
                          {kind: job, "description": f"seeded run ({(BUNDLES | PROFILES)[job].name})",
                           "tags": ["seed"], "branch": "master", "clean": n == 0,
                           **({"testbeds": list(TESTBEDS)[:2]} if n == 1 else {})})
        if stop_after is not None:
            req.update(stopped_after=stop_after, stop_reason="testbed needed for a hotfix", stop_user=DEMO_USER)
    for n in range(config.size):
        new_request(DEMO_GROUP, DEMO_USER, start - (86400 + n) / config.speed,
                    {"profile": DEMO_PROFILE, "description": f"generated {n}"})

    def elapsed(req: dict[str, Any]) -> float:
        return config.elapsed(req["created"])

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def short(req: dict[str, Any], request: Request) -> dict[str, Any]:
        url = f"{base(request)}/services/request-detail/{req['request_id']}"
        return {"username": req["username"], "request_id": req["request_id"], "state": state_at(req, elapsed(req)),
                "branch": req["branch"] or "N/A", "submitter": req["submitter"], "request_url": url,
                "service_url": f"{url}?share_key={req['uuid']}",
                "items": [f"{req['request_id']}-{k + 1}" for k in range(req["job"].items)]}

    def authorize(request: Request, permission: str | None = None) -> tuple[str, str]:
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise _Reject(401, "Authentication credentials were not provided.")
        scheme, _, token = header.partition(" ")
        user = users.get(token.strip())
        if scheme.lower() != "jwt" or user is None:
            raise _Reject(401, "Invalid or expired API token.")
        if user.exp is not None and config.clock() >= user.exp:
            raise _Reject(401, "Signature has expired.")
        group = request.headers.get(GROUP_HEADER, "").strip()
        if not group:
            raise _Reject(400, f"Group must be provided in the '{GROUP_HEADER}' request header.")
        if group not in user.groups:
            raise _Reject(403, f"User {user.name} is not a member of group {group}.")
        if permission and permission not in user.perms:
            raise _Reject(403, f"User {user.name} does not have the {permission} permission in group {group}.")
        return user.name, group

    def endpoint(handler, permission: str | None = None):
        async def route(request: Request):
            try:
                user, group = authorize(request, permission)
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

    finished: dict[tuple[str, str, bool], dict[str, Any]] = {}  # a finished request never changes again

    def shown(req: dict[str, Any], request: Request, scripts: bool) -> dict[str, Any]:
        key = (req["request_id"], base(request), scripts)
        if key in finished:
            return finished[key]
        now = elapsed(req)
        out = render(req, now, base(request), scripts=scripts)
        if state_at(req, now) not in ACTIVE:
            finished[key] = out
        return out

    async def list_requests(request: Request, user: str, group: str):
        rows = [shown(r, request, False) for r in sorted(requests.values(), key=lambda r: -r["created"])
                if r["group"] == group]
        return JSONResponse(rows)

    async def get_request(request: Request, user: str, group: str):
        return JSONResponse(shown(find(request, group), request, True))

    def check(data: dict[str, Any]) -> None:
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
        elif profile not in PROFILES:
            raise _Reject(400, "Provided profile is not defined.")
        if data.get("testbeds") is not None and data.get("topologies") is not None:
            raise _Reject(400, "Payload can contain either testbeds or topologies, not both.")
        for key, known in (("testbeds", TESTBEDS), ("topologies", TOPOLOGIES)):
            value = data.get(key)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                raise _Reject(400, f"{key} must be a list of uuids.")
            unknown = [t for t in value if t not in known]
            if unknown:
                raise _Reject(400, f"Provided {key[:-1]} is not defined: {unknown[0]}")
        runtime = data.get("max_request_runtime_seconds")
        if runtime is not None and (not isinstance(runtime, int) or isinstance(runtime, bool) or runtime <= 0):
            raise _Reject(400, "max_request_runtime_seconds must be a positive integer.")
        if data.get("tags") is not None and not isinstance(data["tags"], list):
            raise _Reject(400, "tags must be a list of strings.")
        params = data.get("parameters")
        if params is not None and (not isinstance(params, dict) or not all(
                isinstance(params.get(k, {}), dict) for k in ("env_vars", "job_args", "harness_args"))):
            raise _Reject(400, "parameters must map env_vars, job_args and harness_args to objects.")

    async def submit(request: Request, user: str, group: str):
        data = await payload_of(request)
        check(data)
        return JSONResponse(short(new_request(group, user, config.clock(), data), request))

    async def stop(request: Request, user: str, group: str):
        req = find(request, group)
        data = await payload_of(request)
        now = elapsed(req)
        state = state_at(req, now)
        if state not in ACTIVE:
            raise _Reject(400, f"Request {req['request_id']} is {state} and cannot be stopped.")
        req.update(stopped_after=now, stop_reason=str(data.get("reason") or ""), stop_user=user)
        return JSONResponse(short(req, request))

    routes = [
        Route("/api/v1/requests", endpoint(list_requests), methods=["GET"]),
        Route("/api/v1/requests", endpoint(submit, "run_request"), methods=["POST"]),
        Route("/api/v1/requests/{request_id:path}", endpoint(get_request), methods=["GET"]),
        Route("/api/v1/requests/{request_id:path}/stop", endpoint(stop, "stop_request"), methods=["PATCH"]),
    ]
    app = Starlette(routes=routes)
    app.state.requests = requests
    app.state.users = users  # tests add tokens (an expiring one, say) here
    app.state.config = config
    return faults(app, config)
