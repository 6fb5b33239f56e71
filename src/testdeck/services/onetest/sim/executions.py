"""Executions: query (every filter), start, stop one and many, status, advanced settings, logs, results.

An execution goes SCHEDULED -> IN_TRANSITION -> RUNNING -> its final status
(COMPLETE, COMPLETE_WITH_ERROR; LAUNCH_FAILED straight from IN_TRANSITION),
computed lazily from the clock. A stop turns an active one STOPPING ->
STOPPED_BY_USER and a scheduled one CANCELED; stopping a finished one is
accepted and changes nothing (the document has no code for it).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from testdeck.services.onetest.models import STATUSES, parse_duration  # noqa: F401 (the sim's too)
from testdeck.services.onetest.sim.common import (
    DEMO_OFFLINE_TOKEN,
    DEMO_PROJECT_ID,
    OTHER_PROJECT_ID,
    PERF_PROJECT_ID,
    USER,
    Reject,
    State,
    body,
    err,
    iso,
    items,
    parse_iso,
)

ACTIVE = ("RUNNING", "IN_TRANSITION", "SCHEDULED", "STOPPING")
TRANSITION = 5.0  # simulated seconds in IN_TRANSITION (pulling the image, starting the container)
STOP_GRACE = 3.0  # simulated seconds in STOPPING
LOG_EVERY = 2.0  # simulated seconds per container log line while running
LOG_RETENTION = 3600.0  # simulated seconds after completion the container log is kept
RUN_TIME = 120.0  # simulated seconds a started execution runs

# (name, external type, final status of a run started from the console)
ASSETS = [
    ("SettingsFVTProject/Compound Tests/VerifyCloudCompoundTest.testsuite", "APISUITE", "COMPLETE"),
    ("Payments/Stubs/AccountStub.stub", "APISTUB", "COMPLETE"),
    ("WebUI/Login [smoke].testsuite", "WEBUI", "COMPLETE_WITH_ERROR"),
    ("Performance/Checkout 500 users.schedule", "SCHEDULE", "COMPLETE"),
    ("Broken/Missing image.testsuite", "APISUITE", "LAUNCH_FAILED"),
]
# (project, asset, age, scheduled delay, run time, final status, tags, environment, stopped after) in sim. seconds
SEED = [
    (DEMO_PROJECT_ID, 0, 9000, 0, 600, "COMPLETE", ["nightly"], "staging", None),
    (DEMO_PROJECT_ID, 3, 7000, 0, 1800, "COMPLETE_WITH_ERROR", ["perf"], "perf-lab", None),
    (DEMO_PROJECT_ID, 0, 5000, 0, 900, "COMPLETE", ["nightly"], "staging", 300),
    (DEMO_PROJECT_ID, 1, 3000, 0, 240, "COMPLETE", [], "staging", None),
    (DEMO_PROJECT_ID, 4, 400, 0, 0, "LAUNCH_FAILED", ["ci"], "qa", None),
    (DEMO_PROJECT_ID, 0, 120, 0, 900, "COMPLETE", ["ci", "smoke"], "staging", None),
    (DEMO_PROJECT_ID, 2, 40, 0, 30, "COMPLETE_WITH_ERROR", ["ci"], "qa", None),
    (DEMO_PROJECT_ID, 1, 2, 0, 300, "COMPLETE", ["ci"], "qa", None),
    (DEMO_PROJECT_ID, 3, 10, 1200, 1800, "COMPLETE", ["perf", "release-4.1"], "perf-lab", None),
    (OTHER_PROJECT_ID, 2, 600, 0, 120, "COMPLETE", ["mobile"], "qa", None),
    (OTHER_PROJECT_ID, 0, 30, 0, 600, "COMPLETE", ["mobile"], "qa", None),
    (PERF_PROJECT_ID, 3, 50, 0, 3600, "COMPLETE", ["perf"], "perf-lab", None),
]
VERDICTS = {"COMPLETE": "PASS", "COMPLETE_WITH_ERROR": "FAIL", "LAUNCH_FAILED": "ERROR",
            "STOPPED_BY_USER": "INCONCLUSIVE", "STOPPED_AUTOMATICALLY": "INCONCLUSIVE", "INCOMPLETE": "INCONCLUSIVE"}
def routes(st: State) -> list[Route]:
    config = st.config
    executions: dict[str, dict[str, Any]] = {}
    asset_ids = [st.uuid() for _ in ASSETS]
    next_result = [2450]
    st.executions = executions  # type: ignore[attr-defined]

    def add(project: str, asset: int, ago: float, delay: float, run: float, final: str, tags: list[str],
            env: str, stop_after: float | None = None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
        next_result[0] += 1
        created = st.start - ago / config.speed if spec is None else st.now()
        ex = {"id": st.uuid(), "project": project, "asset": asset, "created": created, "delay": delay,
              "run": run, "final": final, "tags": tags, "environment": env, "result_id": str(next_result[0]),
              "stopped_at": None, "stopped_from": None, "stop_options": None, "forced": None,
              "settings": {"logLevel": "INFO"}, "spec": spec or {}}
        if stop_after is not None:
            ex["stopped_at"], ex["stopped_from"] = created + (delay + TRANSITION + stop_after) / config.speed, "RUNNING"
        executions[ex["id"]] = ex
        return ex

    for row in SEED:
        add(*row)
    for n in range(config.size):
        add(DEMO_PROJECT_ID, n % 4, 20000 + n, 0, 60 + n % 600, "COMPLETE" if n % 5 else "COMPLETE_WITH_ERROR",
            ["generated"], "staging")

    def status_of(ex: dict[str, Any]) -> str:
        if ex["forced"] is not None:
            return ex["forced"][0]
        if ex["stopped_at"] is not None:
            if ex["stopped_from"] == "SCHEDULED":
                return "CANCELED"
            return "STOPPING" if config.elapsed(ex["stopped_at"]) < STOP_GRACE else "STOPPED_BY_USER"
        elapsed = config.elapsed(ex["created"])
        if elapsed < ex["delay"]:
            return "SCHEDULED"
        if elapsed < ex["delay"] + TRANSITION:
            return "IN_TRANSITION"
        if ex["final"] == "LAUNCH_FAILED":
            return "LAUNCH_FAILED"
        if elapsed < ex["delay"] + TRANSITION + ex["run"]:
            return "RUNNING"
        return ex["final"]

    def times(ex: dict[str, Any], status: str) -> tuple[float | None, float | None]:
        """(startDate, completionDate) as clock readings."""
        begin = ex["created"] + (ex["delay"] + TRANSITION) / config.speed
        if status in ("SCHEDULED", "IN_TRANSITION"):
            return None, None
        if status == "CANCELED":
            return None, ex["stopped_at"]
        if status == "LAUNCH_FAILED":
            return None, begin
        if status in ("RUNNING", "STOPPING"):
            return begin, None
        if status == "STOPPED_BY_USER":
            return begin, ex["stopped_at"] + STOP_GRACE / config.speed
        if ex["forced"] is not None:
            return begin, ex["forced"][2]
        return begin, begin + ex["run"] / config.speed

    def message(ex: dict[str, Any], status: str) -> str | None:
        if ex["forced"] is not None and ex["forced"][1]:
            return ex["forced"][1]
        return {"COMPLETE_WITH_ERROR": "2 of 14 tests failed",
                "LAUNCH_FAILED": "Failed to pull image registry.demo.lan/ots/runner:11.0.2: manifest unknown",
                "STOPPING": f"Stopped by user {USER}", "STOPPED_BY_USER": f"Stopped by user {USER}"}.get(status)

    def view(ex: dict[str, Any], request: Request, include: str | None) -> dict[str, Any]:
        status = status_of(ex)
        started, completed = times(ex, status)
        name, kind, _ = ASSETS[ex["asset"]]
        base = str(request.base_url).rstrip("/")
        asset = {"assetId": asset_ids[ex["asset"]], "name": name,
                 "revision": ex["spec"].get("testAsset", {}).get("revision", "master"), "externalType": kind}
        out: dict[str, Any] = {
            "id": ex["id"],
            "result": {"ref": f"{base}/rest/projects/{ex['project']}/results/{ex['result_id']}", "id": ex["result_id"]},
            "status": status,
            "message": message(ex, status),
            "startDate": iso(started),
            "completionDate": iso(completed),
            "testAsset": asset,
            "tags": ex["tags"],
            "environment": ex["environment"],
            "scheduled": {"at": iso(ex["created"] + ex["delay"] / config.speed)} if ex["delay"] else None,
            "internal": {},
        }
        if include == "data":
            out["data"] = {"submitter": USER, "created": iso(ex["created"]),
                           "variables": ex["spec"].get("variables") or {},
                           "advancedSettings": ex["spec"].get("advancedSettings") or {}}
        return out

    def scheduled_at(ex: dict[str, Any]) -> float:
        return ex["created"] + ex["delay"] / config.speed

    def date_param(request: Request, name: str) -> float | None:
        value = request.query_params.get(name)
        if not value:
            return None
        at = parse_iso(value)
        if at is None:
            raise err(400, f"Invalid date for {name}: {value}")
        return at

    def find(request: Request) -> dict[str, Any]:
        pid = st.project(request)
        eid = request.path_params["executionId"]
        ex = executions.get(eid)
        if ex is None or ex["project"] != pid:
            raise err(404, f"The execution {eid} does not exist or was previously deleted")
        return ex

    async def list_executions(request: Request):
        pid = st.project(request)
        q = request.query_params
        wanted = [s.upper() for s in items(q.get("execution.status"))]
        kinds, tags, envs = items(q.get("asset.externalType")), items(q.get("tag")), items(q.get("environment"))
        asset_id_list, paths = items(q.get("asset.id")), items(q.get("asset.path"))
        dates = {n: date_param(request, n) for n in ("completionDateAfter", "completionDateBefore",
                                                     "completionDateNotSetOrAfter", "scheduledDateBefore",
                                                     "scheduledDateAfter")}
        rows = []
        for ex in sorted(executions.values(), key=lambda e: -e["created"]):
            if ex["project"] != pid:
                continue
            status = status_of(ex)
            if "ALL" not in wanted and status not in (wanted or ACTIVE):
                continue
            name, kind, _ = ASSETS[ex["asset"]]
            if kinds and kind not in kinds or tags and not all(t in ex["tags"] for t in tags):
                continue
            if envs and ex["environment"] not in envs:
                continue
            if asset_id_list and asset_ids[ex["asset"]] not in asset_id_list or paths and name not in paths:
                continue
            completed = times(ex, status)[1]
            if dates["completionDateAfter"] is not None and (completed is None or completed <= dates["completionDateAfter"]):
                continue
            if dates["completionDateBefore"] is not None and (completed is None or completed >= dates["completionDateBefore"]):
                continue
            if dates["completionDateNotSetOrAfter"] is not None and completed is not None \
                    and completed <= dates["completionDateNotSetOrAfter"]:
                continue
            if dates["scheduledDateBefore"] is not None and scheduled_at(ex) >= dates["scheduledDateBefore"]:
                continue
            if dates["scheduledDateAfter"] is not None and scheduled_at(ex) <= dates["scheduledDateAfter"]:
                continue
            rows.append(view(ex, request, q.get("include")))
        return JSONResponse(rows)

    def asset_index(spec: dict[str, Any]) -> int:
        asset = spec.get("testAsset")
        if not isinstance(asset, dict) or not (asset.get("name") or asset.get("assetId")):
            raise err(400, "testAsset is required: give its name or assetId")
        if not asset.get("revision"):
            raise err(400, "testAsset.revision is required")
        for i, (name, _, _) in enumerate(ASSETS):
            if asset.get("assetId") == asset_ids[i] or asset.get("name") == name:
                return i
        raise err(400, f"Test asset {asset.get('name') or asset.get('assetId')} was not found in the project")

    def schedule_delay(spec: dict[str, Any]) -> float:
        sched = spec.get("scheduled") or {}
        if not isinstance(sched, dict):
            raise err(400, "scheduled must be an object")
        at, within = sched.get("at"), sched.get("in")
        if at and within:
            raise err(400, "scheduled: specify either 'at' or 'in', not both")
        if at:
            when = parse_iso(at) if re.match(r"^\d{4}-\d\d-\d\dT", str(at)) else None
            if when is None or not str(at).endswith("Z"):
                raise err(400, f"scheduled.at is not an ISO-8601 UTC instant: {at}")
            return max(0.0, (when - st.now()) * config.speed)
        if within:
            seconds = parse_duration(within)
            if seconds is None:
                raise err(400, f"scheduled.in is not an ISO-8601 duration: {within}")
            return seconds
        return 0.0

    async def start_execution(request: Request):
        pid = st.project(request)
        spec = await body(request)
        if spec.get("offlineToken") != DEMO_OFFLINE_TOKEN:
            raise err(401, "The offlineToken is missing or not valid")
        index = asset_index(spec)
        delay = schedule_delay(spec)
        tags = spec.get("tags") or []
        ex = add(pid, index, 0, delay, RUN_TIME, ASSETS[index][2], [str(t) for t in tags],
                 str(spec.get("environment") or ""), spec=spec)
        ex["settings"].update((spec.get("advancedSettings") or {}).get("configuration") or {})
        base = str(request.base_url).rstrip("/")
        location = f"{base}/rest/projects/{pid}/executions/{ex['id']}"
        return JSONResponse({"id": ex["id"], "result": {"ref": f"{base}/rest/projects/{pid}/results/{ex['result_id']}",
                                                        "id": ex["result_id"]}},
                            201, headers={"Location": location})

    def stop(ex: dict[str, Any], request: Request) -> None:
        status = status_of(ex)
        if status in ACTIVE and status != "STOPPING":
            ex["stopped_from"] = status
            ex["stopped_at"] = st.now()
            ex["stop_options"] = dict(request.query_params)

    async def get_execution(request: Request):
        return JSONResponse(view(find(request), request, request.query_params.get("include")))

    async def stop_execution(request: Request):
        stop(find(request), request)
        return Response(status_code=202)

    async def stop_executions(request: Request):
        pid = st.project(request)
        data = await request.json() if await request.body() else None
        wanted = data.get("ids", data.get("executionIds")) if isinstance(data, dict) else data
        if not isinstance(wanted, list) or not wanted:
            return PlainTextResponse("No execution ids given", 422)
        missing = [str(i) for i in wanted if executions.get(str(i), {}).get("project") != pid]
        if missing:
            return PlainTextResponse(f"Executions not found: {', '.join(missing)}", 422)
        for eid in wanted:
            stop(executions[str(eid)], request)
        return PlainTextResponse(f"Stopping {len(wanted)} executions", 202)

    async def set_status(request: Request):
        ex = find(request)
        data = await body(request)
        status = str(data.get("status") or "").upper()
        if status not in STATUSES:
            raise err(400, f"Unknown status {data.get('status')!r}")
        ex["forced"] = (status, data.get("message"), st.now())
        return Response(status_code=204)

    async def get_settings(request: Request):
        return JSONResponse(find(request)["settings"])

    async def patch_settings(request: Request):
        ex = find(request)
        data = await body(request)
        ex["settings"].update({str(k): v for k, v in data.items()})
        return Response(status_code=204)

    async def patch_setting(request: Request):
        ex = find(request)
        data = await body(request)
        ex["settings"][request.path_params["name"]] = data.get("value")
        return Response(status_code=204)

    def log_text(ex: dict[str, Any], init: bool) -> str:
        status = status_of(ex)
        elapsed = config.elapsed(ex["created"]) - ex["delay"]
        if status in ("SCHEDULED", "CANCELED") or elapsed < 0:
            return ""
        if init:
            lines = ["pulling image registry.demo.lan/ots/runner:11.0.2",
                     "copying test assets (revision master)"]
            if status == "LAUNCH_FAILED":
                lines.append("ERROR manifest unknown: registry.demo.lan/ots/runner:11.0.2")
            elif elapsed >= TRANSITION:
                lines.append("init complete")
            return "\n".join(lines) + "\n"
        if status in ("IN_TRANSITION", "LAUNCH_FAILED"):
            return ""
        until = ex["stopped_at"] if ex["stopped_at"] is not None else st.now()
        ran = min(ex["run"], max(0.0, (until - ex["created"]) * config.speed - ex["delay"] - TRANSITION))
        name = ASSETS[ex["asset"]][0]
        lines = [f"[0.000] Starting execution {ex['id']} of {name}"]
        for i in range(1, int(ran // LOG_EVERY) + 1):
            lines.append(f"[{i * LOG_EVERY:.3f}] step {i}: {'OK' if (i % 17) else 'WARN slow response'}")
        if status in ("COMPLETE", "COMPLETE_WITH_ERROR"):
            lines.append(f"[{ex['run']:.3f}] Execution finished: {status}")
        elif status in ("STOPPING", "STOPPED_BY_USER"):
            lines.append("Stop requested by user, stopping engines")
        return "\n".join(lines) + "\n"

    async def execution_log(request: Request):
        ex = find(request)
        completed = times(ex, status_of(ex))[1]
        if completed is not None and config.elapsed(completed) > LOG_RETENTION:
            raise Reject(410, "The container log for the execution is no longer available")
        init = request.query_params.get("initContainer", "").lower() == "true"
        return PlainTextResponse(log_text(ex, init))

    async def get_result(request: Request):
        pid = st.project(request)
        rid = request.path_params["resultId"]
        ex = next((e for e in executions.values() if e["result_id"] == rid and e["project"] == pid), None)
        if ex is None:
            raise err(404, f"The result {rid} does not exist")
        status = status_of(ex)
        base = str(request.base_url).rstrip("/")
        verdict = VERDICTS.get(status)
        reports = [] if verdict is None else [
            {"name": "Unified report", "href": f"{base}/results/{pid}/{rid}/unified"},
            {"name": "Test log", "href": f"{base}/results/{pid}/{rid}/log"}]
        return JSONResponse({"id": rid, "verdict": verdict, "message": message(ex, status) or status.lower(),
                             "reports": reports, "lastUpdated": iso(st.now())})

    ep = st.endpoint
    base = "/rest/projects/{projectId}/executions"
    return [
        Route(f"{base}/", ep(list_executions), methods=["GET"]),
        Route(f"{base}/", ep(start_execution), methods=["POST"]),
        Route(f"{base}/", ep(stop_executions), methods=["PATCH"]),
        Route(base + "/{executionId}", ep(get_execution), methods=["GET"]),
        Route(base + "/{executionId}", ep(stop_execution), methods=["DELETE"]),
        Route(base + "/{executionId}/status", ep(set_status), methods=["PATCH"]),
        Route(base + "/{executionId}/log", ep(execution_log), methods=["GET"]),
        Route(base + "/{executionId}/advancedSettings/configurations", ep(get_settings), methods=["GET"]),
        Route(base + "/{executionId}/advancedSettings/configurations", ep(patch_settings), methods=["PATCH"]),
        Route(base + "/{executionId}/advancedSettings/configurations/{name}/", ep(patch_setting), methods=["PATCH"]),
        Route("/rest/projects/{projectId}/results/{resultId}", ep(get_result), methods=["GET"]),
    ]

