"""Virtualization, read-only: intercept rules (with their paged activity log) and intercepts.

A space sees the rules and intercepts of its projects; the `executionId` and
`stubsRuntimeId` filters match the run a rule was created by. The activity
log grows with the clock (one routed request per ACTIVITY_EVERY seconds).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from testdeck.services.onetest.sim.common import (
    DEMO_PROJECT_ID,
    OTHER_PROJECT_ID,
    PERF_PROJECT_ID,
    PROJECTS,
    USER,
    State,
    err,
)

ACTIVITY_EVERY = 15.0  # simulated seconds between two activity log entries of an active rule
ACTIVITY_SEED = 40  # entries an active rule already has at start

# (project, target, detail, mode, recipients, status, intercept index, stubs runtime)
RULES = [
    (DEMO_PROJECT_ID, "payments.demo.lan:443", "Host = payments.demo.lan, Path starts with /api/v2", "routing",
     ["AccountStub@agent-lnx07"], "ACTIVE", 0, "rt-accountstub-1"),
    (DEMO_PROJECT_ID, "ledger.demo.lan:8443", "Host = ledger.demo.lan", "recording", ["recorder@agent-win01"],
     "ACTIVE", 1, None),
    (DEMO_PROJECT_ID, "legacy.demo.lan:80", "Path = /soap/Quote", "routing", ["QuoteStub"], "INACTIVE", 0, None),
    (OTHER_PROJECT_ID, "auth.mobile.demo.lan:443", "Header X-Env = qa", "routing", ["AuthStub"], "ACTIVE", 2,
     "rt-authstub-7"),
    (PERF_PROJECT_ID, "checkout.demo.lan:443", "Host = checkout.demo.lan", "recording", ["recorder"], "ACTIVE", 2,
     None),
]
# (host, kind, os, state, project)
INTERCEPTS = [
    ("agent-lnx07.demo.lan", "HTTP_PROXY", "Linux", "AVAILABLE", DEMO_PROJECT_ID),
    ("agent-win01.demo.lan", "JAVA_AGENT", "Windows Server 2022", "BUSY", DEMO_PROJECT_ID),
    ("mobile-proxy.demo.lan", "HTTP_PROXY", "Linux", "LOST", OTHER_PROJECT_ID),
]


def routes(st: State) -> list[Route]:
    config = st.config
    intercepts = []
    for host, kind, os_, state, project in INTERCEPTS:
        iid = st.uuid()
        intercepts.append({"id": iid, "classLocation": "/opt/HCL/intercept/lib", "configLocation": "/etc/intercept",
                           "hostName": host, "identifier": f"{kind.lower()}-{host.split('.')[0]}",
                           "interceptCapabilities": ["HTTP", "HTTPS"] + (["JMS"] if kind == "JAVA_AGENT" else []),
                           "operatingSystem": os_, "owner": USER, "ports": "3128" if kind == "HTTP_PROXY" else "",
                           "processId": str(4000 + len(intercepts)), "state": state,
                           "supportedRuleTypes": ["routing", "recording"], "type": kind, "version": "11.0.2",
                           "_project": project})
    executions = [e for e in st.executions.values() if e["project"] == DEMO_PROJECT_ID]  # type: ignore[attr-defined]
    rules = []
    for n, (project, target, detail, mode, recipients, status, ix, runtime) in enumerate(RULES):
        rules.append({"id": st.uuid(), "projectId": project, "createdBy": USER,
                      "createdAt": int((st.start - 3600 * (n + 1)) * 1000),
                      "condition": {"target": target, "full": f"{target} when {detail}", "detail": detail},
                      "activity": {"recipients": recipients, "mode": mode, "type": "HTTP"}, "status": status,
                      "intercepts": [intercepts[ix]["id"]], "_execution": executions[n]["id"] if n < 2 else None,
                      "_runtime": runtime})
    st.rules, st.intercepts = rules, intercepts  # type: ignore[attr-defined]

    def public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def projects_of(request: Request) -> set[str]:
        if "spaceId" in request.path_params:
            sid = st.space(request)
            return {pid for pid, (_, space) in PROJECTS.items() if space == sid}
        return {st.project(request)}

    def activity(rule: dict[str, Any]) -> list[dict[str, Any]]:
        """Newest first. An active rule gets an entry every ACTIVITY_EVERY simulated seconds."""
        if rule["status"] != "ACTIVE":
            return []
        count = ACTIVITY_SEED + int(max(0.0, config.elapsed(st.start)) // ACTIVITY_EVERY)
        first = st.start - ACTIVITY_SEED * ACTIVITY_EVERY / config.speed
        target = rule["condition"]["target"]
        verb = "Routed" if rule["activity"]["mode"] == "routing" else "Recorded"
        return [{"message": f"{verb} GET https://{target}/api/v2/item/{i} -> "
                            f"{rule['activity']['recipients'][0]} ({200 if i % 9 else 503})",
                 "date": int((first + i * ACTIVITY_EVERY / config.speed) * 1000)}
                for i in range(count - 1, -1, -1)]

    def find(rows: list[dict[str, Any]], request: Request, what: str) -> dict[str, Any]:
        scope = projects_of(request)
        rid = request.path_params["id"]
        for row in rows:
            if row["id"] == rid and (row.get("projectId") or row.get("_project")) in scope:
                return row
        raise err(404, f"The {what} {rid} is not found.")

    def int_param(request: Request, name: str, default: int) -> int:
        value = request.query_params.get(name)
        if value in (None, ""):
            return default
        try:
            return max(0, int(value))
        except ValueError:
            raise err(400, f"{name} must be an integer") from None

    async def list_rules(request: Request):
        scope = projects_of(request)
        q = request.query_params
        rows = [r for r in rules if r["projectId"] in scope
                and (not q.get("executionId") or r["_execution"] == q.get("executionId"))
                and (not q.get("stubsRuntimeId") or r["_runtime"] == q.get("stubsRuntimeId"))]
        return JSONResponse([public(r) for r in rows])

    async def get_rule(request: Request):
        return JSONResponse(public(find(rules, request, "rule")))

    async def rule_activity(request: Request):
        entries = activity(find(rules, request, "rule"))
        offset, limit = int_param(request, "offset", 0), int_param(request, "limit", 50)
        return JSONResponse({"entries": entries[offset:offset + limit], "totalEntries": len(entries)})

    async def list_intercepts(request: Request):
        scope = projects_of(request)
        return JSONResponse([public(i) for i in intercepts if i["_project"] in scope])

    async def get_intercept(request: Request):
        return JSONResponse(public(find(intercepts, request, "intercept")))

    ep = st.endpoint
    out = []
    for base in ("/rest/spaces/{spaceId}/virtualization", "/rest/projects/{projectId}/virtualization"):
        out += [
            Route(f"{base}/rules", ep(list_rules), methods=["GET"]),
            Route(base + "/rules/{id}", ep(get_rule), methods=["GET"]),
            Route(base + "/rules/{id}/activity", ep(rule_activity), methods=["GET"]),
            Route(f"{base}/intercepts", ep(list_intercepts), methods=["GET"]),
            Route(base + "/intercepts/{id}", ep(get_intercept), methods=["GET"]),
        ]
    return out
